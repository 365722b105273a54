"""Where a projection keeps its read model: its own tables and its tracking
position, in the store's engine (an SQLite file of its own under the data
dir, or the store's PostgreSQL database), written in one transaction.

``Sql`` hides the two engines' parameter styles so projection SQL is written
once, with ``?`` placeholders.
"""

from __future__ import annotations

import os
import sqlite3
import threading
import zlib
from collections.abc import Iterator, Sequence
from contextlib import closing, contextmanager
from pathlib import Path
from typing import Any, ClassVar

import psycopg
from eventsourcing.persistence import InfrastructureFactory, Tracking, TrackingRecorder
from eventsourcing.postgres import PostgresTrackingRecorder
from eventsourcing.utils import Environment
from psycopg.sql import SQL, Identifier

from infra.settings import Settings, postgres_env

TRACKED_LOG = "CaseLog"  # the application whose notification log views follow


class Sql:
    """A cursor inside one transaction, with ``?`` placeholders on both engines."""

    def __init__(self, cursor: Any, postgres: bool) -> None:
        self.cursor = cursor
        self.postgres = postgres

    def execute(self, statement: str, params: Sequence[Any] = ()) -> None:
        if self.postgres:
            statement = statement.replace("?", "%s")
            params = _storable(params)
        self.cursor.execute(statement, list(params))

    def executemany(self, statement: str, rows: Sequence[Sequence[Any]]) -> None:
        if self.postgres:
            statement = statement.replace("?", "%s")
            rows = [_storable(r) for r in rows]
        # Each row as given: both drivers take any sequence (a rebuild's
        # batches hold hundreds of thousands of rows, not worth a copy).
        self.cursor.executemany(statement, rows)

    def all(self, statement: str, params: Sequence[Any] = ()) -> list[dict[str, Any]]:
        self.execute(statement, params)
        return [dict(row) for row in self.cursor.fetchall()]

    def one(self, statement: str, params: Sequence[Any] = ()) -> dict[str, Any] | None:
        rows = self.all(statement, params)
        return rows[0] if rows else None


#: What PostgreSQL text cannot hold (NUL) is stored as U+FFFD instead: an
#: event already in the append-only log must never stop a read model, even
#: one recorded before the envelope refused control characters.
_NUL, _REPLACEMENT = "\x00", "\ufffd"


def _storable(params: Sequence[Any]) -> list[Any]:
    return [
        p.replace(_NUL, _REPLACEMENT) if isinstance(p, str) and _NUL in p else p
        for p in params
    ]


class ViewStore:
    """One projection's tables and its position in the case log."""

    def __init__(self, settings: Settings, name: str) -> None:
        self.name = name
        self.postgres = settings.uses_postgres
        if self.postgres:
            pool = SharedPool.acquire(settings)
            try:
                self.tracking: TrackingRecorder = PostgresTrackingRecorder(
                    pool.factory.datastore, tracking_table_name=tracking_table(name)
                )
                self.tracking.create_table()
            except BaseException:
                pool.release()
                raise
            self._close = pool.release
        else:
            factory = InfrastructureFactory.construct(
                Environment(name, _sqlite_env(settings, name))
            )
            self.tracking = factory.tracking_recorder()
            self._close = factory.close
        self.datastore: Any = self.tracking.datastore  # type: ignore[attr-defined]
        self._lock_key = zlib.crc32(f"boende:view:{name}".encode())
        # None: the engine's own durability, untouched. Once relaxed, every
        # write sets it explicitly (pooled connections keep a PRAGMA).
        self._synchronous: str | None = None
        self._normal_synchronous = "FULL"  # SQLite's default, as the stores run
        self._path = None if self.postgres else view_path(settings, name)

    @contextmanager
    def transaction(self, *, commit: bool) -> Iterator[Sql]:
        if commit and self._synchronous is not None and not self.postgres:
            with self._sqlite_write(self._synchronous) as cursor:
                yield Sql(cursor, self.postgres)
            return
        with self.datastore.transaction(commit=commit) as cursor:
            sql = Sql(cursor, self.postgres)
            if self.postgres and not commit:
                # One snapshot for the position and the rows that answer a query.
                sql.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
            if self.postgres and commit and self._synchronous == "OFF":
                sql.execute("SET LOCAL synchronous_commit = off")
            yield sql

    @contextmanager
    def _sqlite_write(self, level: str) -> Iterator[Any]:
        """A write transaction on a connection set to ``PRAGMA synchronous``
        ``level`` (it cannot change inside a transaction)."""
        with self.datastore.get_connection(commit=True) as conn:
            conn._sqlite_conn.execute(f"PRAGMA synchronous={level}")
            with conn.transaction(commit=True) as cursor:
                yield cursor

    def relax(self) -> None:
        """Commit without waiting for the disk (``synchronous=OFF``; on
        PostgreSQL ``synchronous_commit=off``) until :meth:`make_durable`:
        for a rebuild, which is redone from scratch if it does not finish
        (``ProjectionRunner``). A process that dies loses nothing committed;
        only a machine that stops may lose the last commits (PostgreSQL) or
        leave the file unreadable (SQLite), and the read model is rebuilt."""
        self._synchronous = "OFF"

    def make_durable(self) -> None:
        """Everything committed so far on disk, and later commits waiting for
        it again: the SQLite file and its write-ahead log are flushed (pages
        a checkpoint copied without syncing included); on PostgreSQL the next
        synchronous commit flushes the log up to it, earlier commits too."""
        if self._synchronous is None:
            return
        self._synchronous = self._normal_synchronous
        path = self._path
        if path is None:
            return
        for file in (path, path.with_name(path.name + "-wal")):
            try:
                fd = os.open(file, os.O_RDONLY)
            except FileNotFoundError:
                continue
            try:
                os.fsync(fd)
            finally:
                os.close(fd)

    def hold(self, sql: Sql) -> None:
        """Take this read model's write lock for the rest of the transaction,
        before reading its position: a runner applying a batch and a rebuild
        resetting the model then go one after the other, never interleaved.
        PostgreSQL: an advisory lock per read model. SQLite: the database's
        write lock, taken first (a read lock could not be upgraded later)."""
        if self.postgres:
            sql.execute("SELECT pg_advisory_xact_lock(?)", [self._lock_key])
        else:
            sql.execute("UPDATE tracking SET notification_id = notification_id WHERE 0")

    def track(self, sql: Sql, position: int) -> None:
        """Record ``position`` in the same transaction as the view's rows; a
        position already seen raises ``IntegrityError`` and rolls back all."""
        self.tracking._insert_tracking(sql.cursor, Tracking(TRACKED_LOG, position))  # type: ignore[attr-defined]

    def position(self, sql: Sql | None = None) -> int:
        if sql is None:
            return self.tracking.max_tracking_id(TRACKED_LOG) or 0
        table = f"{self.name}_tracking" if self.postgres else "tracking"
        row = sql.one(
            f"SELECT notification_id FROM {table} WHERE application_name = ?",
            [TRACKED_LOG],
        )
        return int(row["notification_id"]) if row else 0

    def schema_version(self, sql: Sql) -> int | None:
        """The projection version that built this store's tables (None: none
        recorded, a new store or one from before versions were kept)."""
        sql.execute(
            "CREATE TABLE IF NOT EXISTS projection_versions "
            "(projection TEXT PRIMARY KEY, version INTEGER NOT NULL)"
        )
        row = sql.one(
            "SELECT version FROM projection_versions WHERE projection = ?", [self.name]
        )
        return int(row["version"]) if row else None

    def set_schema_version(self, sql: Sql, version: int) -> None:
        sql.execute(
            "INSERT INTO projection_versions (projection, version) VALUES (?, ?) "
            "ON CONFLICT (projection) DO UPDATE SET version = excluded.version",
            [self.name, version],
        )

    def forget_position(self, sql: Sql) -> None:
        table = f"{self.name}_tracking" if self.postgres else "tracking"
        sql.execute(f"DELETE FROM {table} WHERE application_name = ?", [TRACKED_LOG])

    def close(self) -> None:
        """Release the connections; safe to call twice (a shared pool must not
        lose a user it still has)."""
        close, self._close = self._close, _closed
        close()


def _closed() -> None:
    pass


def _sqlite_env(settings: Settings, name: str) -> dict[str, str]:
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    return {
        "PERSISTENCE_MODULE": "eventsourcing.sqlite",
        "SQLITE_DBNAME": str(view_path(settings, name)),
        "SQLITE_LOCK_TIMEOUT": "10",
    }


def view_path(settings: Settings, name: str) -> Path:
    """The SQLite file of the read model (or other view store) ``name``."""
    return settings.sqlite_path(f"view_{name}")


def tracking_table(name: str) -> str:
    """The PostgreSQL table of ``name``'s tracking position."""
    return f"{name.lower()}_tracking"


def peek_position(settings: Settings, name: str, timeout_s: int = 5) -> int | None:
    """``name``'s tracking position, read without creating anything (for
    ``boende doctor``): None when it has never been built (no file, no
    table). Waits at most ``timeout_s`` for a lock or a connection."""
    query = "SELECT MAX(notification_id) FROM {} WHERE application_name = ?"
    if settings.database_url is None:
        path = view_path(settings, name)
        if not path.exists():
            return None
        # Read only, but not opened read-only: such a connection to a WAL
        # database leaves its -wal and -shm files behind when it closes.
        try:
            with closing(sqlite3.connect(path, timeout=timeout_s)) as db:
                row = db.execute(query.format("tracking"), [TRACKED_LOG]).fetchone()
        except sqlite3.OperationalError as error:
            if "no such table" in str(error):
                return None
            raise
        return int(row[0] or 0)
    table = tracking_table(name)
    with psycopg.connect(settings.database_url, connect_timeout=timeout_s) as conn:
        if conn.execute("SELECT to_regclass(%s)", [table]).fetchone() == (None,):
            return None
        statement = SQL(query.replace("?", "%s")).format(Identifier(table))
        row = conn.execute(statement, [TRACKED_LOG]).fetchone()
    return int(row[0] or 0) if row else 0


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
