"""Answering from a read model: every answer says which log position it
reflects (``as_of_position``), and a caller may first wait for a position it
wrote (``min_position``) — bounded, then 503 ``projection_lagging``.

Reports (counts, flows, the quarterly report) also say which log they came
from: the ``tree_size`` and ``root_hash`` of the Merkle tree of the events up
to ``as_of_position`` (``services.audit.tree``), so a published figure can
later be tied to a signed tree head with a consistency proof.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Protocol

from eventsourcing.persistence import PersistenceError

from infra.views import Sql, ViewStore
from services.errors import ServiceError, StoreUnavailable
from services.projecting.runner import wait_for


class LogTree(Protocol):
    """What an answer needs of the audit log (``services.audit.log.AuditLog``):
    the Merkle tree of the log up to a position."""

    def log_at(self, position: int) -> dict[str, Any]: ...


class ProjectionLagging(ServiceError):
    code = "projection_lagging"


def answer(
    store: ViewStore,
    query: Callable[[Sql], dict[str, Any]],
    min_position: int | None,
    wait_seconds: float,
    log: LogTree | None = None,
) -> dict[str, Any]:
    """Run ``query`` on ``store`` once it has reached ``min_position``; with
    ``log``, the answer also carries ``tree_size`` and ``root_hash``."""
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
            result = query(sql)
        tree = log.log_at(position) if log else {}
        return {"as_of_position": position, **tree, **result}
    except PersistenceError:
        raise StoreUnavailable("the read model's database is unreachable") from None
