"""One process at a time creates tables on a PostgreSQL database, and one
rebuilds a given read model.

Replicas, ingest workers and the relay start at once against one database,
and each creates the tables it needs (``CREATE TABLE IF NOT EXISTS``: the
library's recorders, the read models, the key and audit tables). PostgreSQL
does not make concurrent creation of the same table safe: the loser fails
with ``tuple concurrently updated`` or a unique violation on ``pg_type``,
and the process dies at start. A session-level advisory lock, held on a
connection of its own while the tables are created, queues the others; it
is released when that connection closes, even if the process dies.

On SQLite the processes share a data directory instead, and an exclusive
``flock`` on a file in it queues them. SQLite alone is not enough there: a
start that reads a table's schema and then writes (a migration) fails at
once with "database is locked" when another process is writing, since
SQLite refuses to upgrade a read lock that could deadlock. The lock is
released when the file closes, even if the process dies.
"""

from __future__ import annotations

import fcntl
import zlib
from collections.abc import Iterator
from contextlib import contextmanager

import psycopg

from infra.settings import Settings

#: The advisory lock's key: "boende" in ASCII, so it is recognisable in
#: ``pg_locks`` and unlikely to collide with another application's.
SCHEMA_LOCK_KEY = int.from_bytes(b"boende", "big")
CONNECT_TIMEOUT_S = 5
SQLITE_LOCK_FILE = ".schema.lock"


@contextmanager
def schema_lock(settings: Settings) -> Iterator[None]:
    """Hold the schema lock while the block creates or migrates tables."""
    if settings.database_url is None:
        settings.data_dir.mkdir(parents=True, exist_ok=True)
        with open(settings.data_dir / SQLITE_LOCK_FILE, "a") as held:
            fcntl.flock(held, fcntl.LOCK_EX)
            yield
        return
    with psycopg.connect(
        settings.database_url, autocommit=True, connect_timeout=CONNECT_TIMEOUT_S
    ) as conn:
        conn.execute("SELECT pg_advisory_lock(%s)", [SCHEMA_LOCK_KEY])
        yield


class RebuildRunning(Exception):
    """Another process is rebuilding the read model."""


@contextmanager
def rebuild_lock(settings: Settings, name: str) -> Iterator[None]:
    """Hold the right to rebuild the read model ``name`` for the block, or
    raise ``RebuildRunning`` at once: two rebuilds would build into the same
    fresh store, and the first to finish would remove it under the other.
    Released when the process dies, as the schema lock is."""
    if settings.database_url is None:
        settings.data_dir.mkdir(parents=True, exist_ok=True)
        with open(settings.data_dir / f".rebuild-{name}.lock", "a") as held:
            try:
                fcntl.flock(held, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                raise RebuildRunning(name) from None
            yield
        return
    key = zlib.crc32(f"boende:rebuild:{name}".encode())
    with psycopg.connect(
        settings.database_url, autocommit=True, connect_timeout=CONNECT_TIMEOUT_S
    ) as conn:
        row = conn.execute("SELECT pg_try_advisory_lock(%s)", [key]).fetchone()
        if not row or not row[0]:
            raise RebuildRunning(name)
        yield
