"""Lead times (``projections.lead_times``): each case's milestones as the
handlers store them, and the per-period summaries the module docstring
promises (count, median, nearest-rank 90th percentile, maximum, each
interval in the period of its later date, ``start``..``end`` inclusive)."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest

from domain.apartment import Apartment
from domain.case import HousingCase
from projections.lead_times import INTERVALS, LeadTimes, lead_times, summary
from tests.unit.test_mut_projections_base import Log, stamp, tables

EMPTY = {"count": 0, "median_days": None, "p90_days": None, "max_days": None}


def history() -> Log:
    log = Log()
    flat = Apartment.acquire(
        stamp("2021-01-01", "ALN"), "a-1", "AB Bo", "Norr", 2, 6000
    )
    log.take(flat, "2021-01-01T00:00:00")
    # c-1: filed 1 Jan, granted 31 Jan (30 days), executed 2 Mar (30), first
    # hand 1 Apr (30).
    c1 = HousingCase.file(stamp("2021-01-01"), "c-1", {}, {}, "man", 1980)
    c1.grant(stamp("2021-01-31"), "d-1", "socialt_kontrakt", "assessment")
    c1.execute(stamp("2021-03-02"), flat, 6000, date(2021, 3, 2))
    c1.convert_to_first_hand(stamp("2021-04-01"), flat, date(2021, 3, 20))
    log.take(c1, "2021-04-01T00:00:00")
    log.take(flat, "2021-04-01T00:00:00")
    # c-2: filed 10 Jan, rejected 20 Jan (10), granted on appeal 1 Mar: the
    # appeal's date is the decision (50 days, in March).
    c2 = HousingCase.file(stamp("2021-01-10"), "c-2", {}, {}, "woman", 1990)
    c2.reject(stamp("2021-01-20"), "d-2", "no_need")
    c2.grant(stamp("2021-03-01"), "d-3", "socialt_kontrakt", "appeal")
    log.take(c2, "2021-03-01T00:00:00")
    # c-3: filed 15 Feb, rejected 20 Feb (5 days).
    c3 = HousingCase.file(stamp("2021-02-15"), "c-3", {}, {}, "man", 1970)
    c3.reject(stamp("2021-02-20"), "d-4", "no_need")
    log.take(c3, "2021-02-20T00:00:00")
    # c-4: filed, never decided.
    c4 = HousingCase.file(stamp("2021-02-16"), "c-4", {}, {}, "man", 1975)
    log.take(c4, "2021-02-16T00:00:00")
    return log


@pytest.fixture(params=["one batch", "fact by fact"])
def sql(request: pytest.FixtureRequest) -> Any:
    projection = LeadTimes()
    with tables(projection) as sql:
        records = history().records
        if request.param == "one batch":
            projection.process_batch(sql, records)
        else:  # a batch of one each (``FoldingProjection.process``)
            for record in records:
                projection.process(sql, record)
        yield sql


def test_each_case_has_the_dates_of_its_milestones(sql: Any) -> None:
    rows = sql.all("SELECT * FROM lead_times_cases ORDER BY case_id")
    assert rows == [
        {
            "case_id": "c-1",
            "filed_on": "2021-01-01",
            "decided_on": "2021-01-31",
            "granted_on": "2021-01-31",
            "executed_on": "2021-03-02",
            "converted_on": "2021-04-01",
        },
        {
            "case_id": "c-2",
            "filed_on": "2021-01-10",
            "decided_on": "2021-03-01",
            "granted_on": "2021-03-01",
            "executed_on": None,
            "converted_on": None,
        },
        {
            "case_id": "c-3",
            "filed_on": "2021-02-15",
            "decided_on": "2021-02-20",
            "granted_on": None,
            "executed_on": None,
            "converted_on": None,
        },
        {
            "case_id": "c-4",
            "filed_on": "2021-02-16",
            "decided_on": None,
            "granted_on": None,
            "executed_on": None,
            "converted_on": None,
        },
    ]


def test_an_index_per_later_date() -> None:
    with tables(LeadTimes()) as sql:
        rows = sql.all(
            "SELECT name, sql FROM sqlite_master WHERE type = 'index' "
            "AND sql IS NOT NULL"
        )
    assert sorted(row["name"] for row in rows) == [
        "lead_times_cases_by_converted_on",
        "lead_times_cases_by_decided_on",
        "lead_times_cases_by_executed_on",
    ]
    assert all(row["name"].split("_by_")[1] in row["sql"] for row in rows)


def test_lead_times_per_month(sql: Any) -> None:
    got = lead_times(sql, date(2021, 1, 1), date(2021, 4, 30), "month")
    assert got == [
        {
            "period": "2021-01",
            "filing_to_decision": summary([30]),
            "decision_to_execution": EMPTY,
            "execution_to_first_hand": EMPTY,
        },
        {
            "period": "2021-02",
            "filing_to_decision": summary([5]),
            "decision_to_execution": EMPTY,
            "execution_to_first_hand": EMPTY,
        },
        {
            "period": "2021-03",
            "filing_to_decision": summary([50]),
            "decision_to_execution": summary([30]),
            "execution_to_first_hand": EMPTY,
        },
        {
            "period": "2021-04",
            "filing_to_decision": EMPTY,
            "decision_to_execution": EMPTY,
            "execution_to_first_hand": summary([30]),
        },
    ]
    assert summary([30]) == {
        "count": 1,
        "median_days": 30,
        "p90_days": 30,
        "max_days": 30,
    }


def test_both_ends_of_the_range_are_inclusive(sql: Any) -> None:
    (first,) = lead_times(sql, date(2021, 1, 31), date(2021, 1, 31), "year")
    assert first["filing_to_decision"]["count"] == 1
    (q1,) = lead_times(sql, date(2021, 2, 1), date(2021, 3, 1), "quarter")
    assert q1["period"] == "2021Q1"
    assert q1["filing_to_decision"] == {
        "count": 2,
        "median_days": 27.5,
        "p90_days": 50,
        "max_days": 50,
    }
    assert q1["decision_to_execution"] == EMPTY  # executed 2 March: outside


def test_an_interval_counts_only_when_its_earlier_date_is_known(sql: Any) -> None:
    # c-2's appeal set its grant date without an execution: nothing to wait for.
    sql.execute("UPDATE lead_times_cases SET granted_on = NULL WHERE case_id = 'c-1'")
    (year,) = lead_times(sql, date(2021, 1, 1), date(2021, 12, 31), "year")
    assert year["decision_to_execution"] == EMPTY
    assert year["filing_to_decision"]["count"] == 3


def test_the_intervals_and_their_dates() -> None:
    assert INTERVALS == {
        "filing_to_decision": ("filed_on", "decided_on"),
        "decision_to_execution": ("granted_on", "executed_on"),
        "execution_to_first_hand": ("executed_on", "converted_on"),
    }


@pytest.mark.parametrize(
    ("days", "expected"),
    [
        ([], EMPTY),
        ([7], {"count": 1, "median_days": 7, "p90_days": 7, "max_days": 7}),
        ([20, 11], {"count": 2, "median_days": 15.5, "p90_days": 20, "max_days": 20}),
        ([3, 1, 2], {"count": 3, "median_days": 2, "p90_days": 3, "max_days": 3}),
        # An even count whose middle two make a whole day: a whole day.
        ([1, 3], {"count": 2, "median_days": 2, "p90_days": 3, "max_days": 3}),
        # Ten values: the 9th smallest is the 90th percentile (nearest rank).
        (
            [10, 1, 9, 2, 8, 3, 7, 4, 6, 5],
            {"count": 10, "median_days": 5.5, "p90_days": 9, "max_days": 10},
        ),
        # Eleven: ceil(9.9) = 10th smallest.
        (
            list(range(11, 0, -1)),
            {"count": 11, "median_days": 6, "p90_days": 10, "max_days": 11},
        ),
        # Twenty: the 18th.
        (
            list(range(1, 21)),
            {"count": 20, "median_days": 10.5, "p90_days": 18, "max_days": 20},
        ),
    ],
)
def test_summary(days: list[int], expected: dict[str, Any]) -> None:
    got = summary(days)
    assert got == expected
    if isinstance(expected["median_days"], int):
        assert type(got["median_days"]) is int  # a whole day reads as one
