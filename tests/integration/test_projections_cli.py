"""``boende projections rebuild`` and ``status`` as an operator runs them: a
real subprocess on a real SQLite store, and the rebuilt read models equal the
live ones."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from eventsourcing.persistence import PersistenceError
from eventsourcing.postgres import PostgresApplicationRecorder

from infra.schema_lock import rebuild_lock
from infra.settings import Settings
from projections.counts import Counts
from services.bootstrap import PROJECTIONS, Boende, bootstrap
from services.cli.main import main
from tests.conftest import runner_rows
from tests.integration.test_projection_crash import fill, filled


def cli(data_dir: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "BOENDE_DATA_DIR": str(data_dir)}
    env.pop("BOENDE_DATABASE_URL", None)
    command = [sys.executable, "-m", "services.cli.main", "projections", *args]
    return subprocess.run(
        command, env=env, capture_output=True, text=True, timeout=120, check=False
    )


def test_rebuild_all_equals_live_and_status_shows_no_lag(tmp_path: Path) -> None:
    boende = bootstrap(Settings(data_dir=tmp_path))
    try:
        fill(boende, 600)
        last = boende.app.recorder.max_notification_id() or 0
        for runner in boende.runners:
            runner.catch_up()
        live = runner_rows(boende.runners)
    finally:
        boende.close()

    rebuilt = cli(tmp_path, "rebuild", "all")
    assert rebuilt.returncode == 0, rebuilt.stderr
    assert f"replayed {last} events" in rebuilt.stdout

    status = cli(tmp_path, "status")
    assert status.returncode == 0, status.stderr
    rows = [line.split() for line in status.stdout.splitlines()[1:]]
    assert {row[0] for row in rows} == {p.name for p in PROJECTIONS}
    assert {"counts", "audit", "unexecuted", "tenancies"} <= {row[0] for row in rows}
    assert all(row[1:] == [str(last), str(last), "0", "-"] for row in rows)

    boende = bootstrap(Settings(data_dir=tmp_path))
    try:
        assert runner_rows(boende.runners) == live
    finally:
        boende.close()


def test_rebuilding_an_unknown_read_model_is_refused(tmp_path: Path) -> None:
    refused = cli(tmp_path, "rebuild", "kounts")
    assert refused.returncode == 2
    assert "invalid choice: 'kounts'" in refused.stderr
    assert "'counts', 'audit'" in refused.stderr  # the names it takes


def test_a_second_rebuild_of_a_read_model_is_refused_and_changes_nothing(
    tmp_path: Path,
) -> None:
    settings = Settings(data_dir=tmp_path)
    boende = bootstrap(settings)
    try:
        live = filled(boende, 300)
        with rebuild_lock(settings, "counts"):  # a rebuild in another process
            refused = cli(tmp_path, "rebuild", "all")
        assert refused.returncode == 1
        assert "another process is rebuilding counts; nothing was changed" in (
            refused.stderr
        )
        assert "Traceback" not in refused.stderr
        assert runner_rows(boende.runners) == live
        assert not list(tmp_path.glob("view_*_rebuilding*"))
    finally:
        boende.close()


@pytest.mark.parametrize(
    ("to_group", "signum", "after_s"),
    [
        (False, signal.SIGINT, 0.2),  # into the replay
        (True, signal.SIGINT, 0.3),  # a terminal's Ctrl-C, as the processes start
        (True, signal.SIGTERM, 0.3),  # a service manager stopping the group
    ],
    ids=["ctrl-c", "ctrl-c-to-the-group", "sigterm-to-the-group"],
)
def test_a_rebuild_stopped_with_ctrl_c_changes_nothing(
    tmp_path: Path, to_group: bool, signum: int, after_s: float
) -> None:
    settings = Settings(data_dir=tmp_path)
    boende = bootstrap(settings)
    try:
        live = filled(boende, 3000)
    finally:
        boende.close()
    env = {
        **os.environ,
        "BOENDE_DATA_DIR": str(tmp_path),
        "BOENDE_PROJECTION_BATCH_SIZE": "1",  # a replay batch of ten events
        "BOENDE_REBUILD_PROCESSES": "2",
    }
    env.pop("BOENDE_DATABASE_URL", None)
    command = [sys.executable, "-m", "services.cli.main", "projections", "rebuild"]
    rebuild = subprocess.Popen(
        [*command, "all"],
        env=env,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    fresh = tmp_path / "view_audit_rebuilding.sqlite"
    deadline = time.monotonic() + 60
    while not fresh.exists() and rebuild.poll() is None:
        assert time.monotonic() < deadline, "the rebuild never started"
        time.sleep(0.01)
    time.sleep(after_s)
    if to_group:
        os.killpg(rebuild.pid, signum)
    else:
        rebuild.send_signal(signum)
    _, err = rebuild.communicate(timeout=60)
    assert rebuild.returncode == 130, err
    assert "events; nothing was changed, the read models answer as before" in err
    assert "Traceback" not in err
    assert not list(tmp_path.glob("view_*_rebuilding*"))
    boende = bootstrap(settings)
    try:
        assert runner_rows(boende.runners) == live
    finally:
        boende.close()


def test_rebuild_all_prints_the_events_in_the_log_even_beside_a_live_follower(
    store_settings: Settings,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """The count ``rebuild all`` prints is the number of events in the log:
    not its last position (PostgreSQL positions have gaps where an insert was
    rolled back), and not the events this process happened to apply. A
    server's follower, running beside the rebuild, takes some of its batches;
    the count used to be the events applied divided by the read models, and
    came out short (8457 of 10,322)."""
    settings = store_settings.model_copy(update={"projection_batch_size": 50})
    boende = bootstrap(settings, follow=True)
    try:
        fill(boende, 300)
        leave_a_gap(boende)
        fill(boende, 600)
        events = len(boende.app.recorder.select_notifications(None, 1 << 20))
        use_settings(monkeypatch, settings)
        assert main(["projections", "rebuild", "all"]) == 0
        printed = capsys.readouterr()
        assert f": replayed {events} events in " in printed.out
        assert f"replaying the case log: {events:,} events in " in printed.err
        assert boende.follower is not None
        boende.follower.stop()
        end = boende.app.recorder.max_notification_id()
        assert all(runner.store.position() == end for runner in boende.runners)
    finally:
        boende.close()


def leave_a_gap(boende: Boende) -> None:
    """On PostgreSQL, use up positions as rolled-back inserts do; SQLite's
    positions have no gaps."""
    recorder = boende.app.recorder
    if not isinstance(recorder, PostgresApplicationRecorder):
        return
    table = f"{recorder.datastore.schema}.{recorder.events_table_name}"
    with recorder.datastore.get_connection() as conn:
        conn.execute(
            "SELECT nextval(pg_get_serial_sequence(%s, 'notification_id')) "
            "FROM generate_series(1, 7)",
            [table],
        )


def use_settings(monkeypatch: pytest.MonkeyPatch, settings: Settings) -> None:
    """What ``Settings()`` in a command of this process then reads."""
    monkeypatch.setenv("BOENDE_DATA_DIR", str(settings.data_dir))
    monkeypatch.setenv("BOENDE_PROJECTION_BATCH_SIZE", "50")
    monkeypatch.delenv("BOENDE_DATABASE_URL", raising=False)
    if settings.database_url:
        monkeypatch.setenv("BOENDE_DATABASE_URL", settings.database_url)


def test_a_read_model_built_by_an_older_version_is_rebuilt_at_start(
    store_settings: Settings,
) -> None:
    """An upgrade that changes a read model's tables: the store left by the
    old version (its own tables, its tracking position, no version recorded)
    is dropped with its retired tables and rebuilt from the log, never read
    as if it were current."""
    boende = bootstrap(store_settings)
    try:
        fill(boende, 300)
        runner = boende.runner("counts")
        runner.catch_up()
        live = runner_rows([runner])
        with runner.store.transaction(commit=True) as sql:  # what version 1 left
            for table in runner.projection.tables:
                sql.execute(f"DROP TABLE {table}")
            sql.execute("CREATE TABLE counts_case_facts (position BIGINT, reason TEXT)")
            sql.execute("INSERT INTO counts_case_facts VALUES (1, 'free text')")
            sql.execute("DELETE FROM projection_versions")
    finally:
        boende.close()

    boende = bootstrap(store_settings)
    try:
        runner = boende.runner("counts")
        assert runner.store.position() == 0  # to be rebuilt
        runner.catch_up()
        assert runner_rows([runner]) == live
        with runner.store.transaction(commit=False) as sql:
            assert sql.one(
                "SELECT version FROM projection_versions WHERE projection = 'counts'"
            ) == {"version": Counts.version}
        with (
            pytest.raises(PersistenceError),
            runner.store.transaction(commit=False) as sql,
        ):
            sql.execute("SELECT * FROM counts_case_facts")
    finally:
        boende.close()
