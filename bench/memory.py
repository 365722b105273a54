"""Memory (issue 15 item 7): the resident memory of ``boende serve`` as
its log grows, and the peak of ``boende projections rebuild all`` at a
million events.

    .venv/bin/python -m bench.memory [--submissions 100000] [--step 10000]
        [--source var/bench/projections-1m] [--part serve|rebuild|all]

``serve``: a real ``boende serve`` (SQLite, one worker: the projection
follower in its process) on a fresh data dir takes unique filings from 8
raw-HTTP clients (``bench.submissions``), ``--step`` at a time; after each
step the resident memory (``VmRSS``) of the server and every process below
it is read from ``/proc``. Goal: flat, no growth with the log. The first
tens of thousands fill bounded caches (SQLite's pages, statements, the
allocator's arenas), so the verdict compares the reading half-way with the
last: a leak grows with the log in the second half as in the first.

``rebuild``: ``boende projections rebuild all`` as a subprocess on a copy
of the benchmark's million-event log (the event store and keys, never the
read models: ``bench.figures.copy_log``); its peak resident memory is the
kernel's high-water mark (``VmHWM``, read while it runs) of that process
plus those of the processes it shares the replay with (one per core), as
if all peaked at once. Goal: at most 1 GiB.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from bench.figures import copy_log
from bench.measure import family, tree_rss
from bench.server import ROOT, Child, Server
from bench.submissions import FILING, measure_load

MIB = 1024 * 1024
#: Flat: the last reading at most this share above the one half-way.
FLAT = 0.02
REBUILD_GOAL = 1024 * MIB


@dataclass(frozen=True)
class Reading:
    """The server's resident memory after ``submissions`` were accepted."""

    submissions: int
    rss: int
    failed: int


def serve_growth(submissions: int, step: int, clients: int = 8) -> list[Reading]:
    """Readings of ``boende serve``'s memory, one per ``step`` submissions."""
    readings: list[Reading] = []
    with tempfile.TemporaryDirectory(prefix="boende-bench-memory-") as tmp:
        server = Server(Path(tmp), None)
        try:
            server.wait_ready()
            readings.append(Reading(0, tree_rss(server.pid), 0))
            done = 0
            while done < submissions:
                sample = measure_load(
                    server, FILING, clients, 3600.0, step, f"mem-{os.getpid()}-{done}"
                )
                done += sample.ok
                readings.append(Reading(done, tree_rss(server.pid), sample.failed))
                if sample.ok == 0:
                    break  # nothing accepted: the readings say so
        finally:
            server.stop()
    return readings


def rebuild_peak(source: Path, target: Path) -> tuple[int, float, int, int]:
    """``boende projections rebuild all`` on a copy of ``source``: its exit
    code, seconds, and peak resident memory (bytes) and the log's length."""
    copy_log(source, target)
    events = _log_length(target)
    env = os.environ | {
        "BOENDE_DATA_DIR": str(target),
        "BOENDE_AUTH": "off",
        "BOENDE_LOG_LEVEL": "WARNING",
    }
    env.pop("BOENDE_DATABASE_URL", None)
    started = time.perf_counter()
    child = Child(["projections", "rebuild", "all"], env, target / "rebuild.log")
    peaks: dict[int, int] = {}  # each process's own high-water mark
    while child.process.poll() is None:
        for pid in family(child.process.pid):
            peaks[pid] = max(peaks.get(pid, 0), high_water(pid))
        time.sleep(HIGH_WATER_POLL_S)
    seconds = time.perf_counter() - started
    child.stop()
    # The rebuild's processes (one per core) each at its peak at once: an
    # upper bound of what they held together.
    return child.process.returncode, seconds, sum(peaks.values()), events


#: How often the rebuild's high-water mark is read: it only grows, so a read
#: misses only what the last moments before exit add.
HIGH_WATER_POLL_S = 0.05


def high_water(pid: int) -> int:
    """The process's peak resident memory so far (``VmHWM``, bytes), 0 once
    it is gone. Not ``ru_maxrss`` from ``wait4``: Linux carries the parent's
    high-water mark into a child started by ``vfork`` and ``exec`` (as
    ``subprocess`` does), so that figure was the bench's own peak (795 MiB
    after the read-model part) whenever it was larger than the rebuild's."""
    try:
        with open(f"/proc/{pid}/status") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError):
        pass
    return 0


def _log_length(data_dir: Path) -> int:
    import sqlite3

    with sqlite3.connect(data_dir / "caselog.sqlite") as db:
        (end,) = db.execute("SELECT MAX(rowid) FROM stored_events").fetchone()
    return int(end or 0)


def serve_table(readings: list[Reading]) -> list[str]:
    first, half, last = readings[0], readings[len(readings) // 2], readings[-1]
    growth = (last.rss - half.rss) / half.rss if half.rss else 0.0
    per_submission = (last.rss - half.rss) / max(last.submissions - half.submissions, 1)
    lines = [
        "| submissions accepted | server RSS (MiB) | refused in the step |",
        "|---:|---:|---:|",
        *(
            f"| {r.submissions:,} | {r.rss / MIB:,.1f} | {r.failed:,} |"
            for r in readings
        ),
    ]
    verdict = "met" if growth <= FLAT else "not met"
    lines.append(
        f"\nserve: {(last.rss - first.rss) / MIB:+,.1f} MiB from start to "
        f"{last.submissions:,} submissions; {growth:+.1%} "
        f"({per_submission:+,.0f} bytes a submission) from {half.submissions:,} "
        f"to {last.submissions:,} (goal: flat, at most +{FLAT:.0%} in the "
        f"second half): {verdict}"
    )
    return lines


def rebuild_line(code: int, seconds: float, peak: int, events: int) -> str:
    verdict = "met" if code == 0 and peak <= REBUILD_GOAL else "not met"
    return (
        f"rebuild all: {events:,} events in {seconds:,.0f} s "
        f"({events / seconds:,.0f} events/s), exit {code}, peak RSS of its processes "
        f"{peak / MIB:,.0f} MiB (goal: at most {REBUILD_GOAL // MIB:,} MiB): "
        f"{verdict}"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--submissions", type=int, default=100_000)
    parser.add_argument("--step", type=int, default=10_000)
    parser.add_argument(
        "--source", type=Path, default=ROOT / "var/bench/projections-1m"
    )
    parser.add_argument(
        "--target", type=Path, default=ROOT / "var/bench/memory-rebuild"
    )
    parser.add_argument("--part", choices=("serve", "rebuild", "all"), default="all")
    args = parser.parse_args(argv)
    print(
        f"load average before: {' '.join(f'{x:.2f}' for x in os.getloadavg())}",
        flush=True,
    )
    failed = False
    if args.part in ("serve", "all"):
        readings = serve_growth(args.submissions, args.step)
        print("\n".join(serve_table(readings)), flush=True)
        failed |= any(r.failed for r in readings)
    if args.part in ("rebuild", "all"):
        if not (args.source / "caselog.sqlite").exists():
            print(f"no benchmark log at {args.source}: run bench.projections first")
            return 2
        code, seconds, peak, events = rebuild_peak(args.source, args.target)
        print(rebuild_line(code, seconds, peak, events), flush=True)
        failed |= code != 0
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
