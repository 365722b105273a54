"""The monthly running totals of ``projections.counts`` answer exactly what
the facts table answers, on every day, however late facts arrive: cases
recorded out of month order (a key's first month moves back), a horizon
that jumps months ahead, days before every fact and after the last."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from domain.case import HousingCase
from projections import counts as view
from projections.base import END_OF_TIME, Recorded
from projections.counts import Counts
from tests.unit.test_mut_projections_base import Log, stamp, tables

START = date(2021, 1, 1)


def case_history(number: int, filed: date, steps: int) -> list[Any]:
    """One case's facts: filed, then up to three more, days apart."""
    log = Log()
    case = HousingCase.file(
        stamp(filed.isoformat()), f"c-{number}", {}, {"adults": 1}, "man", 1980
    )
    log.take(case, f"{filed}T09:00:00")
    day = filed
    if steps >= 1:
        day += timedelta(days=20)
        case.grant(
            stamp(day.isoformat()), f"d-{number}", "socialt_kontrakt", "assessment"
        )
        log.take(case, f"{day}T09:00:00")
    if steps >= 2:
        day += timedelta(days=40)
        case.cancel_grant(stamp(day.isoformat()), "deceased")
        log.take(case, f"{day}T09:00:00")
    return [record.event for record in log.records]


def from_the_facts(sql: Any, day: date) -> dict[str, Any]:
    """The answer for ``day`` through the facts table (the path a past
    ``known_at`` takes), which the running totals must equal."""
    original = view._knows_all
    view._knows_all = lambda sql, known_at: False  # type: ignore[assignment]
    try:
        return view.counts(sql, day, END_OF_TIME)
    finally:
        view._knows_all = original


@settings(max_examples=60, deadline=None)
@given(
    cases=st.lists(
        st.tuples(st.integers(0, 700), st.integers(0, 2)), min_size=1, max_size=12
    ),
    batch=st.integers(1, 5),
)
def test_running_totals_equal_the_facts_on_every_day(
    cases: list[tuple[int, int]], batch: int
) -> None:
    # Cases in the order drawn: their filing days are in no order at all.
    events = [
        event
        for number, (offset, steps) in enumerate(cases)
        for event in case_history(number, START + timedelta(days=offset), steps)
    ]
    records = [Recorded(i + 1, e) for i, e in enumerate(events)]
    with tables(Counts()) as sql:
        for i in range(0, len(records), batch):
            Counts().process_batch(sql, records[i : i + batch])
        last = max(e.occurred_on for e in events)
        for day in [
            START - timedelta(days=1),
            *(START + timedelta(days=d) for d in range(0, 800, 13)),
            last,
            last + timedelta(days=40),
        ]:
            assert view.counts(sql, day, None) == from_the_facts(sql, day), day
