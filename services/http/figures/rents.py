"""``GET /v1/oversight/rents`` and ``GET /v1/oversight/vacancy``: the rent
ALN pays and the households pay, the difference, and what empty apartments
cost; see ``projections.rents``."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query

from projections import rents as rents_view
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

By = Literal["none", "landlord", "district", "rooms"]
SPREAD = {"median": 7200, "lowest": 5400, "highest": 9800, "per_month": 288000}
EXAMPLE_RENTS = {
    "as_of": "2025-04-01",
    "by": "none",
    "as_of_position": 48211,
    "tree_size": 48211,
    "root_hash": "9f2c…",
    "groups": [
        {
            "apartments": 40,
            "occupied": 36,
            "aln_pays": SPREAD,
            "households_pay": {**SPREAD, "per_month": 262000},
            "difference_per_month": -2600,
            "difference_per_occupied_apartment": -72,
        }
    ],
}
EXAMPLE_VACANCY = {
    "from": "2025-01-01",
    "to": "2025-03-31",
    "period": "month",
    "by": "district",
    "as_of_position": 48211,
    "tree_size": 48211,
    "root_hash": "9f2c…",
    "periods": [
        {"period": "2025-01", "district": "Norr", "vacant_days": 45, "cost_sek": 10452}
    ],
}


@router.get(
    "/rents",
    summary="Rents on a day: what ALN pays, what households pay, the difference",
    responses={200: {"content": {"application/json": {"example": EXAMPLE_RENTS}}}},
)
def rents(
    boende: BoendeDep,
    audit: AuditDep,
    as_of: Annotated[
        Day | None, Query(description="effective date; default today")
    ] = None,
    by: Annotated[
        By, Query(description="one group per landlord, district or rooms")
    ] = "none",
    min_position: MinPosition = None,
) -> dict[str, Any]:
    """Over the apartments in stock on ``as_of``: the monthly rent ALN pays
    the landlords (median, lowest, highest, sum); over those lived in: what
    the households pay, and the difference households minus ALN per month in
    total and per apartment (negative: the municipality's subsidy)."""
    day = as_of or today_of(boende)
    result = answer(
        boende.views["tenancies"],
        lambda sql: {"groups": rents_view.rents(sql, day, by)},
        min_position,
        boende.settings.read_wait_seconds,
        audit,
    )
    return {"as_of": day.isoformat(), "by": by, **result}


@router.get(
    "/vacancy",
    summary="Vacant apartment-days and their cost per period",
    responses={200: {"content": {"application/json": {"example": EXAMPLE_VACANCY}}}},
)
def vacancy(
    boende: BoendeDep,
    audit: AuditDep,
    start: Annotated[Day | None, Query(alias="from")] = None,
    end: Annotated[Day | None, Query(alias="to")] = None,
    period: Literal["month", "quarter", "year"] = "month",
    by: Annotated[By, Query(description="one row per period and group")] = "none",
    min_position: MinPosition = None,
) -> dict[str, Any]:
    """Per period from ``from`` to ``to`` (default: the last twelve months):
    the days apartments stood available and their cost, each day at the
    apartment's monthly rent divided by the days of its month; a vacancy
    still open counts to today, never beyond."""
    today = today_of(boende)
    end = end or today
    start, end = periods_between(start or date(end.year - 1, end.month, 1), end, period)
    result = answer(
        boende.views["tenancies"],
        lambda sql: {"periods": rents_view.vacancy(sql, start, end, period, by, today)},
        min_position,
        boende.settings.read_wait_seconds,
        audit,
    )
    return {
        "from": start.isoformat(),
        "to": end.isoformat(),
        "period": period,
        "by": by,
        **result,
    }
