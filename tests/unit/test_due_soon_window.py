"""Due soon (``projections.due_soon``) reads only the decisions whose
deadline can fall in the window (89 to 92 days after the decision): for
any decisions, resolutions and window, the answer equals a filter of every
grant by the rule in ``due_soon``'s docstring."""

from __future__ import annotations

from datetime import date, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from domain.apartment import Apartment
from domain.case import HousingCase
from projections.due_soon import due_soon
from projections.unexecuted import Unexecuted, three_month_deadline
from tests.unit.test_mut_projections_base import Log, stamp, tables

START = date(2023, 10, 1)

grants = st.lists(
    st.tuples(
        st.integers(0, 200),  # decided, days after START
        st.none() | st.tuples(st.booleans(), st.integers(0, 150)),  # resolved
    ),
    max_size=15,
)


@settings(max_examples=150, deadline=None)
@given(grants, st.integers(0, 330), st.integers(0, 60))
def test_due_soon_is_every_grant_with_its_deadline_in_the_window(
    history: list[tuple[int, tuple[bool, int] | None]], asked: int, within: int
) -> None:
    log = Log()
    for i, (decided, resolved) in enumerate(history):
        decided_on = START + timedelta(days=decided)
        case = HousingCase.file(stamp(START.isoformat()), f"c-{i}", {}, {}, "man", 1980)
        case.grant(stamp(decided_on.isoformat()), f"d-{i}", "socialt_kontrakt", "x")
        if resolved is not None:
            executed, after = resolved
            on = decided_on + timedelta(days=after)
            if executed:
                flat = Apartment.acquire(
                    stamp(START.isoformat(), "ALN"), f"a-{i}", "Bo AB", "Norr", 2, 1
                )
                log.take(flat, f"{START}T08:00:00")
                case.execute(stamp(on.isoformat()), flat, 1, on)
            else:
                case.cancel_grant(stamp(on.isoformat()), "own_housing_found")
        log.take(case, f"{START}T09:00:00")
    day = START + timedelta(days=asked)
    last = day + timedelta(days=within)
    expected = []
    for i, (decided, resolved) in enumerate(history):
        decided_on = START + timedelta(days=decided)
        deadline = three_month_deadline(decided_on)
        resolved_on = (
            None if resolved is None else decided_on + timedelta(days=resolved[1])
        )
        if decided_on > day or (resolved_on is not None and resolved_on <= day):
            continue
        if day <= deadline <= last:
            expected.append((deadline, decided_on, f"c-{i}"))
    projection = Unexecuted()
    with tables(projection) as sql:
        for record in log.records:
            projection.process(sql, record)
        answer = due_soon(sql, day, within, lambda case_id: case_id)
    assert [(r["deadline"], r["decided_on"], r["reference"]) for r in answer] == [
        (deadline.isoformat(), decided_on.isoformat(), case_id)
        for deadline, decided_on, case_id in sorted(expected)
    ]


def test_every_day_s_decision_on_every_day_and_window() -> None:
    """One open decision every day for two years (every length of three
    months: 89 days only in a year without a leap day, from 31 January),
    asked on every day for windows of 0 to 120 days: the 89- and 92-day
    bounds at their edges."""
    log = Log()
    days = [START + timedelta(days=n) for n in range(700)]
    for i, decided_on in enumerate(days):
        case = HousingCase.file(stamp(START.isoformat()), f"c-{i}", {}, {}, "man", 1980)
        case.grant(stamp(decided_on.isoformat()), f"d-{i}", "socialt_kontrakt", "x")
        log.take(case, f"{START}T09:00:00")
    projection = Unexecuted()
    with tables(projection) as sql:
        for record in log.records:
            projection.process(sql, record)
        for day in days:
            for within in (0, 1, 29, 30, 89, 92, 120):
                last = day + timedelta(days=within)
                expected = sorted(
                    (three_month_deadline(d), d)
                    for d in days
                    if d <= day and day <= three_month_deadline(d) <= last
                )
                answer = due_soon(sql, day, within, lambda case_id: case_id)
                assert [(r["deadline"], r["decided_on"]) for r in answer] == [
                    (deadline.isoformat(), d.isoformat()) for deadline, d in expected
                ], (day, within)
