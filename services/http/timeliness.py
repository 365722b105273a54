"""Lead times and the three-month rule, for the executive board.

- ``GET /v1/oversight/lead-times``: days from filing to decision, decision to
  execution and execution to first-hand lease, per period.
- ``GET /v1/oversight/unexecuted``: decisions unexecuted past three months
  (*ej verkställda beslut*) on a day; with ``due_within=N``, instead the
  decisions whose deadline falls within the next N days (due soon).

Cases appear only under their pseudonymous reference (``infra.keys``), never
with their case id, personnummer or name. Every answer carries
``as_of_position``. The quarterly reports are in ``services.http.reports``.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query

from projections import lead_times as lead_times_view
from projections import unexecuted as unexecuted_view
from projections.due_soon import due_soon
from services.http.deps import (
    BoendeDep,
    Day,
    KnownAt,
    MinPosition,
    known_at_utc,
    periods_between,
    pseudonym_reference,
    today_of,
)
from services.projecting.answers import answer

router = APIRouter(prefix="/v1/oversight", tags=["oversight"])


@router.get("/lead-times", summary="Lead times in days per month, quarter or year")
def lead_times(
    boende: BoendeDep,
    start: Annotated[Day | None, Query(alias="from")] = None,
    end: Annotated[Day | None, Query(alias="to")] = None,
    period: Literal["month", "quarter", "year"] = "month",
    min_position: MinPosition = None,
) -> dict[str, Any]:
    """Per period, for each interval: ``count``, ``median_days``, ``p90_days``
    (nearest rank) and ``max_days``; an interval counts in the period of its
    later date. Default: the last twelve months up to today."""
    end = end or today_of(boende)
    start, end = periods_between(start or date(end.year - 1, end.month, 1), end, period)
    result = answer(
        boende.views["lead_times"],
        lambda sql: {"periods": lead_times_view.lead_times(sql, start, end, period)},
        min_position,
        boende.settings.read_wait_seconds,
    )
    return {
        "from": start.isoformat(),
        "to": end.isoformat(),
        "period": period,
        **result,
    }


@router.get("/unexecuted", summary="Decisions unexecuted past three months on a day")
def unexecuted(
    boende: BoendeDep,
    as_of: Annotated[
        Day | None, Query(description="effective date; default today")
    ] = None,
    known_at: KnownAt = None,
    due_within: Annotated[
        int | None,
        Query(
            ge=0,
            le=92,
            description="instead: the decisions still in time whose deadline is "
            "within this many days (due soon), nearest first",
        ),
    ] = None,
    min_position: MinPosition = None,
) -> dict[str, Any]:
    """Each decision past its three-month deadline and neither executed nor
    ended on ``as_of``: reference, decision day, deadline, days waiting,
    intervention, gender and latest delay reason. With ``due_within``, the
    decisions not yet past it whose deadline is at most that many days after
    ``as_of``, with ``days_left`` (0: the deadline is that day)."""
    day = as_of or today_of(boende)
    known = known_at_utc(known_at)
    reference = pseudonym_reference(boende)

    def decisions(sql: Any) -> dict[str, Any]:
        if due_within is None:
            return {"decisions": unexecuted_view.unexecuted(sql, day, reference, known)}
        return {"decisions": due_soon(sql, day, due_within, reference, known)}

    result = answer(
        boende.views["unexecuted"],
        decisions,
        min_position,
        boende.settings.read_wait_seconds,
    )
    count = len(result["decisions"])
    return {
        "as_of": day.isoformat(),
        "known_at": known,
        "due_within": due_within,
        "count": count,
        **result,
    }
