"""``GET /v1/oversight/households``: people living in social contracts on a
day or in an ISO week (Socialstyrelsen's homelessness mapping, situation 3);
see ``projections.households``."""

from __future__ import annotations

import re
from datetime import date, timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Query

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
    known_at_utc,
    today_of,
)
from services.projecting.answers import answer

router = APIRouter(prefix="/v1/oversight", tags=["oversight"])
WEEK = re.compile(r"(\d{4})-W(\d{2})")

EXAMPLE = {
    "as_of": "2025-04-02",
    "week": None,
    "first_day": "2025-04-02",
    "last_day": "2025-04-02",
    "known_at": None,
    "as_of_position": 48211,
    "tree_size": 48211,
    "root_hash": "9f2c…",
    "households": 41,
    "adults": 52,
    "children": 37,
    "by_gender": {"woman": {"households": 23, "adults": 29, "children": 30}},
    "by_household_type": {
        "single_adult": {"households": 19, "adults": 19, "children": 0}
    },
    "by_age_band": {"25-34": {"households": 12, "adults": 15, "children": 14}},
}


@router.get(
    "/households",
    summary="People in social contracts on a day or in an ISO week (situation 3)",
    responses={
        200: {"content": {"application/json": {"example": EXAMPLE}}},
        422: {
            "description": "invalid_request: a bad day or week, or both as_of and week"
        },
    },
)
def households(
    boende: BoendeDep,
    audit: AuditDep,
    as_of: Annotated[
        Day | None, Query(description="effective date; default today")
    ] = None,
    week: Annotated[
        str | None,
        Query(
            description="an ISO week like 2025-W14 (the mapping week): a "
            "household counts once if it lived in a contract any day of it"
        ),
    ] = None,
    known_at: KnownAt = None,
    min_position: MinPosition = None,
) -> dict[str, Any]:
    """Households, adults and children living in an executed social contract
    (moved in, not yet converted to a first-hand lease or terminated), in
    total and by the applicant's gender, the household's type and the
    applicant's age band; with ``as_of_position``, ``tree_size`` and
    ``root_hash``."""
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
    return {
        "as_of": None if week else first.isoformat(),
        "week": week,
        "first_day": first.isoformat(),
        "last_day": last.isoformat(),
        "known_at": known,
        **result,
    }


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
