"""A rebuild commits without waiting for the disk and builds its query
indexes last, so it must only count as done when it finished: one that dies
half way is redone from scratch at the next start, one that finishes leaves
the store durable, indexed and marked with its version. And the audit read
model's batch insert writes what its per-event handlers write. On SQLite and
PostgreSQL."""

from __future__ import annotations

import sqlite3
from typing import Any

from infra.settings import Settings
from infra.views import Sql, view_path
from projections.audit import AuditTrail
from services.bootstrap import bootstrap
from services.projecting.runner import REBUILDING, read_batch, rebuild_together
from tests.conftest import runner_rows, view_rows
from tests.integration.test_projection_crash import fill


def version_of(runner: Any) -> int | None:
    with runner.store.transaction(commit=False) as sql:
        return runner.store.schema_version(sql)  # type: ignore[no-any-return]


def index_names(sql: Sql) -> set[str]:
    if sql.postgres:
        rows = sql.all("SELECT indexname AS name FROM pg_indexes")
    else:
        rows = sql.all("SELECT name FROM sqlite_master WHERE type = 'index'")
    return {row["name"] for row in rows}


def test_a_rebuild_that_dies_half_way_is_redone_from_scratch(
    store_settings: Settings,
) -> None:
    boende = bootstrap(store_settings)
    try:
        fill(boende, 600)
        for runner in boende.runners:
            runner.catch_up()
        live = runner_rows(boende.runners)
        last = boende.app.recorder.max_notification_id() or 0
        audit = boende.runner("audit")
        audit.batch_size = 50
        audit.start_rebuild()
        audit.catch_up(until=last // 3)  # ... and the process dies here
        assert 0 < audit.store.position() < last
        assert version_of(audit) == REBUILDING
    finally:
        boende.close()

    again = bootstrap(store_settings)
    try:
        audit = again.runner("audit")
        assert audit.store.position() == 0, "a half rebuild was taken as done"
        assert version_of(audit) == AuditTrail.version
        for runner in again.runners:
            runner.catch_up()
        assert runner_rows(again.runners) == live
        with audit.store.transaction(commit=False) as sql:
            assert {
                "audit_events_by_aggregate",
                "audit_events_by_submission",
                "audit_events_by_committee_user",
                "audit_events_by_user",
            } <= index_names(sql)
    finally:
        again.close()


def test_a_finished_rebuild_is_durable_indexed_and_versioned(
    store_settings: Settings,
) -> None:
    boende = bootstrap(store_settings)
    try:
        fill(boende, 600)
        for runner in boende.runners:
            runner.catch_up()
        live = runner_rows(boende.runners)
        rebuild_together(boende.runners)
        assert runner_rows(boende.runners) == live
        for runner in boende.runners:
            assert version_of(runner) == runner.projection.version
            with runner.store.transaction(commit=False) as sql:
                names = index_names(sql)
            for statement in runner.projection.query_indexes:
                assert statement.split("EXISTS ")[1].split()[0] in names
        # A stopped rebuild finishes too: the prefix it reached is whole.
        for runner in boende.runners:
            runner.batch_size = 50
        rebuild_together(boende.runners, should_stop=iter([False, True]).__next__)
        audit = boende.runner("audit")
        assert audit.store.position() > 0
        assert version_of(audit) == AuditTrail.version
        audit.catch_up()
        assert view_rows(audit.store, audit.projection) == {
            k: v for k, v in live.items() if k == "audit_events"
        }
        if not store_settings.uses_postgres:
            # Later writes wait for the disk again, on every pooled connection.
            with audit.store.transaction(commit=True) as sql:
                level = sql.all("PRAGMA synchronous")[0]
            assert list(level.values()) == [2]
            path = view_path(store_settings, "audit")
            with sqlite3.connect(path) as db:
                ((ok,),) = db.execute("PRAGMA integrity_check").fetchall()
            assert ok == "ok"
    finally:
        boende.close()


def test_the_audit_batch_insert_writes_what_its_handlers_write(
    store_settings: Settings,
) -> None:
    boende = bootstrap(store_settings)
    try:
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
    finally:
        boende.close()
