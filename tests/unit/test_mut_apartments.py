"""The apartment stock (``projections.apartments``): per apartment its state
and vacancy bookkeeping, and the aggregate answer (by state, landlord and
district; current and past vacant days) the module docstring promises."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest

from domain.apartment import Apartment
from domain.case import HousingCase
from projections.apartments import APARTMENT_STATES, ApartmentStock, stock
from tests.unit.test_mut_projections_base import Log, stamp, tables


def history() -> Log:
    log = Log()
    # a-1: available 1 Jan, occupied 11 Jan (10 days), vacated 1 Mar,
    # occupied again 1 Apr (31 days): 41 past vacant days.
    a1 = Apartment.acquire(stamp("2021-01-01", "ALN"), "a-1", "AB Bo", "Norr", 2, 6100)
    c1 = HousingCase.file(stamp("2021-01-01"), "c-1", {}, {}, "man", 1980)
    c1.grant(stamp("2021-01-05"), "d-1", "socialt_kontrakt", "assessment")
    c1.execute(stamp("2021-01-11"), a1, 6100, date(2021, 1, 11))
    c1.terminate(stamp("2021-03-01"), a1, "moved_out")
    c2 = HousingCase.file(stamp("2021-01-02"), "c-2", {}, {}, "woman", 1990)
    c2.grant(stamp("2021-01-06"), "d-2", "socialt_kontrakt", "assessment")
    c2.execute(stamp("2021-04-01"), a1, 6100, date(2021, 4, 1))
    # a-2: available 1 Feb, returned 21 Feb (20 days).
    a2 = Apartment.acquire(stamp("2021-02-01", "ALN"), "a-2", "Hem AB", "Norr", 1, 4000)
    a2.return_to_landlord(stamp("2021-02-21", "ALN"), None)
    # a-3: available 10 Mar, still available: its current vacancy runs on.
    a3 = Apartment.acquire(stamp("2021-03-10", "ALN"), "a-3", "Hem AB", "Syd", 3, 8000)
    # a-4: available 1 Mar, occupied 5 Mar (4), first hand 1 Jun.
    a4 = Apartment.acquire(stamp("2021-03-01", "ALN"), "a-4", "AB Bo", "Syd", 4, 9000)
    c3 = HousingCase.file(stamp("2021-01-03"), "c-3", {}, {}, "man", 1970)
    c3.grant(stamp("2021-01-07"), "d-3", "socialt_kontrakt", "assessment")
    c3.execute(stamp("2021-03-05"), a4, 9000, date(2021, 3, 5))
    c3.convert_to_first_hand(stamp("2021-06-01"), a4, date(2021, 5, 30))
    # a-5: available 1 Apr, still available.
    a5 = Apartment.acquire(stamp("2021-04-01", "ALN"), "a-5", "AB Bo", "Norr", 2, 6000)
    # a-6: Hem AB's second available one, in another district than a-3.
    a6 = Apartment.acquire(stamp("2021-06-20", "ALN"), "a-6", "Hem AB", "Norr", 1, 3000)
    for aggregate in (a1, c1, c2, a2, a3, a4, c3, a5, a6):
        log.take(aggregate, "2021-06-01T00:00:00")
    return log


@pytest.fixture
def sql() -> Any:
    projection = ApartmentStock()
    with tables(projection) as sql:
        for record in history().records:
            projection.process(sql, record)
        yield sql


def test_each_apartment_row(sql: Any) -> None:
    rows = sql.all("SELECT * FROM apartments_stock ORDER BY apartment_id")
    assert rows == [
        {
            "apartment_id": "a-1",
            "landlord": "AB Bo",
            "district": "Norr",
            "rooms": 2,
            "monthly_rent_sek": 6100,
            "state": "occupied",
            "became_available_on": "2021-03-01",
            "past_vacant_days": 41,
        },
        {
            "apartment_id": "a-2",
            "landlord": "Hem AB",
            "district": "Norr",
            "rooms": 1,
            "monthly_rent_sek": 4000,
            "state": "returned",
            "became_available_on": "2021-02-01",
            "past_vacant_days": 20,
        },
        {
            "apartment_id": "a-3",
            "landlord": "Hem AB",
            "district": "Syd",
            "rooms": 3,
            "monthly_rent_sek": 8000,
            "state": "available",
            "became_available_on": "2021-03-10",
            "past_vacant_days": 0,
        },
        {
            "apartment_id": "a-4",
            "landlord": "AB Bo",
            "district": "Syd",
            "rooms": 4,
            "monthly_rent_sek": 9000,
            "state": "transferred",
            "became_available_on": "2021-03-01",
            "past_vacant_days": 4,
        },
        {
            "apartment_id": "a-5",
            "landlord": "AB Bo",
            "district": "Norr",
            "rooms": 2,
            "monthly_rent_sek": 6000,
            "state": "available",
            "became_available_on": "2021-04-01",
            "past_vacant_days": 0,
        },
        {
            "apartment_id": "a-6",
            "landlord": "Hem AB",
            "district": "Norr",
            "rooms": 1,
            "monthly_rent_sek": 3000,
            "state": "available",
            "became_available_on": "2021-06-20",
            "past_vacant_days": 0,
        },
    ]


def test_the_stock_on_a_day(sql: Any) -> None:
    # a-3 vacant 10 Mar..30 Jun: 112 days; a-5 1 Apr..: 90; a-6 20 Jun..: 10.
    assert stock(sql, date(2021, 6, 30)) == {
        "apartments_total": 6,
        "by_state": {"available": 3, "occupied": 1, "returned": 1, "transferred": 1},
        "by_landlord": {
            "AB Bo": {
                "total": 3,
                "by_state": {
                    "available": 1,
                    "occupied": 1,
                    "returned": 0,
                    "transferred": 1,
                },
            },
            "Hem AB": {
                "total": 3,
                "by_state": {
                    "available": 2,
                    "occupied": 0,
                    "returned": 1,
                    "transferred": 0,
                },
            },
        },
        "by_district": {
            "Norr": {
                "total": 4,
                "by_state": {
                    "available": 2,
                    "occupied": 1,
                    "returned": 1,
                    "transferred": 0,
                },
            },
            "Syd": {
                "total": 2,
                "by_state": {
                    "available": 1,
                    "occupied": 0,
                    "returned": 0,
                    "transferred": 1,
                },
            },
        },
        "vacancy_days": {
            "current": {"count": 3, "mean": 70.67, "median": 90, "max": 112},
            "total_to_date": 41 + 20 + 4 + 112 + 90 + 10,
        },
    }


def test_mean_and_median_of_four_current_vacancies(sql: Any) -> None:
    sql.execute(
        "UPDATE apartments_stock SET state = 'available', "
        "became_available_on = '2021-06-29' WHERE apartment_id = 'a-2'"
    )
    current = stock(sql, date(2021, 6, 30))["vacancy_days"]["current"]
    # 112, 90, 10 and 1 day: the mean; the median of an even count is the
    # mean of the middle two.
    assert current == {"count": 4, "mean": 53.25, "median": 50.0, "max": 112}


def test_a_day_before_a_vacancy_began_counts_no_days(sql: Any) -> None:
    vacancy = stock(sql, date(2021, 3, 1))["vacancy_days"]
    assert vacancy["current"] == {"count": 3, "mean": 0, "median": 0, "max": 0}
    assert vacancy["total_to_date"] == 41 + 20 + 4


def test_an_empty_stock() -> None:
    with tables(ApartmentStock()) as sql:
        assert stock(sql, date(2021, 1, 1)) == {
            "apartments_total": 0,
            "by_state": dict.fromkeys(APARTMENT_STATES, 0),
            "by_landlord": {},
            "by_district": {},
            "vacancy_days": {
                "current": {"count": 0, "mean": None, "median": None, "max": None},
                "total_to_date": 0,
            },
        }


def test_a_vacancy_ended_from_another_state_adds_no_days() -> None:
    """Only a vacancy (state available) has days to add when it ends."""
    projection = ApartmentStock()
    log = history()
    with tables(projection) as sql:
        projection.process_batch(sql, log.records)
        occupied = next(
            r
            for r in log.records
            if isinstance(r.event, Apartment.Occupied) and r.event.apartment_id == "a-1"
        )
        sql.execute(
            "UPDATE apartments_stock SET state = 'occupied' WHERE apartment_id = 'a-3'"
        )
        again = type(occupied)(occupied.position, occupied.event)
        projection.vacancy_ended(sql, again)
        rows = sql.all(
            "SELECT apartment_id, past_vacant_days FROM apartments_stock "
            "WHERE apartment_id IN ('a-1', 'a-3') ORDER BY apartment_id"
        )
    assert rows == [
        {"apartment_id": "a-1", "past_vacant_days": 41},
        {"apartment_id": "a-3", "past_vacant_days": 0},
    ]


def test_the_states_in_their_order() -> None:
    assert APARTMENT_STATES == ["available", "occupied", "returned", "transferred"]
