"""Rents and vacancy (``projections.rents``) on the tenancies history of
``test_mut_tenancies``, worked out by hand: the rents on a day (medians of
the histograms, the subsidy rounded half to even), per landlord, district
and rooms; vacant days and their cost pro rata of each month's days, per
month, quarter and year; both ends inclusive; as known at a moment.

The stock (rent ALN pays; rent the household pays):
A1 Bo AB (556999-0012), Norrby, 2 rooms, 6000 from 1 Jan: X 11 Jan-15 Feb
   (6200), W 1 Apr-31 May (5800); vacant 1-10 Jan, 15 Feb-31 Mar, 31 May on.
A2 " hem  HB", söderberga, 3 rooms, 9300 from 16 Jan: Y 1 Feb (9003) to his
   own lease on 1 Jun (recorded 10 Jun); vacant 16-31 Jan.
A3 "Bo AB " (556999-0012), "Norrby ", 1 room, 4500 from 1 Feb: Z that day
   (4000).
A4 "hem HB", "söderberga  ", 2 rooms, 6101 from 1 Mar: vacant, returned
   21 Mar.
"""

from __future__ import annotations

from collections import Counter
from datetime import date
from typing import Any

import pytest

from domain.apartment import Apartment
from domain.case import HousingCase
from infra.views import Sql
from projections.rents import (
    _DAY_PARTS,
    GROUPINGS,
    _kronor,
    _months,
    _nth,
    _spread,
    group_key,
    rents,
    vacancy,
)
from projections.tenancies import Tenancies
from tests.unit.test_mut_projections_base import Log, stamp, tables
from tests.unit.test_mut_tenancies import ORG, at, sql  # noqa: F401  (the fixture)

NO_RENT = {"median": None, "lowest": None, "highest": None, "per_month": 0}


def spread(median: float, lowest: int, highest: int, per_month: int) -> Any:
    return {
        "median": median,
        "lowest": lowest,
        "highest": highest,
        "per_month": per_month,
    }


def test_the_rents_on_a_day(sql: Sql) -> None:  # noqa: F811
    """1 February: A1-A3 in stock, each lived in (X, Y and Z)."""
    assert rents(sql, date(2024, 2, 1), "none") == [
        {
            "apartments": 3,
            "occupied": 3,
            "aln_pays": spread(6000, 4500, 9300, 19800),
            "households_pay": spread(6200, 4000, 9003, 19203),
            "difference_per_month": 200 - 297 - 500,
            "difference_per_occupied_apartment": -199,
        }
    ]


def test_medians_of_an_even_count_and_the_subsidy_rounded_half_to_even(
    sql: Sql,  # noqa: F811
) -> None:
    """1 March: A4 in stock too, X gone, W not yet in."""
    (march,) = rents(sql, date(2024, 3, 1), "none")
    assert march == {
        "apartments": 4,
        "occupied": 2,
        "aln_pays": spread(6050.5, 4500, 9300, 4500 + 6000 + 6101 + 9300),
        "households_pay": spread(6501.5, 4000, 9003, 13003),
        "difference_per_month": -797,
        "difference_per_occupied_apartment": -398,  # -398.5, half to even
    }
    assert type(march["aln_pays"]["median"]) is float


def test_rents_per_landlord(sql: Sql) -> None:  # noqa: F811
    """By organisation number where the acquisition named one, else by the
    name trimmed, spaces collapsed, case folded; shown trimmed."""
    assert rents(sql, date(2024, 3, 1), "landlord") == [
        {
            "landlord": "Bo AB",
            "landlord_org_no": ORG,
            "apartments": 2,
            "occupied": 1,
            "aln_pays": spread(5250, 4500, 6000, 10500),
            "households_pay": spread(4000, 4000, 4000, 4000),
            "difference_per_month": -500,
            "difference_per_occupied_apartment": -500,
        },
        {
            "landlord": "hem HB",
            "landlord_org_no": None,
            "apartments": 2,
            "occupied": 1,
            "aln_pays": spread(7700.5, 6101, 9300, 15401),
            "households_pay": spread(9003, 9003, 9003, 9003),
            "difference_per_month": -297,
            "difference_per_occupied_apartment": -297,
        },
    ]


def test_rents_per_district_and_per_rooms(sql: Sql) -> None:  # noqa: F811
    districts = rents(sql, date(2024, 3, 1), "district")
    assert [(g["district"], g["apartments"], g["occupied"]) for g in districts] == [
        ("Norrby", 2, 1),
        ("söderberga", 2, 1),
    ]
    assert [set(g) for g in districts] == [set(districts[0])] * 2
    assert "landlord_org_no" not in districts[0]
    assert rents(sql, date(2024, 3, 1), "rooms") == [
        {
            "rooms": "1",
            "apartments": 1,
            "occupied": 1,
            "aln_pays": spread(4500, 4500, 4500, 4500),
            "households_pay": spread(4000, 4000, 4000, 4000),
            "difference_per_month": -500,
            "difference_per_occupied_apartment": -500,
        },
        {
            "rooms": "2",
            "apartments": 2,
            "occupied": 0,
            "aln_pays": spread(6050.5, 6000, 6101, 12101),
            "households_pay": NO_RENT,
            "difference_per_month": 0,
            "difference_per_occupied_apartment": None,
        },
        {
            "rooms": "3",
            "apartments": 1,
            "occupied": 1,
            "aln_pays": spread(9300, 9300, 9300, 9300),
            "households_pay": spread(9003, 9003, 9003, 9003),
            "difference_per_month": -297,
            "difference_per_occupied_apartment": -297,
        },
    ]


@pytest.mark.parametrize(
    ("day", "apartments", "occupied"),
    [
        (date(2024, 2, 29), 3, 2),  # X moved out on the 15th
        (date(2024, 3, 20), 4, 2),
        (date(2024, 3, 21), 3, 2),  # A4 returned that day
        (date(2024, 4, 1), 3, 3),  # W moved in that day
        (date(2024, 5, 31), 3, 2),  # W evicted that day
        (date(2024, 6, 1), 2, 1),  # A2 Y's own lease from that day
    ],
)
def test_in_stock_and_lived_in_on_the_day(
    sql: Sql,  # noqa: F811
    day: date,
    apartments: int,
    occupied: int,
) -> None:
    (group,) = rents(sql, day, "none")
    assert (group["apartments"], group["occupied"]) == (apartments, occupied)


def test_rents_as_known_at_a_moment(sql: Sql) -> None:  # noqa: F811
    def counted(day: date, moment: str) -> tuple[int, int, int]:
        (group,) = rents(sql, day, "none", at(moment))
        return group["apartments"], group["occupied"], group["difference_per_month"]

    # A4's acquisition was recorded at 08:00 on 1 March.
    assert counted(date(2024, 3, 20), "2024-03-01T07:59:59") == (3, 2, -797)
    assert counted(date(2024, 3, 20), "2024-03-01T08:00:00") == (4, 2, -797)
    # W's moving in (5800 for 6000) was recorded on 20 April.
    assert counted(date(2024, 4, 1), "2024-04-20T07:59:59") == (3, 2, -797)
    assert counted(date(2024, 4, 1), "2024-04-20T08:00:00") == (3, 3, -997)
    # Y's conversion (A2 leaves the stock) on 1 June was recorded on 10 June.
    assert counted(date(2024, 6, 1), "2024-06-10T07:59:59") == (3, 2, -797)
    assert counted(date(2024, 6, 1), "2024-06-10T08:00:00") == (2, 1, -500)


def test_an_empty_stock(sql: Sql) -> None:  # noqa: F811
    assert rents(sql, date(2023, 12, 31), "none") == [
        {
            "apartments": 0,
            "occupied": 0,
            "aln_pays": NO_RENT,
            "households_pay": NO_RENT,
            "difference_per_month": 0,
            "difference_per_occupied_apartment": None,
        }
    ]
    assert rents(sql, date(2023, 12, 31), "landlord") == []


def test_the_spread_of_a_histogram() -> None:
    """Six amounts 100, 100, 200, 300, 300, 300: the median is the mean of
    the 3rd and 4th; three amounts 100, 200, 200: the 2nd."""
    assert _spread(Counter({300: 3, 100: 2, 200: 1})) == spread(250, 100, 300, 1300)
    assert _spread(Counter({200: 2, 100: 1})) == spread(200, 100, 200, 500)
    assert _spread(Counter()) == NO_RENT
    assert _nth([(100, 2), (200, 1), (300, 3)], 0) == 100
    assert _nth([(100, 2), (200, 1), (300, 3)], 1) == 100
    assert _nth([(100, 2), (200, 1), (300, 3)], 2) == 200
    assert _nth([(100, 2), (200, 1), (300, 3)], 5) == 300
    with pytest.raises(IndexError):  # never asked: the count is known
        _nth([(100, 2), (200, 1), (300, 3)], 6)


def test_the_group_key() -> None:
    """The name is not the row's: ``projections.spellings`` keeps it."""
    row = {"landlord": " hem  HB", "landlord_org_no": None, "district": " Öst ",
           "rooms": 12}  # fmt: skip
    assert group_key(row, "none") == ""
    assert group_key(row, "rooms") == "0012"
    assert group_key(row, "landlord") == "name:hem hb"
    assert group_key({**row, "landlord_org_no": ORG}, "landlord") == ORG
    assert group_key(row, "district") == "öst"
    assert GROUPINGS == ("none", "landlord", "district", "rooms")


# -- vacancy --------------------------------------------------------------------

TODAY = date(2024, 6, 15)


def vacant(period: str, days: int, cost: int, **group: Any) -> dict[str, Any]:
    return {"period": period, **group, "vacant_days": days, "cost_sek": cost}


def test_vacancy_per_month_pro_rata(sql: Sql) -> None:  # noqa: F811
    """January: A1 10 days at 6000/31 (1935.48), A2 16 at 9300/31 (4800);
    February: A1 15 days at 6000/29 (3103.45; A3's vacancy began and ended
    on the 1st: no days); March: A1 all 31 (6000), A4 20 at 6101/31
    (3936.13); May: A1 on the 31st (193.55); June: A1 to today, the 15th,
    at 6000/30 (3000)."""
    got = vacancy(sql, date(2024, 1, 1), date(2024, 6, 30), "month", "none", TODAY)
    assert got == [
        vacant("2024-01", 26, 6735),
        vacant("2024-02", 15, 3103),
        vacant("2024-03", 51, 9936),
        vacant("2024-04", 0, 0),
        vacant("2024-05", 1, 194),
        vacant("2024-06", 15, 3000),
    ]


def test_vacancy_per_quarter_and_year_rounded_at_the_end(sql: Sql) -> None:  # noqa: F811
    start, end = date(2024, 1, 1), date(2024, 12, 31)
    assert vacancy(sql, start, end, "quarter", "none", TODAY) == [
        vacant("2024Q1", 92, 19775),  # 19775.06
        vacant("2024Q2", 16, 3194),  # 3193.55
        vacant("2024Q3", 0, 0),
        vacant("2024Q4", 0, 0),
    ]
    assert vacancy(sql, start, end, "year", "none", TODAY) == [
        vacant("2024", 108, 22969)  # 22968.61, not 19775 + 3194
    ]


def test_vacancy_per_landlord(sql: Sql) -> None:  # noqa: F811
    got = vacancy(sql, date(2024, 1, 1), date(2024, 3, 31), "month", "landlord", TODAY)
    bo = {"landlord": "Bo AB", "landlord_org_no": ORG}
    hem = {"landlord": "hem HB", "landlord_org_no": None}
    assert got == [
        vacant("2024-01", 10, 1935, **bo),
        vacant("2024-01", 16, 4800, **hem),
        vacant("2024-02", 15, 3103, **bo),
        vacant("2024-02", 0, 0, **hem),
        vacant("2024-03", 31, 6000, **bo),
        vacant("2024-03", 20, 3936, **hem),
    ]


def test_vacancy_per_district_and_rooms(sql: Sql) -> None:  # noqa: F811
    start, end = date(2024, 1, 1), date(2024, 2, 29)
    assert vacancy(sql, start, end, "month", "district", TODAY) == [
        vacant("2024-01", 10, 1935, district="Norrby"),
        vacant("2024-01", 16, 4800, district="söderberga"),
        vacant("2024-02", 15, 3103, district="Norrby"),
        vacant("2024-02", 0, 0, district="söderberga"),
    ]
    assert vacancy(sql, start, end, "month", "rooms", TODAY) == [
        vacant("2024-01", 0, 0, rooms="1"),  # A3: no days, but a vacancy
        vacant("2024-01", 10, 1935, rooms="2"),
        vacant("2024-01", 16, 4800, rooms="3"),
        vacant("2024-02", 0, 0, rooms="1"),
        vacant("2024-02", 15, 3103, rooms="2"),
        vacant("2024-02", 0, 0, rooms="3"),
    ]


def test_a_vacancy_ended_on_the_first_day_is_not_in_the_period(
    sql: Sql,  # noqa: F811
) -> None:
    """A4 stopped being vacant on 21 March (returned): from the 21st it is
    in no group; from the 20th it has one day. A1 11 and 12 days of March."""
    bo = {"landlord": "Bo AB", "landlord_org_no": ORG}
    end = date(2024, 3, 31)
    assert vacancy(sql, date(2024, 3, 21), end, "month", "landlord", TODAY) == [
        vacant("2024-03", 11, 2129, **bo)  # 2129.03
    ]
    assert vacancy(sql, date(2024, 3, 20), end, "month", "landlord", TODAY) == [
        vacant("2024-03", 12, 2323, **bo),  # 2322.58
        vacant("2024-03", 1, 197, landlord="hem HB", landlord_org_no=None),  # 196.8
    ]
    # From 2 April to the end of the month no vacancy at all: no groups.
    assert vacancy(sql, date(2024, 4, 2), date(2024, 4, 30), "month", "landlord",
                   TODAY) == []  # fmt: skip
    assert vacancy(sql, date(2024, 4, 2), date(2024, 4, 30), "month", "none",
                   TODAY) == [vacant("2024-04", 0, 0)]  # fmt: skip


def test_a_vacancy_beginning_on_the_last_day_counts_it(sql: Sql) -> None:  # noqa: F811
    got = vacancy(sql, date(2024, 5, 1), date(2024, 5, 31), "month", "none", TODAY)
    assert got == [vacant("2024-05", 1, 194)]


def test_an_open_vacancy_runs_to_today_never_past_the_end(sql: Sql) -> None:  # noqa: F811
    june = (date(2024, 6, 1), date(2024, 6, 30), "month", "none")
    assert vacancy(sql, *june, date(2024, 6, 10)) == [vacant("2024-06", 10, 2000)]
    assert vacancy(sql, *june, date(2024, 12, 31)) == [vacant("2024-06", 30, 6000)]


def test_vacancy_as_known_at_a_moment(sql: Sql) -> None:  # noqa: F811
    """A1's vacancy from 15 February ended on 1 April, recorded on 20 April;
    the one from 31 May was recorded that day."""
    window = (date(2024, 4, 1), date(2024, 6, 30), "month", "none", TODAY)

    def known(moment: str) -> list[tuple[int, int]]:
        rows = vacancy(sql, *window, at(moment))
        return [(row["vacant_days"], row["cost_sek"]) for row in rows]

    assert known("2024-04-20T07:59:59") == [(30, 6000), (31, 6000), (15, 3000)]
    assert known("2024-04-20T08:00:00") == [(0, 0), (0, 0), (0, 0)]
    assert known("2024-05-31T07:59:59") == [(0, 0), (0, 0), (0, 0)]
    assert known("2024-05-31T08:00:00") == [(0, 0), (1, 194), (15, 3000)]


def test_the_months_a_range_touches() -> None:
    assert list(_months(date(2023, 12, 30), date(2024, 3, 1))) == [
        (date(2023, 12, 1), 2),
        (date(2024, 1, 1), 31),
        (date(2024, 2, 1), 29),
        (date(2024, 3, 1), 1),
    ]
    assert list(_months(date(2023, 2, 10), date(2023, 2, 28))) == [
        (date(2023, 2, 1), 19)
    ]
    assert list(_months(date(2024, 5, 31), date(2024, 5, 31))) == [
        (date(2024, 5, 1), 1)
    ]
    assert list(_months(date(2024, 5, 31), date(2024, 5, 30))) == []


def test_rows_of_one_rent_add_up_in_a_group() -> None:
    """The SQL sums per rent and spelling: B1 and B4 are one row of two,
    B2 (one number, spelt apart) a row of its own at the same rent; the
    two households pay the same rent for flats of different rents."""
    log = Log()
    flats = {}
    for flat_id, name, rent in [
        ("B1", "Bo AB", 6000),
        ("B2", "Bo  AB", 6000),
        ("B3", "Bo AB", 7000),
        ("B4", "Bo AB", 6000),
    ]:
        flats[flat_id] = Apartment.acquire(
            stamp("2024-01-01", "ALN"), flat_id, name, "Norrby", 2, rent, ORG
        )
        log.take(flats[flat_id], "2024-01-01T08:00:00")  # fmt: skip
    for case_id, flat_id in [("C1", "B1"), ("C2", "B3")]:
        case = HousingCase.file(stamp("2024-01-01"), case_id, {}, {}, "man", 1980)
        case.grant(stamp("2024-01-01"), f"d-{case_id}", "socialt_kontrakt",
                   "assessment")  # fmt: skip
        case.execute(stamp("2024-01-02"), flats[flat_id], 5000, date(2024, 1, 2))
        log.take(case, "2024-01-02T08:00:00")
        log.take(flats[flat_id], "2024-01-02T08:00:00")
    projection = Tenancies()
    with tables(projection) as db:
        projection.process_batch(db, log.records)
        (group,) = rents(db, date(2024, 1, 2), "landlord")
    assert group == {
        "landlord": "Bo AB",
        "landlord_org_no": ORG,
        "apartments": 4,
        "occupied": 2,
        "aln_pays": spread(6000, 6000, 7000, 25000),
        "households_pay": spread(5000, 5000, 5000, 10000),
        "difference_per_month": -1000 - 2000,
        "difference_per_occupied_apartment": -1500,
    }
    # A whole median is a whole number, not 6000.0.
    assert type(group["aln_pays"]["median"]) is int
    assert type(group["households_pay"]["median"]) is int


def test_a_vacancy_costs_exact_parts_of_a_krona_rounded_half_to_even() -> None:
    """Every month's day is a whole number of parts, so a sum over any rows
    in any order is exact; half a krona goes to the even krona."""
    assert all(_DAY_PARTS % length == 0 for length in (28, 29, 30, 31))
    half = _DAY_PARTS // 2
    assert [_kronor(k * _DAY_PARTS + half) for k in (0, 1, 2, 3)] == [
        0,
        2,
        2,
        4,
    ]
    assert _kronor(7 * _DAY_PARTS + half - 1) == 7
    assert _kronor(7 * _DAY_PARTS + half + 1) == 8
    assert _kronor(0) == 0


def test_a_vacancy_s_cost_of_half_a_krona_goes_to_the_even_krona() -> None:
    """B1 (6,003 kr a month) stands vacant 1-5 April (30 days): 6,003 x 5 /
    30 = 1,000.50 kr, which is 1,000 kr, a whole number (never 1,000.0)."""
    log = Log()
    flat = Apartment.acquire(stamp("2024-04-01", "ALN"), "B1", "Bo AB", "Norrby",
                             2, 6003, ORG)  # fmt: skip
    log.take(flat, "2024-04-01T08:00:00")
    case = HousingCase.file(stamp("2024-03-01"), "C1", {}, {}, "man", 1980)
    case.grant(stamp("2024-03-02"), "d-C1", "socialt_kontrakt", "assessment")
    case.execute(stamp("2024-04-06"), flat, 5000, date(2024, 4, 6))
    log.take(case, "2024-04-06T08:00:00")
    log.take(flat, "2024-04-06T08:00:00")
    projection = Tenancies()
    with tables(projection) as db:
        projection.process_batch(db, log.records)
        april = (date(2024, 4, 1), date(2024, 4, 30), "month")
        (whole,) = vacancy(db, *april, "none", date(2024, 4, 30))
        (by_landlord,) = vacancy(db, *april, "landlord", date(2024, 4, 30))
    assert whole == {"period": "2024-04", "vacant_days": 5, "cost_sek": 1000}
    assert by_landlord == whole | {"landlord": "Bo AB", "landlord_org_no": ORG}
    assert type(whole["cost_sek"]) is int
    assert type(by_landlord["cost_sek"]) is int
