"""The executive board's view of the apartment stock (KS: *uppsiktsplikt*).

Aggregates only: counts by state, landlord and district, and vacancy days.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from projections import apartments as apartments_view
from services.api_deps import BoendeDep, MinPosition, today_of
from services.read_models import answer

router = APIRouter(prefix="/v1/oversight", tags=["oversight"])


@router.get(
    "/apartments",
    summary="Apartment stock by state, landlord and district; vacancy days",
)
def apartments(boende: BoendeDep, min_position: MinPosition = None) -> dict[str, Any]:
    """The stock today; vacancy days count effective dates up to today."""
    today = today_of(boende)
    result = answer(
        boende.views["apartments"],
        lambda sql: apartments_view.stock(sql, today),
        min_position,
        boende.settings.read_wait_seconds,
    )
    return {"today": today.isoformat(), **result}
