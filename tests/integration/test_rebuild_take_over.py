"""A rebuilt read model taking its live one's place: it replaces the live
rows, whatever they held; a query begun meanwhile waits for it and sees it
whole; on PostgreSQL the tables land where the live ones were, whatever the
search path; and a take-over that fails says which read models it had
already replaced. On SQLite and PostgreSQL."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import psycopg
import pytest

from infra.settings import Settings
from services.bootstrap import Boende, bootstrap
from services.projecting.rebuild import RebuildFailed, rebuild_together
from services.projecting.runner import ProjectionRunner
from tests.conftest import runner_rows
from tests.integration.test_projection_crash import filled
from tests.integration.test_rebuild_finish import as_before, fresh_left


@pytest.mark.parametrize("processes", [1, 2])
def test_a_rebuild_replaces_whatever_the_live_rows_hold(
    boende: Boende, store_settings: Settings, processes: int
) -> None:
    live = filled(boende, 300)
    damaged = [boende.runner("counts"), boende.runner("audit")]
    for runner in damaged:
        with runner.store.transaction(commit=True) as sql:
            for table in runner.projection.tables:
                sql.execute(f"DELETE FROM {table}")
    assert runner_rows(boende.runners) != live
    rebuild_together(damaged, processes=processes)
    assert as_before(boende, store_settings, live)


def test_a_query_begun_during_a_take_over_waits_and_sees_it_whole(
    boende: Boende, store_settings: Settings
) -> None:
    """The take-over holds the read model from its first statement to its
    commit; a query that began meanwhile reads the position and the rows
    it commits, never the new rows with the old position."""
    filled(boende, 100)
    counts = boende.runner("counts")
    before = counts.store.position()
    seen: list[int] = []

    def query() -> None:
        with counts.store.transaction(commit=False) as sql:
            seen.append(counts.store.position(sql))

    rebuilt = counts.rebuilding()
    try:
        with counts.store.taking_from(rebuilt.store) as sql:
            counts.store.hold(sql)
            counts.store.shut_out_readers(sql)
            reader = threading.Thread(target=query)
            reader.start()
            time.sleep(0.5)
            if store_settings.uses_postgres:
                assert reader.is_alive(), "the query read during the take-over"
            counts.store.forget_position(sql)
            counts.store.track(sql, before + 1_000)
        reader.join(timeout=30)
    finally:
        rebuilt.store.discard()
    # PostgreSQL: the query waited and saw the take-over's commit. SQLite:
    # it read its own snapshot at once, the whole read model before it.
    assert seen == ([before + 1_000] if store_settings.uses_postgres else [before])


def test_on_postgresql_the_tables_land_in_the_live_ones_schema(
    postgres_url: str, tmp_path: Path
) -> None:
    """A role with a schema of its own name makes its tables there, not in
    public: the rebuilt tables must land there too, or the next start makes
    empty ones there that hide them."""
    with psycopg.connect(postgres_url, autocommit=True) as conn:
        conn.execute("CREATE SCHEMA kommun")
        name = conn.execute("SELECT current_database()").fetchone()
        assert name is not None
        conn.execute(f'ALTER DATABASE "{name[0]}" SET search_path TO kommun, public')
    settings = Settings(data_dir=tmp_path / "var", database_url=postgres_url)
    boende = bootstrap(settings)
    try:
        live = filled(boende, 200)
        rebuild_together(boende.runners)
        assert as_before(boende, settings, live)
    finally:
        boende.close()
    again = bootstrap(settings)
    try:
        assert runner_rows(again.runners) == live
    finally:
        again.close()
    with psycopg.connect(postgres_url) as conn:
        rows = conn.execute(
            "SELECT table_schema, count(*) FROM information_schema.tables "
            "WHERE table_name IN ('counts_daily', 'audit_events') GROUP BY 1"
        ).fetchall()
    assert rows == [("kommun", 2)]


def test_a_take_over_that_fails_says_what_it_had_replaced(
    boende: Boende, store_settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    live = filled(boende, 200)
    counts, audit = boende.runner("counts"), boende.runner("audit")

    def refuses(rebuilt: ProjectionRunner) -> None:
        raise RuntimeError("database is locked")

    monkeypatch.setattr(audit, "take_over", refuses)
    with pytest.raises(RebuildFailed, match="audit could not take") as failed:
        rebuild_together([counts, audit])
    assert failed.value.replaced == ["counts"]
    assert runner_rows(boende.runners) == live
    assert not fresh_left(store_settings, "counts")
    assert not fresh_left(store_settings, "audit")
