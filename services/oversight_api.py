"""The executive board's oversight endpoints (KS: *uppsiktsplikt*).

Aggregates only: no personnummer, name or anything else that identifies a
person. Every answer carries ``as_of_position``.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query

from projections import counts as counts_view
from projections.base import utc_text
from services.api_deps import BoendeDep, today_of
from services.errors import InvalidRequest
from services.read_models import answer

router = APIRouter(prefix="/v1/oversight", tags=["oversight"])

MinPosition = Annotated[
    int | None,
    Query(ge=1, description="wait until the read model reflects this position"),
]


@router.get("/counts", summary="Cases and apartments by state; cumulative totals")
def counts(
    boende: BoendeDep,
    as_of: Annotated[
        date | None, Query(description="effective date; default today")
    ] = None,
    known_at: Annotated[
        datetime | None, Query(description="only facts recorded by then; default now")
    ] = None,
    min_position: MinPosition = None,
) -> dict[str, Any]:
    day = as_of or today_of(boende)
    known = _known_at(known_at)
    result = answer(
        boende.views["counts"],
        lambda sql: counts_view.counts(sql, day, known),
        min_position,
        boende.settings.read_wait_seconds,
    )
    return {"as_of": day.isoformat(), "known_at": known, **result}


@router.get("/flows", summary="Facts per month, quarter or year, by effective date")
def flows(
    boende: BoendeDep,
    start: Annotated[date | None, Query(alias="from")] = None,
    end: Annotated[date | None, Query(alias="to")] = None,
    period: Literal["month", "quarter", "year"] = "month",
    known_at: datetime | None = None,
    min_position: MinPosition = None,
) -> dict[str, Any]:
    end = end or today_of(boende)
    start = start or date(end.year - 1, end.month, 1) + timedelta(days=0)
    if start > end:
        raise InvalidRequest(
            "from must not be after to",
            details=[{"loc": "from", "problem": "after to"}],
        )
    known = _known_at(known_at)
    result = answer(
        boende.views["counts"],
        lambda sql: {"periods": counts_view.flows(sql, start, end, period, known)},
        min_position,
        boende.settings.read_wait_seconds,
    )
    return {
        "from": start.isoformat(),
        "to": end.isoformat(),
        "period": period,
        **result,
    }


def _known_at(moment: datetime | None) -> str | None:
    if moment is None:
        return None
    if moment.tzinfo is None:
        raise InvalidRequest(
            "known_at needs a time zone, e.g. 2021-10-01T12:00:00+02:00",
            details=[{"loc": "known_at", "problem": "no time zone"}],
        )
    return utc_text(moment.astimezone(UTC))
