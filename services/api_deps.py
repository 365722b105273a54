"""FastAPI dependencies shared by the routers."""

from __future__ import annotations

from datetime import date
from typing import Annotated

from fastapi import Depends, Request

from services.bootstrap import Boende


async def get_boende(request: Request) -> Boende:
    # ``async`` so FastAPI resolves it in the event loop, not a worker thread.
    return request.app.state.boende  # type: ignore[no-any-return]


BoendeDep = Annotated[Boende, Depends(get_boende)]


def today_of(boende: Boende) -> date:
    return boende.service.today()
