"""The access log's table: every read of personal data — who (the token's
``sub``), which case, when, through which endpoint, and the stated purpose.

The purpose is a code of the configured list (``BOENDE_PURPOSE_CODES``);
rows written before codes were required may hold free text, and stay as
they are (the table is append-only). Free text now goes only in
``purpose_note``: the reader's note, sealed under the key of the case's
person (``infra.person_keys``), so erasing that key makes it unreadable with
the rest of the person's data. Nothing in this table is free text in clear.

The table ``access_log`` lives in the store's engine (``ViewStore``
"access_log": ``<data_dir>/view_access_log.sqlite``, or a table of the
store's PostgreSQL database). It is append-only: this module only inserts
and selects, and triggers refuse UPDATE and DELETE (a guard against slips).
The endpoints that write and read it are in ``services.http.access``.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from infra.settings import Settings
from infra.views import ViewStore
from projections.base import utc_text
from services.audit.pages import DayPage

_PG_LOCK = 0x41_43_43_45_53_53  # "ACCESS": one process creates the table


@dataclass(frozen=True)
class Access:
    """One logged read of personal data."""

    id: int
    accessed_at: str  # UTC, like 2024-05-01T12:00:00.000000Z
    sub: str
    case_id: str
    endpoint: str
    purpose: str  # a code (free text only in rows from before codes)
    purpose_note: dict[str, Any] | None = None  # sealed under the person's key


class AccessLog:
    """The append-only log of personal-data reads."""

    def __init__(self, settings: Settings) -> None:
        self.store = ViewStore(settings, "access_log")
        with self.store.transaction(commit=True) as sql:
            if self.store.postgres:
                sql.execute("SELECT pg_advisory_xact_lock(?)", [_PG_LOCK])
            for statement in _schema(self.store.postgres):
                sql.execute(statement)
            _add_note_column(sql, self.store.postgres)

    def record(
        self,
        sub: str,
        case_id: str,
        endpoint: str,
        purpose: str,
        purpose_note: dict[str, Any] | None = None,
    ) -> Access:
        """Append one entry and commit it; the entry as stored.
        ``purpose_note``: a note already sealed, never text."""
        at = utc_text(datetime.now(UTC))
        note = None if purpose_note is None else json.dumps(purpose_note)
        with self.store.transaction(commit=True) as sql:
            row = sql.one(
                "INSERT INTO access_log (accessed_at, sub, case_id, endpoint, "
                "purpose, purpose_note) VALUES (?, ?, ?, ?, ?, ?) RETURNING id",
                [at, sub, case_id, endpoint, purpose, note],
            )
        assert row is not None
        return Access(int(row["id"]), at, sub, case_id, endpoint, purpose, purpose_note)

    def entries(
        self,
        page: DayPage,
        case_id: str | None = None,
        user: str | None = None,
    ) -> list[Access]:
        """The entries of ``page`` (up to ``page.fetch``), in id order,
        filtered by case and user when given."""
        where, params = page.conditions("accessed_at")
        for column, value in (("case_id", case_id), ("sub", user)):
            if value is not None:
                where.append(f"{column} = ?")
                params.append(value)
        with self.store.transaction(commit=False) as sql:
            rows = sql.all(
                f"SELECT {_COLUMNS} FROM access_log WHERE {' AND '.join(where)} "
                "ORDER BY id LIMIT ?",
                [*params, page.fetch],
            )
        return [_access(row) for row in rows]

    def close(self) -> None:
        self.store.close()


_COLUMNS = "id, accessed_at, sub, case_id, endpoint, purpose, purpose_note"


def _access(row: dict[str, Any]) -> Access:
    return Access(
        int(row["id"]),
        row["accessed_at"],
        row["sub"],
        row["case_id"],
        row["endpoint"],
        row["purpose"],
        json.loads(row["purpose_note"]) if row["purpose_note"] else None,
    )


def _add_note_column(sql: Any, postgres: bool) -> None:
    """``purpose_note`` on a table made before it existed (old rows: NULL)."""
    if postgres:
        sql.execute("ALTER TABLE access_log ADD COLUMN IF NOT EXISTS purpose_note TEXT")
        return
    columns = {row["name"] for row in sql.all("PRAGMA table_info(access_log)")}
    if "purpose_note" not in columns:
        sql.execute("ALTER TABLE access_log ADD COLUMN purpose_note TEXT")


def _schema(postgres: bool) -> list[str]:
    # AUTOINCREMENT: SQLite never reuses an id, like a PostgreSQL sequence.
    id_column = "BIGSERIAL" if postgres else "INTEGER PRIMARY KEY AUTOINCREMENT"
    if postgres:
        id_column += " PRIMARY KEY"
    table = (
        f"CREATE TABLE IF NOT EXISTS access_log (id {id_column}, "
        "accessed_at TEXT NOT NULL, sub TEXT NOT NULL, case_id TEXT NOT NULL, "
        "endpoint TEXT NOT NULL, purpose TEXT NOT NULL)"
    )
    indexes = [
        "CREATE INDEX IF NOT EXISTS access_log_by_case ON access_log (case_id, id)",
        "CREATE INDEX IF NOT EXISTS access_log_by_sub ON access_log (sub, id)",
    ]
    return [table, *indexes, *(_pg_guards() if postgres else _sqlite_guards())]


def _sqlite_guards() -> list[str]:
    return [
        f"CREATE TRIGGER IF NOT EXISTS access_log_no_{op.lower()} BEFORE {op} "
        "ON access_log BEGIN SELECT RAISE(ABORT, 'access_log is append-only'); END"
        for op in ("UPDATE", "DELETE")
    ]


def _pg_guards() -> list[str]:
    return [
        "CREATE OR REPLACE FUNCTION boende_access_log_append_only() RETURNS trigger "
        "LANGUAGE plpgsql AS $$ BEGIN "
        "RAISE EXCEPTION 'access_log is append-only'; END $$",
        "CREATE OR REPLACE TRIGGER access_log_append_only BEFORE UPDATE OR DELETE "
        "ON access_log FOR EACH ROW EXECUTE FUNCTION boende_access_log_append_only()",
        "CREATE OR REPLACE TRIGGER access_log_no_truncate BEFORE TRUNCATE "
        "ON access_log FOR EACH STATEMENT "
        "EXECUTE FUNCTION boende_access_log_append_only()",
    ]
