"""A ``boende`` worker command (``ingest``, ``relay``, ``project``) as a
subprocess, and timing it by the progress it makes."""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from pathlib import Path

from bench.measure import Clock, Sample, process_cpu
from bench.server import Child

POLL_SECONDS = 0.05


def worker_env(
    data_dir: Path, database_url: str | None, bootstrap: str
) -> dict[str, str]:
    """The environment of a worker on this store and broker."""
    env = os.environ | {
        "BOENDE_DATA_DIR": str(data_dir),
        "BOENDE_KAFKA_BOOTSTRAP": bootstrap,
        "BOENDE_LOG_LEVEL": "INFO",
        # The bench's messages carry no bearer token: with tokens checked
        # the ingest refuses every one (unauthenticated) and never records.
        # Token checking is measured in the HTTP part (setups off and jwt).
        "BOENDE_AUTH": "off",
    }
    env.pop("BOENDE_DATABASE_URL", None)
    if database_url:
        env["BOENDE_DATABASE_URL"] = database_url
    return env


class Worker(Child):
    """One ``boende`` worker command running with its own log file."""

    def __init__(self, args: list[str], env: dict[str, str], log_path: Path) -> None:
        super().__init__(args, env, log_path)
        self.name = " ".join(args)
        self.spawned = time.perf_counter()

    def cpu(self) -> float:
        return process_cpu(self.process.pid)

    def check(self, deadline: float, waiting_for: str) -> None:
        """Raise (with the log's tail) if the worker ended or time is up."""
        if self.process.poll() is not None:
            raise RuntimeError(
                f"`boende {self.name}` exited {self.process.returncode} "
                f"waiting for {waiting_for}:\n{self.log_tail()}"
            )
        if time.perf_counter() > deadline:
            raise RuntimeError(
                f"`boende {self.name}`: no {waiting_for} in time:\n{self.log_tail()}"
            )


def follow(
    worker: Worker,
    progress: Callable[[], int],
    goal: int,
    timeout: float,
    broker_pid: int,
) -> tuple[Sample, str]:
    """Poll ``progress`` until it reaches ``goal``. The sample runs from the
    first progress seen (so interpreter start, bootstrap and joining the group
    are outside it) to the goal; the note gives the startup, the rate from
    spawn, and the broker's CPU meanwhile."""
    deadline = worker.spawned + timeout
    while (start := progress()) <= 0:
        worker.check(deadline, "first progress")
        time.sleep(POLL_SECONDS)
    clock = Clock()
    worker_cpu, broker_cpu = worker.cpu(), process_cpu(broker_pid)
    startup = clock.wall - worker.spawned
    while progress() < goal:
        worker.check(deadline, f"{goal} done")
        time.sleep(POLL_SECONDS)
    seconds = clock.elapsed()
    broker_share = (process_cpu(broker_pid) - broker_cpu) / seconds if seconds else 0.0
    sample = Sample(
        ok=goal - start,
        failed=0,
        seconds=seconds,
        latencies=(),
        events=goal - start,
        client_cpu=clock.cpu_used(),
        server_cpu=worker.cpu() - worker_cpu,
        host_busy=clock.host_busy(),
    )
    from_spawn = goal / (time.perf_counter() - worker.spawned)
    note = (
        f"first {start} after {startup:.1f} s; "
        f"{from_spawn:.0f}/s from spawn; broker cpu {broker_share:.0%}"
    )
    return sample, note
