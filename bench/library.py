"""The ``eventsourcing`` library's own append ceiling on Boende's store.

A minimal application with a trivial aggregate, configured from the same
``Settings.eventsourcing_env()`` as the case log (less Boende's receipting
recorder), saved in a loop on one thread: one new aggregate (one event) per
save, or one new aggregate with nine more events (ten events) per save. This
is what Boende's submission path can be compared with.
"""

from __future__ import annotations

import time
from pathlib import Path
from uuid import UUID

from eventsourcing.application import Application
from eventsourcing.domain import Aggregate, event

from bench.measure import Clock, Sample
from infra.settings import Settings

APP_NAME = "BenchLibrary"  # its own tables (PostgreSQL) beside the case log's
WARMUP_SAVES = 20


class Counter(Aggregate):
    """The smallest useful aggregate: created, then incremented."""

    def __init__(self) -> None:
        self.count = 0

    @event("Incremented")
    def increment(self) -> None:
        self.count += 1


class BenchLibrary(Application[UUID]):
    """A plain library application: no receipts, no domain rules."""

    name = APP_NAME


def library_env(settings: Settings, data_dir: Path) -> dict[str, str]:
    """The case log's library settings, on a store of the library's own."""
    env = settings.eventsourcing_env()
    env.pop("APPLICATION_RECORDER_TOPIC", None)
    if "SQLITE_DBNAME" in env:
        env["SQLITE_DBNAME"] = str(data_dir / "library.sqlite")
    return env


def one_save(app: BenchLibrary, events_per_save: int) -> None:
    counter = Counter()
    for _ in range(events_per_save - 1):
        counter.increment()
    app.save(counter)


def measure_saves(
    env: dict[str, str], events_per_save: int, seconds: float, max_saves: int
) -> Sample:
    """Save new aggregates for ``seconds`` (or ``max_saves``), timing each."""
    app = BenchLibrary(env=env)
    try:
        for _ in range(WARMUP_SAVES):
            one_save(app, events_per_save)
        latencies: list[float] = []
        clock = Clock()
        while len(latencies) < max_saves and clock.elapsed() < seconds:
            start = time.perf_counter()
            one_save(app, events_per_save)
            latencies.append(time.perf_counter() - start)
        return Sample(
            ok=len(latencies),
            failed=0,
            seconds=clock.elapsed(),
            latencies=latencies,
            events=len(latencies) * events_per_save,
            client_cpu=clock.cpu_used(),
            host_busy=clock.host_busy(),
        )
    finally:
        app.close()
