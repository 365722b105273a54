"""What one measurement yields, and the small statistics the table needs."""

from __future__ import annotations

import contextlib
import os
import time
from collections.abc import Sequence
from dataclasses import dataclass

_TICKS = os.sysconf("SC_CLK_TCK")


@dataclass(frozen=True)
class Sample:
    """The outcome of one timed run: successes, failures, their latencies."""

    ok: int
    failed: int
    seconds: float
    latencies: Sequence[float]  # seconds, one per successful operation
    events: int  # events appended during the run
    client_cpu: float  # seconds of CPU the measuring process used
    server_cpu: float | None = None  # seconds of CPU the server process used
    host_busy: float | None = None  # share (0..1) of all cores busy meanwhile
    problems: tuple[str, ...] = ()  # what the failures were, counted

    @property
    def rate(self) -> float:
        return self.ok / self.seconds if self.seconds else 0.0

    @property
    def events_rate(self) -> float:
        return self.events / self.seconds if self.seconds else 0.0

    def percentile_ms(self, p: float) -> float:
        return percentile(self.latencies, p) * 1000


def percentile(values: Sequence[float], p: float) -> float:
    """The nearest-rank ``p``-th percentile (0 < p <= 100); 0.0 when empty."""
    if not values:
        return 0.0
    ordered = sorted(values)
    rank = max(1, -(-len(ordered) * p // 100))  # ceil without floats creeping in
    return ordered[int(rank) - 1]


def process_cpu(pid: int) -> float:
    """CPU seconds (user + system) used so far by process ``pid``."""
    with open(f"/proc/{pid}/stat") as stat:
        # The command name (field 2) may hold spaces: split after its ")".
        fields = stat.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / _TICKS


def family(pid: int) -> set[int]:
    """``pid`` and every living process below it (``boende serve --workers
    N``: the workers and the ``boende project`` beside them)."""
    parents: dict[int, int] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat") as stat:
                    parents[int(entry)] = int(stat.read().rsplit(")", 1)[1].split()[1])
            except (OSError, ValueError, IndexError):
                continue  # gone meanwhile
    members, frontier = {pid}, [pid]
    while frontier:
        parent = frontier.pop()
        children = [child for child, p in parents.items() if p == parent]
        members.update(children)
        frontier += children
    return members


def tree_cpu(pid: int) -> float:
    """CPU seconds used so far by ``pid`` and every living process below it."""
    total = 0.0
    for member in family(pid):
        # One may exit between the listing and the read.
        with contextlib.suppress(OSError, ValueError, IndexError):
            total += process_cpu(member)
    return total


@dataclass(frozen=True)
class HostTimes:
    """Busy and total jiffies of all cores, from ``/proc/stat``."""

    busy: int
    total: int

    @classmethod
    def now(cls) -> HostTimes:
        with open("/proc/stat") as stat:
            values = [int(v) for v in stat.readline().split()[1:]]
        idle = values[3] + values[4]  # idle + iowait
        return cls(busy=sum(values) - idle, total=sum(values))

    def busy_since(self, start: HostTimes) -> float:
        total = self.total - start.total
        return (self.busy - start.busy) / total if total else 0.0


class Clock:
    """Wall time, this process's CPU time and the host's, from one start."""

    def __init__(self) -> None:
        self.wall = time.perf_counter()
        self.cpu = time.process_time()
        self.host = HostTimes.now()

    def elapsed(self) -> float:
        return time.perf_counter() - self.wall

    def cpu_used(self) -> float:
        return time.process_time() - self.cpu

    def host_busy(self) -> float:
        return HostTimes.now().busy_since(self.host)

    def sample(self, events: int, latencies: Sequence[float]) -> Sample:
        """``events`` processed since the start, timed as ``latencies``."""
        return Sample(
            ok=events,
            failed=0,
            seconds=self.elapsed(),
            latencies=latencies,
            events=events,
            client_cpu=self.cpu_used(),
            host_busy=self.host_busy(),
        )


def tree_rss(pid: int) -> int:
    """Resident memory (bytes) of ``pid`` and every living process below it
    (``VmRSS``, pages shared between them counted in each)."""
    total = 0
    for member in family(pid):
        with (
            contextlib.suppress(OSError, ValueError),
            open(f"/proc/{member}/status") as status,
        ):
            for line in status:
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1]) * 1024
                    break
    return total
