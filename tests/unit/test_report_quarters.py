"""``quarter_of``: the one place a report's quarter is decided against today."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from services.errors import InvalidRequest
from services.http.reports.formats import ReportQuarter, quarter_of


def test_an_ended_quarter_is_final_and_counted_to_its_last_day() -> None:
    assert quarter_of("2021Q3", date(2021, 10, 1)) == ReportQuarter(
        "2021Q3", date(2021, 7, 1), date(2021, 9, 30), False, date(2021, 9, 30)
    )


@pytest.mark.parametrize(
    "today", [date(2021, 7, 1), date(2021, 8, 15), date(2021, 9, 30)]
)
def test_a_running_quarter_is_preliminary_and_counted_to_today(today: date) -> None:
    q = quarter_of("2021Q3", today)
    assert (q.start, q.end, q.preliminary, q.counted_to) == (
        date(2021, 7, 1),
        date(2021, 9, 30),
        True,
        today,
    )
    assert q.as_json() == {
        "quarter": "2021Q3",
        "from": "2021-07-01",
        "to": "2021-09-30",
        "preliminary": True,
        "counted_to": today.isoformat(),
    }


def test_a_quarter_that_begins_tomorrow_is_refused_naming_it() -> None:
    with pytest.raises(InvalidRequest) as refused:
        quarter_of("2021Q3", date(2021, 6, 30))
    assert "2021Q3" in refused.value.message
    assert refused.value.details["details"] == [
        {"loc": "quarter", "problem": "in the future"}
    ]


def test_a_malformed_quarter_is_refused_before_the_calendar() -> None:
    with pytest.raises(InvalidRequest) as refused:
        quarter_of("2021Q5", date(2021, 1, 1))
    assert refused.value.details["details"] == [
        {"loc": "quarter", "problem": "not like 2021Q3"}
    ]


@given(
    year=st.integers(1990, 2999),
    number=st.integers(1, 4),
    today=st.dates(date(1990, 1, 1), date(2999, 12, 31)),
)
def test_any_quarter_against_any_today(year: int, number: int, today: date) -> None:
    name = f"{year}Q{number}"
    start = date(year, 3 * number - 2, 1)
    if start > today:
        with pytest.raises(InvalidRequest):
            quarter_of(name, today)
        return
    q = quarter_of(name, today)
    assert q.start == start
    assert (q.end + timedelta(days=1)).day == 1
    assert q.preliminary == (today <= q.end)
    assert q.counted_to == min(q.end, today)
    assert q.start <= q.counted_to <= q.end
