"""A rolled-back or restored log is seen, on real SQLite files and a real
PostgreSQL database.

The attack the store's own heads cannot show: delete the newer events
together with the newer heads and their leaves, and what is left is a
smaller log that agrees with every head still stored. The heads written
outside the store (``infra.head_mirror``: a directory of head files) still
cover the deleted events, so ``boende audit verify`` names a rollback, the
commands that start refuse to run on such a log, and the signer refuses to
sign over a log that changed under its last head.
"""

from __future__ import annotations

import json
import logging
import shutil
import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest
from fastapi.testclient import TestClient

from infra.head_mirror import HeadNotMirrored, mirror_dir
from infra.settings import Settings
from infra.views import view_path
from services.audit.log import AuditLog
from services.audit.signer import HeadSigner
from services.audit.tree import LogChanged
from services.bootstrap import Boende, bootstrap
from services.cli import main as cli
from services.cli.behind import log_behind
from services.http.app import create_app
from services.projecting.rebuild import rebuild_together
from tests.integration.audit.test_tamper import Database, record, some_facts, verify

ROLLED_BACK = "rolled back or restored from an older backup?"


@pytest.fixture
def audit(boende: Boende, store_settings: Settings) -> Iterator[AuditLog]:
    log = AuditLog(store_settings, boende.app)
    yield log
    log.close()


@pytest.fixture
def signed(boende: Boende, audit: AuditLog) -> None:
    """Twelve events, signed at 8 and at 12."""
    record(boende, some_facts("a", 4))
    assert audit.sign_head().tree_size == 8
    record(boende, some_facts("b", 2))
    assert audit.sign_head().tree_size == 12


def audit_sql(settings: Settings, statements: list[str]) -> None:
    """Direct SQL on the audit tables, their append-only guards dropped first:
    what an attacker with the database can do."""
    if settings.uses_postgres:
        assert settings.database_url
        with psycopg.connect(settings.database_url, autocommit=True) as conn:
            for table in ("audit_leaves", "audit_tree_heads"):
                conn.execute(f"DROP TRIGGER {table}_append_only ON {table}")
            for statement in statements:
                conn.execute(statement)
        return
    with sqlite3.connect(view_path(settings, "audit_heads")) as conn:
        for table in ("audit_leaves", "audit_tree_heads"):
            for op in ("update", "delete"):
                conn.execute(f"DROP TRIGGER {table}_no_{op}")
        for statement in statements:
            conn.execute(statement)


def roll_back_to_eight(settings: Settings) -> None:
    """Delete events 9..12, the head of 12 and the leaves it added."""
    Database(settings).truncate_after(8)
    audit_sql(
        settings,
        [
            "DELETE FROM audit_tree_heads WHERE tree_size > 8",
            "DELETE FROM audit_leaves WHERE leaf_index >= 8",
        ],
    )


def test_a_rollback_with_its_heads_and_leaves_is_named_by_the_mirror(
    signed: None, store_settings: Settings, capsys: pytest.CaptureFixture[str]
) -> None:
    roll_back_to_eight(store_settings)
    mirror = mirror_dir(store_settings)
    assert len(list(mirror.glob("*.json"))) == 2

    code, out = verify(store_settings, capsys)
    assert code == 1, out
    assert "FAILED" in out
    assert "the log holds 8 events but a head signed on " in out
    assert f"({'in ' + str(mirror)}) covers 12: {ROLLED_BACK}" in out
    assert "outside the store: 2 signed heads in " in out

    # Without the copies outside the store, the smaller log looks whole:
    # what the mirror is for.
    shutil.move(mirror, mirror.with_name("elsewhere"))
    code, out = verify(store_settings, capsys)
    assert code == 0, out
    assert "OK: all 8 events are as signed" in out
    assert "outside the store: no signed head outside the store" in out


def test_a_truncated_log_is_named_a_rollback_and_refused(
    signed: None,
    audit: AuditLog,
    store_settings: Settings,
    capsys: pytest.CaptureFixture[str],
) -> None:
    Database(store_settings).truncate_after(9)

    code, out = verify(store_settings, capsys)
    assert code == 1, out
    assert "the log holds 9 events but a head signed on " in out
    assert f"covers 12: {ROLLED_BACK}" in out
    assert "first position that does not match: 10" in out

    with pytest.raises(LogChanged, match="holds 9 events up to position 12"):
        audit.sign_head()
    assert [h.tree_size for h in audit.heads()] == [8, 12]

    reasons = log_behind(store_settings)
    assert any(
        r.startswith("the newest signed tree head")
        and "covers 12 events, the log holds 9: restored from an older backup?" in r
        for r in reasons
    ), reasons


def test_a_head_over_a_changed_tail_is_refused_by_the_signer(
    signed: None,
    audit: AuditLog,
    boende: Boende,
    store_settings: Settings,
    caplog: pytest.LogCaptureFixture,
) -> None:
    db = Database(store_settings)
    db.set_state(12, db.state(12).replace(b"handlaggare-17", b"handlaggare-99"))
    record(boende, some_facts("c", 1))
    files = sorted(mirror_dir(store_settings).glob("*.json"))

    with pytest.raises(LogChanged, match="position 12 is not the one signed"):
        audit.sign_head()

    signer = HeadSigner(audit, interval_seconds=0.0)
    with caplog.at_level(logging.ERROR):
        assert signer.tick() == 0.0
    refused = [r for r in caplog.records if "no tree head signed" in r.getMessage()]
    assert refused and "position 12 is not the one signed" in refused[0].getMessage()
    assert refused[0].exc_info is None  # a sentence for the operator
    assert [h.tree_size for h in audit.heads()] == [8, 12]
    assert sorted(mirror_dir(store_settings).glob("*.json")) == files


def test_the_audit_tables_rolled_back_alone_are_refused_by_the_signer(
    signed: None, audit: AuditLog, store_settings: Settings
) -> None:
    """A restore of the audit tables (the leaves and heads of 8) under a log
    of 12: the newest head file covers more than is recorded as signed."""
    audit_sql(
        store_settings,
        [
            "DELETE FROM audit_tree_heads WHERE tree_size > 8",
            "DELETE FROM audit_leaves WHERE leaf_index >= 8",
        ],
    )
    with pytest.raises(LogChanged, match="covers 12 events, but only 8 are recorded"):
        AuditLog(store_settings, audit.app).sign_head()


def test_every_head_is_a_file_of_its_own_and_a_head_not_written_is_not_signed(
    signed: None, audit: AuditLog, store_settings: Settings, tmp_path: Path
) -> None:
    files = sorted(mirror_dir(store_settings).glob("*.json"))
    heads = [json.loads(f.read_text()) for f in files]
    assert heads == [h.as_json() for h in audit.heads()]
    assert files[0].name.startswith("000000000008-")

    blocked = tmp_path / "not-a-directory"
    blocked.write_text("a file where the mirror directory should be")
    elsewhere = store_settings.model_copy(update={"tree_head_mirror_dir": blocked})
    other = AuditLog(elsewhere, audit.app)
    try:
        with pytest.raises(HeadNotMirrored, match="cannot write the head file"):
            other.sign_head()
    finally:
        other.close()
    assert [h.tree_size for h in audit.heads()] == [8, 12]


# -- an older copy of the SQLite file, restored --------------------------------


def copy_sqlite(source: Path, target: Path) -> None:
    with sqlite3.connect(source) as src, sqlite3.connect(target) as dst:
        src.backup(dst)


def restore_sqlite(backup: Path, target: Path) -> None:
    """What an operator does: the file replaced by the backup's copy."""
    for suffix in ("", "-wal", "-shm"):
        target.with_name(target.name + suffix).unlink(missing_ok=True)
    shutil.copyfile(backup, target)


def run_cli(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    code = cli.main(argv)
    captured = capsys.readouterr()
    return code, captured.err + captured.out


def test_an_older_sqlite_file_restored_refuses_serve_and_project(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    settings = Settings(data_dir=tmp_path / "var")
    monkeypatch.setenv("BOENDE_DATA_DIR", str(settings.data_dir))
    backup = tmp_path / "caselog-backup.sqlite"
    boende = bootstrap(settings)
    audit = AuditLog(settings, boende.app)
    try:
        record(boende, some_facts("a", 2))  # 4 events
        copy_sqlite(settings.sqlite_path("caselog"), backup)
        record(boende, some_facts("b", 2))  # 8 events
        rebuild_together(boende.runners)
        assert audit.sign_head().tree_size == 8
    finally:
        audit.close()
        boende.close()
    restore_sqlite(backup, settings.sqlite_path("caselog"))

    for command in (["serve"], ["project"], ["ingest"], ["relay"]):
        code, said = run_cli(command, capsys)
        assert code == 2, said
        name = command[0]
        assert (
            f"boende {name}: the log is behind the newest signed tree head: the "
            "head signed on " in said
        )
        assert (
            "covers 8 events, the log holds 4: restored from an older backup?" in said
        )
        assert (
            f"boende {name}: the log is behind the read model counts: it has read "
            "up to position 8, the log ends at position 4: restored from an older "
            "backup? Rebuild the read models from this log: "
            "boende projections rebuild all" in said
        )
        assert "Traceback" not in said

    # Rebuilt read models no longer stop a start; the head still does: the
    # events it signed are gone, and nothing re-signs them on its own.
    assert run_cli(["projections", "rebuild", "all"], capsys)[0] == 0
    code, said = run_cli(["project"], capsys)
    assert code == 2
    assert "the read model" not in said
    assert "the log is behind the newest signed tree head" in said


def test_new_facts_on_a_restored_log_are_not_signed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The restored log takes new facts at the positions the lost ones had:
    the signer compares the signed tail and refuses."""
    settings = Settings(data_dir=tmp_path / "var")
    backup = tmp_path / "caselog-backup.sqlite"
    boende = bootstrap(settings)
    try:
        record(boende, some_facts("a", 2))
        copy_sqlite(settings.sqlite_path("caselog"), backup)
        record(boende, some_facts("b", 2))
        audit = AuditLog(settings, boende.app)
        assert audit.sign_head().tree_size == 8
        audit.close()
    finally:
        boende.close()
    restore_sqlite(backup, settings.sqlite_path("caselog"))
    boende = bootstrap(settings)
    audit = AuditLog(settings, boende.app)
    try:
        assert record(boende, some_facts("c", 2)) == [5, 6, 7, 8]  # reused
        with pytest.raises(LogChanged, match="is not the one signed"):
            audit.sign_head()
    finally:
        audit.close()
        boende.close()


def test_a_log_that_is_not_behind_starts(store_settings: Settings, signed: Any) -> None:
    assert log_behind(store_settings) == []


def test_the_api_refuses_to_sign_over_a_rolled_back_log_with_409(
    signed: None, boende: Boende, store_settings: Settings
) -> None:
    """POST /v1/audit/tree-heads on a log behind its newest head (in the
    store, and as a file outside it): 409 ``audit_log_changed`` saying why,
    never 500, and no head is signed or mirrored."""
    Database(store_settings).truncate_after(9)
    files = sorted(mirror_dir(store_settings).glob("*.json"))
    with TestClient(create_app(boende)) as client:
        refused = client.post("/v1/audit/tree-heads")
        assert refused.status_code == 409, refused.text
        body = refused.json()
        assert body["error"] == "audit_log_changed"
        assert "holds 9 events up to position 12" in body["message"]
        assert "boende audit verify" in body["message"]
        documented = client.get("/openapi.json").json()
        responses = documented["paths"]["/v1/audit/tree-heads"]["post"]["responses"]
        assert "409" in responses and "500" not in responses
    assert sorted(mirror_dir(store_settings).glob("*.json")) == files
    audit = AuditLog(store_settings, boende.app)
    try:
        assert [h.tree_size for h in audit.heads()] == [8, 12]
    finally:
        audit.close()


def test_the_api_refuses_to_sign_over_a_log_behind_its_mirrored_head(
    signed: None, boende: Boende, store_settings: Settings
) -> None:
    """The events, the heads and the leaves after 8 gone, so the store agrees
    with itself: only the head file outside it covers 12. 409, not 500."""
    roll_back_to_eight(store_settings)
    with TestClient(create_app(boende)) as client:
        refused = client.post("/v1/audit/tree-heads")
    assert refused.status_code == 409, refused.text
    assert refused.json()["error"] == "audit_log_changed"
    assert "rolled back or restored from an older backup?" in refused.json()["message"]


def test_the_api_answers_503_when_the_head_cannot_be_kept_outside_the_store(
    signed: None, boende: Boende, store_settings: Settings, tmp_path: Path
) -> None:
    """The mirror directory unwritable: a head only the store held could be
    rolled back with it, so none is signed — 503 ``unavailable``, not 500."""
    blocked = tmp_path / "not-a-directory"
    blocked.write_text("a file where the mirror directory should be")
    elsewhere = store_settings.model_copy(update={"tree_head_mirror_dir": blocked})
    record(boende, some_facts("c", 1))
    other = bootstrap(elsewhere)
    try:
        with TestClient(create_app(other)) as client:
            refused = client.post("/v1/audit/tree-heads")
            documented = client.get("/openapi.json").json()
    finally:
        other.close()
    assert refused.status_code == 503, refused.text
    assert refused.json()["error"] == "unavailable"
    assert "also kept outside the store" in refused.json()["message"]
    responses = documented["paths"]["/v1/audit/tree-heads"]["post"]["responses"]
    assert "503" in responses and "500" not in responses
    audit = AuditLog(store_settings, boende.app)
    try:
        assert [h.tree_size for h in audit.heads()] == [8, 12]
    finally:
        audit.close()
