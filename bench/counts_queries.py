"""The ``counts`` query at scale, as ``GET /v1/oversight/counts`` runs it
(the read model's ``answer``, without HTTP): random ``as_of`` days, then
random ``known_at`` times too, and one filtered ``COUNT(*)`` over the facts
as a reference; and the query plans behind them (``--profile``)."""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

from bench.measure import Clock, Sample
from bench.report import Row
from projections import counts as counts_view
from projections.base import utc_text
from services.bootstrap import Boende
from services.projecting.answers import answer
from services.simulation.behaviour import stockholm_today

BACKEND = "sqlite"
REF_BUDGET_S = 20.0  # for the one-scan reference
TIME_FORMAT = "%Y-%m-%dT%H:%M:%S.%fZ"  # projections.base.utc_text's


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
    boende: Boende, calls: int, seconds: float, emit: Callable[[Row], None]
) -> None:
    """Random ``as_of`` (and ``known_at``) counts, as the endpoint answers them."""
    ranges = query_range(boende)
    store = boende.views["counts"]
    series: list[tuple[str, Callable[[random.Random], Query], float]] = [
        (
            "counts random as_of",
            lambda rng: counts_query(ranges.day(rng), None),
            seconds,
        ),
        (
            "counts +random known_at",
            lambda rng: counts_query(ranges.day(rng), ranges.known_at(rng)),
            seconds,
        ),
        (
            "ref: 1 scan of facts",
            lambda rng: scan_once(ranges.day(rng), None),
            min(seconds, REF_BUDGET_S),
        ),
    ]
    for seed, (label, make, seconds) in enumerate(series, start=1):
        rng = random.Random(seed)
        for _ in range(3):  # warm the page cache and the statement cache
            answer(store, make(rng), None, 0.0)
        latencies: list[float] = []
        clock = Clock()
        while len(latencies) < calls and clock.elapsed() < seconds:
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
        if len(latencies) < calls:
            note = f"{len(latencies)} of {calls} calls in {seconds:.0f} s (budget)"
        emit(Row(BACKEND, label, 1, sample, None, note))


def explain_counts(boende: Boende) -> None:
    """The plans of the statements behind an ``as_of`` answer (the month's
    daily rows) and a past ``known_at``'s (the facts after a checkpoint)."""
    with boende.views["counts"].transaction(commit=False) as sql:
        _explain(
            sql,
            "SELECT key_id, SUM(n) AS n FROM counts_daily "
            "WHERE occurred_on >= ? AND occurred_on <= ? GROUP BY key_id",
            ["2024-01-01", "2024-01-31"],
        )
        _explain(
            sql,
            "SELECT key_id, COUNT(*) AS n FROM counts_facts WHERE position > ? "
            "AND position <= ? AND occurred_on < ? AND recorded_at <= ? "
            "GROUP BY key_id",
            ["1", "50000", "2024-01-01", "9999"],
        )


def _explain(sql: Any, statement: str, params: list[str]) -> None:
    rows = sql.all(f"EXPLAIN QUERY PLAN {statement}", params)
    print(f"== {statement}")
    for row in rows:
        print(f"   {row['id']:>3} {row['parent']:>3}  {row['detail']}")
