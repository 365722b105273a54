"""Who may submit what (DOMAIN.md): IFN every case fact; ALN apartment facts
and ``contract_executed``; KS, the overseer, nothing."""

from __future__ import annotations

from domain.apartment import APARTMENT_TRANSITIONS
from domain.case import CASE_TRANSITIONS
from domain.errors import Forbidden

COMMITTEES = ("IFN", "ALN", "KS")

MAY_SUBMIT: dict[str, frozenset[str]] = {
    "IFN": frozenset(CASE_TRANSITIONS),
    "ALN": frozenset(APARTMENT_TRANSITIONS) | {"contract_executed"},
    "KS": frozenset(),
}


def check_may_submit(committee: str, event_type: str) -> None:
    if event_type not in MAY_SUBMIT.get(committee, frozenset()):
        raise Forbidden(
            f"committee {committee} may not submit {event_type}",
            committee=committee,
            type=event_type,
        )
