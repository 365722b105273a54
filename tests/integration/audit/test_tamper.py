"""Tampering with the stored events behind the application's back is caught.

On a real SQLite file and a real PostgreSQL database: twelve events are
recorded and covered by two signed heads (8, then 12 events); then the
database is changed directly with SQL — one event's state rewritten, one
event deleted, two events' states swapped, the tail cut off — and
``boende audit verify`` must fail and name the first position that no
longer matches. The untouched store verifies.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest

from infra.settings import Settings
from infra.signing import AuditSigner, load_or_create_signer, public_pem
from services.audit.log import AuditLog
from services.bootstrap import Boende
from services.cli import audit as audit_cli
from services.submission.service import Accepted, parse
from tests.conftest import envelope, later


class Database:
    """Direct SQL on the case log's events, past the application."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.postgres = settings.uses_postgres
        self.table, self.id = (
            ("caselog_events", "notification_id")
            if self.postgres
            else ("stored_events", "rowid")
        )

    def run(self, statement: str, params: list[Any]) -> list[Any]:
        statement = statement.format(table=self.table, id=self.id)
        if self.postgres:
            assert self.settings.database_url
            with psycopg.connect(self.settings.database_url, autocommit=True) as conn:
                cursor = conn.execute(statement.replace("?", "%s"), params)
                return cursor.fetchall() if cursor.description else []
        with sqlite3.connect(self.settings.sqlite_path("caselog")) as conn:
            return conn.execute(statement, params).fetchall()

    def state(self, position: int) -> bytes:
        rows = self.run("SELECT state FROM {table} WHERE {id} = ?", [position])
        return bytes(rows[0][0])

    def set_state(self, position: int, state: bytes) -> None:
        self.run("UPDATE {table} SET state = ? WHERE {id} = ?", [state, position])

    def delete(self, position: int) -> None:
        self.run("DELETE FROM {table} WHERE {id} = ?", [position])

    def truncate_after(self, position: int) -> None:
        self.run("DELETE FROM {table} WHERE {id} > ?", [position])


def record(boende: Boende, bodies: list[dict[str, Any]]) -> list[int]:
    subs = [parse(json.dumps(b).encode(), 1 << 20) for b in bodies]
    outcomes = boende.service.record_batch(subs)
    assert all(isinstance(o, Accepted) for o in outcomes), outcomes
    return [o.position for o in outcomes if isinstance(o, Accepted)]


def some_facts(prefix: str, cases: int) -> list[dict[str, Any]]:
    """Each case filed, then granted ten days later: two events per case."""
    filed = [envelope("application_filed", f"{prefix}-{i}") for i in range(cases)]
    granted = [
        envelope("application_granted", f"{prefix}-{i}", later(10))
        for i in range(cases)
    ]
    return filed + granted


@pytest.fixture
def audit(boende: Boende, store_settings: Settings) -> Iterator[AuditLog]:
    log = AuditLog(store_settings, boende.app)
    yield log
    log.close()


@pytest.fixture
def signed(boende: Boende, audit: AuditLog) -> list[int]:
    """Twelve events, signed at 8 and at 12; their positions."""
    positions = record(boende, some_facts("a", 4))
    assert audit.sign_head().tree_size == 8
    positions += record(boende, some_facts("b", 2))
    assert audit.sign_head().tree_size == 12
    assert positions == list(range(1, 13))
    return positions


def verify(settings: Settings, capsys: pytest.CaptureFixture[str], *args: str) -> Any:
    code = audit_cli.main(["verify", *args], settings)
    return code, capsys.readouterr().out


def test_an_untouched_store_verifies(
    signed: list[int], store_settings: Settings, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out = verify(store_settings, capsys)
    assert code == 0, out
    assert "12 events, 2 signed heads" in out
    assert "12 of 12 events covered by a signed head" in out
    assert "OK: all 12 events are as signed" in out


def test_events_recorded_since_the_last_head_are_not_proven(
    signed: list[int],
    boende: Boende,
    store_settings: Settings,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """A running system always has a tail: it is reported, never called OK,
    and fails the check unless the operator accepts it."""
    record(boende, some_facts("c", 1))
    code, out = verify(store_settings, capsys)
    assert code == 1, out
    assert "12 of 14 events covered by a signed head" in out
    assert "NOT PROVEN: the last 2 events (positions 13..14)" in out
    assert "OK: the first 12 events are as signed" in out
    assert "OK: all" not in out

    code, out = verify(store_settings, capsys, "--allow-unsigned-tail")
    assert code == 0, out
    assert "NOT PROVEN: the last 2 events" in out and "OK: all" not in out


@pytest.mark.parametrize("tamper", ["edit", "delete"])
def test_a_tail_changed_after_the_last_head_is_never_ok(
    tamper: str,
    signed: list[int],
    boende: Boende,
    store_settings: Settings,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """Nothing can show that an event no head covers was edited or deleted:
    the check fails on the tail itself, whatever happened to it."""
    record(boende, some_facts("c", 2))  # positions 13..16, unsigned
    db = Database(store_settings)
    if tamper == "edit":
        db.set_state(15, db.state(15).replace(b"handlaggare-17", b"handlaggare-99"))
    else:
        db.delete(16)
    code, out = verify(store_settings, capsys)
    assert code == 1, out
    assert "12 of " in out and "NOT PROVEN" in out
    assert "OK: all" not in out


def test_a_head_of_no_events_proves_nothing(
    boende: Boende,
    audit: AuditLog,
    store_settings: Settings,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """A fresh server signs a head of 0 events; events come after it."""
    assert audit.sign_head().tree_size == 0
    record(boende, some_facts("a", 1))
    for extra in ([], ["--allow-unsigned-tail"]):
        code, out = verify(store_settings, capsys, *extra)
        assert code == 1, out
        assert "0 of 2 events covered by a signed head" in out
        assert "head(s) of 0 events cover no event and prove nothing" in out
        assert "OK" not in out


def test_the_key_is_named_pinned_or_not(
    signed: list[int],
    audit: AuditLog,
    store_settings: Settings,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    from services.audit.verdict import fingerprint

    shown = fingerprint(audit.signer.public_key)
    code, out = verify(store_settings, capsys)
    assert code == 0 and "NOT PINNED" in out and shown in out
    published = tmp_path / "published.pem"
    published.write_text(public_pem(audit.signer.public_key))
    code, out = verify(store_settings, capsys, "--public-key", str(published))
    assert code == 0, out
    assert "key: pinned" in out and shown in out
    assert "NOT PINNED" not in out and "trusted as found" not in out


def rewrite_one(db: Database) -> int:
    db.set_state(5, db.state(5).replace(b"handlaggare-17", b"handlaggare-99"))
    return 5


def delete_one(db: Database) -> int:
    db.delete(7)
    return 7


def swap_two(db: Database) -> int:
    third, tenth = db.state(3), db.state(10)
    db.set_state(3, tenth)
    db.set_state(10, third)
    return 3


def truncate_tail(db: Database) -> int:
    db.truncate_after(9)
    return 10


def rewrite_the_last(db: Database) -> int:
    db.set_state(12, db.state(12) + b" ")
    return 12


@pytest.mark.parametrize(
    "tamper", [rewrite_one, delete_one, swap_two, truncate_tail, rewrite_the_last]
)
def test_tampering_is_caught_and_the_first_bad_position_named(
    tamper: Any,
    signed: list[int],
    audit: AuditLog,
    store_settings: Settings,
    capsys: pytest.CaptureFixture[str],
) -> None:
    first_bad = tamper(Database(store_settings))

    code, out = verify(store_settings, capsys)

    assert code == 1, out
    assert "FAILED" in out
    assert f"first position that does not match: {first_bad}\n" in out
    report = audit.verify(audit.signer.public_key)
    assert report.first_bad_position == first_bad
    # Changed events inside the first head break both heads; after it, one.
    broken = sum("root of the first" in p or "only" in p for p in report.problems)
    assert broken == (2 if first_bad <= 8 else 1)


def test_an_auditors_own_copy_of_a_head_is_checked_too(
    signed: list[int],
    audit: AuditLog,
    store_settings: Settings,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    head = tmp_path / "head.json"
    head.write_text(json.dumps(audit.heads()[0].as_json()))
    assert verify(store_settings, capsys, "--against", str(head))[0] == 0

    forged = {**audit.heads()[0].as_json(), "tree_size": 7}
    head.write_text(json.dumps(forged))
    code, out = verify(store_settings, capsys, "--against", str(head))
    assert code == 1
    assert "head 3 (7 events" in out and "signature does not verify" in out


def test_a_head_signed_by_another_key_fails(
    signed: list[int],
    audit: AuditLog,
    store_settings: Settings,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    stranger: AuditSigner = load_or_create_signer(tmp_path / "other.key", "test")
    head = tmp_path / "head.json"
    head.write_text(json.dumps(stranger.sign(audit.heads()[1].head).as_json()))
    code, out = verify(store_settings, capsys, "--against", str(head))
    assert code == 1
    assert "head 3 (12 events" in out and "signature does not verify" in out


def test_the_audit_tables_refuse_updates_and_deletes(
    signed: list[int], audit: AuditLog
) -> None:
    for statement in [
        "UPDATE audit_tree_heads SET root_hash = 'ab'",
        "DELETE FROM audit_leaves WHERE leaf_index = 3",
    ]:
        refused = pytest.raises(Exception, match="append-only")
        with refused, audit.store.transaction(commit=True) as sql:
            sql.execute(statement)
    assert len(audit.heads()) == 2


def test_positions_with_gaps_map_to_consecutive_leaves(
    boende: Boende, audit: AuditLog, store_settings: Settings
) -> None:
    """PostgreSQL may skip positions: the leaf index counts events instead."""
    record(boende, some_facts("g", 2))
    Database(store_settings).delete(2)  # a gap before anything is signed
    assert audit.sign_head().tree_size == 3
    assert [p for p, _ in audit.recorded_leaves()] == [1, 3, 4]
    assert audit.leaf_index(3) == 1
    assert audit.verify(audit.signer.public_key).ok
