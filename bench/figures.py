"""The board's figures at scale (issue 11): each oversight answer as its
endpoint asks its read model (``answer``, without HTTP), on a copy of the
benchmark's million-event log, with random days and windows.

    .venv/bin/python -m bench.figures [--source var/bench/projections-1m]

``make bench`` runs the same series after the read models' part
(``bench.projections``), on its log.

The log is copied (the event store and the person keys; never the read
models) into ``var/bench/figures``, the read models the figures need are
caught up from it there, and each series runs ``--calls`` random queries;
p50 and p99 in ms per series, printed as the table of ``bench.report``.
Goal: p99 ≤ 20 ms for an ``as_of`` answer (docs/performance.md).
"""

from __future__ import annotations

import argparse
import random
import shutil
import sys
import time
from collections.abc import Callable
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from bench.measure import Clock, Sample
from bench.report import LEGEND, Row, format_row, header
from infra.settings import Settings
from projections import apartments as apartments_view
from projections import counts as counts_view
from projections import first_hand, households, rents
from projections import flows as flows_view
from projections import landlords as landlords_view
from projections import lead_times as lead_times_view
from projections.base import END_OF_TIME
from projections.due_soon import due_soon
from projections.unexecuted import unexecuted
from services.bootstrap import bootstrap
from services.projecting.answers import answer

VIEWS = ("counts", "tenancies", "unexecuted", "apartments", "lead_times", "landlords")
COPIED = ("caselog.sqlite", "person_keys.sqlite")
Query = Callable[[Any], dict[str, Any]]


def copy_log(source: Path, target: Path) -> None:
    """The event store and what it needs, without any read model."""
    if target.exists():
        shutil.rmtree(target)
    target.mkdir(parents=True)
    for name in COPIED:
        shutil.copy2(source / name, target / name)
    shutil.copytree(source / "keys", target / "keys")


def series(
    first: date, last: date
) -> list[tuple[str, str, Callable[[random.Random], Query]]]:
    span = (last - first).days

    def day(rng: random.Random) -> date:
        return first + timedelta(days=rng.randint(0, span))

    def year(rng: random.Random) -> tuple[date, date]:
        end = day(rng)
        return end - timedelta(days=365), end

    def reference(case_id: str) -> str:
        return case_id[:8]

    def first_hand_window(end: date) -> Query:
        start = end - timedelta(days=1095)
        return _q(first_hand.first_hand, start, end, end, "none")

    def vacancy_year(start: date, end: date) -> Query:
        return _q(rents.vacancy, start, end, "month", "none", end)

    return [
        ("counts", "counts as_of", lambda r: _q(counts_view.counts, day(r), None)),
        (
            "counts",
            "counts as_of by=gender",
            lambda r: _q(counts_view.counts, day(r), None, "gender"),
        ),
        (
            "counts",
            "flows 12 months +details",
            lambda r: _flows(*year(r)),
        ),
        (
            "tenancies",
            "households as_of",
            lambda r: _q(households.households, *(2 * [day(r)]), END_OF_TIME),
        ),
        (
            "tenancies",
            "first-hand 3 years",
            lambda r: first_hand_window(day(r)),
        ),
        ("tenancies", "rents as_of", lambda r: _q(rents.rents, day(r), "none")),
        (
            "tenancies",
            "vacancy 12 months",
            lambda r: vacancy_year(*year(r)),
        ),
        (
            "unexecuted",
            "due within 30 days",
            lambda r: _q(due_soon, day(r), 30, reference),
        ),
        (
            "unexecuted",
            "unexecuted as_of",
            lambda r: _q(unexecuted, day(r), reference, None),
        ),
        ("apartments", "apartments as_of", lambda r: _q(apartments_view.stock, day(r))),
        (
            "lead_times",
            "lead times 12 months",
            lambda r: _q(lead_times_view.lead_times, *year(r), "month"),
        ),
        ("landlords", "landlord register", lambda r: _q(landlords_view.register)),
    ]


def _q(function: Callable[..., Any], *args: Any) -> Query:
    def query(sql: Any) -> dict[str, Any]:
        result = function(sql, *args)
        return result if isinstance(result, dict) else {"rows": result}

    return query


def _flows(start: date, end: date) -> Query:
    def query(sql: Any) -> dict[str, Any]:
        rows = flows_view.flows(sql, start, end, "month", None)
        more = flows_view.flow_details(sql, start, end, "month", None, None)
        return {"periods": [{**a, **b} for a, b in zip(rows, more, strict=True)]}

    return query


def run_figures(
    source: Path,
    target: Path,
    calls: int,
    seconds: float,
    emit: Callable[[Row], None],
    only: str = "",
    reuse: bool = False,
) -> None:
    """Copy the log at ``source`` to ``target``, catch the figures' read
    models up there and emit one row per series (those whose label
    contains ``only``). With ``reuse``, a copy already at ``target`` is
    kept with its read models (a read model of another version is rebuilt
    at start, as on any upgrade)."""
    if not (reuse and (target / "caselog.sqlite").exists()):
        copy_log(source, target)
    boende = bootstrap(Settings(data_dir=target, auth="off", log_level="WARNING"))
    try:
        started = time.perf_counter()
        for name in VIEWS:
            boende.runner(name).catch_up()
        events = boende.app.recorder.max_notification_id() or 0
        print(
            f"read models {', '.join(VIEWS)} caught up over {events:,} events "
            f"in {time.perf_counter() - started:.0f} s (the figures' series)",
            file=sys.stderr,
        )
        with boende.views["counts"].transaction(commit=False) as sql:
            row = sql.one(
                "SELECT MIN(occurred_on) AS d0, MAX(occurred_on) AS d1 "
                "FROM counts_facts"
            )
        assert row and row["d0"], "the counts read model is empty"
        first, last = date.fromisoformat(row["d0"]), date.fromisoformat(row["d1"])
        for seed, (view, label, make) in enumerate(series(first, last), start=1):
            if only in label:
                emit(measure(boende.views[view], label, make, seed, calls, seconds))
    finally:
        boende.close()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--source", type=Path, default=Path("var/bench/projections-1m"))
    parser.add_argument("--target", type=Path, default=Path("var/bench/figures"))
    parser.add_argument("--calls", type=int, default=300)
    parser.add_argument("--seconds", type=float, default=60.0, help="budget per series")
    parser.add_argument(
        "--series", default="", help="only the series whose label contains this"
    )
    parser.add_argument(
        "--reuse",
        action="store_true",
        help="keep the copy at --target and its read models (after a change of "
        "one read model: only that one is rebuilt)",
    )
    args = parser.parse_args(argv)
    if not (args.source / "caselog.sqlite").exists():
        print(
            f"no benchmark log at {args.source}: "
            "run `python -m bench.run --part projections` first"
        )
        return 2
    print(header())
    run_figures(
        args.source,
        args.target,
        args.calls,
        args.seconds,
        lambda row: print(format_row(row), flush=True),
        args.series,
        args.reuse,
    )
    print(LEGEND)
    return 0


def measure(
    store: Any,
    label: str,
    make: Callable[[random.Random], Query],
    seed: int,
    calls: int,
    seconds: float,
) -> Row:
    rng = random.Random(seed)
    for _ in range(3):  # warm the page and statement caches
        answer(store, make(rng), None, 0.0)
    latencies: list[float] = []
    clock = Clock()
    while len(latencies) < calls and clock.elapsed() < seconds:
        query = make(rng)
        began = time.perf_counter()
        answer(store, query, None, 0.0)
        latencies.append(time.perf_counter() - began)
    sample = Sample(
        ok=len(latencies),
        failed=0,
        seconds=clock.elapsed(),
        latencies=latencies,
        events=0,
        client_cpu=clock.cpu_used(),
        host_busy=clock.host_busy(),
    )
    note = "" if len(latencies) == calls else f"{len(latencies)} calls in budget"
    return Row("sqlite", label, 1, sample, None, note)


if __name__ == "__main__":
    sys.exit(main())
