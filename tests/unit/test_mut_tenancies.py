"""Tenancies (``projections.tenancies``) on a scripted history: each table's
rows as the handlers write them (recorded times clamped to what a fact
ends), and who lived in a social contract between two days, as known at a
moment. The history is shared with the households and rents tests."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from typing import Any

import pytest

from domain.apartment import Apartment
from domain.case import HousingCase
from infra.views import Sql
from projections.base import END_OF_TIME
from projections.households import households
from projections.tenancies import Tenancies, executed_between, living_between
from tests.unit.test_mut_projections_base import Log, stamp, tables

ORG = "556999-0012"


def history() -> Log:
    """Four households and four apartments through 2024 (a leap year).

    X (a woman born 1990, one adult and two children) lives in A1 from
    11 January and moves out on 15 February; Y (a man born 1960, two
    adults) lives in A2 from 1 February and takes over its lease on 1 June,
    recorded on 10 June; Z (other, born 2007, the filing's household left
    empty: one adult, no children) lives in A3 from 1 February, the day A3
    was acquired; W (unknown, born 1959, two adults and a child) lives in
    A1 from 1 April, recorded on 20 April, and is evicted on 31 May, that
    fact stamped by a clock behind, 10 April. A4 stands vacant from 1 to
    21 March and is returned to its landlord, that fact stamped 28 February.
    """
    log = Log()
    x = HousingCase.file(stamp("2023-12-01"), "X", {}, {"adults": 1, "children": 2},
                         "woman", 1990)  # fmt: skip
    x.grant(stamp("2023-12-10"), "d-x", "socialt_kontrakt", "assessment")
    log.take(x, "2023-12-10T08:00:00")  # 1, 2
    y = HousingCase.file(stamp("2023-12-02"), "Y", {}, {"adults": 2}, "man", 1960)
    y.grant(stamp("2023-12-11"), "d-y", "socialt_kontrakt", "assessment")
    log.take(y, "2023-12-11T08:00:00")  # 3, 4
    z = HousingCase.file(stamp("2023-12-03"), "Z", {}, {}, "other", 2007)
    z.grant(stamp("2023-12-12"), "d-z", "socialt_kontrakt", "assessment")
    log.take(z, "2023-12-12T08:00:00")  # 5, 6
    w = HousingCase.file(stamp("2023-12-04"), "W", {}, {"adults": 2, "children": 1},
                         "unknown", 1959)  # fmt: skip
    w.grant(stamp("2023-12-13"), "d-w", "socialt_kontrakt", "assessment")
    log.take(w, "2023-12-13T08:00:00")  # 7, 8
    a1 = Apartment.acquire(stamp("2024-01-01", "ALN"), "A1", "Bo AB", "Norrby", 2,
                           6000, ORG)  # fmt: skip
    log.take(a1, "2024-01-01T08:00:00")  # 9
    x.execute(stamp("2024-01-11"), a1, 6200, date(2024, 1, 11))
    log.take(x, "2024-01-11T08:00:00")  # 10
    log.take(a1, "2024-01-11T08:00:00")  # 11
    a2 = Apartment.acquire(stamp("2024-01-16", "ALN"), "A2", " hem  HB",
                           "söderberga", 3, 9300)  # fmt: skip
    log.take(a2, "2024-01-16T08:00:00")  # 12
    a3 = Apartment.acquire(stamp("2024-02-01", "ALN"), "A3", "Bo AB ", "Norrby ", 1,
                           4500, ORG)  # fmt: skip
    log.take(a3, "2024-02-01T08:00:00")  # 13
    y.execute(stamp("2024-02-01"), a2, 9003, date(2024, 2, 1))
    log.take(y, "2024-02-01T09:00:00")  # 14
    log.take(a2, "2024-02-01T09:00:00")  # 15
    z.execute(stamp("2024-02-01"), a3, 4000, date(2024, 2, 1))
    log.take(z, "2024-02-01T10:00:00")  # 16
    log.take(a3, "2024-02-01T10:00:00")  # 17
    x.terminate(stamp("2024-02-15"), a1, "moved_out")
    log.take(x, "2024-02-15T08:00:00")  # 18
    log.take(a1, "2024-02-15T08:00:00")  # 19
    a4 = Apartment.acquire(stamp("2024-03-01", "ALN"), "A4", "hem HB",
                           "söderberga  ", 2, 6101)  # fmt: skip
    log.take(a4, "2024-03-01T08:00:00")  # 20
    a4.return_to_landlord(stamp("2024-03-21", "ALN"), "worn")
    log.take(a4, "2024-02-28T08:00:00")  # 21: a clock behind
    w.execute(stamp("2024-04-01"), a1, 5800, date(2024, 4, 1))
    log.take(w, "2024-04-20T08:00:00")  # 22
    log.take(a1, "2024-04-20T08:00:00")  # 23
    w.terminate(stamp("2024-05-31"), a1, "eviction")
    log.take(w, "2024-04-10T08:00:00")  # 24: a clock behind
    log.take(a1, "2024-05-31T08:00:00")  # 25
    y.convert_to_first_hand(stamp("2024-06-01"), a2, date(2024, 5, 20))
    log.take(y, "2024-06-10T08:00:00")  # 26
    log.take(a2, "2024-06-10T08:00:00")  # 27
    return log


@pytest.fixture
def sql() -> Iterator[Sql]:
    projection = Tenancies()
    with tables(projection) as sql:
        projection.process_batch(sql, history().records)
        yield sql


def at(moment: str) -> str:
    """A recorded time as the read model stores it."""
    return f"{moment}.000000Z"


def test_the_households_as_filed(sql: Sql) -> None:
    rows = sql.all("SELECT * FROM tenancy_households ORDER BY case_id")
    assert rows == [
        {"case_id": "W", "gender": "unknown", "birth_year": 1959, "adults": 2,
         "children": 1},
        {"case_id": "X", "gender": "woman", "birth_year": 1990, "adults": 1,
         "children": 2},
        {"case_id": "Y", "gender": "man", "birth_year": 1960, "adults": 2,
         "children": 0},
        {"case_id": "Z", "gender": "other", "birth_year": 2007, "adults": 1,
         "children": 0},
    ]  # fmt: skip


def test_the_apartments_their_entry_and_exit(sql: Sql) -> None:
    rows = sql.all("SELECT * FROM tenancy_apartments ORDER BY apartment_id")
    assert rows == [
        {"apartment_id": "A1", "landlord": "Bo AB", "district": "Norrby",
         "rooms": 2, "landlord_rent_sek": 6000, "acquired_on": "2024-01-01",
         "left_on": None, "left_as": None, "landlord_org_no": ORG,
         "acquired_recorded_at": at("2024-01-01T08:00:00"),
         "left_recorded_at": None},
        {"apartment_id": "A2", "landlord": " hem  HB", "district": "söderberga",
         "rooms": 3, "landlord_rent_sek": 9300, "acquired_on": "2024-01-16",
         "left_on": "2024-06-01", "left_as": "transferred", "landlord_org_no": None,
         "acquired_recorded_at": at("2024-01-16T08:00:00"),
         "left_recorded_at": at("2024-06-10T08:00:00")},
        {"apartment_id": "A3", "landlord": "Bo AB ", "district": "Norrby ",
         "rooms": 1, "landlord_rent_sek": 4500, "acquired_on": "2024-02-01",
         "left_on": None, "left_as": None, "landlord_org_no": ORG,
         "acquired_recorded_at": at("2024-02-01T08:00:00"),
         "left_recorded_at": None},
        # Returned by a clock behind: known no earlier than its acquisition.
        {"apartment_id": "A4", "landlord": "hem HB", "district": "söderberga  ",
         "rooms": 2, "landlord_rent_sek": 6101, "acquired_on": "2024-03-01",
         "left_on": "2024-03-21", "left_as": "returned", "landlord_org_no": None,
         "acquired_recorded_at": at("2024-03-01T08:00:00"),
         "left_recorded_at": at("2024-03-01T08:00:00")},
    ]  # fmt: skip


def test_every_vacancy_a_row_of_its_own(sql: Sql) -> None:
    rows = sql.all(
        "SELECT * FROM tenancy_vacancies ORDER BY apartment_id, started_position"
    )
    assert [tuple(row.values()) for row in rows] == [
        ("A1", 9, "2024-01-01", at("2024-01-01T08:00:00"),
         "2024-01-11", at("2024-01-11T08:00:00")),
        ("A1", 19, "2024-02-15", at("2024-02-15T08:00:00"),
         "2024-04-01", at("2024-04-20T08:00:00")),
        ("A1", 25, "2024-05-31", at("2024-05-31T08:00:00"), None, None),
        ("A2", 12, "2024-01-16", at("2024-01-16T08:00:00"),
         "2024-02-01", at("2024-02-01T09:00:00")),
        # Acquired and occupied on one day: a vacancy of no days.
        ("A3", 13, "2024-02-01", at("2024-02-01T08:00:00"),
         "2024-02-01", at("2024-02-01T10:00:00")),
        # Ended by a clock behind: known no earlier than it began.
        ("A4", 20, "2024-03-01", at("2024-03-01T08:00:00"),
         "2024-03-21", at("2024-03-01T08:00:00")),
    ]  # fmt: skip
    assert list(rows[0]) == [
        "apartment_id",
        "started_position",
        "started_on",
        "started_recorded_at",
        "ended_on",
        "ended_recorded_at",
    ]


def test_a_vacancy_that_starts_the_day_the_last_one_ended_is_its_own_row() -> None:
    """Occupied and vacated on one day (moved in and out on the 5th): the
    vacancy that ended that day and the one that starts it are two rows."""
    log = Log()
    flat = Apartment.acquire(stamp("2024-01-01", "ALN"), "A9", "Bo AB", "N", 1, 1)
    case = HousingCase.file(stamp("2024-01-01"), "C9", {}, {}, "man", 1980)
    case.grant(stamp("2024-01-01"), "d-9", "socialt_kontrakt", "assessment")
    case.execute(stamp("2024-01-05"), flat, 1, date(2024, 1, 5))
    case.terminate(stamp("2024-01-05"), flat, "other")
    for aggregate in (flat, case):
        log.take(aggregate, "2024-01-06T00:00:00")
    projection = Tenancies()
    with tables(projection) as sql:
        for record in log.records:
            projection.process(sql, record)
        rows = sql.all("SELECT started_on, ended_on FROM tenancy_vacancies")
        tenancy = sql.all("SELECT ended_on, ended_as, end_reason FROM tenancies")
    assert sorted((r["started_on"], r["ended_on"] or "") for r in rows) == [
        ("2024-01-01", "2024-01-05"),
        ("2024-01-05", ""),
    ]
    assert tenancy == [
        {"ended_on": "2024-01-05", "ended_as": "terminated", "end_reason": "other"}
    ]


def test_a_contract_in_an_apartment_the_model_never_saw() -> None:
    """A log whose apartment's acquisition the model was never given (C8
    moves into A8 on 5 January, out on 10 February): the household lives
    in a contract (the households' snapshot counts it both ways), but no
    contract is lived in an apartment of the stock (the rents' snapshot,
    whose every column is the apartment's, has no row for it)."""
    log = Log()
    flat = Apartment.acquire(stamp("2024-01-01", "ALN"), "A8", "Bo AB", "N", 1, 1)
    flat.collect_events()  # never recorded in this log
    case = HousingCase.file(stamp("2024-01-01"), "C8", {}, {}, "man", 1980)
    case.grant(stamp("2024-01-01"), "d-8", "socialt_kontrakt", "assessment")
    case.execute(stamp("2024-01-05"), flat, 1, date(2024, 1, 5))
    log.take(case, "2024-01-05T00:00:00")
    case.terminate(stamp("2024-02-10"), flat, "other")
    log.take(case, "2024-02-10T00:00:00")
    projection = Tenancies()
    with tables(projection) as sql:
        for record in log.records:
            projection.process(sql, record)
        lived = sql.all("SELECT * FROM tenancy_lived_months")
        living = [
            households(sql, day, day, END_OF_TIME)["households"]
            for day in (date(2024, 1, 4), date(2024, 1, 5), date(2024, 2, 9),
                        date(2024, 2, 10))
        ]  # fmt: skip
    assert lived == []
    assert living == [0, 1, 1, 0]


def tenancy(case_id: str) -> dict[str, Any]:
    """Each tenancy's row as the queries answer it, everything known."""
    return {
        "X": {"case_id": "X", "apartment_id": "A1", "executed_on": "2024-01-11",
              "executed_recorded_at": at("2024-01-11T08:00:00"),
              "household_rent_sek": 6200, "ended_on": "2024-02-15",
              "ended_recorded_at": at("2024-02-15T08:00:00"),
              "ended_as": "terminated", "end_reason": "moved_out",
              "gender": "woman", "birth_year": 1990, "adults": 1, "children": 2,
              "landlord": "Bo AB", "landlord_org_no": ORG, "district": "Norrby",
              "rooms": 2, "landlord_rent_sek": 6000},
        "Y": {"case_id": "Y", "apartment_id": "A2", "executed_on": "2024-02-01",
              "executed_recorded_at": at("2024-02-01T09:00:00"),
              "household_rent_sek": 9003, "ended_on": "2024-06-01",
              "ended_recorded_at": at("2024-06-10T08:00:00"),
              "ended_as": "converted", "end_reason": "",
              "gender": "man", "birth_year": 1960, "adults": 2, "children": 0,
              "landlord": " hem  HB", "landlord_org_no": None,
              "district": "söderberga", "rooms": 3, "landlord_rent_sek": 9300},
        "Z": {"case_id": "Z", "apartment_id": "A3", "executed_on": "2024-02-01",
              "executed_recorded_at": at("2024-02-01T10:00:00"),
              "household_rent_sek": 4000, "ended_on": None,
              "ended_recorded_at": None, "ended_as": None, "end_reason": None,
              "gender": "other", "birth_year": 2007, "adults": 1, "children": 0,
              "landlord": "Bo AB ", "landlord_org_no": ORG, "district": "Norrby ",
              "rooms": 1, "landlord_rent_sek": 4500},
        # The eviction was stamped 10 April: known with the execution, 20 April.
        "W": {"case_id": "W", "apartment_id": "A1", "executed_on": "2024-04-01",
              "executed_recorded_at": at("2024-04-20T08:00:00"),
              "household_rent_sek": 5800, "ended_on": "2024-05-31",
              "ended_recorded_at": at("2024-04-20T08:00:00"),
              "ended_as": "terminated", "end_reason": "eviction",
              "gender": "unknown", "birth_year": 1959, "adults": 2, "children": 1,
              "landlord": "Bo AB", "landlord_org_no": ORG, "district": "Norrby",
              "rooms": 2, "landlord_rent_sek": 6000},
    }[case_id]  # fmt: skip


def end_unknown(case_id: str) -> dict[str, Any]:
    return {
        **tenancy(case_id),
        "ended_on": None,
        "ended_recorded_at": None,
        "ended_as": None,
        "end_reason": None,
    }


def living(sql: Sql, first: str, last: str, known_at: str = END_OF_TIME) -> Any:
    rows = living_between(sql, first, last, known_at)
    return sorted(rows, key=lambda row: row["case_id"])


def test_the_tenancy_rows_as_the_queries_answer_them(sql: Sql) -> None:
    rows = executed_between(sql, "2024-01-01", "2024-12-31")
    assert rows == [tenancy("X"), tenancy("Y"), tenancy("Z"), tenancy("W")]


@pytest.mark.parametrize(
    ("first", "last", "who"),
    [
        ("2024-01-10", "2024-01-10", []),  # before anyone moved in
        ("2024-01-11", "2024-01-11", ["X"]),  # the day of moving in
        ("2024-01-01", "2024-01-11", ["X"]),
        ("2024-02-14", "2024-02-14", ["X", "Y", "Z"]),
        ("2024-02-15", "2024-02-15", ["Y", "Z"]),  # X moved out that day
        ("2024-02-15", "2024-04-01", ["W", "Y", "Z"]),
        ("2024-05-31", "2024-06-30", ["Y", "Z"]),  # W evicted on the 31st
        ("2024-05-30", "2024-05-30", ["W", "Y", "Z"]),
        ("2024-06-01", "2024-12-31", ["Z"]),  # Y's lease his own from the 1st
    ],
)
def test_living_between_two_days_inclusive(
    sql: Sql, first: str, last: str, who: list[str]
) -> None:
    assert living(sql, first, last) == [tenancy(case_id) for case_id in who]


def test_living_as_known_at_a_moment(sql: Sql) -> None:
    """What was recorded later is left out: an execution entirely, an end
    as if the contract still ran."""
    before_w = at("2024-04-20T07:59:59")
    assert living(sql, "2024-04-01", "2024-12-31", before_w) == [
        end_unknown("Y"),
        tenancy("Z"),
    ]
    # W's execution and eviction known at the same moment, to the microsecond.
    assert living(sql, "2024-04-01", "2024-04-30", at("2024-04-20T08:00:00")) == [
        tenancy("W"),
        end_unknown("Y"),
        tenancy("Z"),
    ]
    # Y's conversion on 1 June was recorded on 10 June.
    before_y = at("2024-06-10T07:59:59")
    assert living(sql, "2024-06-01", "2024-06-30", before_y) == [
        end_unknown("Y"),
        tenancy("Z"),
    ]
    assert living(sql, "2024-06-01", "2024-06-30", at("2024-06-10T08:00:00")) == [
        tenancy("Z")
    ]


def test_executed_between_two_days_inclusive_in_order(sql: Sql) -> None:
    assert executed_between(sql, "2024-02-01", "2024-02-01") == [
        tenancy("Y"),
        tenancy("Z"),
    ]
    assert executed_between(sql, "2024-01-12", "2024-03-31") == [
        tenancy("Y"),
        tenancy("Z"),
    ]
    assert executed_between(sql, "2024-01-11", "2024-04-01") == [
        tenancy("X"),
        tenancy("Y"),
        tenancy("Z"),
        tenancy("W"),
    ]


def test_executed_between_as_known_at_a_moment(sql: Sql) -> None:
    known_at = at("2024-02-01T09:00:00")  # Y's execution, not yet Z's
    assert executed_between(sql, "2024-01-01", "2024-12-31", known_at) == [
        end_unknown("X"),
        end_unknown("Y"),
    ]
    known_at = at("2024-02-15T08:00:00")  # X's moving out, to the microsecond
    assert executed_between(sql, "2024-01-01", "2024-01-31", known_at) == [tenancy("X")]
