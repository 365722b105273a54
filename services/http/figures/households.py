"""``GET /v1/oversight/households``: people living in social contracts on a
day or in an ISO week (Socialstyrelsen's homelessness mapping, situation 3);
see ``projections.households``.

JSON, or a CSV file of its table (``services.reporting.figure_tables``;
the negotiation and the file: ``services.http.reports.formats``). The
function ``households`` answers the JSON (the oversight web's page calls
it); the route is ``households_route``."""

from __future__ import annotations

import re
from datetime import date, timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Query
from fastapi.responses import Response

from projections import households as households_view
from projections.base import END_OF_TIME
from services.errors import InvalidRequest
from services.http.deps import (
    FIRST_DAY,
    LAST_DAY,
    AuditDep,
    BoendeDep,
    Day,
    KnownAt,
    MinPosition,
    Public,
    known_at_utc,
    today_of,
)
from services.http.figures.models import HouseholdsAnswer, figure_responses
from services.http.reports.formats import TableFormatDep, csv_response, provenance_of
from services.projecting.answers import answer
from services.reporting.figure_tables import households_table
from services.reporting.household_suppression import public_households

router = APIRouter(prefix="/v1/oversight", tags=["oversight"])
WEEK = re.compile(r"(\d{4})-W(\d{2})")

AsOf = Annotated[
    Day | None,
    Query(
        description="effective date; default today",
        openapi_examples={"a day": {"value": "2025-04-02"}},
    ),
]
Week = Annotated[
    str | None,
    Query(
        description="an ISO week like 2025-W14 (the mapping week): a "
        "household counts once if it lived in a contract any day of it",
        openapi_examples={"the mapping week": {"value": "2025-W14"}},
    ),
]


def households(
    boende: BoendeDep,
    audit: AuditDep,
    as_of: AsOf = None,
    week: Week = None,
    known_at: KnownAt = None,
    min_position: MinPosition = None,
    public: Public = False,
) -> dict[str, Any]:
    """Households, adults and children living in an executed social contract
    (moved in, not yet converted to a first-hand lease or terminated), in
    total and by the applicant's gender, the household's type and the
    applicant's age band; with ``as_of_position``, ``tree_size`` and
    ``root_hash``. ``public``: small counts suppressed
    (``services.reporting.household_suppression``)."""
    if as_of is not None and week is not None:
        raise InvalidRequest(
            "give as_of or week, not both",
            details=[{"loc": "week", "problem": "given with as_of"}],
        )
    first, last = iso_week(week) if week else (as_of or today_of(boende),) * 2
    known = known_at_utc(known_at)
    result = answer(
        boende.views["tenancies"],
        lambda sql: households_view.households(sql, first, last, known or END_OF_TIME),
        min_position,
        boende.settings.read_wait_seconds,
        audit,
    )
    body = {
        "as_of": None if week else first.isoformat(),
        "week": week,
        "first_day": first.isoformat(),
        "last_day": last.isoformat(),
        "known_at": known,
        **result,
    }
    threshold = boende.settings.suppression_threshold
    return public_households(body, threshold) if public else body


@router.get(
    "/households",
    summary="People in social contracts on a day or in an ISO week (situation 3)",
    operation_id="households_v1_oversight_households_get",
    response_model=None,
    responses=figure_responses(
        HouseholdsAnswer,
        "Households, adults and children, in total and by gender, household "
        "type and age band; CSV: HOUSEHOLDS_TABLE, one row for the total and "
        "one per group",
        "a bad day or week, both as_of and week, a bad known_at",
    ),
)
def households_route(
    boende: BoendeDep,
    audit: AuditDep,
    table: TableFormatDep,
    as_of: AsOf = None,
    week: Week = None,
    known_at: KnownAt = None,
    min_position: MinPosition = None,
    public: Public = False,
) -> dict[str, Any] | Response:
    """Households, adults and children living in an executed social contract
    (moved in, not yet converted to a first-hand lease or terminated), in
    total and by the applicant's gender, the household's type and the
    applicant's age band, as known at ``known_at``; with
    ``as_of_position``, ``tree_size`` and ``root_hash``."""
    body = households(boende, audit, as_of, week, known_at, min_position, public)
    if not table.csv:
        return body
    provenance = provenance_of(
        "households",
        body,
        as_of=body["as_of"],
        week=week,
        known_at=body["known_at"],
        public=public or None,
    )
    name = f"households_{week or body['as_of']}"
    name += "_public.csv" if public else ".csv"
    return csv_response(households_table(body), provenance, name, table.lang)


def iso_week(text: str) -> tuple[date, date]:
    """The Monday and Sunday of an ISO week like ``2025-W14``, or 422."""
    match = WEEK.fullmatch(text)
    try:
        if match is None:
            raise ValueError(text)
        monday = date.fromisocalendar(int(match[1]), int(match[2]), 1)
    except ValueError:
        raise InvalidRequest(
            f"week must be an ISO week like 2025-W14, not {text!r}",
            details=[{"loc": "week", "problem": "not an ISO week like 2025-W14"}],
        ) from None
    sunday = monday + timedelta(days=6)
    if monday < FIRST_DAY or sunday > LAST_DAY:
        raise InvalidRequest(
            f"week must lie between {FIRST_DAY} and {LAST_DAY}",
            details=[{"loc": "week", "problem": "out of range"}],
        )
    return monday, sunday
