"""The apartment stock (``projections.apartments``): per apartment its state
and vacancy bookkeeping, and the aggregate answer (by state, landlord and
district; current and past vacant days) the module docstring promises."""

from __future__ import annotations

import dataclasses
from datetime import date
from typing import Any

import pytest

from domain.apartment import Apartment
from domain.case import HousingCase
from projections.apartments import (
    APARTMENT_STATES,
    ApartmentStock,
    _vacancy_days,
    _vacancy_now,
    stock,
)
from projections.base import Recorded
from projections.landlords import LandlordRegister, register
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


def fact(kind: Any, apartment_id: str) -> Recorded:
    """The first ``kind`` fact of ``apartment_id`` in the history."""
    for r in history().records:
        event: Any = r.event
        if isinstance(event, kind) and event.apartment_id == apartment_id:
            return r
    raise AssertionError(f"no {kind.__name__} of {apartment_id}")


@pytest.fixture
def sql() -> Any:
    projection = ApartmentStock()
    with tables(projection) as sql:
        for record in history().records:
            projection.process(sql, record)
        yield sql


def test_each_apartment_row_and_its_moves(sql: Any) -> None:
    rows = sql.all(
        "SELECT apartment_id, landlord, landlord_org_no, district, rooms, "
        "monthly_rent_sek, acquired_on FROM apartments_stock ORDER BY position"
    )
    assert [tuple(row.values()) for row in rows] == [
        ("a-1", "AB Bo", None, "Norr", 2, 6100, "2021-01-01"),
        ("a-2", "Hem AB", None, "Norr", 1, 4000, "2021-02-01"),
        ("a-3", "Hem AB", None, "Syd", 3, 8000, "2021-03-10"),
        ("a-4", "AB Bo", None, "Syd", 4, 9000, "2021-03-01"),
        ("a-5", "AB Bo", None, "Norr", 2, 6000, "2021-04-01"),
        ("a-6", "Hem AB", None, "Norr", 1, 3000, "2021-06-20"),
    ]
    moves = sql.all(
        "SELECT apartment_id, occurred_on, state FROM apartment_moves "
        "ORDER BY apartment_id, position"
    )
    assert [tuple(m.values()) for m in moves] == [
        ("a-1", "2021-01-01", "available"),
        ("a-1", "2021-01-11", "occupied"),
        ("a-1", "2021-03-01", "available"),
        ("a-1", "2021-04-01", "occupied"),
        ("a-2", "2021-02-01", "available"),
        ("a-2", "2021-02-21", "returned"),
        ("a-3", "2021-03-10", "available"),
        ("a-4", "2021-03-01", "available"),
        ("a-4", "2021-03-05", "occupied"),
        ("a-4", "2021-06-01", "transferred"),
        ("a-5", "2021-04-01", "available"),
        ("a-6", "2021-06-20", "available"),
    ]


def test_the_stock_on_a_day(sql: Any) -> None:
    # a-3 vacant 10 Mar..30 Jun: 112 days; a-5 1 Apr..: 90; a-6 20 Jun..: 10.
    assert stock(sql, date(2021, 6, 30)) == {
        "apartments_total": 6,
        "by_state": {"available": 3, "occupied": 1, "returned": 1, "transferred": 1},
        "by_landlord": {
            "AB Bo": {
                "landlord_org_no": None,
                "total": 3,
                "by_state": {
                    "available": 1,
                    "occupied": 1,
                    "returned": 0,
                    "transferred": 1,
                },
            },
            "Hem AB": {
                "landlord_org_no": None,
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
    vacated = fact(Apartment.Vacated, "a-1")  # as if a-2 were vacated 29 June
    again = dataclasses.replace(
        vacated.event, apartment_id="a-2", occurred_on=date(2021, 6, 29)
    )
    ApartmentStock().process(sql, Recorded(999, again))
    current = stock(sql, date(2021, 6, 30))["vacancy_days"]["current"]
    # 112, 90, 10 and 1 day: the mean; the median of an even count is the
    # mean of the middle two.
    assert current == {"count": 4, "mean": 53.25, "median": 50.0, "max": 112}


def test_a_vacancy_beginning_on_the_day_counts_no_days(sql: Any) -> None:
    """On 1 March a-1 is vacated and a-4 acquired: both vacant 0 days; a-1's
    10 days in January and a-2's 20 are past; a-3 and a-5 come later."""
    vacancy = stock(sql, date(2021, 3, 1))["vacancy_days"]
    assert vacancy["current"] == {"count": 2, "mean": 0, "median": 0, "max": 0}
    assert vacancy["total_to_date"] == 10 + 20


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


def test_a_move_from_another_state_ends_no_vacancy(sql: Any) -> None:
    """Only a vacancy (state available) has days to add when it ends: a
    second move of an occupied apartment adds none."""
    occupied = fact(Apartment.Occupied, "a-1")
    again = dataclasses.replace(occupied.event, occurred_on=date(2021, 5, 1))
    ApartmentStock().process(sql, Recorded(999, again))
    assert stock(sql, date(2021, 6, 30))["by_state"]["occupied"] == 1
    vacancy = stock(sql, date(2021, 6, 30))["vacancy_days"]
    assert vacancy["total_to_date"] == 41 + 20 + 4 + 112 + 90 + 10


def test_the_stock_before_later_facts(sql: Any) -> None:
    """On 20 Feb: a-1 occupied (its 10 days past), a-2 available 19 days;
    what was acquired later is not in it."""
    answer = stock(sql, date(2021, 2, 20))
    assert answer["apartments_total"] == 2
    assert answer["by_state"] == {
        "available": 1,
        "occupied": 1,
        "returned": 0,
        "transferred": 0,
    }
    assert answer["vacancy_days"]["total_to_date"] == 10 + 19
    assert set(answer["by_district"]) == {"Norr"}


def test_landlords_by_number_named_by_their_first_spelling() -> None:
    """One number under two names is one landlord; a name without a number
    is another, even when spelt alike."""
    log = Log()
    for key, name, org_no in (
        ("b-1", "Bo AB", "556999-0012"),
        ("b-2", "Bo Fastigheter AB", "556999-0012"),
        ("b-3", " Bo  AB", None),
    ):
        flat = Apartment.acquire(
            stamp("2021-01-01", "ALN"), key, name, "Norr", 1, 5000, org_no
        )
        log.take(flat, "2021-01-01T00:00:00")
    projection = ApartmentStock()
    with tables(projection) as sql:
        projection.process_batch(sql, log.records)
        landlords = stock(sql, date(2021, 1, 2))["by_landlord"]
    assert {
        name: (g["landlord_org_no"], g["total"]) for name, g in landlords.items()
    } == {
        "Bo AB": ("556999-0012", 2),
        "Bo AB (utan organisationsnummer)": (None, 1),
    }


def test_the_states_in_their_order() -> None:
    assert APARTMENT_STATES == ["available", "occupied", "returned", "transferred"]


def test_a_relayed_acquisition_from_before_the_number_is_grouped_by_name() -> None:
    """A message on boende.events from before ``landlord_org_no`` rebuilds
    an event without the field (``services.kafka.codec``): the Kafka-fed
    read models take it as a landlord without a number."""
    log = Log()
    flat = Apartment.acquire(stamp("2021-01-01", "ALN"), "k-1", "Bo AB", "N", 1, 5000)
    log.take(flat, "2021-01-01T00:00:00")
    (record,) = log.records
    del record.event.__dict__["landlord_org_no"]
    stock_model, register_model = ApartmentStock(), LandlordRegister()
    with tables(stock_model) as sql:
        stock_model.process(sql, record)
        landlords = stock(sql, date(2021, 1, 2))["by_landlord"]
    assert landlords["Bo AB"]["landlord_org_no"] is None
    with tables(register_model) as sql:
        register_model.process(sql, record)
        assert register(sql) == []


def test_an_apartment_registered_late_counts_from_its_own_day() -> None:
    """Rows come in log order; one acquired after the day asked is skipped,
    and the ones after it are still counted (a late registration)."""
    log = Log()
    later = Apartment.acquire(stamp("2021-06-01", "ALN"), "a-2", "AB Bo", "Syd", 2, 1)
    log.take(later, "2021-06-01T00:00:00")
    earlier = Apartment.acquire(stamp("2021-01-01", "ALN"), "a-1", "AB Bo", "Syd", 2, 1)
    log.take(earlier, "2021-06-02T00:00:00")
    projection = ApartmentStock()
    with tables(projection) as sql:
        projection.process_batch(sql, log.records)
        figures = stock(sql, date(2021, 3, 1))
    assert figures["apartments_total"] == 1
    assert figures["by_state"]["available"] == 1


@pytest.mark.parametrize("day", [date(2021, 6, 20), date(2021, 7, 1), date(2022, 1, 1)])
def test_the_latest_states_and_the_states_on_a_day_agree_from_the_last_fact(
    sql: Any, day: date
) -> None:
    """From the last fact's day on, the stock is read from each apartment's
    latest state; the states that held on the day give the same vacancies."""
    assert _vacancy_now(sql, day) == _vacancy_days(sql, day)


def test_landlords_come_in_the_order_of_their_shown_names() -> None:
    """Grouped by organisation number where there is one, shown by name,
    alphabetically (not in the order of the keys they are grouped by)."""
    log = Log()
    for apartment_id, landlord, org_no in [
        ("a-1", "Öbo", "556000-0001"),
        ("a-2", "AB Bo", None),
    ]:
        flat = Apartment.acquire(
            stamp("2021-01-01", "ALN"), apartment_id, landlord, "Syd", 2, 1, org_no
        )
        log.take(flat, "2021-01-01T00:00:00")
    projection = ApartmentStock()
    with tables(projection) as sql:
        projection.process_batch(sql, log.records)
        figures = stock(sql, date(2021, 3, 1))
    assert list(figures["by_landlord"]) == ["AB Bo", "Öbo"]


def test_districts_come_in_swedish_alphabetical_order() -> None:
    """Districts are listed as a Swedish reader looks them up: case does
    not matter ("norr" before "Väst", though "V" comes before "n" in code
    points) and Å, Ä, Ö after z in that order (Ä comes before Å in code
    points)."""
    log = Log()
    for apartment_id, district in [
        ("a-1", "Östra"),
        ("a-2", "Väst"),
        ("a-3", "norr"),
        ("a-4", "Ängen"),
        ("a-5", "Åsen"),
        ("a-6", "Zeta"),
    ]:
        flat = Apartment.acquire(
            stamp("2021-01-01", "ALN"), apartment_id, "AB Bo", district, 2, 1
        )
        log.take(flat, "2021-01-01T00:00:00")
    projection = ApartmentStock()
    with tables(projection) as sql:
        projection.process_batch(sql, log.records)
        figures = stock(sql, date(2021, 3, 1))
    assert list(figures["by_district"]) == [
        "norr",
        "Väst",
        "Zeta",
        "Åsen",
        "Ängen",
        "Östra",
    ]
