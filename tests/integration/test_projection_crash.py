"""Exactly-once under crashes: ``boende project`` (a real subprocess) is
SIGKILLed at random moments during catch-up, restarted, killed again; at the
end every read model equals a clean rebuild from the log. On SQLite and
PostgreSQL."""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import time
from typing import Any

from infra.settings import Settings
from services.bootstrap import Boende, bootstrap
from services.projecting.rebuild import rebuild_together
from services.projecting.runner import read_batch
from services.simulation.player import generate
from services.submission.service import parse
from tests.conftest import runner_rows


def fill(boende: Boende, events_wanted: int) -> None:
    envelopes = generate(48, seed=7)
    subs = [parse(json.dumps(e).encode(), 1 << 20) for e in envelopes]
    for i in range(0, len(subs), 100):
        boende.service.record_batch(subs[i : i + 100])
        if (boende.app.recorder.max_notification_id() or 0) >= events_wanted:
            return


def filled(boende: Boende, events_wanted: int) -> dict[str, Any]:
    """``fill``, every read model caught up: their rows (``runner_rows``)."""
    fill(boende, events_wanted)
    for runner in boende.runners:
        runner.catch_up()
    return runner_rows(boende.runners)


def project_process(settings: Settings) -> subprocess.Popen[bytes]:
    env = {
        **os.environ,
        "BOENDE_DATA_DIR": str(settings.data_dir),
        "BOENDE_PROJECTION_BATCH_SIZE": "10",
        "BOENDE_LOG_LEVEL": "WARNING",
    }
    env.pop("BOENDE_DATABASE_URL", None)
    if settings.database_url:
        env["BOENDE_DATABASE_URL"] = settings.database_url
    command = [sys.executable, "-m", "services.cli.main", "project"]
    return subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL)


def progress(boende: Boende) -> int:
    return sum(r.status().position for r in boende.runners)


def wait_for_progress(boende: Boende, beyond: int) -> None:
    deadline = time.monotonic() + 30
    while progress(boende) <= beyond and time.monotonic() < deadline:
        time.sleep(0.01)


def test_killed_runner_resumes_without_loss_or_double_count(
    store_settings: Settings,
) -> None:
    boende = bootstrap(store_settings)
    try:
        fill(boende, 3000)
        last = boende.app.recorder.max_notification_id() or 0
        rng = random.Random(11)
        kills = stalled = 0
        while (reached := progress(boende)) < last * len(boende.runners):
            process = project_process(store_settings)
            wait_for_progress(boende, reached)  # it is working: kill it soon
            time.sleep(rng.uniform(0.0, 0.5))
            process.send_signal(signal.SIGKILL)
            process.wait(timeout=10)
            kills += 1
            # Each run must get somewhere (on a busy machine perhaps one
            # batch of one read model); three runs in a row that do not is
            # a runner that makes no progress.
            stalled = 0 if progress(boende) > reached else stalled + 1
            assert stalled < 3, "the runner makes no progress"
        assert kills >= 2, "the test must kill the runner mid-way at least once"
        live = runner_rows(boende.runners)
        for runner in boende.runners:
            rebuild_together([runner])
        assert runner_rows(boende.runners) == live
        # ``projections rebuild all``: one read of the log for every model
        recorded = len(boende.app.recorder.select_notifications(None, last + 1))
        assert rebuild_together(boende.runners) == recorded
        assert runner_rows(boende.runners) == live
    finally:
        boende.close()


def test_a_batch_read_before_a_rebuild_reset_is_not_applied_after_it(
    store_settings: Settings,
) -> None:
    """A live follower reads a batch, a rebuild resets the read model and
    replays the first events, then the follower commits its stale batch: it
    must be refused, or the tracked position would jump past a hole."""
    boende = bootstrap(store_settings)
    try:
        fill(boende, 40)
        runner = boende.runner("counts")
        runner.catch_up()
        live = runner_rows([runner])
        reached = runner.store.position()
        stale = read_batch(boende.app, reached - 5, 1000)  # the follower's read

        runner.reset()  # the rebuild starts
        assert runner.apply(read_batch(boende.app, 0, 3), 0) == 3
        assert runner.apply(stale, reached - 5) == 0  # refused: not after 3
        assert runner.catch_up() > 0  # the rebuild goes on to the end
        assert runner_rows([runner]) == live
    finally:
        boende.close()


def test_rebuilds_beside_a_live_follower_end_equal_to_a_quiet_rebuild(
    store_settings: Settings,
) -> None:
    """``boende projections rebuild all`` while a server's follower keeps the
    same read models up to date: each batch and each reset go one after the
    other (``ViewStore.hold``), so no batch lands behind a reset and no
    error escapes; the end result equals a rebuild on a quiet store."""
    boende = bootstrap(store_settings, follow=True)
    try:
        fill(boende, 1500)
        for _ in range(3):
            rebuild_together(boende.runners)
        assert boende.follower is not None
        boende.follower.stop()
        last = boende.app.recorder.max_notification_id() or 0
        for runner in boende.runners:
            runner.catch_up()
            assert runner.store.position() == last
        raced = runner_rows(boende.runners)
        rebuild_together(boende.runners)
        assert runner_rows(boende.runners) == raced
    finally:
        boende.close()
