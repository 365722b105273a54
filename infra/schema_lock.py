"""One process at a time creates tables on a PostgreSQL database.

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
