"""A live follower whose read model stays locked past SQLite's busy
timeout (a rebuild copying its tables in takes seconds at a million
events) says so in a warning, not an error with a traceback, and follows
again once the lock is gone."""

from __future__ import annotations

import logging
import sqlite3
import time

import pytest

from infra.views import view_path
from services.bootstrap import Boende
from services.projecting.runner import Follower
from tests.integration.test_projection_crash import fill


def test_a_locked_read_model_is_a_warning_and_the_follower_goes_on(
    sqlite_boende: Boende, caplog: pytest.LogCaptureFixture
) -> None:
    fill(sqlite_boende, 50)
    counts = sqlite_boende.runner("counts")
    last = sqlite_boende.app.recorder.max_notification_id() or 0
    locker = sqlite3.connect(view_path(sqlite_boende.settings, "counts"))
    locker.execute("BEGIN IMMEDIATE")  # as a take-over holds it
    follower = Follower([counts], poll_seconds=0.05)
    caplog.set_level(logging.WARNING, logger="services.projecting.runner")
    try:
        follower.start()
        deadline = time.monotonic() + 30
        while "stayed locked" not in caplog.text:
            assert time.monotonic() < deadline, "no warning of the lock"
            time.sleep(0.2)
        assert counts.store.position() == 0
        locker.rollback()
        while counts.store.position() < last:
            assert time.monotonic() < deadline, "the follower did not go on"
            time.sleep(0.05)
    finally:
        locker.close()
        follower.stop()
    assert "projection step failed" not in caplog.text
    assert all(r.levelno == logging.WARNING for r in caplog.records), caplog.text
