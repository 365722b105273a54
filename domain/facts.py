"""What every recorded fact carries, whichever aggregate it belongs to.

``Stamp`` is the submission's provenance (who, when in the world, which
submission); ``Fact`` is the base of every domain event and stores it, beside
the library's own ``timestamp`` (the recorded time).

Two names say who: ``user``, the officer the sender names (``actor.user``),
and ``submitted_by``, the authenticated principal that sent it (the verified
token's ``sub`` and ``iss``). Facts recorded before ``submitted_by`` was kept
have none: the field is optional, ``None`` when absent, so they load as they
are (no upcast rewrites what was signed).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any

from eventsourcing.domain import Aggregate

from domain.errors import DateOutOfOrder, FutureDate


@dataclass(frozen=True)
class Stamp:
    """Provenance of one submission, copied onto every event it records."""

    submission_id: str
    committee: str
    user: str
    occurred_on: date
    today: date  # the service's calendar day, for the "never in the future" rule
    # Who sent it, authenticated: {"sub", "iss"?}; None only where no door
    # stands between the sender and the log (Boende's own commands, tests).
    submitted_by: dict[str, str] | None = None

    def fields(self) -> dict[str, Any]:
        return {
            "submission_id": self.submission_id,
            "committee": self.committee,
            "user": self.user,
            "occurred_on": self.occurred_on,
            "submitted_by": self.submitted_by,
        }


class Fact(Aggregate.Event):
    """Base of every recorded fact: provenance plus the effective date."""

    submission_id: str
    committee: str
    user: str
    occurred_on: date
    # Keyword-only with a default, so the facts' own fields may follow it
    # and an event stored before it existed reads None from the class.
    submitted_by: dict[str, str] | None = field(default=None, kw_only=True)


def check_dates(stamp: Stamp, previous: date | None, what: str) -> None:
    """Refuse a fact dated in the future or before ``what``'s previous fact."""
    if stamp.occurred_on > stamp.today:
        problem = f"must not be after today ({stamp.today})"
        raise FutureDate(
            f"occurred_on {problem}",
            details=[{"loc": "occurred_on", "problem": problem}],
        )
    if previous is not None and stamp.occurred_on < previous:
        raise DateOutOfOrder(
            f"occurred_on {stamp.occurred_on} is before the {what}'s previous "
            f"fact ({previous})",
            previous_occurred_on=previous.isoformat(),
        )
