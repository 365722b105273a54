"""Answering from a read model: every answer says which log position it
reflects (``as_of_position``), and a caller may first wait for a position it
wrote (``min_position``) — bounded, then 503 ``projection_lagging``."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from eventsourcing.persistence import PersistenceError

from infra.views import Sql, ViewStore
from services.errors import ServiceError, StoreUnavailable
from services.projection_runner import wait_for


class ProjectionLagging(ServiceError):
    code = "projection_lagging"


def answer(
    store: ViewStore,
    query: Callable[[Sql], dict[str, Any]],
    min_position: int | None,
    wait_seconds: float,
) -> dict[str, Any]:
    """Run ``query`` on ``store`` once it has reached ``min_position``."""
    try:
        if min_position and not wait_for(store, min_position, wait_seconds):
            raise ProjectionLagging(
                f"the {store.name} read model has not reached position {min_position} "
                f"within {wait_seconds:g} s; retry",
                projection=store.name,
                position=store.position(),
                min_position=min_position,
            )
        with store.transaction(commit=False) as sql:
            position = store.position(sql)
            return {"as_of_position": position, **query(sql)}
    except PersistenceError:
        raise StoreUnavailable("the read model's database is unreachable") from None
