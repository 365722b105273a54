"""Counts and flows equal a naive fold over the full log (the oracle).

Hypothesis draws a simulated history (seeded, many interleaved cases) and
random ``as_of`` / ``known_at`` cut points; the read model's answers must
equal what folding every recorded event, one by one, gives.
"""

from __future__ import annotations

import dataclasses
import json
from collections import Counter
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from infra.settings import Settings
from infra.views import ViewStore
from projections import counts as view
from projections import flows as flows_view
from projections.base import Recorded, utc_text
from services.bootstrap import Boende, bootstrap
from services.simulation.player import generate
from services.submission.service import Accepted, parse
from tests.conftest import envelope

STATE_AFTER = {
    "application_filed": "filed",
    "application_withdrawn": "withdrawn",
    "application_granted": "granted",
    "application_rejected": "rejected",
    "grant_cancelled": "cancelled",
    "contract_executed": "executed",
    "converted_to_first_hand": "converted",
    "contract_terminated": "terminated",
}
APARTMENT_AFTER = {
    "apartment_acquired": "available",
    "apartment_returned": "returned",
    "apartment_occupied": "occupied",
    "apartment_vacated": "available",
    "apartment_transferred": "transferred",
}
START = date(2023, 1, 2)


def record(boende: Boende, months: int, seed: int) -> None:
    envelopes = generate(months, seed, start=START, today=date(2026, 1, 1))
    subs = [parse(json.dumps(e).encode(), 1 << 20) for e in envelopes]
    for i in range(0, len(subs), 50):  # in batches, as the writer would
        outcomes = boende.service.record_batch(subs[i : i + 50])
        assert all(isinstance(o, Accepted) for o in outcomes)


def log_events(boende: Boende) -> list[Any]:
    notes = boende.app.recorder.select_notifications(None, 1_000_000)
    return [boende.app.mapper.to_domain_event(n) for n in notes]


def naive_counts(events: list[Any], as_of: date, known_at: str) -> dict[str, Any]:
    """The oracle: fold the log event by event, no SQL."""
    cases: dict[str, str] = {}
    flats: dict[str, str] = {}
    totals: Counter[str] = Counter()
    reasons: Counter[str] = Counter()
    for e in events:
        if e.occurred_on > as_of or utc_text(e.timestamp) > known_at:
            continue
        if e.type_name in STATE_AFTER:
            cases[e.case_id] = STATE_AFTER[e.type_name]
            totals[e.type_name] += 1
            if e.type_name == "contract_terminated":
                reasons[e.reason] += 1
        if e.type_name in APARTMENT_AFTER:
            flats[e.apartment_id] = APARTMENT_AFTER[e.type_name]
    by_state, by_flat = Counter(cases.values()), Counter(flats.values())
    return {
        "cases_by_state": {s: by_state[s] for s in view.CASE_STATES},
        "filed_total": totals["application_filed"],
        "granted_total": totals["application_granted"],
        "rejected_total": totals["application_rejected"],
        "executed_total": totals["contract_executed"],
        "converted_total": totals["converted_to_first_hand"],
        "terminated_total": totals["contract_terminated"],
        "terminations_by_reason": dict(sorted(reasons.items())),
        "apartments_by_state": {s: by_flat[s] for s in view.APARTMENT_STATES},
    }


def naive_flows(
    events: list[Any], start: date, end: date, period: str, known_at: str
) -> list[dict[str, Any]]:
    buckets = {k: Counter[str]() for k in view.periods(start, end, period)}
    for e in events:
        if utc_text(e.timestamp) > known_at:
            continue
        if e.type_name in view.FLOW_TYPES and start <= e.occurred_on <= end:
            buckets[view.period_of(e.occurred_on, period)][
                view.FLOW_TYPES[e.type_name]
            ] += 1
    return [
        {"period": k, **{n: c[n] for n in view.FLOW_TYPES.values()}}
        for k, c in buckets.items()
    ]


@settings(max_examples=8, deadline=None, suppress_health_check=list(HealthCheck))
@given(
    seed=st.integers(0, 10_000),
    months=st.integers(2, 10),
    cuts=st.lists(
        st.tuples(st.integers(-30, 400), st.floats(0, 1.2)), min_size=3, max_size=6
    ),
    period=st.sampled_from(["month", "quarter", "year"]),
    batch_size=st.sampled_from([1, 7, 1000]),
)
def test_counts_and_flows_equal_a_fold_over_the_log(
    tmp_path_factory: Any,
    seed: int,
    months: int,
    cuts: list[tuple[int, float]],
    period: str,
    batch_size: int,
) -> None:
    data_dir: Path = tmp_path_factory.mktemp("oracle")
    boende = bootstrap(Settings(data_dir=data_dir))
    try:
        record(boende, months, seed)
        runner = boende.runner("counts")
        runner.batch_size = batch_size  # facts of one case within and across batches
        runner.catch_up()
        events = log_events(boende)
        recorded = sorted(utc_text(e.timestamp) for e in events)
        store = boende.views["counts"]
        for day_offset, fraction in cuts:
            as_of = START + timedelta(days=day_offset)
            # a recorded time inside the history (or after it): late facts drop out
            index = min(int(fraction * len(recorded)), len(recorded) - 1)
            known_at = recorded[index] if fraction <= 1 else view.END_OF_TIME
            with store.transaction(commit=False) as sql:
                assert view.counts(sql, as_of, known_at) == naive_counts(
                    events, as_of, known_at
                )
                # no known_at: the daily rollup answers, and must agree
                assert view.counts(sql, as_of, None) == naive_counts(
                    events, as_of, view.END_OF_TIME
                )
        end = START + timedelta(days=31 * months)
        middle = recorded[len(recorded) // 2]
        with store.transaction(commit=False) as sql:
            assert flows_view.flows(sql, START, end, period, None) == naive_flows(
                events, START, end, period, view.END_OF_TIME
            )
            assert flows_view.flows(sql, START, end, period, middle) == naive_flows(
                events, START, end, period, middle
            )
    finally:
        boende.close()


@pytest.mark.parametrize("batch_size", [1, 2])
def test_a_fact_stamped_before_the_one_it_follows_counts_from_that_ones_time(
    tmp_path: Path, batch_size: int
) -> None:
    """Two writing hosts whose clocks disagree: a grant recorded one hour
    "before" the filing it follows. As known at a moment between the two
    stamps, the case must not exist yet (the grant is clamped to the
    filing's time), never be counted as granted while its filing is not."""
    boende = bootstrap(Settings(data_dir=tmp_path / "store"))
    try:
        for event_type, day in [("application_filed", "2021-03-01"),
                                ("application_granted", "2021-03-15")]:  # fmt: skip
            body = envelope(event_type, "c-skew", day)
            assert isinstance(
                boende.service.record_batch(
                    [parse(json.dumps(body).encode(), 1 << 20)]
                )[0],
                Accepted,
            )
        filed, granted = log_events(boende)
    finally:
        boende.close()
    skewed = dataclasses.replace(
        granted, timestamp=filed.timestamp - timedelta(hours=1)
    )
    store = ViewStore(Settings(data_dir=tmp_path / "views"), "counts")
    projection = view.Counts()
    batch = [Recorded(1, filed), Recorded(2, skewed)]
    try:
        with store.transaction(commit=True) as sql:
            projection.create_tables(sql)
        for i in range(0, len(batch), batch_size):
            with store.transaction(commit=True) as sql:
                projection.process_batch(sql, batch[i : i + batch_size])
        between = utc_text(filed.timestamp - timedelta(minutes=30))
        as_known_then = utc_text(filed.timestamp)
        with store.transaction(commit=False) as sql:
            nothing = view.counts(sql, date(2021, 4, 1), between)
            both = view.counts(sql, date(2021, 4, 1), as_known_then)
    finally:
        store.close()
    assert nothing["cases_by_state"] == dict.fromkeys(view.CASE_STATES, 0)
    assert nothing["granted_total"] == 0
    assert both["cases_by_state"]["granted"] == 1
    assert both["cases_by_state"]["filed"] == 0
