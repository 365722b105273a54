"""The audit log's two tables, ``audit_leaves`` (the leaf hash of every
event signed so far) and ``audit_tree_heads`` (every signed head), and the
triggers that refuse UPDATE and DELETE on both: append-only, as a guard
against slips (an attacker with the database is what the signed heads and
``boende audit verify`` are for)."""

from __future__ import annotations


def tables(postgres: bool) -> list[str]:
    """The two append-only tables, and triggers that refuse UPDATE and DELETE
    (a guard against slips, not against a DBA: the signatures are that)."""
    serial = "BIGSERIAL" if postgres else "INTEGER"
    created = [
        "CREATE TABLE IF NOT EXISTS audit_leaves (leaf_index BIGINT PRIMARY KEY, "
        "position BIGINT NOT NULL UNIQUE, leaf_hash TEXT NOT NULL)",
        f"CREATE TABLE IF NOT EXISTS audit_tree_heads (id {serial} PRIMARY KEY, "
        "tree_size BIGINT NOT NULL, root_hash TEXT NOT NULL, signed_at TEXT NOT NULL, "
        "key_id TEXT NOT NULL, signature TEXT NOT NULL)",
    ]
    return [*created, *(_pg_guards() if postgres else _sqlite_guards())]


_GUARDED = ("audit_leaves", "audit_tree_heads")


def _sqlite_guards() -> list[str]:
    return [
        f"CREATE TRIGGER IF NOT EXISTS {t}_no_{op.lower()} BEFORE {op} ON {t} "
        f"BEGIN SELECT RAISE(ABORT, '{t} is append-only'); END"
        for t in _GUARDED
        for op in ("UPDATE", "DELETE")
    ]


def _pg_guards() -> list[str]:
    function = (
        "CREATE OR REPLACE FUNCTION boende_audit_append_only() RETURNS trigger "
        "LANGUAGE plpgsql AS $$ BEGIN "
        "RAISE EXCEPTION 'the audit tables are append-only'; END $$"
    )
    return [
        function,
        *(
            f"CREATE OR REPLACE TRIGGER {t}_append_only BEFORE UPDATE OR DELETE "
            f"ON {t} FOR EACH ROW EXECUTE FUNCTION boende_audit_append_only()"
            for t in _GUARDED
        ),
    ]
