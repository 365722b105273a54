"""Counts by gender, intervention and basis, and the flows in detail
(``projections.counts`` with ``by``, ``projections.flows``), equal a naive
fold over the log: hypothesis draws simulated histories and cut points."""

from __future__ import annotations

from collections import Counter, defaultdict
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from infra.settings import Settings
from projections import counts as view
from projections import flows as details
from projections.base import utc_text
from services.bootstrap import bootstrap
from tests.integration.test_counts_oracle import (
    START,
    STATE_AFTER,
    log_events,
    naive_counts,
    record,
)

NAMES = {**view.FLOW_TYPES, **details.FLOW_NAMES}
BEFORE_GRANT = {"application_filed", "application_rejected", "application_withdrawn"}
REASON_OF = {
    "grant_cancelled": ("cancelled", "reason"),
    "contract_terminated": ("terminated", "reason"),
    "delay_reason_recorded": ("delays", "reason"),
    "follow_up_recorded": ("follow_ups", "outcome"),
}


def case_dimensions(events: list[Any], as_of: date, known_at: str) -> dict[str, Any]:
    """Per case: its gender, and its intervention and basis once granted."""
    seen: dict[str, dict[str, str]] = {}
    for e in events:
        if e.occurred_on > as_of or utc_text(e.timestamp) > known_at:
            continue
        if e.type_name == "application_filed":
            seen[e.case_id] = {
                "gender": e.gender,
                "intervention": "none",
                "basis": "none",
            }
        elif e.type_name == "application_granted":
            seen[e.case_id] |= {"intervention": e.intervention, "basis": e.basis}
    return seen


def naive_groups(
    events: list[Any], as_of: date, known_at: str, by: str
) -> dict[str, Any]:
    """Each group's figures: the oracle of counts run over the group's cases
    only, each case in the group it is in on ``as_of``."""
    dims = case_dimensions(events, as_of, known_at)
    groups = {code: [] for code in view.CODES[by]}
    members: dict[str, list[Any]] = defaultdict(list)
    for e in events:
        if getattr(e, "case_id", None) in dims and e.type_name in STATE_AFTER:
            members[dims[e.case_id][by]].append(e)
    answer = {}
    for code in {*groups, *members}:
        figures = naive_counts(members[code], as_of, known_at)
        del figures["apartments_by_state"]
        answer[code] = figures
    return answer


def naive_details(
    events: list[Any], start: date, end: date, period: str, by: str
) -> dict[str, Any]:
    tallies: dict[str, Counter[Any]] = {
        k: Counter() for k in view.periods(start, end, period)
    }
    dims = case_dimensions(events, end, view.END_OF_TIME)
    for e in events:
        name = NAMES.get(e.type_name)
        if name is None or not start <= e.occurred_on <= end:
            continue
        tally = tallies[view.period_of(e.occurred_on, period)]
        tally[name] += 1
        if e.type_name in REASON_OF:
            kind, attribute = REASON_OF[e.type_name]
            tally[(kind, getattr(e, attribute))] += 1
        if hasattr(e, "case_id"):
            # the case's group at this fact: the grant sets intervention/basis
            group = dims[e.case_id][by] if by == "gender" else None
            if group is None:
                granted = e.type_name not in {
                    "application_filed",
                    "application_rejected",
                    "application_withdrawn",
                }
                group = (
                    dims[e.case_id][by]
                    if granted and dims[e.case_id][by] != "none"
                    else "none"
                )
            tally[("group", group, name)] += 1
    return tallies


@settings(max_examples=6, deadline=None, suppress_health_check=list(HealthCheck))
@given(
    seed=st.integers(0, 10_000),
    months=st.integers(3, 10),
    offsets=st.lists(st.integers(-30, 400), min_size=2, max_size=4),
    by=st.sampled_from(view.DIMENSIONS),
    period=st.sampled_from(["month", "quarter"]),
)
def test_breakdowns_equal_a_fold_over_the_log(
    tmp_path_factory: Any,
    seed: int,
    months: int,
    offsets: list[int],
    by: str,
    period: str,
) -> None:
    data_dir: Path = tmp_path_factory.mktemp("breakdowns")
    boende = bootstrap(Settings(data_dir=data_dir))
    try:
        record(boende, months, seed)
        boende.runner("counts").catch_up()
        events = log_events(boende)
        store = boende.views["counts"]
        with store.transaction(commit=False) as sql:
            for offset in offsets:
                as_of = START + timedelta(days=offset)
                answer = view.counts(sql, as_of, None, by)
                assert answer["by"] == by
                assert answer["groups"] == naive_groups(
                    events, as_of, view.END_OF_TIME, by
                )
                plain = view.counts(sql, as_of, None)
                assert {k: answer[k] for k in plain} == plain
                # as known at a moment inside the history: the facts table
                known = utc_text(events[len(events) // 2].timestamp)
                assert view.counts(sql, as_of, known, by)["groups"] == naive_groups(
                    events, as_of, known, by
                )
            end = START + timedelta(days=31 * months)
            got = details.flow_details(sql, START, end, period, None, by)
        expected = naive_details(events, START, end, period, by)
        for row in got:
            tally = expected[row["period"]]
            for name in (
                "delays",
                "follow_ups",
                "apartments_acquired",
                "apartments_returned",
            ):
                assert row[name] == tally[name], (row["period"], name)
            for kind, codes in row["by_reason"].items():
                for code, n in codes.items():
                    assert n == tally[(kind, code)], (row["period"], kind, code)
            for group, figures in row["groups"].items():
                for name, n in figures.items():
                    assert n == tally[("group", group, name)], (
                        row["period"],
                        group,
                        name,
                    )
    finally:
        boende.close()
