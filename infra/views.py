"""Where a projection keeps its read model: its own tables and its tracking
position, in the store's engine (an SQLite file of its own under the data
dir, or the store's PostgreSQL database), written in one transaction.

``Sql`` hides the two engines' parameter styles so projection SQL is written
once, with ``?`` placeholders.
"""

from __future__ import annotations

import sqlite3
import zlib
from collections.abc import Iterator, Sequence
from contextlib import closing, contextmanager
from pathlib import Path
from typing import Any

import psycopg
from eventsourcing.persistence import InfrastructureFactory, Tracking, TrackingRecorder
from eventsourcing.postgres import PostgresTrackingRecorder
from eventsourcing.utils import Environment
from psycopg.sql import SQL, Identifier

from infra.settings import Settings
from infra.view_pool import InSchema, SharedPool

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
    """One projection's tables and its position in the case log.

    A *fresh* store (``fresh=True``) is where a rebuild builds the read
    model beside the live one, which keeps answering meanwhile: its own
    SQLite file, or its own PostgreSQL schema (``fresh_schema``) with every
    transaction's ``search_path`` set to it, so a projection's SQL is the
    same in both. :meth:`take_tables` moves its tables into the live store.
    """

    def __init__(self, settings: Settings, name: str, *, fresh: bool = False) -> None:
        self.name = name
        self.settings = settings
        self.fresh = fresh
        self.postgres = settings.uses_postgres
        self.schema: str | None = (
            fresh_schema(name) if fresh and self.postgres else None
        )
        self._path: Path | None = None  # SQLite: the file
        if self.postgres:
            pool = SharedPool.acquire(settings)
            try:
                datastore = pool.factory.datastore
                if self.schema is not None:
                    with datastore.transaction(commit=True) as cursor:
                        cursor.execute(
                            SQL("CREATE SCHEMA IF NOT EXISTS {0}").format(
                                Identifier(self.schema)
                            )
                        )
                    datastore = InSchema(datastore, self.schema)
                self.tracking: TrackingRecorder = PostgresTrackingRecorder(
                    datastore, tracking_table_name=tracking_table(name)
                )
                self.tracking.create_table()
            except BaseException:
                pool.release()
                raise
            self._close = pool.release
        else:
            path = (
                fresh_view_path(settings, name) if fresh else view_path(settings, name)
            )
            self._path = path
            factory = InfrastructureFactory.construct(
                Environment(name, _sqlite_env(settings, path))
            )
            self.tracking = factory.tracking_recorder()
            self._close = factory.close
        self.datastore: Any = self.tracking.datastore  # type: ignore[attr-defined]
        lock_name = f"boende:view:{name}" + (":fresh" if fresh else "")
        self._lock_key = zlib.crc32(lock_name.encode())
        # A fresh store commits without waiting for the disk (SQLite
        # ``synchronous=OFF``, PostgreSQL ``synchronous_commit=off``): one
        # that is not taken over is thrown away, so a machine that stops
        # costs only the rebuild, which starts again. A process that dies
        # loses nothing committed. The take-over commits on the live store,
        # which waits for the disk (PostgreSQL: its flush covers the fresh
        # commits before it). None: the engine's own durability, untouched.
        self._synchronous: str | None = "OFF" if fresh else None

    @contextmanager
    def transaction(self, *, commit: bool) -> Iterator[Sql]:
        if commit and self._synchronous is not None and not self.postgres:
            with self._sqlite_write(self._synchronous) as cursor:
                yield Sql(cursor, self.postgres)
            return
        with self.datastore.transaction(commit=commit) as cursor:
            sql = Sql(cursor, self.postgres)
            if self.schema is not None:
                cursor.execute(
                    SQL("SET LOCAL search_path TO {0}").format(Identifier(self.schema))
                )
            if self.postgres and not commit:
                # One snapshot for the position and the rows that answer a
                # query, taken once a take-over (``shut_out_readers``) is
                # done: LOCK takes no snapshot, the SELECT after it does.
                sql.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
                if self.schema is None:
                    sql.execute(
                        f"LOCK TABLE {tracking_table(self.name)} IN ACCESS SHARE MODE"
                    )
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

    def hold(self, sql: Sql) -> None:
        """Take this read model's write lock for the rest of the transaction,
        before reading its position: a runner applying a batch, a reset and
        a rebuild taking over then go one after the other, never interleaved.
        PostgreSQL: an advisory lock per read model. SQLite: the database's
        write lock, taken first (a read lock could not be upgraded later)."""
        if self.postgres:
            sql.execute("SELECT pg_advisory_xact_lock(?)", [self._lock_key])
        else:
            sql.execute("UPDATE tracking SET notification_id = notification_id WHERE 0")

    def shut_out_readers(self, sql: Sql) -> None:
        """Queries of this store wait, for the rest of the transaction,
        before they take their snapshot (PostgreSQL: its tracking table
        locked, which each query's transaction locks first): a read model
        whose tables are replaced meanwhile is read whole, before or after,
        never the new tables with the old position. After :meth:`hold`,
        always in that order (a follower takes them so). SQLite needs
        nothing: a reader's snapshot covers the schema too."""
        if self.postgres:
            sql.execute(
                f"LOCK TABLE {tracking_table(self.name)} IN ACCESS EXCLUSIVE MODE"
            )

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

    @contextmanager
    def taking_from(self, fresh: ViewStore) -> Iterator[Sql]:
        """A write transaction on this store in which :meth:`take_tables`
        can move ``fresh``'s tables here (SQLite: its file attached as
        ``fresh``, which cannot be done inside a transaction)."""
        if self.postgres:
            with self.transaction(commit=True) as sql:
                yield sql
            return
        with self.datastore.get_connection(commit=True) as conn:
            raw = conn._sqlite_conn
            raw.execute("ATTACH DATABASE ? AS fresh", [str(fresh._path)])
            try:
                with conn.transaction(commit=True) as cursor:
                    yield Sql(cursor, postgres=False)
            finally:
                raw.execute("DETACH DATABASE fresh")

    def take_tables(self, sql: Sql, fresh: ViewStore, tables: Sequence[str]) -> None:
        """Each of ``tables``, with its indexes and rows, moved from
        ``fresh`` into this store, in the transaction of :meth:`taking_from`
        (this store's tables of those names already dropped). PostgreSQL
        moves each table to this store's schema, its indexes with it, which
        costs no copy; SQLite creates each table and its indexes as the
        fresh file declares them and copies the rows, which it does page by
        page when the two tables are alike (its transfer optimisation)."""
        if self.postgres:
            assert fresh.schema is not None
            # Where this store's tables are made: the first schema of the
            # search path (the role's own, if it has one), not always public.
            (row,) = sql.all("SELECT current_schema() AS name")
            into = row["name"].replace('"', '""')
            for table in tables:
                sql.execute(
                    f'ALTER TABLE "{fresh.schema}"."{table}" SET SCHEMA "{into}"'
                )
            return
        for table in tables:
            declared = sql.all(
                "SELECT sql FROM fresh.sqlite_master WHERE tbl_name = ? "
                "AND sql IS NOT NULL "
                "ORDER BY CASE type WHEN 'table' THEN 0 WHEN 'index' THEN 1 "
                "ELSE 2 END, name",
                [table],
            )
            if not declared:
                raise LookupError(f"the fresh store has no table {table}")
            for row in declared:
                sql.execute(row["sql"])
            sql.execute(f"INSERT INTO main.{table} SELECT * FROM fresh.{table}")

    def discard(self) -> None:
        """Close a fresh store and remove it: its file (with its write-ahead
        log), or its schema and every table in it."""
        assert self.fresh, "only a fresh store is discarded"
        if self.schema is not None:
            with self.datastore.transaction(commit=True) as cursor:
                cursor.execute(
                    SQL("DROP SCHEMA IF EXISTS {0} CASCADE").format(
                        Identifier(self.schema)
                    )
                )
        self.close()
        if self._path is not None:
            remove_sqlite_file(self._path)

    def close(self) -> None:
        """Release the connections; safe to call twice (a shared pool must not
        lose a user it still has)."""
        close, self._close = self._close, _closed
        close()


def _closed() -> None:
    pass


def _sqlite_env(settings: Settings, path: Path) -> dict[str, str]:
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    return {
        "PERSISTENCE_MODULE": "eventsourcing.sqlite",
        "SQLITE_DBNAME": str(path),
        "SQLITE_LOCK_TIMEOUT": "10",
    }


def view_path(settings: Settings, name: str) -> Path:
    """The SQLite file of the read model (or other view store) ``name``."""
    return settings.sqlite_path(f"view_{name}")


def fresh_view_path(settings: Settings, name: str) -> Path:
    """The SQLite file a rebuild of the read model ``name`` builds into."""
    return settings.sqlite_path(f"view_{name}_rebuilding")


def fresh_schema(name: str) -> str:
    """The PostgreSQL schema a rebuild of the read model ``name`` builds into."""
    return f"boende_rebuilding_{name.lower()}"


def remove_sqlite_file(path: Path) -> None:
    """An SQLite database file gone, with its write-ahead log and index."""
    for file in (
        path,
        path.with_name(path.name + "-wal"),
        path.with_name(path.name + "-shm"),
    ):
        file.unlink(missing_ok=True)


def open_fresh(settings: Settings, name: str) -> ViewStore:
    """An empty fresh store for a rebuild of ``name``: whatever an earlier
    rebuild left there (one that died or was stopped) removed first."""
    if settings.uses_postgres:
        ViewStore(settings, name, fresh=True).discard()
    else:
        remove_sqlite_file(fresh_view_path(settings, name))
    return ViewStore(settings, name, fresh=True)


def tracking_table(name: str) -> str:
    """The PostgreSQL table of ``name``'s tracking position."""
    return f"{name.lower()}_tracking"


def peek_position(
    settings: Settings, name: str, timeout_s: int = 5, *, fresh: bool = False
) -> int | None:
    """``name``'s tracking position, read without creating anything (for
    ``boende doctor``; ``fresh``: the position a rebuild's fresh store has
    reached): None when it has never been built (no file, no table). Waits
    at most ``timeout_s`` for a lock or a connection."""
    query = "SELECT MAX(notification_id) FROM {} WHERE application_name = ?"
    if settings.database_url is None:
        path = fresh_view_path(settings, name) if fresh else view_path(settings, name)
        if not path.exists():
            return None
        # Read only, but not opened read-only: such a connection to a WAL
        # database leaves its -wal and -shm files behind when it closes.
        # Never created, though (``mode=rw``): a rebuild may remove its
        # fresh file at any moment.
        uri = f"{path.resolve().as_uri()}?mode=rw"
        try:
            with closing(sqlite3.connect(uri, timeout=timeout_s, uri=True)) as db:
                row = db.execute(query.format("tracking"), [TRACKED_LOG]).fetchone()
        except sqlite3.OperationalError as error:
            if "no such table" in str(error) or not path.exists():
                return None
            raise
        return int(row[0] or 0)
    table = Identifier(tracking_table(name))
    if fresh:
        table = Identifier(fresh_schema(name), tracking_table(name))
    with psycopg.connect(settings.database_url, connect_timeout=timeout_s) as conn:
        found = conn.execute("SELECT to_regclass(%s)", [table.as_string(conn)])
        if found.fetchone() == (None,):
            return None
        statement = SQL(query.replace("?", "%s")).format(table)
        row = conn.execute(statement, [TRACKED_LOG]).fetchone()
    return int(row[0] or 0) if row else 0
