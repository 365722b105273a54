"""Lead times and the three-month rule, for the executive board.

- ``GET /v1/oversight/lead-times``: days from filing to decision, decision to
  execution and execution to first-hand lease, per period.
- ``GET /v1/oversight/unexecuted``: decisions unexecuted past three months
  (*ej verkställda beslut*) on a day; with ``due_within=N``, instead the
  decisions whose deadline falls within the next N days (due soon).

Cases appear only under their pseudonymous reference (``infra.keys``), never
with their case id, personnummer or name. Every answer carries
``as_of_position``, and the ``tree_size`` and ``root_hash`` of the log up to
it. The quarterly reports are in ``services.http.reports``.

Each route answers JSON, or a CSV file (``?format=csv`` or ``Accept:
text/csv``; Swedish or English, ``?lang=``) of its table
(``services.reporting.figure_tables``; the negotiation and the file:
``services.http.reports.formats``; docs/reports.md). The functions
``lead_times`` and ``unexecuted`` answer the JSON (the oversight web's pages
call them); the routes are ``*_route``.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query
from fastapi.responses import Response

from projections import lead_times as lead_times_view
from projections import unexecuted as unexecuted_view
from projections.due_soon import due_soon
from services.audit.log import AuditLog
from services.http.deps import (
    AuditDep,
    BoendeDep,
    Day,
    KnownAt,
    MinPosition,
    known_at_utc,
    periods_between,
    pseudonym_reference,
    today_of,
)
from services.http.models.oversight import LeadTimes, Unexecuted
from services.http.reports.formats import (
    TableFormatDep,
    csv_response,
    provenance_of,
    table_responses,
)
from services.projecting.answers import answer
from services.reporting.figure_tables import (
    DUE_SOON_TABLE,
    UNEXECUTED_TABLE,
    lead_times_table,
)
from services.reporting.tables import Coded, Table

router = APIRouter(prefix="/v1/oversight", tags=["oversight"])

DueWithin = Annotated[
    int | None,
    Query(
        ge=0,
        le=92,
        description="instead: the decisions still in time whose deadline is "
        "within this many days (due soon), nearest first",
    ),
]


def lead_times(
    boende: BoendeDep,
    start: Annotated[Day | None, Query(alias="from")] = None,
    end: Annotated[Day | None, Query(alias="to")] = None,
    period: Literal["month", "quarter", "year"] = "month",
    min_position: MinPosition = None,
    audit: AuditLog | None = None,
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
        audit,
    )
    return {
        "from": start.isoformat(),
        "to": end.isoformat(),
        "period": period,
        **result,
    }


def unexecuted(
    boende: BoendeDep,
    as_of: Annotated[
        Day | None, Query(description="effective date; default today")
    ] = None,
    known_at: KnownAt = None,
    due_within: DueWithin = None,
    min_position: MinPosition = None,
    audit: AuditLog | None = None,
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
        audit,
    )
    count = len(result["decisions"])
    return {
        "as_of": day.isoformat(),
        "known_at": known,
        "due_within": due_within,
        "count": count,
        **result,
    }


# -- the routes: JSON or CSV --------------------------------------------------------


@router.get(
    "/lead-times",
    summary="Lead times in days per month, quarter or year",
    operation_id="lead_times_v1_oversight_lead_times_get",
    response_model=LeadTimes,
    response_model_exclude_unset=True,
    responses=table_responses(
        "Per period and interval: count, median, 90th percentile and maximum "
        "in days; CSV: LEAD_TIMES_TABLE, one row per period and interval",
        "a bad date, from after to, or more than 240 periods",
    ),
)
def lead_times_route(
    boende: BoendeDep,
    audit: AuditDep,
    table: TableFormatDep,
    start: Annotated[Day | None, Query(alias="from")] = None,
    end: Annotated[Day | None, Query(alias="to")] = None,
    period: Literal["month", "quarter", "year"] = "month",
    min_position: MinPosition = None,
) -> dict[str, Any] | Response:
    """Per period, for each interval: ``count``, ``median_days``, ``p90_days``
    (nearest rank) and ``max_days``; an interval counts in the period of its
    later date. Default: the last twelve months up to today."""
    body = lead_times(boende, start, end, period, min_position, audit)
    if not table.csv:
        return body
    provenance = provenance_of(
        "lead_times",
        body,
        **{"from": body["from"], "to": body["to"]},
        period=Coded("period", period),
    )
    name = f"lead_times_{body['from']}_{body['to']}_{period}.csv"
    return csv_response(lead_times_table(body), provenance, name, table.lang)


@router.get(
    "/unexecuted",
    summary="Decisions unexecuted past three months on a day",
    operation_id="unexecuted_v1_oversight_unexecuted_get",
    response_model=Unexecuted,
    response_model_exclude_unset=True,
    responses=table_responses(
        "The decisions, oldest first (due_within: nearest deadline first); "
        "CSV: UNEXECUTED_TABLE (DUE_SOON_TABLE), one row per decision",
        "a bad as_of or known_at, due_within out of 0..92",
    ),
)
def unexecuted_route(
    boende: BoendeDep,
    audit: AuditDep,
    table: TableFormatDep,
    as_of: Annotated[
        Day | None, Query(description="effective date; default today")
    ] = None,
    known_at: KnownAt = None,
    due_within: DueWithin = None,
    min_position: MinPosition = None,
) -> dict[str, Any] | Response:
    """Each decision past its three-month deadline and neither executed nor
    ended on ``as_of``: reference, decision day, deadline, days waiting,
    intervention, gender and latest delay reason. With ``due_within``, the
    decisions not yet past it whose deadline is at most that many days after
    ``as_of``, with ``days_left`` (0: the deadline is that day)."""
    body = unexecuted(boende, as_of, known_at, due_within, min_position, audit)
    if not table.csv:
        return body
    provenance = provenance_of(
        "unexecuted" if due_within is None else "due_soon",
        body,
        as_of=body["as_of"],
        known_at=body["known_at"],
        due_within=due_within,
    )
    columns = UNEXECUTED_TABLE if due_within is None else DUE_SOON_TABLE
    name = f"unexecuted_{body['as_of']}"
    name += ".csv" if due_within is None else f"_due_within_{due_within}.csv"
    return csv_response(
        Table.of(columns, body["decisions"]), provenance, name, table.lang
    )
