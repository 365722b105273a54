"""What a case officer remarks on a granted or executed case: a delay
reason (*orsak till dröjsmål*), a declined offer among them, and a follow-up.

A declined offer (*avböjt erbjudande*) does not end a grant: it is recorded as
a delay reason ``offer_declined`` with the day the offer was made
(``offered_on``), and the decision stays unexecuted for the three-month rule
until it is executed or ended. The free-text note of either fact is personal
data and arrives here already sealed; the domain only keeps it.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from domain.errors import OfferDateInvalid


def remark(event: Any, code: str, offered_on: date | None) -> dict[str, Any]:
    """A delay reason or follow-up as the case keeps it (the note as stored)."""
    return {
        "version": event.originator_version,
        "code": code,
        "occurred_on": event.occurred_on,
        "offered_on": offered_on,
        "note": getattr(event, "note", None),
    }


def check_offer_date(
    reason: str, offered_on: date, granted_on: date | None, occurred_on: date
) -> None:
    """Refuse an offer day that names no offer this fact can be about: with a
    reason other than ``offer_declined``, before the decision day, or after
    the day the decline is recorded as having happened."""
    problem = None
    if reason != "offer_declined":
        problem = "only with reason offer_declined"
    elif granted_on is not None and offered_on < granted_on:
        problem = f"must not be before the decision day ({granted_on})"
    elif offered_on > occurred_on:
        problem = f"must not be after occurred_on ({occurred_on})"
    if problem is not None:
        raise OfferDateInvalid(
            f"payload.offered_on {problem}",
            details=[{"loc": "payload.offered_on", "problem": problem}],
        )
