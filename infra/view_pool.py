"""The PostgreSQL connections of the view stores (``infra.views``)."""

from __future__ import annotations

import threading
from typing import Any, ClassVar

from eventsourcing.persistence import InfrastructureFactory
from eventsourcing.utils import Environment

from infra.settings import Settings, postgres_env


class SharedPool:
    """One PostgreSQL connection pool for every view store of a process on
    one database: the read models, the audit and access-log tables. A pool
    each held ~2 connections per store at start and up to 5 under load, so a
    handful of processes (replicas, ingest workers, the relay) exhausted a
    server's ``max_connections``. Reference-counted: closed with its last
    user."""

    _pools: ClassVar[dict[tuple[str, int], SharedPool]] = {}
    _lock: ClassVar[threading.Lock] = threading.Lock()

    def __init__(self, key: tuple[str, int]) -> None:
        url, most = key
        self.key = key
        self.users = 0
        env = postgres_env(url) | {
            "PERSISTENCE_MODULE": "eventsourcing.postgres",
            "POSTGRES_POOL_SIZE": "1",
            "POSTGRES_MAX_OVERFLOW": str(most - 1),
        }
        self.factory: Any = InfrastructureFactory.construct(Environment("views", env))

    @classmethod
    def acquire(cls, settings: Settings) -> SharedPool:
        assert settings.database_url is not None
        key = (settings.database_url, settings.postgres_view_pool_max)
        with cls._lock:
            pool = cls._pools.get(key) or cls._pools.setdefault(key, cls(key))
            pool.users += 1
            return pool

    def release(self) -> None:
        with self._lock:
            self.users -= 1
            if self.users == 0:
                del self._pools[self.key]
                self.factory.close()


class InSchema:
    """The shared pool's datastore seen with another schema, for the
    library's tracking recorder of a fresh store: the same connections,
    and nothing closed when it goes (the datastore's ``__del__`` would
    close the pool every store shares)."""

    def __init__(self, datastore: Any, schema: str) -> None:
        self._datastore = datastore
        self.schema = schema

    def __getattr__(self, name: str) -> Any:
        return getattr(self._datastore, name)
