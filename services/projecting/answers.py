"""Answering from a read model: every answer says which log position it
reflects (``as_of_position``), and a caller may first wait for a position it
wrote (``min_position``) — bounded, then 503 ``projection_lagging``.

The wait holds no thread: the request awaits in the event loop
(:class:`PositionWatch`, used by ``services.http.deps.MinPosition``) while
one reader thread per process looks up the positions for every waiter at
once; only then does the route's thread run the query, which checks the
position again in its own snapshot (:func:`answer`). A ``min_position`` past
the log's end by more than the in-flight window can never be reached by a
write under way: refused at once, 409 ``position_not_recorded``.

Reports (counts, flows, the quarterly report) also say which log they came
from: the ``tree_size`` and ``root_hash`` of the Merkle tree of the events up
to ``as_of_position`` (``services.audit.tree``), so a published figure can
later be tied to a signed tree head with a consistency proof.
"""

from __future__ import annotations

import asyncio
import contextvars
import threading
from collections.abc import Callable, Collection, Mapping
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any, Protocol

from eventsourcing.persistence import PersistenceError

from infra.store import CaseLog, drop_broken_connections
from infra.views import Sql, ViewStore
from services.errors import ServiceError, StoreUnavailable


class LogTree(Protocol):
    """What an answer needs of the audit log (``services.audit.log.AuditLog``):
    the Merkle tree of the log up to a position."""

    def log_at(self, position: int) -> dict[str, Any]: ...


class ProjectionLagging(ServiceError):
    code = "projection_lagging"


class PositionNotRecorded(ServiceError):
    code = "position_not_recorded"
    status = 409


#: The key of the log's own last position among :meth:`PositionWatch.positions`.
LOG = ""


class PositionWatch:
    """Awaits read-model positions without a thread per waiter: one reader
    thread reads the log's end and every read model's position, each read
    shared by all who await it meanwhile."""

    POLL_S = 0.05

    def __init__(self, app: CaseLog, views: Mapping[str, ViewStore]) -> None:
        self.app = app
        self.views = dict(views)
        self._reader = ThreadPoolExecutor(1, thread_name_prefix="position-watch")
        self._reading: Future[dict[str, int]] | None = None
        self._lock = threading.Lock()

    async def positions(self) -> dict[str, int]:
        """The log's end (key :data:`LOG`) and each read model's position;
        503 ``unavailable`` when the store does not answer."""
        with self._lock:
            if self._reading is None or self._reading.done():
                context = contextvars.copy_context()  # log lines name a request
                self._reading = self._reader.submit(context.run, self._read)
            reading = self._reading
        try:
            return await asyncio.shield(asyncio.wrap_future(reading))
        except PersistenceError:
            raise StoreUnavailable("the store did not answer; retry") from None

    async def wait(
        self, names: Collection[str], position: int, seconds: float, window: int
    ) -> None:
        """Return once every read model in ``names`` has reached ``position``;
        409 at once when the log is more than ``window`` short of it, 503
        ``projection_lagging`` after ``seconds``."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + seconds
        positions = await self.positions()
        if position > positions[LOG] + window:
            raise PositionNotRecorded(
                f"min_position {position} is beyond the end of the log "
                f"({positions[LOG]}): no write under way can reach it",
                position=positions[LOG],
                min_position=position,
            )
        while lagging := [n for n in names if positions[n] < position]:
            if loop.time() >= deadline:
                raise ProjectionLagging(
                    f"the {lagging[0]} read model has not reached position "
                    f"{position} within {seconds:g} s; retry",
                    projection=lagging[0],
                    position=positions[lagging[0]],
                    min_position=position,
                )
            await asyncio.sleep(self.POLL_S)
            positions = await self.positions()

    def _read(self) -> dict[str, int]:
        try:
            found = {LOG: self.app.recorder.max_notification_id() or 0}
            found.update({n: store.position() for n, store in self.views.items()})
        except PersistenceError:
            for store in self.views.values():
                drop_broken_connections(store.datastore)
            raise
        return found

    def close(self) -> None:
        self._reader.shutdown(wait=False, cancel_futures=True)


def answer(
    store: ViewStore,
    query: Callable[[Sql], dict[str, Any]],
    min_position: int | None,
    wait_seconds: float,
    log: LogTree | None = None,
) -> dict[str, Any]:
    """Run ``query`` on ``store``; with ``log``, the answer also carries
    ``tree_size`` and ``root_hash``. ``min_position`` was awaited before
    (``MinPosition``); here it is only checked, in the query's snapshot."""
    try:
        with store.transaction(commit=False) as sql:
            position = store.position(sql)
            if min_position and position < min_position:
                raise ProjectionLagging(
                    f"the {store.name} read model has not reached position "
                    f"{min_position} within {wait_seconds:g} s; retry",
                    projection=store.name,
                    position=position,
                    min_position=min_position,
                )
            result = query(sql)
        tree = log.log_at(position) if log else {}
        return {"as_of_position": position, **tree, **result}
    except PersistenceError:
        drop_broken_connections(store.datastore)
        raise StoreUnavailable("the read model's database is unreachable") from None
