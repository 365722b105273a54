"""A rebuild shared out over processes (``BOENDE_REBUILD_PROCESSES``, one
per core by default): each process replays the log into the fresh stores
of its share of the read models, and this one puts them in place. It must
build what a rebuild in one process builds; one stopped, or one whose
process fails, changes nothing and leaves nothing behind. On SQLite and
PostgreSQL."""

from __future__ import annotations

from collections.abc import Sequence
from typing import ClassVar

import pytest

from infra.settings import Settings
from infra.views import Sql, ViewStore
from projections.base import Projection, Recorded
from projections.counts import Counts
from services.bootstrap import Boende
from services.projecting.rebuild import (
    RebuildFailed,
    RebuildStopped,
    processes_for,
    rebuild_together,
    share_out,
)
from services.projecting.runner import ProjectionRunner
from tests.conftest import runner_rows
from tests.integration.test_projection_crash import filled
from tests.integration.test_rebuild_finish import as_before, fresh_left


class Failing(Projection):
    """A read model whose handler fails past position 100, as a bug would."""

    name = "failing"
    tables: ClassVar[dict[str, str]] = {
        "failing_positions": (
            "CREATE TABLE IF NOT EXISTS failing_positions (position BIGINT PRIMARY KEY)"
        )
    }

    def process_batch(self, sql: Sql, batch: Sequence[Recorded]) -> None:
        for recorded in batch:
            if recorded.position > 100:
                raise RuntimeError("a bug in a handler")
            sql.execute("INSERT INTO failing_positions VALUES (?)", [recorded.position])


def test_a_rebuild_in_processes_builds_what_one_process_builds(
    boende: Boende, store_settings: Settings
) -> None:
    live = filled(boende, 600)
    last = boende.app.recorder.max_notification_id() or 0
    events = len(boende.app.recorder.select_notifications(None, last + 1))
    progress: list[int] = []
    replayed = rebuild_together(
        boende.runners, on_progress=progress.append, processes=3
    )
    assert replayed == events == sum(progress)
    assert as_before(boende, store_settings, live)


def test_a_rebuild_in_processes_that_is_stopped_changes_nothing(
    boende: Boende, store_settings: Settings
) -> None:
    live = filled(boende, 600)
    with pytest.raises(RebuildStopped):
        rebuild_together(boende.runners, lambda: True, processes=2)
    assert as_before(boende, store_settings, live)


def test_a_process_that_fails_fails_the_rebuild_and_changes_nothing(
    boende: Boende, store_settings: Settings
) -> None:
    failing = ProjectionRunner(
        boende.app, Failing(), ViewStore(store_settings, Failing.name), batch_size=100
    )
    try:
        live = filled(boende, 300)
        failing.catch_up(until=100)
        runners = [boende.runner("counts"), failing]
        before = runner_rows(runners)
        with pytest.raises(RebuildFailed, match="boende rebuild failing exited with 1"):
            rebuild_together(runners, processes=2)
        assert runner_rows(runners) == before
        assert as_before(boende, store_settings, live)
        assert not fresh_left(store_settings, "failing")
    finally:
        failing.store.close()


def test_read_models_are_shared_out_in_even_parts(sqlite_boende: Boende) -> None:
    runners = sqlite_boende.runners
    costs = {r.projection.name: r.projection.replay_cost for r in runners}
    one = share_out(runners, 1)
    assert one == [list(runners)]
    two = share_out(runners, 2)
    assert sorted(r.projection.name for share in two for r in share) == sorted(costs)
    loads = [sum(r.projection.replay_cost for r in share) for share in two]
    assert max(loads) - min(loads) <= max(costs.values())
    assert len(share_out(runners, 99)) == len(runners)  # one each, no empty
    assert share_out(runners[:1], 4) == [[runners[0]]]


def test_the_processes_default_to_one_per_core(sqlite_settings: Settings) -> None:
    assert processes_for(sqlite_settings) >= 1
    assert (
        processes_for(sqlite_settings.model_copy(update={"rebuild_processes": 3})) == 3
    )
    assert Counts.replay_cost > Projection.replay_cost  # set from a measurement
