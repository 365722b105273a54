"""``GET /v1/oversight/first-hand``: the path from a social contract to a
first-hand lease, per execution quarter and landlord or district; see
``projections.first_hand``."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query

from projections import first_hand as first_hand_view
from services.http.deps import (
    AuditDep,
    BoendeDep,
    Day,
    MinPosition,
    periods_between,
    today_of,
)
from services.projecting.answers import answer

router = APIRouter(prefix="/v1/oversight", tags=["oversight"])

EXAMPLE_COHORT = {
    "cohort": "2023Q2",
    "landlord": "Kommunbostäder AB",
    "executed": 12,
    "converted": 5,
    "terminated": 2,
    "terminated_by_reason": {"eviction": 1, "moved_out": 1},
    "still_second_hand": 5,
    "converted_within_12_months": {"observed": 12, "converted": 2, "share": 0.1667},
    "converted_within_24_months": {"observed": 0, "converted": 0, "share": None},
    "days_to_conversion": {
        "count": 5,
        "median_days": 401,
        "p90_days": 530,
        "max_days": 530,
    },
    "days_in_contract": {
        "count": 5,
        "median_days": 610,
        "p90_days": 640,
        "max_days": 640,
        "by_months": {"0-5": 0, "6-11": 0, "12-23": 5, "24-35": 0, "36+": 0},
    },
}


@router.get(
    "/first-hand",
    summary="The path to a first-hand lease: outcomes per execution quarter",
    responses={
        200: {
            "content": {
                "application/json": {
                    "example": {
                        "from": "2023-01-01",
                        "to": "2023-12-31",
                        "as_of": "2024-11-30",
                        "by": "landlord",
                        "as_of_position": 48211,
                        "tree_size": 48211,
                        "root_hash": "9f2c…",
                        "cohorts": [EXAMPLE_COHORT],
                    }
                }
            }
        },
        422: {
            "description": "invalid_request: bad days, from after to, "
            "or over 240 quarters"
        },
    },
)
def first_hand(
    boende: BoendeDep,
    audit: AuditDep,
    start: Annotated[
        Day | None,
        Query(
            alias="from", description="first execution day; default three years back"
        ),
    ] = None,
    end: Annotated[
        Day | None, Query(alias="to", description="last execution day; default as_of")
    ] = None,
    as_of: Annotated[
        Day | None, Query(description="the day outcomes are counted to; default today")
    ] = None,
    by: Annotated[
        Literal["none", "landlord", "district"],
        Query(description="cohorts also per landlord or district"),
    ] = "none",
    min_position: MinPosition = None,
) -> dict[str, Any]:
    """For the contracts executed from ``from`` to ``to``, per execution
    quarter: converted, terminated by reason and still second-hand on
    ``as_of``; the share converted within 12 and 24 months of those observed
    that long (the rest are censored, counted as ``observed`` < ``executed``);
    days to conversion; and how long those still second-hand have lived in
    their contract."""
    day = as_of or today_of(boende)
    end = end or day
    start, end = periods_between(
        start or date(end.year - 3, end.month, 1), end, "quarter"
    )
    result = answer(
        boende.views["tenancies"],
        lambda sql: {"cohorts": first_hand_view.first_hand(sql, start, end, day, by)},
        min_position,
        boende.settings.read_wait_seconds,
        audit,
    )
    return {
        "from": start.isoformat(),
        "to": end.isoformat(),
        "as_of": day.isoformat(),
        "by": by,
        **result,
    }
