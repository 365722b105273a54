"""``make bench``: the library's append ceiling, Boende's HTTP and Kafka paths.

For each backend (SQLite, and PostgreSQL when it answers), in one run:

1. the ``eventsourcing`` library alone, on the same kind of store and the same
   library settings as the case log: new aggregates saved on one thread, one
   event per save and ten events per save;
2. the real server (``boende serve`` in a subprocess) under 1, 8 and 32
   concurrent HTTP clients, each POSTing unique ``application_filed``
   submissions for a few seconds; every response must be 201. Then, for
   reference, ``GET /healthz`` at the highest concurrency: the same HTTP stack
   (uvicorn, FastAPI, one thread-pool hop) with no store behind it;
   Then the bulk door (``bench.batch``): envelopes/s through ``POST
   /v1/submissions/batch`` beside the single door, on one server;
3. through Kafka (``bench.kafka``), on a fresh store and a local broker:
   ``boende ingest``, ``boende relay`` and ``boende project --source kafka``
   as subprocesses, each over a backlog of unique submissions.

Then, on SQLite, the oversight web's pages beside the JSON endpoints they
show, over a simulated municipality (``bench.pages``), and the read models
(``bench.projections``): the library's
read rate of the log, a rebuild of each read model and of all of them, and
the ``counts`` query's latency, on a cached log of 1,000,000 events (built
under ``var/bench/`` on the first run; ``--quick``: 50,000).

The bench's clients run on the same cores as the server (and the database),
so the figures are for this machine as a whole: the table shows how busy the
server, this process and the host were during each row.

Usage: ``python -m bench.run [--quick] [--backend sqlite|postgres|all]
[--seconds N] [--clients 1,8,32] [--postgres-url URL]
[--part http|batch|kafka|projections|pages|memory|all] [--events N] [--rebuild-data]
[--calls N] [--query-seconds S] [--kafka-messages N] [--broker noida|tansu]``.
"""

from __future__ import annotations

import argparse
import importlib.metadata
import os
import platform
import sqlite3
import sys
import tempfile
import textwrap
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from bench import kafka, memory, pages, postgres, projections, results
from bench.batch import run_batch
from bench.dataset import Dataset, prepare
from bench.goals import Goals
from bench.http_runs import AUTHS, run_http
from bench.library import library_env, measure_saves
from bench.measure import HostTimes
from bench.report import LEGEND, Findings, Row, format_row, header
from infra.settings import Settings

BACKENDS = ("sqlite", "postgres")
PARTS = ("http", "batch", "kafka", "projections", "pages", "memory")
LIBRARY_RUNS = ((1, "library 1 event/save"), (10, "library 10 events/save"))


@dataclass(frozen=True)
class Plan:
    """How long and how much each measurement runs."""

    backends: tuple[str, ...]
    clients: tuple[int, ...]
    http_workers: tuple[int, ...]  # boende serve --workers, one setup each
    http_auth: tuple[str, ...]  # BOENDE_AUTH off / jwt, one setup each
    seconds: float  # per HTTP level
    library_seconds: float  # per library measurement
    max_requests: int  # per HTTP level
    max_saves: int  # per library measurement
    warmup_requests: int
    postgres_url: str
    parts: tuple[str, ...]
    read_models: projections.ProjectionPlan
    kafka: kafka.KafkaPlan
    pages: pages.PagePlan


def parse_args(argv: Sequence[str] | None) -> Plan:
    parser = argparse.ArgumentParser(
        prog="python -m bench.run", description=__doc__.split("\n")[0]
    )
    parser.add_argument(
        "--quick", action="store_true", help="small counts: a smoke test"
    )
    parser.add_argument("--backend", choices=[*BACKENDS, "all"], default="all")
    parser.add_argument(
        "--seconds", type=float, help="per HTTP level (default 8; --quick: 1)"
    )
    parser.add_argument(
        "--clients", default="1,8,32", help="concurrency levels (default 1,8,32)"
    )
    parser.add_argument(
        "--http-workers", default="1,2", help="server processes, one setup each"
    )
    parser.add_argument(
        "--http-auth",
        default=",".join(AUTHS),
        help="token checking off and/or on (jwt), one setup each",
    )
    parser.add_argument(
        "--postgres-url",
        default=postgres.DEFAULT_ADMIN_URL,
        help="an admin connection; the run creates and drops its own database",
    )
    parser.add_argument(
        "--part", choices=[*PARTS, "all"], default="all", help="what to measure"
    )
    projections.add_arguments(parser)
    kafka.add_arguments(parser)
    pages.add_arguments(parser)
    args = parser.parse_args(argv)
    seconds = args.seconds or (1.0 if args.quick else 8.0)
    return Plan(
        backends=BACKENDS if args.backend == "all" else (args.backend,),
        clients=tuple(int(c) for c in args.clients.split(",")),
        http_workers=tuple(int(w) for w in args.http_workers.split(",")),
        http_auth=tuple(a for a in args.http_auth.split(",") if a in AUTHS),
        seconds=seconds,
        library_seconds=max(seconds / 2, 0.5),
        max_requests=200 if args.quick else 1_000_000,
        max_saves=500 if args.quick else 1_000_000,
        warmup_requests=10 if args.quick else 50,
        postgres_url=args.postgres_url,
        parts=PARTS if args.part == "all" else (args.part,),
        read_models=projections.plan_from(args),
        kafka=kafka.plan_from(args),
        pages=pages.plan_from(args),
    )


def machine_facts(plan: Plan, busy: float) -> list[str]:
    """CPU, cores, Python and the stores' versions, for the top of the table."""
    cpu = "unknown"
    with open("/proc/cpuinfo") as info:
        for line in info:
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    usable = len(os.sched_getaffinity(0))
    facts = [
        f"cpu: {cpu}; cores: {os.cpu_count()} ({usable} usable)",
        f"python: {platform.python_version()} ({platform.python_implementation()})"
        f"; kernel: {platform.release()}",
        f"eventsourcing: {importlib.metadata.version('eventsourcing')}; "
        f"sqlite: {sqlite3.sqlite_version}; postgresql: {_pg_version(plan)}",
        f"plan: {plan.seconds:g}s per HTTP level, {plan.library_seconds:g}s per "
        f"library measurement, clients {','.join(map(str, plan.clients))}",
        f"date: {time.strftime('%Y-%m-%d %H:%M:%S %Z')}; before the run: load "
        f"average {' '.join(f'{x:.2f}' for x in os.getloadavg())}, "
        f"{busy:.0%} of all cores busy (others' work shares this host)",
    ]
    if "kafka" in plan.parts:
        facts.append(kafka.describe(plan.kafka))
    if "pages" in plan.parts:
        facts.append(pages.describe(plan.pages))
    return facts


def idle_check(seconds: float = 1.0) -> float:
    """How busy the host is with nothing of ours running (0..1)."""
    start = HostTimes.now()
    time.sleep(seconds)
    return HostTimes.now().busy_since(start)


def _pg_version(plan: Plan) -> str:
    if "postgres" not in plan.backends:
        return "not measured"
    try:
        return postgres.server_version(plan.postgres_url)
    except postgres.Unavailable as error:
        return f"unavailable ({error})"


@contextmanager
def store(backend: str, plan: Plan) -> Iterator[str | None]:
    """The database URL for ``backend`` (None: SQLite), fresh for this run."""
    if backend == "sqlite":
        yield None
    else:
        with postgres.fresh_database(plan.postgres_url) as url:
            yield url


def run_backend(backend: str, plan: Plan, emit: Callable[[Row], None]) -> Findings:
    """Every measurement on one backend, and what to say below the table:
    the library's ceiling first, then HTTP on the same store, then Kafka on a
    store of its own (its relay and read models start from an empty log)."""
    found = Findings()
    with tempfile.TemporaryDirectory(prefix=f"boende-bench-{backend}-") as tmp:
        data_dir = Path(tmp)
        try:
            with store(backend, plan) as url:
                rates = run_library(backend, plan, data_dir, url, emit)
                if "http" in plan.parts:
                    found += run_http(backend, plan, data_dir, url, rates[1], emit)
                if "batch" in plan.parts:
                    found += run_batch(backend, plan, data_dir, url, rates, emit)
            if "kafka" in plan.parts:
                with store(backend, plan) as url:
                    for failure in kafka.run_kafka(
                        backend, plan.kafka, data_dir / "kafka", url, rates[1], emit
                    ):
                        found.fail(failure)
        except postgres.Unavailable as error:
            emit(Row(backend, "all", note=f"unavailable: {error}"))
    return found


def run_library(
    backend: str,
    plan: Plan,
    data_dir: Path,
    url: str | None,
    emit: Callable[[Row], None],
) -> dict[int, float]:
    """The library's rows; its saves/s by events per save, for the ratios."""
    env = library_env(Settings(data_dir=data_dir, database_url=url), data_dir)
    rates: dict[int, float] = {}
    for per_save, label in LIBRARY_RUNS:
        sample = measure_saves(env, per_save, plan.library_seconds, plan.max_saves)
        rates[per_save] = sample.rate
        emit(Row(backend, label, 1, sample, rates[1]))
    return rates


def main(argv: Sequence[str] | None = None) -> int:
    plan = parse_args(argv)
    dataset = None
    if {"projections", "memory"} & set(plan.parts) and "sqlite" in plan.backends:
        read_models = plan.read_models
        dataset = prepare(  # minutes, the first time
            read_models.data_dir, read_models.events, read_models.rebuild_data
        )
    busy = idle_check()
    for fact in machine_facts(plan, busy):
        print(fact)
    if dataset is not None:
        print(dataset.describe())
    print()
    print(header(), flush=True)
    found = Findings()
    http_rows: list[Row] = []
    goals = Goals()

    def show(row: Row) -> None:
        print_row(row)
        goals.observe(row)

    def emit(row: Row) -> None:
        show(row)
        if row.measurement.startswith(HTTP_ROWS):
            http_rows.append(row)

    if {"http", "batch", "kafka"} & set(plan.parts):
        for backend in plan.backends:
            found += run_backend(backend, plan, emit)
    if "http" in plan.parts and http_rows:
        found += save_http(plan, busy, http_rows)
    if dataset is not None and "projections" in plan.parts:
        projections.run_projections(plan.read_models, dataset, show, found)
    if "pages" in plan.parts and "sqlite" in plan.backends:
        for failure in pages.run_pages(plan.pages, show):
            found.fail(failure)
    if "memory" in plan.parts:
        found += run_memory(plan, dataset, goals)
    found += save_goals(plan, busy, goals)
    print()
    print(textwrap.fill(LEGEND, width=100))
    if "kafka" in plan.parts:
        print(textwrap.fill(kafka.LEGEND, width=100))
    if dataset is not None and "projections" in plan.parts:
        print(textwrap.fill(projections.LEGEND, width=100))
    if "pages" in plan.parts:
        print(textwrap.fill(pages.LEGEND, width=100))
    for line in found.lines:
        print(line)
    return 1 if found.failed else 0


def run_memory(plan: Plan, dataset: Dataset | None, goals: Goals) -> Findings:
    """``boende serve``'s memory as its log grows, and the peak of a
    rebuild of every read model over the read models' log (``bench.memory``)."""
    found = Findings()
    quick = plan.max_requests < 1_000_000
    readings = memory.serve_growth(
        2_000 if quick else 100_000, 500 if quick else 10_000
    )
    print()
    print("\n".join(memory.serve_table(readings)), flush=True)
    goals.memory(readings)
    if any(r.failed for r in readings):
        found.fail("memory: the server refused submissions (see the table)")
    if dataset is not None:
        target = dataset.data_dir.with_name("memory-rebuild")
        code, seconds, peak, events = memory.rebuild_peak(dataset.data_dir, target)
        print(memory.rebuild_line(code, seconds, peak, events), flush=True)
        goals.rebuild(code, peak)
        if code != 0:
            found.fail(f"memory: rebuild all exited with {code}")
    return found


#: The rows of the HTTP part (bench.http_runs) and the library's beside them.
HTTP_ROWS = ("library", "submissions", "GET /healthz", "metrics", "subm.", "bulk")


def save_http(plan: Plan, busy: float, rows: list[Row]) -> Findings:
    """The HTTP table to bench/results/ (JSON) and docs/performance.md."""
    found = Findings()
    facts = results.machine(busy, _pg_version(plan))
    path = results.write_json(facts, rows)
    found.note(f"figures saved to {path.relative_to(results.ROOT)}")
    if results.write_doc(results.markdown(facts, rows, path)):
        found.note("the table is in docs/performance.md (HTTP submissions)")
    else:
        found.note(f"docs/performance.md has no {results.BEGIN} markers: not written")
    return found


def save_goals(plan: Plan, busy: float, goals: Goals) -> Findings:
    """Issue 15's goals beside this run's figures: printed, saved as JSON,
    and in docs/performance.md when every part ran on both backends (a
    partial run would show most goals as not measured)."""
    found = Findings()
    table = goals.markdown()
    print()
    print("Goals (issue 15), this run:")
    print(table, flush=True)
    facts = results.machine(busy, _pg_version(plan))
    path = goals.save(facts)
    found.note(f"goals saved to {path.relative_to(results.ROOT)}")
    if set(plan.parts) == set(PARTS) and set(plan.backends) == set(BACKENDS):
        load = " ".join(f"{x:.2f}" for x in facts["load_average_before"])
        head = (
            f"Run of {facts['date']} (commit {facts['commit']}; `{path.name}`): "
            f"{facts['cpu']}, {facts['cores']} cores, load average {load} before "
            "the run."
        )
        if results.write_doc(f"{head}\n\n{table}", name="goals"):
            found.note("the goals table is in docs/performance.md")
    return found


def print_row(row: Row) -> None:
    print(format_row(row), flush=True)


if __name__ == "__main__":
    sys.exit(main())
