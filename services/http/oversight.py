"""The executive board's oversight endpoints (KS: *uppsiktsplikt*): counts,
flows and the apartment stock.

Aggregates only: no personnummer, name or anything else that identifies a
person. Every answer carries ``as_of_position``, and the ``tree_size`` and
``root_hash`` of the log up to it (``services.projecting.answers``).
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query

from projections import apartments as apartments_view
from projections import counts as counts_view
from projections import flows as flows_view
from projections import landlords as landlords_view
from services.errors import InvalidRequest
from services.http.deps import (
    AuditDep,
    BoendeDep,
    Day,
    MinPosition,
    known_at_utc,
    periods_between,
    today_of,
)
from services.projecting.answers import answer
from services.reporting.flow_suppression import public_flows_in_detail
from services.reporting.suppression import public_counts

#: ``public=true``: small counts suppressed for publication
#: (``services.reporting.suppression``).
Public = Annotated[
    bool,
    Query(
        description="suppress small counts (1-4 as <5; BOENDE_SUPPRESSION_THRESHOLD) "
        "and as few other figures as keep them from being worked out"
    ),
]

#: ``by=``: the case figures also per gender, intervention or basis.
By = Annotated[
    Literal["gender", "intervention", "basis"] | None,
    Query(
        description="also per the applicant's gender, the intervention or the "
        "grant's basis (none before a grant), under groups; not with public"
    ),
]

router = APIRouter(prefix="/v1/oversight", tags=["oversight"])


def refuse_public_breakdowns(public: bool, by: str | None) -> None:
    """Breakdowns are not published: their groups would need protecting
    against each other and their sum (``services.reporting``)."""
    if public and by:
        raise InvalidRequest(
            "public figures come without breakdowns: leave out by, or public",
            details=[{"loc": "by", "problem": "not with public=true"}],
        )


@router.get("/counts", summary="Cases and apartments by state; cumulative totals")
def counts(
    boende: BoendeDep,
    audit: AuditDep,
    as_of: Annotated[
        Day | None, Query(description="effective date; default today")
    ] = None,
    known_at: Annotated[
        datetime | None, Query(description="only facts recorded by then; default now")
    ] = None,
    min_position: MinPosition = None,
    public: Public = False,
    by: By = None,
) -> dict[str, Any]:
    """On ``as_of``, as known at ``known_at``; with ``as_of_position`` and the
    ``tree_size`` and ``root_hash`` (hex) of the log up to it. With ``by``,
    ``groups`` holds the case figures per code, each case (with all its
    facts) in the group it is in on ``as_of``."""
    refuse_public_breakdowns(public, by)
    day = as_of or today_of(boende)
    known = known_at_utc(known_at)
    result = answer(
        boende.views["counts"],
        lambda sql: counts_view.counts(sql, day, known, by),
        min_position,
        boende.settings.read_wait_seconds,
        audit,
    )
    body = {"as_of": day.isoformat(), "known_at": known, **result}
    threshold = boende.settings.suppression_threshold
    return public_counts(body, threshold) if public else body


@router.get("/flows", summary="Facts per month, quarter or year, by effective date")
def flows(
    boende: BoendeDep,
    audit: AuditDep,
    start: Annotated[Day | None, Query(alias="from")] = None,
    end: Annotated[Day | None, Query(alias="to")] = None,
    period: Literal["month", "quarter", "year"] = "month",
    known_at: datetime | None = None,
    min_position: MinPosition = None,
    public: Public = False,
    by: By = None,
) -> dict[str, Any]:
    """Per period: the case facts, delays and follow-ups, apartments
    acquired and returned, and under ``by_reason`` the cancellations,
    terminations, delays and follow-ups by reason; with ``by``, the case
    facts per code under ``groups`` (a fact in the group its case was in at
    that fact). With ``as_of_position`` and the ``tree_size`` and
    ``root_hash`` (hex) of the log up to it."""
    refuse_public_breakdowns(public, by)
    end = end or today_of(boende)
    start, end = periods_between(start or date(end.year - 1, end.month, 1), end, period)
    known = known_at_utc(known_at)

    def periods(sql: Any) -> dict[str, Any]:
        rows = counts_view.flows(sql, start, end, period, known)
        more = flows_view.flow_details(sql, start, end, period, known, by)
        return {
            "periods": [{**row, **extra} for row, extra in zip(rows, more, strict=True)]
        }

    result = answer(
        boende.views["counts"],
        periods,
        min_position,
        boende.settings.read_wait_seconds,
        audit,
    )
    body = {
        "from": start.isoformat(),
        "to": end.isoformat(),
        "period": period,
        **result,
    }
    threshold = boende.settings.suppression_threshold
    return public_flows_in_detail(body, threshold) if public else body


@router.get(
    "/apartments",
    summary="Apartment stock by state, landlord and district; vacancy days",
)
def apartments(
    boende: BoendeDep,
    as_of: Annotated[
        Day | None, Query(description="effective date; default today")
    ] = None,
    min_position: MinPosition = None,
) -> dict[str, Any]:
    """The stock on ``as_of`` (default today): each apartment's state after
    its last fact dated on or before it; vacancy days count effective dates
    up to it. Landlords by organisation number where known."""
    today = today_of(boende)
    day = as_of or today
    result = answer(
        boende.views["apartments"],
        lambda sql: apartments_view.stock(sql, day),
        min_position,
        boende.settings.read_wait_seconds,
    )
    return {"today": today.isoformat(), "as_of": day.isoformat(), **result}


@router.get(
    "/landlords",
    summary="The landlord register: organisation numbers, names, renames",
)
def landlords(
    boende: BoendeDep, audit: AuditDep, min_position: MinPosition = None
) -> dict[str, Any]:
    """Every landlord ALN has acquired an apartment from under an
    organisation number: the first name seen in the log and its day, the
    name now, each later name with its day, and the apartments acquired.
    A sole trader (no number) is not listed; figures group it by name."""
    return answer(
        boende.views["landlords"],
        lambda sql: {"landlords": landlords_view.register(sql)},
        min_position,
        boende.settings.read_wait_seconds,
        audit,
    )
