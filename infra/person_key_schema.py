"""The tables of ``infra.person_key_table``, created or brought up to date
when a process opens them.

``person_keys.used_at`` came after the table: an older table gains the
column (``ALTER TABLE ... ADD COLUMN``, which both engines run on a table
with rows, without rewriting them), and rows without a value get the time of
the migration, so their grace period before an orphan purge starts then. A
process started meanwhile by older code writes rows without ``used_at``: the
purge passes them by (``NULL < t`` is never true) until the next start
fills them in.
"""

from __future__ import annotations

from infra.signing import utc_timestamp
from infra.views import Sql

TABLE = (
    "CREATE TABLE IF NOT EXISTS person_keys ("
    "person_ref TEXT PRIMARY KEY, key_id TEXT NOT NULL UNIQUE, "
    "wrapped_key TEXT NOT NULL, master_key_id TEXT NOT NULL, used_at TEXT)"
)
_PG_LOCK = 0x50_4B_45_59_53  # "PKEYS": one process creates or migrates the tables


def create_or_migrate(sql: Sql, postgres: bool) -> None:
    """Create the tables, or bring an older key table up to date: it gains
    ``used_at``, and rows without one are counted as used now."""
    if postgres:
        sql.execute("SELECT pg_advisory_xact_lock(?)", [_PG_LOCK])
    sql.execute(TABLE)
    if not postgres:  # the write lock first, so two starting processes queue
        sql.execute("UPDATE person_keys SET key_id = key_id WHERE 0")
    if "used_at" not in _columns(sql, postgres):
        sql.execute("ALTER TABLE person_keys ADD COLUMN used_at TEXT")
    sql.execute(
        "UPDATE person_keys SET used_at = ? WHERE used_at IS NULL", [utc_timestamp()]
    )
    for statement in _purge_log(postgres):
        sql.execute(statement)


def _columns(sql: Sql, postgres: bool) -> set[str]:
    if postgres:
        rows = sql.all(
            "SELECT column_name AS name FROM information_schema.columns "
            "WHERE table_schema = current_schema() AND table_name = 'person_keys'"
        )
    else:
        rows = sql.all("PRAGMA table_info(person_keys)")
    return {row["name"] for row in rows}


def _purge_log(postgres: bool) -> list[str]:
    """``person_key_purges``, and triggers that refuse UPDATE and DELETE
    (a guard against slips, as for the audit tables)."""
    id_column = "BIGSERIAL PRIMARY KEY" if postgres else "INTEGER PRIMARY KEY"
    table = (
        f"CREATE TABLE IF NOT EXISTS person_key_purges (id {id_column}, "
        "purged_at TEXT NOT NULL, purged_by TEXT NOT NULL, rule TEXT NOT NULL, "
        "cases_before TEXT NOT NULL, unused_before TEXT NOT NULL, "
        "case_keys_deleted INTEGER NOT NULL, orphan_keys_deleted INTEGER NOT NULL)"
    )
    if not postgres:
        return [
            table,
            *(
                f"CREATE TRIGGER IF NOT EXISTS person_key_purges_no_{op.lower()} "
                f"BEFORE {op} ON person_key_purges "
                "BEGIN SELECT RAISE(ABORT, 'person_key_purges is append-only'); END"
                for op in ("UPDATE", "DELETE")
            ),
        ]
    return [
        table,
        "CREATE OR REPLACE FUNCTION boende_key_purges_append_only() RETURNS "
        "trigger LANGUAGE plpgsql AS $$ BEGIN "
        "RAISE EXCEPTION 'person_key_purges is append-only'; END $$",
        "CREATE OR REPLACE TRIGGER person_key_purges_append_only BEFORE UPDATE "
        "OR DELETE ON person_key_purges FOR EACH ROW "
        "EXECUTE FUNCTION boende_key_purges_append_only()",
    ]
