"""The case log: the ``eventsourcing`` application and its recorders.

One application (``CaseLog``) holds both aggregates, so every fact has one
global position in one notification log. Its recorders are the library's own,
extended with one table of *submission receipts* written in the same
transaction as the events: the receipt's primary key makes a submission id
unique, and it keeps the first result so a repeat can return it.
"""

from __future__ import annotations

import functools
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import date
from typing import Any, TypeVar
from uuid import UUID

from eventsourcing.application import Application
from eventsourcing.persistence import (
    InterfaceError,
    JSONTranscoder,
    OperationalError,
    StoredEvent,
    Transcoding,
)
from eventsourcing.postgres import PostgresApplicationRecorder
from eventsourcing.sqlite import SQLiteApplicationRecorder, SQLiteCursor
from psycopg import Cursor
from psycopg.rows import DictRow
from psycopg.sql import SQL, Identifier
from psycopg_pool import PoolTimeout


@dataclass(frozen=True)
class Receipt:
    """The first result of a submission, as returned to its sender."""

    submission_id: str
    body_sha256: str
    aggregate_type: str  # "case" or "apartment"
    aggregate_key: str  # the sender's case_id or apartment_id
    originator_id: UUID
    version: int
    position: int = 0  # the global log position, known once inserted


class DateAsISO(Transcoding):
    type = date
    name = "date_iso"

    def encode(self, obj: date) -> str:
        return obj.isoformat()

    def decode(self, data: str) -> date:
        return date.fromisoformat(data)


#: The library's own setting that keeps it from creating the tables: for a
#: look that must change nothing (``boende doctor``).
NO_NEW_TABLES = {"CREATE_TABLE": "n"}


class CaseLog(Application[UUID]):
    """The append-only log of every case and apartment fact."""

    name = "CaseLog"

    def register_transcodings(self, transcoder: JSONTranscoder) -> None:
        super().register_transcodings(transcoder)
        transcoder.register(DateAsISO())

    def event_count(self, after: int = 0, up_to: int | None = None) -> int:
        """How many events the log holds at positions after ``after`` and up
        to ``up_to`` (default: its end). Counted, not subtracted: PostgreSQL
        positions may have gaps (a rolled-back insert still used its number)."""
        recorder: Any = self.recorder
        end = (1 << 62) if up_to is None else up_to
        if isinstance(recorder, PostgresApplicationRecorder):
            statement = SQL(
                "SELECT COUNT(*) AS n FROM {}.{} "
                "WHERE notification_id > %s AND notification_id <= %s"
            ).format(
                Identifier(recorder.datastore.schema),
                Identifier(recorder.events_table_name),
            )
            with recorder.datastore.get_connection() as conn, conn.cursor() as curs:
                curs.execute(statement, [after, end])
                row = curs.fetchone()
                return int(row["n"]) if row else 0
        with recorder.datastore.transaction(commit=False) as c:
            c.execute(
                f"SELECT COUNT(*) FROM {recorder.events_table_name} "
                "WHERE rowid > ? AND rowid <= ?",
                [after, end],
            )
            return int(c.fetchone()[0])


def _positioned(
    receipts: Iterable[Receipt],
    stored_events: Sequence[StoredEvent],
    positions: Sequence[int],
) -> list[Receipt]:
    """Fill each receipt's position from its event's notification id."""
    by_event = {
        (str(s.originator_id), s.originator_version): p
        for s, p in zip(stored_events, positions, strict=True)
    }
    return [
        replace(r, position=by_event[(str(r.originator_id), r.version)])
        for r in receipts
    ]


def _receipt_from_row(row: Any) -> Receipt:
    return Receipt(
        submission_id=row["submission_id"],
        body_sha256=row["body_sha256"],
        aggregate_type=row["aggregate_type"],
        aggregate_key=row["aggregate_key"],
        originator_id=UUID(str(row["originator_id"])),
        version=row["version"],
        position=row["position"],
    )


RECEIPT_COLUMNS = (
    "submission_id, body_sha256, aggregate_type, aggregate_key, "
    "originator_id, version, position"
)


class ReceiptingSQLiteRecorder(SQLiteApplicationRecorder):
    """The library's SQLite recorder, plus submission receipts."""

    def construct_create_table_statements(self) -> list[str]:
        return [
            *super().construct_create_table_statements(),
            "CREATE TABLE IF NOT EXISTS submission_receipts ("
            "submission_id TEXT PRIMARY KEY, body_sha256 TEXT NOT NULL, "
            "aggregate_type TEXT NOT NULL, aggregate_key TEXT NOT NULL, "
            "originator_id TEXT NOT NULL, version INTEGER NOT NULL, "
            "position INTEGER NOT NULL)",
        ]

    def _insert_events(
        self, c: SQLiteCursor, stored_events: Sequence[StoredEvent], **kwargs: Any
    ) -> Sequence[int] | None:
        positions = super()._insert_events(c, stored_events, **kwargs)
        receipts: list[Receipt] = kwargs.get("receipts") or []
        if receipts and positions:
            c.executemany(
                f"INSERT INTO submission_receipts ({RECEIPT_COLUMNS}) "
                "VALUES (?,?,?,?,?,?,?)",
                [
                    _receipt_params(r)
                    for r in _positioned(receipts, stored_events, positions)
                ],
            )
        return positions

    def select_receipts(self, submission_ids: Sequence[str]) -> dict[str, Receipt]:
        if not submission_ids:
            return {}
        marks = ",".join("?" * len(submission_ids))
        with self.datastore.transaction(commit=False) as c:
            c.execute(
                f"SELECT {RECEIPT_COLUMNS} FROM submission_receipts "
                f"WHERE submission_id IN ({marks})",
                list(submission_ids),
            )
            rows = c.fetchall()
        return {row["submission_id"]: _receipt_from_row(row) for row in rows}


_T = TypeVar("_T")
_PAUSE_S = 0.2  # between two tries of one read


def _patient(method: Callable[..., _T], *, again: bool = True) -> Callable[..., _T]:
    """``method`` without the library's ten tries (each waiting up to the
    pool's timeout: a minute in an outage), tried again only while the pool's
    timeout lasts; a failure first drops every broken pooled connection, so
    the next try and the next request start on a fresh one."""
    once: Callable[..., _T] = getattr(method, "__wrapped__", method)

    @functools.wraps(once)
    def bounded(self: ReceiptingPostgresRecorder, *args: Any, **kwargs: Any) -> _T:
        deadline = time.monotonic() + self.datastore.pool.timeout
        while True:
            try:
                return once(self, *args, **kwargs)
            except (InterfaceError, OperationalError):
                self.drop_broken_connections()
                if not again or time.monotonic() + _PAUSE_S >= deadline:
                    raise
                time.sleep(_PAUSE_S)

    return bounded


def bound_waits(datastore: Any) -> None:
    """Make a PostgreSQL datastore's pool fail fast and recover fast: a new
    connection waits at most the pool's timeout (``BOENDE_STORE_WAIT_SECONDS``)
    to connect, and a reconnection gives up after it, so the next request
    starts another at once, instead of psycopg_pool's backoff (1, 2, 4 ... s,
    for up to 5 minutes: writes came back ~30 s after the server did)."""
    pool = getattr(datastore, "pool", None)
    if pool is None or not isinstance(getattr(pool, "kwargs", None), dict):
        return  # SQLite
    wait = float(pool.timeout)
    pool.reconnect_timeout = wait
    pool.kwargs["connect_timeout"] = max(int(wait), 2)  # libpq's least


def drop_broken_connections(datastore: Any) -> None:
    """Check a PostgreSQL datastore's idle connections now, dropping the
    broken ones (after a server restart every one is)."""
    try:
        datastore.pool.check()
    except Exception:  # SQLite, a closed pool, or the check itself failed
        return


def never_sent(error: BaseException) -> bool:
    """Whether ``error`` came before anything reached the database (no
    connection could be had): then nothing of the transaction was recorded.
    Any other failure of a write may have come after its commit."""
    cause: BaseException | None = error
    while cause is not None:
        if isinstance(cause, PoolTimeout):
            return True
        cause = cause.__cause__
    return False


class ReceiptingPostgresRecorder(PostgresApplicationRecorder):
    """The library's PostgreSQL recorder, plus submission receipts, with
    bounded waits: in an outage a call fails within about the pool's timeout
    (``BOENDE_STORE_WAIT_SECONDS``), and the pool reconnects as soon as the
    server is back rather than after its exponential backoff (up to minutes).
    A write is tried once: whether a failed one was recorded is for the
    caller to find out (``never_sent``, the receipts)."""

    insert_events = _patient(PostgresApplicationRecorder.insert_events, again=False)
    select_events = _patient(PostgresApplicationRecorder.select_events)
    select_notifications = _patient(PostgresApplicationRecorder.select_notifications)
    max_notification_id = _patient(PostgresApplicationRecorder.max_notification_id)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        bound_waits(self.datastore)
        self.receipts_table = Identifier(
            self.datastore.schema, f"{self.events_table_name}_receipts"
        )
        self.sql_create_statements.append(
            SQL(
                "CREATE TABLE IF NOT EXISTS {} ("
                "submission_id text PRIMARY KEY, body_sha256 text NOT NULL, "
                "aggregate_type text NOT NULL, aggregate_key text NOT NULL, "
                "originator_id uuid NOT NULL, version bigint NOT NULL, "
                "position bigint NOT NULL)"
            ).format(self.receipts_table)
        )

    def _fetch_ids_after_insert_events(
        self, curs: Cursor[DictRow], stored_events: Sequence[StoredEvent], **kwargs: Any
    ) -> Sequence[int] | None:
        positions = super()._fetch_ids_after_insert_events(
            curs, stored_events, **kwargs
        )
        receipts: list[Receipt] = kwargs.get("receipts") or []
        if receipts and positions:
            rows = [
                _receipt_params(r)
                for r in _positioned(receipts, stored_events, positions)
            ]
            columns = list(zip(*rows, strict=True))
            curs.execute(
                SQL(
                    "INSERT INTO {} ({}) SELECT * FROM unnest("
                    "%s::text[], %s::text[], %s::text[], %s::text[], %s::uuid[], "
                    "%s::bigint[], %s::bigint[]) RETURNING submission_id"
                ).format(self.receipts_table, SQL(RECEIPT_COLUMNS)),
                [list(column) for column in columns],
            )
            curs.fetchall()  # surfaces a duplicate id here, inside the transaction
        return positions

    def drop_broken_connections(self) -> None:
        drop_broken_connections(self.datastore)

    @_patient
    def select_receipts(self, submission_ids: Sequence[str]) -> dict[str, Receipt]:
        if not submission_ids:
            return {}
        with self.datastore.get_connection() as conn, conn.cursor() as curs:
            curs.execute(
                SQL("SELECT {} FROM {} WHERE submission_id = ANY(%s)").format(
                    SQL(RECEIPT_COLUMNS), self.receipts_table
                ),
                [list(submission_ids)],
            )
            rows = curs.fetchall()
        return {row["submission_id"]: _receipt_from_row(row) for row in rows}


def _receipt_params(r: Receipt) -> tuple[Any, ...]:
    return (
        r.submission_id,
        r.body_sha256,
        r.aggregate_type,
        r.aggregate_key,
        str(r.originator_id),
        r.version,
        r.position,
    )
