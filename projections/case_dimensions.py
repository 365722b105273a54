"""What ``counts`` groups a case's facts by beyond its state: the
applicant's gender (from the filing), and the intervention and basis of the
grant (``NONE_YET`` before one)."""

from __future__ import annotations

from typing import Any, NamedTuple

from domain.case import HousingCase

NONE_YET = "none"


class Before(NamedTuple):
    """What the facts before this one left: the state, the recorded time, and
    the case's gender, intervention and basis."""

    state: str
    recorded_at: str
    gender: str
    intervention: str
    basis: str


def _dimensions(event: Any, before: Before) -> tuple[str, str, str]:
    """The case's gender, intervention and basis after ``event``."""
    if isinstance(event, HousingCase.Filed):
        return event.gender, NONE_YET, NONE_YET
    if isinstance(event, HousingCase.Granted):
        return before.gender, event.intervention, event.basis
    return before.gender, before.intervention, before.basis
