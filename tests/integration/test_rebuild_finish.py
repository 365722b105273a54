"""A rebuild builds the read model beside the live one, in a fresh store
that commits without waiting for the disk and builds its query indexes
last, then puts it in the live one's place in one transaction. So the live
read model answers, whole, until then; a rebuild that dies or is stopped
changes nothing and leaves nothing behind for the next one; one that
finishes leaves the store durable, indexed and marked with its version; and
two rebuilds of one read model never run at once. And the audit read
model's batch insert writes what its per-event handlers write. On SQLite and
PostgreSQL."""

from __future__ import annotations

import sqlite3
from typing import Any

import psycopg
import pytest

from infra.schema_lock import RebuildRunning, rebuild_lock
from infra.settings import Settings
from infra.views import Sql, fresh_schema, fresh_view_path, view_path
from projections.audit import AuditTrail
from services.bootstrap import Boende, bootstrap
from services.projecting.rebuild import (
    RebuildStopped,
    rebuild_state,
    rebuild_together,
)
from services.projecting.runner import REBUILDING, read_batch
from tests.conftest import runner_rows, view_rows
from tests.integration.test_projection_crash import fill, filled


def version_of(runner: Any) -> int | None:
    with runner.store.transaction(commit=False) as sql:
        return runner.store.schema_version(sql)  # type: ignore[no-any-return]


def index_names(sql: Sql) -> set[str]:
    if sql.postgres:
        rows = sql.all(
            "SELECT indexname AS name FROM pg_indexes WHERE schemaname = 'public'"
        )
    else:
        rows = sql.all("SELECT name FROM sqlite_master WHERE type = 'index'")
    return {row["name"] for row in rows}


def as_before(boende: Boende, settings: Settings, live: dict[str, Any]) -> bool:
    """Every read model answers as ``live`` and no fresh store is left."""
    return runner_rows(boende.runners) == live and not any(
        fresh_left(settings, runner.projection.name) for runner in boende.runners
    )


def fresh_left(settings: Settings, name: str) -> bool:
    """Whether a rebuild of ``name`` left its fresh store behind."""
    if settings.database_url is None:
        return fresh_view_path(settings, name).exists()
    with psycopg.connect(settings.database_url) as conn:
        row = conn.execute(
            "SELECT count(*) FROM pg_namespace WHERE nspname = %s",
            [fresh_schema(name)],
        ).fetchone()
    return bool(row and row[0])


AUDIT_QUERY_INDEXES = {
    "audit_events_by_aggregate",
    "audit_events_by_submission",
    "audit_events_by_committee_user",
    "audit_events_by_user",
}


def test_a_rebuild_that_dies_half_way_leaves_the_live_model_whole(
    store_settings: Settings,
) -> None:
    boende = bootstrap(store_settings)
    try:
        live = filled(boende, 600)
        last = boende.app.recorder.max_notification_id() or 0
        audit = boende.runner("audit")
        with rebuild_lock(store_settings, "audit"):
            assert rebuild_state(store_settings, "audit") == "starting"
            rebuilt = audit.rebuilding()
            rebuilt.projection.start_replay()
            rebuilt.batch_size = 50
            rebuilt.catch_up(until=last // 3)  # ... and the process dies here
            reached = rebuilt.store.position()
            assert 0 < reached < last
            assert rebuild_state(store_settings, "audit") == f"at {reached}"
        rebuilt.store.close()
        assert rebuild_state(store_settings, "audit") == f"left at {reached}"
        assert rebuild_state(store_settings, "counts") == "-"
        # Meanwhile the live read model answered as before, whole.
        assert runner_rows(boende.runners) == live
        assert fresh_left(store_settings, "audit")
    finally:
        boende.close()

    again = bootstrap(store_settings)
    try:
        audit = again.runner("audit")
        assert audit.store.position() == last, "the live model was touched"
        assert version_of(audit) == AuditTrail.version
        assert runner_rows(again.runners) == live
        # The next rebuild starts afresh and removes what the dead one left.
        assert rebuild_together([audit]) > 0
        assert as_before(again, store_settings, live)
        assert rebuild_state(store_settings, "audit") == "-"
        with audit.store.transaction(commit=False) as sql:
            assert index_names(sql) >= AUDIT_QUERY_INDEXES
    finally:
        again.close()


def test_a_store_an_earlier_release_left_half_rebuilt_is_rebuilt_at_start(
    store_settings: Settings,
) -> None:
    """Earlier releases rebuilt in place and marked the store ``REBUILDING``
    meanwhile; one that died so is redone from scratch at the next start."""
    boende = bootstrap(store_settings)
    try:
        live = filled(boende, 200)
        audit = boende.runner("audit")
        with audit.store.transaction(commit=True) as sql:
            audit.store.set_schema_version(sql, REBUILDING)
    finally:
        boende.close()
    again = bootstrap(store_settings)
    try:
        audit = again.runner("audit")
        assert audit.store.position() == 0, "a half rebuild was taken as done"
        assert version_of(audit) == AuditTrail.version
        audit.catch_up()
        assert runner_rows(again.runners) == live
    finally:
        again.close()


def test_a_finished_rebuild_is_durable_indexed_and_versioned(
    boende: Boende, store_settings: Settings
) -> None:
    live = filled(boende, 600)
    rebuild_together(boende.runners)
    assert runner_rows(boende.runners) == live
    for runner in boende.runners:
        assert version_of(runner) == runner.projection.version
        with runner.store.transaction(commit=False) as sql:
            names = index_names(sql)
        for statement in runner.projection.query_indexes:
            assert statement.split("EXISTS ")[1].split()[0] in names
        assert not fresh_left(store_settings, runner.projection.name)
    # A stopped rebuild changes nothing and leaves nothing behind.
    for runner in boende.runners:
        runner.batch_size = 50
    with pytest.raises(RebuildStopped) as stopped:
        rebuild_together(boende.runners, should_stop=iter([False, True]).__next__)
    assert 0 < stopped.value.replayed < len(live["audit_events"])
    assert as_before(boende, store_settings, live)
    if not store_settings.uses_postgres:
        # The live store's writes wait for the disk, on every connection.
        audit = boende.runner("audit")
        with audit.store.transaction(commit=True) as sql:
            level = sql.all("PRAGMA synchronous")[0]
        assert list(level.values()) == [2]
        path = view_path(store_settings, "audit")
        with sqlite3.connect(path) as db:
            ((ok,),) = db.execute("PRAGMA integrity_check").fetchall()
        assert ok == "ok"


def test_the_live_model_answers_and_follows_until_the_rebuilt_one_takes_over(
    boende: Boende, store_settings: Settings
) -> None:
    """While the fresh read model replays, the live one keeps its rows and
    goes on following the log; at the take-over the fresh one is first
    brought up to the live one's position, so that never goes back."""
    fill(boende, 300)
    counts = boende.runner("counts")
    counts.catch_up()
    before = runner_rows([counts])
    rebuilt = counts.rebuilding()
    rebuilt.projection.start_replay()
    rebuilt.batch_size = 40
    rebuilt.step()
    assert runner_rows([counts]) == before  # still the live rows
    fill(boende, 600)  # more of the same cases
    counts.catch_up()  # the live follower goes on
    ahead = runner_rows([counts])
    reached = counts.store.position()
    assert rebuilt.store.position() < reached
    rebuilt.finish()
    counts.take_over(rebuilt)
    assert counts.store.position() == reached
    assert runner_rows([counts]) == ahead
    assert version_of(counts) == counts.projection.version
    rebuilt.store.discard()
    assert not fresh_left(store_settings, "counts")


def test_two_rebuilds_of_one_read_model_do_not_run_at_once(
    boende: Boende, store_settings: Settings
) -> None:
    live = filled(boende, 100)
    with rebuild_lock(store_settings, "audit"):  # another process's rebuild
        with pytest.raises(RebuildRunning):
            rebuild_together(boende.runners)
        # Another read model can be rebuilt meanwhile.
        assert rebuild_together([boende.runner("counts")]) > 0
    assert as_before(boende, store_settings, live)
    assert rebuild_together([boende.runner("audit")]) > 0  # released


def test_the_audit_batch_insert_writes_what_its_handlers_write(
    boende: Boende,
) -> None:
    fill(boende, 300)
    batch = read_batch(boende.app, 0, 10_000)
    audit = boende.runner("audit")
    projection = audit.projection
    rows = []
    for one_by_one in (True, False):
        with audit.store.transaction(commit=True) as sql:
            projection.drop_tables(sql)
            projection.create_tables(sql)
            if one_by_one:
                for recorded in batch:
                    projection.process(sql, recorded)
            else:
                projection.process_batch(sql, batch)
        rows.append(view_rows(audit.store, projection))
    assert rows[0] == rows[1]
    assert len(rows[0]["audit_events"]) == len(batch)
