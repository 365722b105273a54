"""Read models at scale: rebuilding them, and the ``counts`` query, on SQLite.

On a case log of ``--events`` recorded events (default 1,000,000, about
150,000 cases; ``--quick``: 50,000), in one run:

1. the ``eventsourcing`` library alone reading the log: ``select_notifications``
   in the runners' batch size (the ceiling of any rebuild), then the same with
   every notification decoded to its domain event (``mapper.to_domain_event``),
   which every runner does too;
2. each read model rebuilt by its own runner (``ProjectionRunner.rebuild``:
   drop, then replay the log batch by batch, one transaction per batch), and
   all of them one after another ("in turn", their times summed). All those
   rebuilds together get 300 s (each keeps 20 s for those still to come);
   one that runs out of time stops at a batch boundary: its rate is then
   measured over that prefix of the log, and the table's note says so. Then
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
   oversight answer carries.

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
import io
import json
import logging
import pstats
import random
import shutil
import sys
import textwrap
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any, Protocol
from uuid import NAMESPACE_URL, uuid5

from bench import audit
from bench.measure import Clock, Sample
from bench.report import Row, format_row, header
from bench.server import ROOT
from infra.settings import Settings
from projections import counts as counts_view
from projections.base import utc_text
from services.bootstrap import Boende, bootstrap
from services.projection_runner import ProjectionRunner, rebuild_together
from services.read_models import answer
from services.simulation_model import add_months, generate, stockholm_today
from services.submissions import Accepted, parse

BACKEND = "sqlite"
FULL_EVENTS = 1_000_000
QUICK_EVENTS = 50_000
WORLD_MONTHS = 60  # five years: ~10,700 events and ~1,550 cases a world
CHUNK = 500  # submissions per record_batch call while building
REBUILD_BUDGET_S = 300.0  # all read models together; then prefixes
REBUILD_RESERVE_S = 20.0  # kept for each rebuild still to come
CEILING_BUDGET_S = 30.0  # per library read measurement
QUERY_BUDGET_S = 60.0  # per counts series, should 1,000 calls take longer
REF_BUDGET_S = 20.0  # for the one-scan reference
DATASET_FILE = "dataset.json"
ID_NAMESPACE = uuid5(NAMESPACE_URL, "boende:bench:projections")
TIME_FORMAT = "%Y-%m-%dT%H:%M:%S.%fZ"  # projections.base.utc_text's

LEGEND = (
    "Read-model rows (SQLite, one thread; `n` counts events for reads and "
    "rebuilds, calls for queries): ops/s and events/s are events read or "
    "replayed per second (queries: calls/s); p50/p99 are per batch of the "
    "runners' size (reads, rebuilds) or per call (queries); x lib1 is events/s "
    "over the library's raw `select_notifications` events/s in the same run. "
    "`rebuild N in turn` is every read model rebuilt on its own, one after "
    "another: log events over the summed time; `rebuild all N at once` reads "
    "and decodes the log once for all of them (`boende projections rebuild "
    "all`)."
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


@dataclass(frozen=True)
class Dataset:
    """The cached case log (and its read models) the measurements run on."""

    data_dir: Path
    events: int
    submissions: int
    cases: int
    worlds: int
    built_at: str
    build_seconds: float
    built_now: bool

    def describe(self) -> str:
        how = (
            f"built now in {self.build_seconds:.0f} s"
            if self.built_now
            else f"reused, built {self.built_at} in {self.build_seconds:.0f} s"
        )
        rate = self.events / self.build_seconds if self.build_seconds else 0.0
        return (
            f"read-model data: {self.events:,} events, {self.cases:,} cases, "
            f"{self.submissions:,} submissions from {self.worlds} simulated "
            f"{WORLD_MONTHS}-month worlds in {_shown(self.data_dir)} ({how}; "
            f"record_batch x{CHUNK}: {rate:,.0f} events/s)"
        )


def size_label(events: int) -> str:
    if events % 1_000_000 == 0:
        return f"{events // 1_000_000}m"
    if events % 1_000 == 0:
        return f"{events // 1_000}k"
    return str(events)


def _shown(path: Path) -> str:
    try:
        return str(path.relative_to(ROOT))
    except ValueError:
        return str(path)


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


# -- the data ------------------------------------------------------------------


def settings_for(data_dir: Path) -> Settings:
    return Settings(data_dir=data_dir, log_level="WARNING")


def prepare(plan: ProjectionPlan) -> Dataset:
    """The cached log if it is big enough, else a freshly built one."""
    if not plan.rebuild_data:
        cached = load_dataset(plan.data_dir)
        if cached is not None and cached.events >= plan.events:
            return cached
    return build(plan.data_dir, plan.events)


def load_dataset(data_dir: Path) -> Dataset | None:
    try:
        facts = json.loads((data_dir / DATASET_FILE).read_text())
    except (OSError, ValueError):
        return None
    return Dataset(data_dir=data_dir, built_now=False, **facts)


def world_envelopes(world: int, start: date, today: date) -> list[dict[str, Any]]:
    """One simulated municipality's submissions, in order, with ids of its own."""
    return [
        renamed(env, world) for env in generate(WORLD_MONTHS, world, start, today=today)
    ]


def renamed(env: dict[str, Any], world: int) -> dict[str, Any]:
    """``env`` with world-prefixed case and apartment ids and a fresh
    submission id (the same for the same world and original id)."""
    prefix = f"w{world}-"
    out = dict(env)
    out["submission_id"] = str(uuid5(ID_NAMESPACE, f"{world}:{env['submission_id']}"))
    for key in ("case_id", "apartment_id"):
        if key in out:
            out[key] = prefix + out[key]
    payload = out.get("payload")
    if isinstance(payload, dict) and "apartment_id" in payload:
        out["payload"] = {**payload, "apartment_id": prefix + payload["apartment_id"]}
    return out


def build(data_dir: Path, events: int) -> Dataset:
    """Record whole worlds, one after another, until the log holds ``events``
    events; build in a side directory and move it in place when done."""
    partial = data_dir.with_name(data_dir.name + ".partial")
    shutil.rmtree(partial, ignore_errors=True)
    shutil.rmtree(data_dir, ignore_errors=True)
    today = stockholm_today()
    start = add_months(today, -WORLD_MONTHS)
    boende = bootstrap(settings_for(partial))
    clock = Clock()
    submissions = cases = worlds = 0
    last_said = 0.0
    try:
        max_bytes = boende.settings.max_body_bytes
        position = 0
        while position < events:
            worlds += 1
            envs = world_envelopes(worlds, start, today)
            for i in range(0, len(envs), CHUNK):
                chunk = envs[i : i + CHUNK]
                subs = [parse(json.dumps(e).encode(), max_bytes) for e in chunk]
                outcomes = boende.service.record_batch(subs)
                refused = [o for o in outcomes if not isinstance(o, Accepted)]
                assert not refused, f"world {worlds}: refused {refused[:3]!r}"
                submissions += len(chunk)
                cases += sum(e["type"] == "application_filed" for e in chunk)
                position = max(o.position for o in outcomes if isinstance(o, Accepted))
                if clock.elapsed() - last_said >= 15:
                    last_said = clock.elapsed()
                    _progress(position, events, last_said)
                if position >= events:
                    break
        position = boende.app.recorder.max_notification_id() or 0
    finally:
        boende.close()
    took = clock.elapsed()
    facts: dict[str, Any] = {
        "events": position,
        "submissions": submissions,
        "cases": cases,
        "worlds": worlds,
        "built_at": time.strftime("%Y-%m-%d %H:%M:%S %Z"),
        "build_seconds": round(took, 1),
    }
    (partial / DATASET_FILE).write_text(json.dumps(facts, indent=2) + "\n")
    partial.rename(data_dir)
    _progress(position, events, took)
    return Dataset(data_dir=data_dir, built_now=True, **facts)


def _progress(position: int, target: int, seconds: float) -> None:
    rate = position / seconds if seconds else 0.0
    print(
        f"building the read-model log: {position:,} / {target:,} events "
        f"in {seconds:.0f} s ({rate:,.0f}/s)",
        file=sys.stderr,
        flush=True,
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
        query_counts(boende, plan, emit)
    finally:
        boende.close()
    audit.run_audit(settings_for(dataset.data_dir), ceiling, emit)


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


@contextmanager
def deadline(
    runner: ProjectionRunner, seconds: float, latencies: list[float]
) -> Iterator[None]:
    """Time each of ``runner``'s batches, and stop it (at a batch boundary)
    once ``seconds`` have passed: its ``step`` then reports nothing to do."""
    step = runner.step
    stop_at = time.perf_counter() + seconds

    def timed_step() -> int:
        if time.perf_counter() >= stop_at:
            return 0
        started = time.perf_counter()
        done = step()
        latencies.append(time.perf_counter() - started)
        return done

    setattr(runner, "step", timed_step)  # noqa: B010 (an instance attribute)
    try:
        yield
    finally:
        delattr(runner, "step")


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
        with deadline(runner, max(allowed, REBUILD_RESERVE_S), own):
            replayed = runner.rebuild()
        sample = clock.sample(replayed, own)
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
    """``boende projections rebuild all``: every read model from one read and
    decode of the log (``rebuild_together``), within the same budget."""
    clock = Clock()
    latencies: list[float] = []
    last = [time.perf_counter()]

    def should_stop() -> bool:
        now = time.perf_counter()
        latencies.append(now - last[0])
        last[0] = now
        return clock.elapsed() >= plan.rebuild_seconds

    replayed = rebuild_together(boende.runners, should_stop)
    sample = clock.sample(replayed, latencies[1:])
    label = f"rebuild all {len(boende.runners)} at once"
    emit(Row(BACKEND, label, 1, sample, ceiling, _prefix_note(sample, log_end)))


@dataclass(frozen=True)
class QueryRange:
    """Where random ``as_of`` days and ``known_at`` times are drawn from."""

    first_day: date
    last_day: date
    first_recorded: datetime
    last_recorded: datetime

    def day(self, rng: random.Random) -> date:
        span = (self.last_day - self.first_day).days
        return self.first_day + timedelta(days=rng.randint(0, span))

    def known_at(self, rng: random.Random) -> str:
        span = (self.last_recorded - self.first_recorded).total_seconds()
        return utc_text(self.first_recorded + timedelta(seconds=rng.random() * span))


def query_range(boende: Boende) -> QueryRange:
    with boende.views["counts"].transaction(commit=False) as sql:
        row = sql.one(
            "SELECT MIN(occurred_on) AS d0, MAX(recorded_at) AS t1, "
            "MIN(recorded_at) AS t0 FROM counts_facts WHERE kind = 'case'"
        )
    assert row is not None and row["d0"] is not None, "the counts view is empty"
    return QueryRange(
        first_day=date.fromisoformat(row["d0"]),
        last_day=stockholm_today(),
        first_recorded=_parse_utc(row["t0"]),
        last_recorded=_parse_utc(row["t1"]),
    )


def _parse_utc(text: str) -> datetime:
    return datetime.strptime(text, TIME_FORMAT).replace(tzinfo=UTC)


Query = Callable[[Any], dict[str, Any]]


def scan_once(as_of: date, known_at: str | None) -> Query:
    """One filtered pass over the case facts: a floor for the counts query."""
    params = [as_of.isoformat(), known_at or counts_view.END_OF_TIME]

    def query(sql: Any) -> dict[str, Any]:
        row = sql.one(
            "SELECT COUNT(*) AS n FROM counts_facts "
            "WHERE occurred_on <= ? AND recorded_at <= ?",
            params,
        )
        return row or {}

    return query


def counts_query(as_of: date, known_at: str | None) -> Query:
    """What ``GET /v1/oversight/counts`` asks its read model."""
    return lambda sql: counts_view.counts(sql, as_of, known_at)


def query_counts(
    boende: Boende, plan: ProjectionPlan, emit: Callable[[Row], None]
) -> None:
    """Random ``as_of`` (and ``known_at``) counts, as the endpoint answers them."""
    ranges = query_range(boende)
    store = boende.views["counts"]
    series: list[tuple[str, Callable[[random.Random], Query], float]] = [
        (
            "counts random as_of",
            lambda rng: counts_query(ranges.day(rng), None),
            plan.query_seconds,
        ),
        (
            "counts +random known_at",
            lambda rng: counts_query(ranges.day(rng), ranges.known_at(rng)),
            plan.query_seconds,
        ),
        (
            "ref: 1 scan of facts",
            lambda rng: scan_once(ranges.day(rng), None),
            min(plan.query_seconds, REF_BUDGET_S),
        ),
    ]
    for seed, (label, make, seconds) in enumerate(series, start=1):
        rng = random.Random(seed)
        for _ in range(3):  # warm the page cache and the statement cache
            answer(store, make(rng), None, 0.0)
        latencies: list[float] = []
        clock = Clock()
        while len(latencies) < plan.calls and clock.elapsed() < seconds:
            query = make(rng)
            started = time.perf_counter()
            answer(store, query, None, 0.0)
            latencies.append(time.perf_counter() - started)
        sample = Sample(
            ok=len(latencies),
            failed=0,
            seconds=clock.elapsed(),
            latencies=latencies,
            events=0,
            client_cpu=clock.cpu_used(),
            host_busy=clock.host_busy(),
        )
        note = ""
        if len(latencies) < plan.calls:
            note = f"{len(latencies)} of {plan.calls} calls in {seconds:.0f} s (budget)"
        emit(Row(BACKEND, label, 1, sample, None, note))


# -- where the time goes (--profile) -------------------------------------------


def profile(dataset: Dataset, events: int) -> None:
    """The query plans of the counts query, and a cProfile of each runner
    replaying the first ``events`` events. The read models are left at that
    prefix: a measuring run rebuilds them anyway."""
    boende = bootstrap(settings_for(dataset.data_dir))
    try:
        explain_counts(boende)
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


def explain_counts(boende: Boende) -> None:
    columns = "kind, type, reason, state, prev_state"
    with boende.views["counts"].transaction(commit=False) as sql:
        _explain(
            sql,
            f"SELECT {columns}, SUM(n) AS n FROM counts_daily "
            f"WHERE occurred_on <= ? GROUP BY {columns}",
            ["2024-01-01"],
        )
        _explain(
            sql,
            f"SELECT {columns}, COUNT(*) AS n FROM counts_facts "
            f"WHERE occurred_on <= ? AND recorded_at <= ? GROUP BY {columns}",
            ["2024-01-01", "9999"],
        )


def _explain(sql: Any, statement: str, params: list[str]) -> None:
    rows = sql.all(f"EXPLAIN QUERY PLAN {statement}", params)
    print(f"== {statement}")
    for row in rows:
        print(f"   {row['id']:>3} {row['parent']:>3}  {row['detail']}")


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
    dataset = prepare(plan)
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
