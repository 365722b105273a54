"""The three-month list (``projections.unexecuted.unexecuted``) as of now
reads only the decisions still open on the day (by month of execution or
end); as known at a moment it reads every decision. For any decisions,
resolutions and delay reasons, on any day, both equal a filter of every
grant by the rule (``is_unexecuted_on``), with each case's latest delay
reason dated by the day."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from domain.apartment import Apartment
from domain.case import HousingCase
from projections.base import END_OF_TIME
from projections.unexecuted import (
    OPEN_MONTH,
    Unexecuted,
    is_unexecuted_on,
    three_month_deadline,
    unexecuted,
)
from tests.unit.test_mut_projections_base import Log, stamp, tables

START = date(2023, 10, 1)
REASONS = ("no_apartment_available", "client_unreachable", "other")

decisions = st.lists(
    st.fixed_dictionaries(
        {
            "decided": st.integers(0, 400),
            # executed (True) or cancelled, days after the decision
            "resolved": st.none() | st.tuples(st.booleans(), st.integers(0, 300)),
            "reasons": st.lists(
                st.tuples(st.integers(0, 200), st.sampled_from(REASONS)), max_size=3
            ),
        }
    ),
    max_size=15,
)


def record(history: list[dict[str, Any]]) -> Log:
    log = Log()
    for i, case_facts in enumerate(history):
        decided_on = START + timedelta(days=case_facts["decided"])
        case = HousingCase.file(stamp(START.isoformat()), f"c-{i}", {}, {}, "man", 1980)
        case.grant(stamp(decided_on.isoformat()), f"d-{i}", "socialt_kontrakt", "x")
        resolved = case_facts["resolved"]
        resolved_on = (
            None if resolved is None else decided_on + timedelta(days=resolved[1])
        )
        for after, reason in sorted(case_facts["reasons"]):
            on = decided_on + timedelta(days=after)
            if resolved_on is None or on < resolved_on:
                case.record_delay_reason(stamp(on.isoformat()), reason, None)
        if resolved is not None and resolved_on is not None:
            if resolved[0]:
                flat = Apartment.acquire(
                    stamp(START.isoformat(), "ALN"), f"a-{i}", "Bo AB", "Norr", 2, 1
                )
                log.take(flat, f"{START}T08:00:00")
                case.execute(stamp(resolved_on.isoformat()), flat, 1, resolved_on)
            else:
                case.cancel_grant(stamp(resolved_on.isoformat()), "own_housing_found")
        log.take(case, f"{START}T09:00:00")
    return log


@settings(max_examples=150, deadline=None)
@given(decisions, st.lists(st.integers(0, 800), min_size=1, max_size=8))
def test_the_list_is_every_grant_past_its_deadline_and_open_on_the_day(
    history: list[dict[str, Any]],
    asked: list[int],
) -> None:
    projection = Unexecuted()
    with tables(projection) as sql:
        for r in record(history).records:
            projection.process(sql, r)
        for offset in asked:
            day = START + timedelta(days=offset)
            expected = []
            for i, case_facts in enumerate(history):
                decided_on = START + timedelta(days=case_facts["decided"])
                resolved = case_facts["resolved"]
                resolved_on = (
                    None
                    if resolved is None
                    else decided_on + timedelta(days=resolved[1])
                )
                if decided_on > day or not is_unexecuted_on(
                    day, decided_on, resolved_on
                ):
                    continue
                dated = [
                    (after, reason)
                    for after, reason in sorted(case_facts["reasons"])
                    if decided_on + timedelta(days=after) <= day
                    and (
                        resolved_on is None
                        or decided_on + timedelta(days=after) < resolved_on
                    )
                ]
                expected.append(
                    {
                        "reference": f"c-{i}",
                        "decided_on": decided_on.isoformat(),
                        "deadline": three_month_deadline(decided_on).isoformat(),
                        "days_waiting": (day - decided_on).days,
                        "intervention": "socialt_kontrakt",
                        "gender": "man",
                        "delay_reason": dated[-1][1] if dated else None,
                    }
                )
            expected.sort(key=lambda row: (row["decided_on"], row["reference"]))
            now = unexecuted_list(sql, day, None)
            assert now == expected, day
            assert unexecuted_list(sql, day, END_OF_TIME) == expected, day


def unexecuted_list(sql: Any, day: date, known_at: str | None) -> list[Any]:
    return unexecuted(sql, day, lambda case_id: case_id, known_at)


def test_each_case_holds_the_month_it_was_executed_or_ended_in() -> None:
    """c-0 open; c-1 executed 10 February 2024; c-2 cancelled 31 January."""
    history = [
        {"decided": 0, "resolved": None, "reasons": []},
        {"decided": 0, "resolved": (True, 132), "reasons": []},
        {"decided": 0, "resolved": (False, 122), "reasons": []},
    ]
    projection = Unexecuted()
    with tables(projection) as sql:
        for r in record(history).records:
            projection.process(sql, r)
        rows = sql.all(
            "SELECT case_id, resolved_month FROM unexecuted_cases ORDER BY case_id"
        )
    assert [(r["case_id"], r["resolved_month"]) for r in rows] == [
        ("c-0", OPEN_MONTH),
        ("c-1", "2024-02"),
        ("c-2", "2024-01"),
    ]


def test_every_day_s_decision_on_every_day() -> None:
    """One open decision every day for two years (three months of 89 days
    only from 31 January in a year without a leap day): on every day, the
    list is every decision whose deadline has passed."""
    history = [{"decided": n, "resolved": None, "reasons": []} for n in range(700)]
    projection = Unexecuted()
    with tables(projection) as sql:
        for r in record(history).records:
            projection.process(sql, r)
        for offset in range(0, 760, 1):
            day = START + timedelta(days=offset)
            expected = [
                (START + timedelta(days=n)).isoformat()
                for n in range(700)
                if three_month_deadline(START + timedelta(days=n)) < day
            ]
            listed = unexecuted_list(sql, day, None)
            assert [row["decided_on"] for row in listed] == expected, day
