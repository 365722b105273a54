"""The three-month rule's two small functions: the deadline of a decision
(three calendar months, clamped to the month's end) and whether a decision
counts as unexecuted past three months on a given day."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from projections.due_soon import DEADLINE_AFTER_AT_LEAST, DEADLINE_AFTER_AT_MOST
from projections.unexecuted import (
    Grant,
    is_resolved_in_time,
    is_unexecuted_on,
    quarter_bounds,
    report_section,
    three_month_deadline,
)

D = date.fromisoformat


@pytest.mark.parametrize(
    ("decided", "deadline"),
    [
        ("2021-03-15", "2021-06-15"),  # an ordinary day
        ("2021-01-01", "2021-04-01"),
        ("2021-10-15", "2022-01-15"),  # across the year end
        ("2021-12-31", "2022-03-31"),
        ("2021-01-31", "2021-04-30"),  # April has 30 days
        ("2021-08-31", "2021-11-30"),  # November has 30 days
        ("2022-11-30", "2023-02-28"),  # February, not a leap year
        ("2023-11-30", "2024-02-29"),  # February, leap year
        ("2023-11-29", "2024-02-29"),
        ("2022-11-28", "2023-02-28"),
        ("2024-02-29", "2024-05-29"),  # a leap day: same day-of-month
        ("2023-02-28", "2023-05-28"),
        ("2100-11-30", "2101-02-28"),  # 2100 is not a leap year
        ("2099-11-30", "2100-02-28"),
    ],
)
def test_deadline_is_three_calendar_months_clamped(decided: str, deadline: str) -> None:
    assert three_month_deadline(D(decided)) == D(deadline)


def test_deadline_never_earlier_than_89_days_nor_later_than_92() -> None:
    day = date(2020, 1, 1)
    while day < date(2025, 1, 1):
        waited = (three_month_deadline(day) - day).days
        assert 89 <= waited <= 92, day
        day += timedelta(days=1)


DECIDED = D("2021-01-31")  # deadline 2021-04-30
DEADLINE = D("2021-04-30")


def test_not_unexecuted_on_or_before_the_deadline() -> None:
    assert not is_unexecuted_on(DEADLINE, DECIDED, None)
    assert not is_unexecuted_on(DECIDED, DECIDED, None)


def test_unexecuted_from_the_day_after_the_deadline() -> None:
    assert is_unexecuted_on(DEADLINE + timedelta(days=1), DECIDED, None)
    assert is_unexecuted_on(D("2022-01-01"), DECIDED, None)


def test_executed_on_the_deadline_day_is_in_time() -> None:
    for day in (DEADLINE, D("2021-05-01"), D("2030-01-01")):
        assert not is_unexecuted_on(day, DECIDED, DEADLINE)


def test_executed_the_day_after_the_deadline_was_late_for_one_day() -> None:
    late = D("2021-05-01")
    assert not is_unexecuted_on(late, DECIDED, late)  # executed that day
    assert not is_unexecuted_on(D("2021-05-02"), DECIDED, late)
    executed = D("2021-05-10")
    assert is_unexecuted_on(D("2021-05-09"), DECIDED, executed)
    assert not is_unexecuted_on(executed, DECIDED, executed)


def test_cancelled_before_the_deadline_is_never_reported() -> None:
    cancelled = D("2021-03-01")
    day = DECIDED
    while day < D("2022-01-01"):
        assert not is_unexecuted_on(day, DECIDED, cancelled), day
        day += timedelta(days=1)


def test_resolved_in_time_means_on_or_before_the_deadline() -> None:
    assert is_resolved_in_time(DECIDED, DEADLINE)
    assert is_resolved_in_time(DECIDED, D("2021-02-01"))
    assert not is_resolved_in_time(DECIDED, D("2021-05-01"))
    assert not is_resolved_in_time(DECIDED, None)


def grant(decided: str, executed: str | None = None, ended: str | None = None) -> Grant:
    return Grant(
        case_id="c-1",
        decided_on=D(decided),
        intervention="socialt_kontrakt",
        gender="woman",
        executed_on=D(executed) if executed else None,
        ended_on=D(ended) if ended else None,
        end_kind="cancelled" if ended else None,
        end_reason="other" if ended else None,
    )


Q3 = quarter_bounds("2021Q3")


@pytest.mark.parametrize(
    ("g", "section"),
    [
        (grant("2021-03-31"), "new"),  # first late day 1 July
        (grant("2021-06-29"), "new"),  # first late day 30 September
        (grant("2021-06-30"), None),  # first late day 1 October: next quarter
        (grant("2021-04-15", executed="2021-08-20"), "new"),
        (grant("2021-04-20", executed="2021-07-20"), None),  # on the deadline
        (grant("2021-05-10", executed="2021-08-11"), "new"),  # a day late
        (grant("2021-03-31", executed="2021-07-01"), "new"),  # late, first day
        (grant("2021-03-31", ended="2021-06-30"), None),  # cancelled in time
        (grant("2021-03-28", executed="2021-06-29"), None),  # late, in Q2
        (grant("2021-05-05", ended="2021-06-01"), None),  # cancelled in time
        (grant("2021-03-29"), "earlier_standing"),  # first late day 30 June
        (grant("2020-12-01", executed="2021-07-01"), "earlier_resolved"),
        (grant("2021-03-15", ended="2021-09-30"), "earlier_resolved"),
        (grant("2021-03-15", ended="2021-10-01"), "earlier_standing"),
        (grant("2021-02-10", executed="2021-06-30"), None),  # resolved in Q2
    ],
)
def test_report_sections(g: Grant, section: str | None) -> None:
    assert report_section(g, *Q3) == section


def test_quarter_bounds() -> None:
    assert quarter_bounds("2021Q3") == (D("2021-07-01"), D("2021-09-30"))
    assert quarter_bounds("2024Q1") == (D("2024-01-01"), D("2024-03-31"))
    assert quarter_bounds("2021Q4") == (D("2021-10-01"), D("2021-12-31"))
    for bad in ("2021Q5", "2021Q0", "2021-Q3", "21Q3", "2021q3", "2021Q3 ", ""):
        with pytest.raises(ValueError):
            quarter_bounds(bad)


def test_a_deadline_lies_89_to_92_days_after_its_decision() -> None:
    """``due_soon`` reads only the decisions of the last
    ``DEADLINE_AFTER_AT_MOST`` days (no older one can still be in time) and
    none of the last ``DEADLINE_AFTER_AT_LEAST`` days before the window's
    end (their deadlines lie after it). Over 40 years of days the longest
    gap is exactly 92 (31 May to 31 August), the shortest 89."""
    day, gaps = date(2000, 1, 1), set()
    while day < date(2040, 1, 1):
        gaps.add((three_month_deadline(day) - day).days)
        day += timedelta(days=1)
    assert max(gaps) == DEADLINE_AFTER_AT_MOST == 92
    assert min(gaps) == DEADLINE_AFTER_AT_LEAST == 89  # 31 January to 30 April
