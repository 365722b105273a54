"""FastAPI dependencies shared by the routers."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Annotated

from fastapi import Depends, Query, Request

from projections.base import utc_text
from services.bootstrap import Boende
from services.errors import InvalidRequest


async def get_boende(request: Request) -> Boende:
    # ``async`` so FastAPI resolves it in the event loop, not a worker thread.
    return request.app.state.boende  # type: ignore[no-any-return]


BoendeDep = Annotated[Boende, Depends(get_boende)]


def today_of(boende: Boende) -> date:
    return boende.service.today()


MinPosition = Annotated[
    int | None,
    Query(ge=1, description="wait until the read model reflects this position"),
]


def known_at_utc(moment: datetime | None) -> str | None:
    """``known_at`` as the read models' UTC text; a time zone is required."""
    if moment is None:
        return None
    if moment.tzinfo is None:
        raise InvalidRequest(
            "known_at needs a time zone, e.g. 2021-10-01T12:00:00+02:00",
            details=[{"loc": "known_at", "problem": "no time zone"}],
        )
    return utc_text(moment.astimezone(UTC))
