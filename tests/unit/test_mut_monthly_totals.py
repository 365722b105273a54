"""The monthly running totals of the counts rollup
(``projections.monthly_totals``): months counted across a year's end, the
rows kept dense when the horizon jumps into a new year, and a key's id
pinned (the same text gives the same id in every replay, on every engine)."""

from __future__ import annotations

from datetime import date

from domain.case import HousingCase
from projections.counts import Counts
from projections.monthly_totals import _months_after, id_of, up_to
from tests.unit.test_mut_projections_base import Log, stamp, tables

FILED = ("case", "application_filed", "", "filed", "", "man", "none", "none")


def test_the_months_after_one_up_to_another() -> None:
    assert _months_after("2021-11", "2022-02") == ["2021-12", "2022-01", "2022-02"]
    assert _months_after("2021-12", "2022-01") == ["2022-01"]
    assert _months_after("2021-12", "2021-12") == []
    assert _months_after("2021-05", "2021-04") == []
    assert _months_after("2019-12", "2021-01")[11:14] == ["2020-12", "2021-01"]


def test_a_keys_id_is_pinned() -> None:
    """The first seven bytes, big-endian, of SHA-256 over the key's columns
    joined by ``|`` (written out here, so a change of recipe shows)."""
    assert id_of(FILED) == 47971258569422756
    granted = ("case", "application_granted", "", "granted", "filed", "man",
               "socialt_kontrakt", "assessment")  # fmt: skip
    assert id_of(granted) == 70424650652267145


def test_the_totals_run_on_across_a_years_end() -> None:
    """Filings in November 2021 and February 2022: the November key has a
    row for every month to February, its total carried forward."""
    log = Log()
    for n, day in enumerate(["2021-11-20", "2021-11-21", "2022-02-03"]):
        case = HousingCase.file(stamp(day), f"c-{n}", {}, {}, "man", 1980)
        log.take(case, f"{day}T09:00:00")
    projection = Counts()
    with tables(projection) as sql:
        projection.process_batch(sql, log.records[:2])
        projection.process_batch(sql, log.records[2:])
        rows = sql.all(
            "SELECT month, n FROM counts_monthly WHERE key_id = ? ORDER BY month",
            [id_of(FILED)],
        )
        horizon = sql.all("SELECT month FROM counts_horizon")
        in_january = up_to(sql, date(2022, 1, 31))
        in_february = up_to(sql, date(2022, 2, 2))
        after = up_to(sql, date(2022, 5, 1))
    assert rows == [
        {"month": "2021-11", "n": 2},
        {"month": "2021-12", "n": 2},
        {"month": "2022-01", "n": 2},
        {"month": "2022-02", "n": 3},
    ]
    assert horizon == [{"month": "2022-02"}]
    assert [row["n"] for row in in_january] == [2]
    assert [row["n"] for row in in_february] == [2]  # the 3rd is not yet
    assert [row["n"] for row in after] == [3]
