"""Decisions due soon (``projections.due_soon``) on a scripted history in
the unexecuted read model, worked out by hand: on 20 February 2024 within
9 days (to the 29th, a leap day), the deadline's first and last days
inclusive, executed or ended on the day, the nearest deadline first, the
latest delay reason dated by the day, as known at a moment."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import date
from typing import Any

import pytest

from domain.apartment import Apartment
from domain.case import HousingCase
from infra.views import Sql
from projections.due_soon import due_soon
from projections.unexecuted import Unexecuted
from tests.unit.test_mut_projections_base import Log, stamp, tables
from tests.unit.test_mut_tenancies import at

DAY = date(2024, 2, 20)

#: case: (decided on, gender, intervention, what followed: (fact, day,
#: recorded on if later than that day) ...)
CASES: dict[str, tuple[Any, ...]] = {
    "c-9": ("2023-11-29", "woman", "socialt_kontrakt",
            ("no_apartment_available", "2024-01-10"),
            ("client_unreachable", "2024-02-21")),  # after the day
    "c-1": ("2023-11-30", "man", "boendesocial_insats"),
    "c-4": ("2023-11-25", "man", "socialt_kontrakt", ("other", "2024-02-20")),
    "c-3": ("2023-11-25", "woman", "socialt_kontrakt"),
    "c-5": ("2023-11-20", "other", "socialt_kontrakt"),
    "c-6": ("2023-11-19", "man", "socialt_kontrakt"),  # past its deadline
    "c-7": ("2023-12-01", "man", "socialt_kontrakt"),  # deadline 1 March
    "c-8": ("2023-11-21", "man", "socialt_kontrakt", ("executed", "2024-02-20")),
    "c-2": ("2023-11-22", "woman", "socialt_kontrakt", ("executed", "2024-02-21")),
    "c-10": ("2023-11-23", "man", "socialt_kontrakt", ("cancelled", "2024-02-10")),
    "c-11": ("2023-11-24", "woman", "socialt_kontrakt",
             ("cancelled", "2024-02-15", "2024-02-25")),
}  # fmt: skip


def history() -> Log:
    log = Log()
    for case_id, (decided, gender, intervention, *after) in CASES.items():
        case = HousingCase.file(stamp("2023-11-01"), case_id, {}, {}, gender, 1980)
        case.grant(stamp(decided), f"d-{case_id}", intervention, "assessment")
        log.take(case, f"{decided}T08:00:00")
        for what, day, *recorded in after:
            if what == "executed":
                flat = Apartment.acquire(stamp("2023-11-01", "ALN"), f"a-{case_id}",
                                         "Bo AB", "Norrby", 2, 5000)  # fmt: skip
                log.take(flat, "2023-11-01T08:00:00")
                case.execute(stamp(day), flat, 5000, date.fromisoformat(day))
            elif what == "cancelled":
                case.cancel_grant(stamp(day), "own_housing_found")
            else:
                case.record_delay_reason(stamp(day), what, None)
            log.take(case, f"{(recorded or [day])[0]}T08:00:00")
    return log


@pytest.fixture(scope="module")
def sql() -> Iterator[Sql]:
    projection = Unexecuted()
    with tables(projection) as sql:
        projection.process_batch(sql, history().records)
        yield sql


def reference(case_id: str) -> str:
    return f"ref:{case_id}"


def due(
    case_id: str,
    decided_on: str,
    deadline: str,
    days_left: int,
    days_waiting: int,
    reason: str | None = None,
) -> dict[str, Any]:
    _, gender, intervention, *_ = CASES[case_id]
    return {
        "reference": f"ref:{case_id}",
        "decided_on": decided_on,
        "deadline": deadline,
        "days_left": days_left,
        "days_waiting": days_waiting,
        "intervention": intervention,
        "gender": gender,
        "delay_reason": reason,
    }


C5 = due("c-5", "2023-11-20", "2024-02-20", 0, 92)  # the deadline today
C2 = due("c-2", "2023-11-22", "2024-02-22", 2, 90)  # executed tomorrow
C3 = due("c-3", "2023-11-25", "2024-02-25", 5, 87)
C4 = due("c-4", "2023-11-25", "2024-02-25", 5, 87, "other")  # dated today
C9 = due("c-9", "2023-11-29", "2024-02-29", 9, 83, "no_apartment_available")
C1 = due("c-1", "2023-11-30", "2024-02-29", 9, 82)  # 30 Nov: the month's end


def test_due_within_nine_days(sql: Sql) -> None:
    """c-6's deadline was yesterday (the unexecuted list's), c-7's is after
    the 29th; c-8 was executed today and c-10 cancelled before it. The
    nearest deadline first; at one deadline the earlier decision (c-9 on
    29 November before c-1 on the 30th), then the case."""
    assert due_soon(sql, DAY, 9, reference) == [C5, C2, C3, C4, C9, C1]


def test_the_last_day_of_the_window_is_inclusive(sql: Sql) -> None:
    assert due_soon(sql, DAY, 8, reference) == [C5, C2, C3, C4]
    assert due_soon(sql, DAY, 5, reference) == [C5, C2, C3, C4]
    assert due_soon(sql, DAY, 4, reference) == [C5, C2]
    assert due_soon(sql, DAY, 0, reference) == [C5]


def test_the_day_after(sql: Sql) -> None:
    """On the 21st c-5 is past its deadline and c-2 executed that day."""
    assert due_soon(sql, date(2024, 2, 21), 8, reference) == [
        {**C3, "days_left": 4, "days_waiting": 88},
        {**C4, "days_left": 4, "days_waiting": 88},
        {
            **C9,
            "days_left": 8,
            "days_waiting": 84,
            "delay_reason": "client_unreachable",
        },  # dated the 21st
        {**C1, "days_left": 8, "days_waiting": 83},
    ]


def test_as_known_at_a_moment(sql: Sql) -> None:
    """Before 08:00 on the 20th c-8's execution and c-4's delay reason
    were not recorded; c-11's cancellation on the 15th was recorded on the
    25th."""
    known_at = at("2024-02-20T07:59:59")
    assert due_soon(sql, DAY, 9, reference, known_at) == [
        C5,
        due("c-8", "2023-11-21", "2024-02-21", 1, 91),
        C2,
        due("c-11", "2023-11-24", "2024-02-24", 4, 88),
        C3,
        {**C4, "delay_reason": None},
        C9,
        C1,
    ]
    known_at = at("2024-02-25T08:00:00")
    assert due_soon(sql, DAY, 9, reference, known_at) == [C5, C2, C3, C4, C9, C1]


class CountingSql(Sql):
    """The read model's ``Sql``, noting how many cases each read of the
    delay reasons asked for."""

    def __init__(self, sql: Sql) -> None:
        super().__init__(sql.cursor, sql.postgres)
        self.cases_asked: list[int] = []

    def all(self, statement: str, params: Sequence[Any] = ()) -> list[dict[str, Any]]:
        if "FROM unexecuted_delay_reasons" in statement:
            self.cases_asked.append(len(params) - 2)  # the day and known_at
        return super().all(statement, params)


def test_delay_reasons_are_read_500_cases_at_a_time() -> None:
    """1,001 decisions due on one day, each with its own delay reason (by
    its number, so a reason found under the wrong case shows): three reads
    of 500, 500 and 1 cases, and every decision its own reason."""
    why = ("no_apartment_available", "offer_declined", "client_unreachable")
    log = Log()
    for n in range(1001):
        case = HousingCase.file(stamp("2023-11-01"), f"k-{n:04}", {}, {}, "man", 1980)
        case.grant(stamp("2023-11-25"), f"d-{n}", "socialt_kontrakt", "assessment")
        case.record_delay_reason(stamp("2024-01-10"), why[n % 3], None)
        log.take(case, "2024-01-10T08:00:00")
    projection = Unexecuted()
    with tables(projection) as plain:
        projection.process_batch(plain, log.records)
        sql = CountingSql(plain)
        answer = due_soon(sql, DAY, 9, reference)
    assert sql.cases_asked == [500, 500, 1]
    assert [(d["reference"], d["delay_reason"]) for d in answer] == [
        (f"ref:k-{n:04}", why[n % 3]) for n in range(1001)
    ]
