"""Read models at scale: rebuilding them, and the ``counts`` query, on SQLite.

On a case log of ``--events`` recorded events (default 1,000,000, about
150,000 cases; ``--quick``: 50,000), in one run:

1. the ``eventsourcing`` library alone reading the log: ``select_notifications``
   in the runners' batch size (the ceiling of any rebuild), then the same with
   every notification decoded to its domain event (``mapper.to_domain_event``),
   which every runner does too;
2. each read model rebuilt by its own runner (``ProjectionRunner.rebuild``:
   replay the log into a fresh store batch by batch, one transaction per
   batch, then take the live model's place), and all of them one after
   another ("in turn", their times summed). All those rebuilds together get
   300 s (each keeps 20 s for those still to come); one that runs out of
   time stops at a batch boundary and leaves the live model as it was: its
   rate is then measured over that prefix of the log, without the take-over,
   and the table's note says so. Then
   all of them "at once", as ``boende projections rebuild all`` does: the log
   read and decoded once per batch for every read model (another 300 s);
3. the ``counts`` query as the ``/v1/oversight/counts`` endpoint runs it (the
   read model's ``answer``, without HTTP), 1,000 calls with a random ``as_of``
   day, then 1,000 with a random ``known_at`` too, each series for at most
   ``--query-seconds`` (60: the row's note says when that cut it short); for
   reference, one filtered ``COUNT(*)`` over the case facts with the same
   parameters (a single scan: the query makes several), for at most 20 s;
4. the auditor's checks on the same log (``bench.audit``): signing a tree
   head, ``boende audit verify`` over every event, and the root each
   oversight answer carries;
5. each oversight figure's query (``bench.figures``: counts by a dimension,
   flows with details, households, the path to a first-hand lease, rents,
   vacancy, due within 30 days, the three-month list, apartments, lead
   times, the landlord register), on a copy of the log with those read
   models caught up, ``--calls`` random calls each.

The log is made of many independent simulated municipalities ("worlds", five
years each, different seeds), their ids prefixed per world, recorded through
``SubmissionService.record_batch`` in chunks of 500 submissions. Building it
takes minutes, so it is kept under ``var/bench/projections-<size>/`` and
reused while it holds at least ``--events`` events (``--rebuild-data``: build
it again).

Usage: ``python -m bench.projections [--quick] [--events N] [--rebuild-data]
[--calls N] [--query-seconds S] [--profile]``; ``python -m bench.run`` runs it
after the HTTP part (``--part projections``: only this).
"""

from __future__ import annotations

import argparse
import cProfile
import dataclasses
import io
import logging
import pstats
import resource
import sys
import textwrap
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from bench import audit, counts_queries, figures
from bench.dataset import Dataset, prepare, settings_for, size_label
from bench.measure import Clock, Sample
from bench.report import Row, format_row, header
from bench.server import ROOT
from services.bootstrap import Boende, bootstrap
from services.projecting.rebuild import (
    RebuildStopped,
    processes_for,
    rebuild_together,
)
from services.projecting.runner import ProjectionRunner

BACKEND = "sqlite"
FULL_EVENTS = 1_000_000
QUICK_EVENTS = 50_000
REBUILD_BUDGET_S = 300.0  # all read models together; then prefixes
REBUILD_RESERVE_S = 20.0  # kept for each rebuild still to come
CEILING_BUDGET_S = 30.0  # per library read measurement
QUERY_BUDGET_S = 60.0  # per counts series, should 1,000 calls take longer

LEGEND = (
    "Read-model rows (SQLite, one thread; `n` counts events for reads and "
    "rebuilds, calls for queries): ops/s and events/s are events read or "
    "replayed per second (queries: calls/s); p50/p99 are per batch of the "
    "runners' size (reads), per replay batch of ten of those (rebuilds) or per "
    "call (queries); x lib1 is events/s "
    "over the library's raw `select_notifications` events/s in the same run. "
    "`rebuild N in turn` is every read model rebuilt on its own, one after "
    "another: log events over the summed time; `rebuild all N at once` reads "
    "and decodes the log once for all of them; `rebuild all N, P procs` "
    "shares them out over P processes, each reading the log for its share "
    "(`boende projections rebuild all` by default, one per core). A full "
    "rebuild's time includes putting the rebuilt read models in place."
)


class Findings(Protocol):
    """Where to say things below the table (``bench.run.Findings``)."""

    def note(self, text: str) -> None: ...

    def fail(self, text: str) -> None: ...


@dataclass(frozen=True)
class ProjectionPlan:
    """How much data, and how long each measurement may run."""

    events: int
    rebuild_data: bool
    calls: int
    rebuild_seconds: float  # for all read models together
    ceiling_seconds: float
    query_seconds: float  # per query series

    @property
    def data_dir(self) -> Path:
        return ROOT / "var" / "bench" / f"projections-{size_label(self.events)}"


# -- arguments -----------------------------------------------------------------


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The read-model options, shared with ``bench.run``."""
    parser.add_argument(
        "--events",
        type=int,
        help=f"events in the read-model log (default {FULL_EVENTS:,}; "
        f"--quick: {QUICK_EVENTS:,})",
    )
    parser.add_argument(
        "--rebuild-data",
        action="store_true",
        help="build the read-model log again even if a cached one is big enough",
    )
    parser.add_argument(
        "--calls", type=int, default=1000, help="counts queries per series (1000)"
    )
    parser.add_argument(
        "--query-seconds",
        type=float,
        default=QUERY_BUDGET_S,
        help=f"at most this long per counts series ({QUERY_BUDGET_S:g})",
    )


def plan_from(args: argparse.Namespace) -> ProjectionPlan:
    events = args.events or (QUICK_EVENTS if args.quick else FULL_EVENTS)
    return ProjectionPlan(
        events=events,
        rebuild_data=args.rebuild_data,
        calls=args.calls,
        rebuild_seconds=REBUILD_BUDGET_S,
        ceiling_seconds=CEILING_BUDGET_S,
        query_seconds=args.query_seconds,
    )


# -- measurements --------------------------------------------------------------


def run_projections(
    plan: ProjectionPlan,
    dataset: Dataset,
    emit: Callable[[Row], None],
    found: Findings,
) -> None:
    """Every read-model measurement on ``dataset``, one row each."""
    boende = bootstrap(settings_for(dataset.data_dir))
    try:
        log_end = boende.app.recorder.max_notification_id() or 0
        batch = boende.settings.projection_batch_size
        raw = read_log(boende, batch, plan.ceiling_seconds, decode=False)
        ceiling = raw.events_rate
        emit(Row(BACKEND, "lib read log", 1, raw, ceiling, _prefix_note(raw, log_end)))
        decoded = read_log(boende, batch, plan.ceiling_seconds, decode=True)
        note = _prefix_note(decoded, log_end)
        emit(Row(BACKEND, "lib read+decode log", 1, decoded, ceiling, note))
        rebuild_all(boende, plan, log_end, ceiling, emit, found)
        counts_queries.query_counts(boende, plan.calls, plan.query_seconds, emit)
    finally:
        boende.close()
    audit.run_audit(settings_for(dataset.data_dir), ceiling, emit)
    figures.run_figures(  # each oversight figure's query, on a copy of the log
        dataset.data_dir,
        dataset.data_dir.with_name("figures"),
        plan.calls,
        plan.query_seconds,
        emit,
    )


def read_log(boende: Boende, batch: int, seconds: float, *, decode: bool) -> Sample:
    """Read the log from the start as a runner does, for up to ``seconds``."""
    recorder, mapper = boende.app.recorder, boende.app.mapper
    latencies: list[float] = []
    events, position = 0, 0
    clock = Clock()
    while clock.elapsed() < seconds:
        started = time.perf_counter()
        notes = recorder.select_notifications(position, batch, inclusive_of_start=False)
        if not notes:
            break
        if decode:
            for note in notes:
                mapper.to_domain_event(note)
        latencies.append(time.perf_counter() - started)
        events += len(notes)
        position = notes[-1].id
    return clock.sample(events, latencies)


def _prefix_note(sample: Sample, log_end: int) -> str:
    if sample.events >= log_end:
        return ""
    return f"prefix: first {sample.events:,} of {log_end:,} events (time budget)"


def rebuild_within(
    runners: Sequence[ProjectionRunner],
    should_stop: Callable[[], bool],
    processes: int = 1,
) -> int:
    """``rebuild_together``, stopped by a budget: the events replayed."""
    try:
        return rebuild_together(runners, should_stop, processes=processes)
    except RebuildStopped as stopped:
        return stopped.replayed


def time_budget(seconds: float, latencies: list[float]) -> Callable[[], bool]:
    """A rebuild's ``should_stop``: time each replay batch (from one call to
    the next) and stop at a batch boundary once ``seconds`` have passed.
    A stopped rebuild throws its fresh store away; the time it measured is
    the replay's."""
    stop_at = time.perf_counter() + seconds
    last = [time.perf_counter()]

    def should_stop() -> bool:
        now = time.perf_counter()
        latencies.append(now - last[0])
        last[0] = now
        return now >= stop_at

    return should_stop


def rebuild_all(
    boende: Boende,
    plan: ProjectionPlan,
    log_end: int,
    ceiling: float,
    emit: Callable[[Row], None],
    found: Findings,
) -> None:
    """Each runner's own ``rebuild()``, in turn. Each may use what is left of
    the budget, less a reserve for each rebuild still to come."""
    budget = Clock()
    full_seconds = 0.0  # a full rebuild of all, measured or estimated
    cpu = 0.0
    latencies: list[float] = []
    prefixes: list[str] = []
    for index, runner in enumerate(boende.runners):
        own: list[float] = []
        later = len(boende.runners) - index - 1
        allowed = plan.rebuild_seconds - budget.elapsed() - later * REBUILD_RESERVE_S
        clock = Clock()
        replayed = rebuild_within(
            [runner], time_budget(max(allowed, REBUILD_RESERVE_S), own)
        )
        sample = clock.sample(replayed, own[1:])
        name = runner.projection.name
        note = _prefix_note(sample, log_end)
        if note:
            prefixes.append(name)
        emit(Row(BACKEND, f"rebuild {name}", 1, sample, ceiling, note))
        full_seconds += log_end / sample.events_rate if sample.events else 0.0
        cpu += sample.client_cpu
        latencies += own
    total = Sample(
        ok=log_end,
        failed=0,
        seconds=full_seconds,
        latencies=latencies,
        events=log_end,
        client_cpu=cpu,
    )
    note = (
        f"estimated from prefix rates ({', '.join(prefixes)}): {full_seconds:.0f} s"
        if prefixes
        else f"measured: {full_seconds:.0f} s"
    )
    emit(
        Row(BACKEND, f"rebuild {len(boende.runners)} in turn", 1, total, ceiling, note)
    )
    rebuild_at_once(boende, plan, log_end, ceiling, emit)
    if prefixes:
        found.note(
            f"a full rebuild of every read model over {log_end:,} events did not "
            f"fit the {plan.rebuild_seconds:.0f} s budget: "
            f"{', '.join(prefixes)} measured over a prefix of the log"
        )
    counts = boende.runner("counts")
    if counts.store.position() < log_end:
        clock = Clock()
        counts.catch_up()
        found.note(
            f"counts caught up with the rest of the log before the queries "
            f"in {clock.elapsed():.0f} s"
        )


def rebuild_at_once(
    boende: Boende,
    plan: ProjectionPlan,
    log_end: int,
    ceiling: float,
    emit: Callable[[Row], None],
) -> None:
    """``boende projections rebuild all`` (``rebuild_together``), each within
    the same budget: in one process, every read model from one read and
    decode of the log; then shared out over the processes it uses by
    default (one per core), each reading the log for its share. That row
    comes last, as the one the goal is judged on. Its latencies are the
    intervals at which the parent looks at the processes, not batches, and
    its CPU counts the processes'."""
    count = len(boende.runners)
    processes = processes_for(boende.settings)
    for label, share in [
        (f"rebuild all {count} at once", 1),
        (f"rebuild all {count}, {processes} procs", processes),
    ]:
        if share == 1 and label.endswith("procs"):
            continue  # one core: the same as the row before
        children = resource.getrusage(resource.RUSAGE_CHILDREN)
        clock = Clock()
        latencies: list[float] = []
        replayed = rebuild_within(
            boende.runners,
            time_budget(plan.rebuild_seconds, latencies),
            processes=share,
        )
        sample = clock.sample(replayed, latencies[1:])
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        spent = (after.ru_utime + after.ru_stime) - (
            children.ru_utime + children.ru_stime
        )
        sample = dataclasses.replace(sample, client_cpu=sample.client_cpu + spent)
        emit(Row(BACKEND, label, 1, sample, ceiling, _prefix_note(sample, log_end)))


# -- where the time goes (--profile) -------------------------------------------


def profile(dataset: Dataset, events: int) -> None:
    """The query plans of the counts query, and a cProfile of each runner
    replaying the first ``events`` events. The read models are left at that
    prefix: a measuring run rebuilds them anyway."""
    boende = bootstrap(settings_for(dataset.data_dir))
    try:
        counts_queries.explain_counts(boende)
        for runner in boende.runners:
            with runner.store.transaction(commit=True) as sql:
                runner.projection.drop_tables(sql)
                runner.store.forget_position(sql)
                runner.projection.create_tables(sql)
            profiler = cProfile.Profile()
            profiler.enable()
            runner.catch_up(until=events)
            profiler.disable()
            out = io.StringIO()
            stats = pstats.Stats(profiler, stream=out).sort_stats("cumulative")
            stats.print_stats(25)
            print(f"== rebuild {runner.projection.name}: first {events:,} events")
            print(out.getvalue())
    finally:
        boende.close()


# -- the command ---------------------------------------------------------------


class _Findings:
    def __init__(self) -> None:
        self.lines: list[str] = []
        self.failed = False

    def note(self, text: str) -> None:
        self.lines.append(f"note: {text}")

    def fail(self, text: str) -> None:
        self.lines.append(f"FAILED: {text}")
        self.failed = True


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m bench.projections", description=__doc__.split("\n")[0]
    )
    parser.add_argument("--quick", action="store_true", help="50,000 events")
    parser.add_argument(
        "--profile",
        action="store_true",
        help="instead: cProfile each rebuild over a prefix; counts query plans",
    )
    add_arguments(parser)
    args = parser.parse_args(argv)
    logging.getLogger().setLevel(logging.WARNING)
    plan = plan_from(args)
    dataset = prepare(plan.data_dir, plan.events, plan.rebuild_data)
    print(dataset.describe())
    if args.profile:
        profile(dataset, min(dataset.events, 100_000))
        return 0
    print()
    print(header(), flush=True)
    found = _Findings()
    run_projections(
        plan, dataset, lambda row: print(format_row(row), flush=True), found
    )
    print()
    print(textwrap.fill(LEGEND, width=100))
    for line in found.lines:
        print(line)
    return 1 if found.failed else 0


if __name__ == "__main__":
    sys.exit(main())
