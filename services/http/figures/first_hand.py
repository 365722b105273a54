"""``GET /v1/oversight/first-hand``: the path from a social contract to a
first-hand lease, per execution quarter and landlord or district; see
``projections.first_hand``.

JSON, or a CSV file of its table (``services.reporting.figure_tables``;
the negotiation and the file: ``services.http.reports.formats``). The
function ``first_hand`` answers the JSON (the oversight web's page calls
it); the route is ``first_hand_route``."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query
from fastapi.responses import Response

from projections import first_hand as first_hand_view
from projections.base import END_OF_TIME
from services.http.deps import (
    AuditDep,
    BoendeDep,
    Day,
    KnownAt,
    MinPosition,
    known_at_utc,
    periods_between,
    today_of,
)
from services.http.figures.models import FirstHandAnswer, figure_responses
from services.http.reports.formats import TableFormatDep, csv_response, provenance_of
from services.projecting.answers import answer
from services.reporting.figure_tables import first_hand_table

router = APIRouter(prefix="/v1/oversight", tags=["oversight"])

Start = Annotated[
    Day | None,
    Query(
        alias="from",
        description="first execution day; default three years before to",
        openapi_examples={"a year's cohorts": {"value": "2023-01-01"}},
    ),
]
End = Annotated[
    Day | None,
    Query(
        alias="to",
        description="last execution day; default as_of",
        openapi_examples={"a year's cohorts": {"value": "2023-12-31"}},
    ),
]
AsOf = Annotated[
    Day | None,
    Query(
        description="the day outcomes are counted to; default today",
        openapi_examples={"a day": {"value": "2024-11-30"}},
    ),
]
By = Annotated[
    Literal["none", "landlord", "district"],
    Query(
        description="cohorts also per landlord or district",
        openapi_examples={"per landlord": {"value": "landlord"}},
    ),
]


def first_hand(
    boende: BoendeDep,
    audit: AuditDep,
    start: Start = None,
    end: End = None,
    as_of: AsOf = None,
    by: By = "none",
    min_position: MinPosition = None,
    known_at: KnownAt = None,
) -> dict[str, Any]:
    """For the contracts executed from ``from`` to ``to``, per execution
    quarter: converted, terminated by reason and still second-hand on
    ``as_of``, as known at ``known_at``; the share converted within 12 and
    24 months of those observed that long (the rest are censored, counted
    as ``observed`` < ``executed``); days to conversion; and how long those
    still second-hand have lived in their contract."""
    day = as_of or today_of(boende)
    end = end or day
    start, end = periods_between(
        start or date(end.year - 3, end.month, 1), end, "quarter"
    )
    known = known_at_utc(known_at)
    result = answer(
        boende.views["tenancies"],
        lambda sql: {
            "cohorts": first_hand_view.first_hand(
                sql, start, end, day, by, known or END_OF_TIME
            )
        },
        min_position,
        boende.settings.read_wait_seconds,
        audit,
    )
    return {
        "from": start.isoformat(),
        "to": end.isoformat(),
        "as_of": day.isoformat(),
        "by": by,
        "known_at": known,
        **result,
    }


@router.get(
    "/first-hand",
    summary="The path to a first-hand lease: outcomes per execution quarter",
    operation_id="first_hand_v1_oversight_first_hand_get",
    response_model=None,
    responses=figure_responses(
        FirstHandAnswer,
        "Per execution quarter (and group): outcomes, shares converted "
        "within 12 and 24 months, days to conversion and in contract; CSV: "
        "one row per cohort (and group), a column per figure and part",
        "bad days, from after to, over 240 quarters, a bad known_at",
    ),
)
def first_hand_route(
    boende: BoendeDep,
    audit: AuditDep,
    table: TableFormatDep,
    start: Start = None,
    end: End = None,
    as_of: AsOf = None,
    by: By = "none",
    known_at: KnownAt = None,
    min_position: MinPosition = None,
) -> dict[str, Any] | Response:
    """For the contracts executed from ``from`` to ``to``, per execution
    quarter: converted, terminated by reason and still second-hand on
    ``as_of``, as known at ``known_at``; the share converted within 12 and
    24 months of those observed that long (the rest are censored, counted
    as ``observed`` < ``executed``); days to conversion; and how long those
    still second-hand have lived in their contract."""
    body = first_hand(boende, audit, start, end, as_of, by, min_position, known_at)
    if not table.csv:
        return body
    provenance = provenance_of(
        "first_hand",
        body,
        **{"from": body["from"], "to": body["to"]},
        as_of=body["as_of"],
        by=None if by == "none" else by,
        known_at=body["known_at"],
    )
    name = f"first_hand_{body['from']}_{body['to']}"
    name += f"_by_{by}.csv" if by != "none" else ".csv"
    return csv_response(first_hand_table(body), provenance, name, table.lang)
