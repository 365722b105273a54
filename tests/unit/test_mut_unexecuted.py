"""The three-month rule's read model and its queries (``projections.unexecuted``)
on a scripted history: who is unexecuted past three months on a given day,
and the quarterly report's sections, statuses and waiting days, as the module
docstring promises them, worked out by hand (deadlines, first late days and
days waited are written next to each case)."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import date
from types import SimpleNamespace
from typing import Any

import pytest

from domain.apartment import Apartment
from domain.case import HousingCase
from infra.views import Sql
from projections.unexecuted import (
    Grant,
    Unexecuted,
    _grants,
    _iso,
    _known_day,
    quarter_bounds,
    quarterly_report,
    unexecuted,
)
from tests.unit.test_mut_projections_base import Log, stamp, tables

D = date.fromisoformat
SK, BS = "socialt_kontrakt", "boendesocial_insats"


def reference(case_id: str) -> str:
    return "ref-" + case_id


def flat(n: int) -> Apartment:
    return Apartment.acquire(stamp("2020-12-01", "ALN"), f"a-{n}", "AB Bo", "N", 2, 1)


def history() -> Log:
    """Nine cases around the third quarter of 2021 (1 July to 30 September).
    Each line says the deadline (decision day plus three calendar months) and
    the first day past it."""
    log = Log()
    # c-1, woman: decided 31 March, deadline 30 June, first late day 1 July.
    # Never executed; three delay reasons, one of them a declined offer.
    c1 = HousingCase.file(stamp("2021-03-01"), "c-1", {}, {}, "woman", 1980)
    c1.grant(stamp("2021-03-31"), "d-1", SK, "assessment")
    log.take(c1, "2021-03-31T10:00:00")  # 1, 2
    c1.record_delay_reason(stamp("2021-05-10"), "no_apartment_available", None)
    log.take(c1, "2021-05-10T10:00:00")  # 3
    c1.record_delay_reason(
        stamp("2021-08-02"), "offer_declined", None, offered_on=D("2021-07-20")
    )
    log.take(c1, "2021-08-02T10:00:00")  # 4
    # c-2, man: decided 31 January, deadline 30 April, late from 1 May.
    # Executed 15 August, but recorded only on 5 October.
    c2 = HousingCase.file(stamp("2021-01-04"), "c-2", {}, {}, "man", 1970)
    c2.grant(stamp("2021-01-31"), "d-2", BS, "assessment")
    log.take(c2, "2021-01-31T10:00:00")  # 5, 6
    # c-3, other: decided 15 February, deadline 15 May, late from 16 May.
    # Cancelled 1 October.
    c3 = HousingCase.file(stamp("2021-02-01"), "c-3", {}, {}, "other", 1990)
    c3.grant(stamp("2021-02-15"), "d-3", SK, "assessment")
    log.take(c3, "2021-02-15T10:00:00")  # 7, 8
    # c-4, man: decided 20 April, executed on its deadline, 20 July: in time.
    c4 = HousingCase.file(stamp("2021-04-01"), "c-4", {}, {}, "man", 1960)
    c4.grant(stamp("2021-04-20"), "d-4", SK, "assessment")
    log.take(c4, "2021-04-20T10:00:00")  # 9, 10
    # c-5, woman: decided 10 May, deadline 10 August, executed a day late.
    c5 = HousingCase.file(stamp("2021-05-01"), "c-5", {}, {}, "woman", 1985)
    c5.grant(stamp("2021-05-10"), "d-5", SK, "assessment")
    log.take(c5, "2021-05-10T10:00:00")  # 11, 12
    # c-6, unknown: decided 30 June, deadline 30 September: late from 1 October.
    c6 = HousingCase.file(stamp("2021-06-01"), "c-6", {}, {}, "unknown", 1975)
    c6.grant(stamp("2021-06-30"), "d-6", BS, "assessment")
    log.take(c6, "2021-06-30T10:00:00")  # 13, 14
    # c-7: filed, never decided.
    c7 = HousingCase.file(stamp("2021-03-02"), "c-7", {}, {}, "woman", 1999)
    log.take(c7, "2021-03-02T10:00:00")  # 15
    # c-8, man: decided 15 March (deadline 15 June), cancelled 1 June: in time.
    c8 = HousingCase.file(stamp("2021-03-01"), "c-8", {}, {}, "man", 1950)
    c8.grant(stamp("2021-03-15"), "d-8", SK, "assessment")
    c8.cancel_grant(stamp("2021-06-01"), "moved_away")
    log.take(c8, "2021-06-01T10:00:00")  # 16, 17, 18
    # c-9, woman: rejected 20 January, granted on appeal 1 April (its own
    # decision day: deadline 1 July), executed 2 July, a day late.
    c9 = HousingCase.file(stamp("2021-01-10"), "c-9", {}, {}, "woman", 1995)
    c9.reject(stamp("2021-01-20"), "d-9", "has housing")
    c9.grant(stamp("2021-04-01"), "d-9b", SK, "appeal")
    log.take(c9, "2021-04-01T10:00:00")  # 19, 20, 21
    a9, a5, a4, a2 = flat(9), flat(5), flat(4), flat(2)
    c9.execute(stamp("2021-07-02"), a9, 1, D("2021-07-02"))
    log.take(c9, "2021-07-02T10:00:00")  # 22
    c4.execute(stamp("2021-07-20"), a4, 1, D("2021-07-20"))
    log.take(c4, "2021-07-20T10:00:00")  # 23
    # c-5's reason, dated its decision day, recorded only with its execution.
    c5.record_delay_reason(stamp("2021-05-10"), "client_unreachable", None)
    c5.execute(stamp("2021-08-11"), a5, 1, D("2021-08-11"))
    log.take(c5, "2021-08-11T10:00:00")  # 24, 25
    c3.cancel_grant(stamp("2021-10-01"), "own_housing_found")
    log.take(c3, "2021-10-01T10:00:00")  # 26
    c1.record_delay_reason(stamp("2021-10-04"), "client_unreachable", None)
    log.take(c1, "2021-10-04T10:00:00")  # 27
    c2.execute(stamp("2021-08-15"), a2, 1, D("2021-08-15"))
    log.take(c2, "2021-10-05T08:00:00")  # 28
    for apartment in (a9, a5, a4, a2):  # not the read model's: skipped
        log.take(apartment, "2021-10-06T00:00:00")
    return log


@pytest.fixture(params=["one batch", "fact by fact"])
def sql(request: pytest.FixtureRequest) -> Iterator[Sql]:
    projection = Unexecuted()
    with tables(projection) as sql:
        records = history().records
        if request.param == "one batch":
            projection.process_batch(sql, records)
        else:
            for record in records:
                projection.process(sql, record)
        yield sql


def row(
    section: str,
    case: str,
    decided: str,
    deadline: str,
    intervention: str,
    gender: str,
    status: str,
    days: int,
    reason: str | None = None,
    resolved: str | None = None,
    end_reason: str | None = None,
) -> dict[str, Any]:
    return {
        "section": section,
        "reference": reference(case),
        "decided_on": decided,
        "deadline": deadline,
        "intervention": intervention,
        "gender": gender,
        "delay_reason": reason,
        "status_at_quarter_end": status,
        "executed_or_ended_on": resolved,
        "end_reason": end_reason,
        "days_waiting": days,
    }


# -- the read model's rows ----------------------------------------------------


def test_the_rows_of_the_read_model(sql: Sql) -> None:
    cases = {r["case_id"]: r for r in sql.all("SELECT * FROM unexecuted_cases")}
    assert sorted(cases) == [f"c-{n}" for n in range(1, 10)]
    assert cases["c-2"] == {
        "case_id": "c-2",
        "gender": "man",
        "decision_id": "d-2",
        "decided_on": "2021-01-31",
        "intervention": BS,
        "decided_recorded_at": "2021-01-31T10:00:00.000000Z",
        "executed_on": "2021-08-15",
        "executed_recorded_at": "2021-10-05T08:00:00.000000Z",
        "ended_on": None,
        "end_kind": None,
        "end_reason": None,
        "ended_recorded_at": None,
        "resolved_month": "2021-08",
    }
    assert cases["c-8"]["ended_on"] == "2021-06-01"
    assert cases["c-8"]["resolved_month"] == "2021-06"
    assert (cases["c-8"]["end_kind"], cases["c-8"]["end_reason"]) == (
        "cancelled",
        "moved_away",
    )
    assert cases["c-8"]["ended_recorded_at"] == "2021-06-01T10:00:00.000000Z"
    assert (cases["c-9"]["decision_id"], cases["c-9"]["decided_on"]) == (
        "d-9b",
        "2021-04-01",
    )
    assert cases["c-7"]["decided_on"] is None
    reasons = sql.all("SELECT * FROM unexecuted_delay_reasons ORDER BY position")
    assert reasons == [
        {"position": 3, "case_id": "c-1", "reason": "no_apartment_available",
         "occurred_on": "2021-05-10", "recorded_at": "2021-05-10T10:00:00.000000Z",
         "offered_on": None, "version": 3},
        {"position": 4, "case_id": "c-1", "reason": "offer_declined",
         "occurred_on": "2021-08-02", "recorded_at": "2021-08-02T10:00:00.000000Z",
         "offered_on": "2021-07-20", "version": 4},
        {"position": 24, "case_id": "c-5", "reason": "client_unreachable",
         "occurred_on": "2021-05-10", "recorded_at": "2021-08-11T10:00:00.000000Z",
         "offered_on": None, "version": 3},
        {"position": 27, "case_id": "c-1", "reason": "client_unreachable",
         "occurred_on": "2021-10-04", "recorded_at": "2021-10-04T10:00:00.000000Z",
         "offered_on": None, "version": 5},
    ]  # fmt: skip


def test_an_offer_day_from_a_message_older_than_the_field() -> None:
    assert _iso(SimpleNamespace()) is None
    assert _iso(SimpleNamespace(offered_on=None)) is None
    assert _iso(SimpleNamespace(offered_on=D("2021-07-20"))) == "2021-07-20"


# -- unexecuted on a day ------------------------------------------------------


def waiting(case: str, decided: str, deadline: str, days: int, **more: Any) -> Any:
    figures = {"c-1": (SK, "woman"), "c-2": (BS, "man"), "c-3": (SK, "other")}
    intervention, gender = figures[case]
    return {
        "reference": reference(case),
        "decided_on": decided,
        "deadline": deadline,
        "days_waiting": days,
        "intervention": intervention,
        "gender": gender,
        "delay_reason": more.get("reason"),
    }


C1 = ("c-1", "2021-03-31", "2021-06-30")
C2 = ("c-2", "2021-01-31", "2021-04-30")
C3 = ("c-3", "2021-02-15", "2021-05-15")


def test_on_a_deadline_day_the_decision_is_not_yet_late(sql: Sql) -> None:
    """30 June is c-1's deadline; c-8 was cancelled in time, c-6 decided
    that day."""
    assert unexecuted(sql, D("2021-06-30"), reference) == [
        waiting(*C2, 150),
        waiting(*C3, 135),
    ]


def test_the_day_after_the_deadline_it_is_oldest_first(sql: Sql) -> None:
    assert unexecuted(sql, D("2021-07-01"), reference) == [
        waiting(*C2, 151),
        waiting(*C3, 136),
        waiting(*C1, 92, reason="no_apartment_available"),
    ]


def test_executed_on_a_day_ends_it_that_day(sql: Sql) -> None:
    """c-2 was executed on 15 August: still waiting on the 14th, not on the
    15th. The declined offer of 2 August is c-1's reason from that day."""
    assert unexecuted(sql, D("2021-08-14"), reference) == [
        waiting(*C2, 195),
        waiting(*C3, 180),
        waiting(*C1, 136, reason="offer_declined"),
    ]
    assert unexecuted(sql, D("2021-08-15"), reference) == [
        waiting(*C3, 181),
        waiting(*C1, 137, reason="offer_declined"),
    ]
    assert unexecuted(sql, D("2021-08-01"), reference)[2] == waiting(
        *C1, 123, reason="no_apartment_available"
    )


def test_as_known_before_a_late_recording(sql: Sql) -> None:
    """c-2's execution on 15 August was recorded on 5 October: as known on
    1 October it still waits, and c-1's declined offer of 2 August is not
    known on 1 August at noon."""
    known = "2021-10-01T00:00:00.000000Z"
    assert unexecuted(sql, D("2021-08-20"), reference, known) == [
        waiting(*C2, 201),
        waiting(*C3, 186),
        waiting(*C1, 142, reason="offer_declined"),
    ]
    early = "2021-08-01T12:00:00.000000Z"
    assert unexecuted(sql, D("2021-08-20"), reference, early)[2] == waiting(
        *C1, 142, reason="no_apartment_available"
    )
    # At exactly the recorded time, the fact is known.
    exact = "2021-10-05T08:00:00.000000Z"
    got = unexecuted(sql, D("2021-08-20"), reference, exact)
    assert [r["reference"] for r in got] == ["ref-c-3", "ref-c-1"]
    # Before the grant was recorded, there is no decision.
    before = "2021-02-15T09:59:59.999999Z"
    assert unexecuted(sql, D("2021-07-01"), reference, before) == [waiting(*C2, 151)]


def test_after_the_cancelling_only_c_1_and_c_6_wait(sql: Sql) -> None:
    got = unexecuted(sql, D("2021-10-04"), reference)
    assert [(r["reference"], r["days_waiting"], r["delay_reason"]) for r in got] == [
        ("ref-c-1", 187, "client_unreachable"),
        ("ref-c-6", 96, None),
    ]
    assert got[1]["deadline"] == "2021-09-30"
    assert (got[1]["intervention"], got[1]["gender"]) == (BS, "unknown")


# -- the quarterly report -----------------------------------------------------


def test_the_third_quarter(sql: Sql) -> None:
    assert quarterly_report(sql, "2021Q3", reference) == [
        row("new", *C1, SK, "woman", "unexecuted", 183, "offer_declined"),
        row("new", "c-9", "2021-04-01", "2021-07-01", SK, "woman", "executed", 92,
            resolved="2021-07-02"),
        row("new", "c-5", "2021-05-10", "2021-08-10", SK, "woman", "executed", 93,
            "client_unreachable", resolved="2021-08-11"),
        row("earlier_resolved", *C2, BS, "man", "executed", 196,
            resolved="2021-08-15"),
        row("earlier_standing", *C3, SK, "other", "unexecuted", 227),
    ]  # fmt: skip


def test_the_fourth_quarter(sql: Sql) -> None:
    assert quarterly_report(sql, "2021Q4", reference) == [
        row("new", "c-6", "2021-06-30", "2021-09-30", BS, "unknown", "unexecuted",
            184),
        row("earlier_resolved", *C3, SK, "other", "cancelled", 228,
            resolved="2021-10-01", end_reason="own_housing_found"),
        row("earlier_standing", *C1, SK, "woman", "unexecuted", 275,
            "client_unreachable"),
    ]  # fmt: skip


def test_the_second_quarter(sql: Sql) -> None:
    assert quarterly_report(sql, "2021Q2", reference) == [
        row("new", *C2, BS, "man", "unexecuted", 150),
        row("new", *C3, SK, "other", "unexecuted", 135),
    ]
    assert quarterly_report(sql, "2021Q1", reference) == []


def test_the_third_quarter_as_known_on_1_october(sql: Sql) -> None:
    """c-2's execution is not known yet: it stands."""
    got = quarterly_report(sql, "2021Q3", reference, "2021-10-01T00:00:00.000000Z")
    assert got[3:] == [
        row("earlier_standing", *C2, BS, "man", "unexecuted", 242),
        row("earlier_standing", *C3, SK, "other", "unexecuted", 227),
    ]


def test_the_third_quarter_as_known_on_1_august(sql: Sql) -> None:
    """c-5's execution (11 August) and c-1's declined offer are not known."""
    got = quarterly_report(sql, "2021Q3", reference, "2021-08-01T00:00:00.000000Z")
    assert got == [
        row("new", *C1, SK, "woman", "unexecuted", 183, "no_apartment_available"),
        row("new", "c-9", "2021-04-01", "2021-07-01", SK, "woman", "executed", 92,
            resolved="2021-07-02"),
        row("new", "c-5", "2021-05-10", "2021-08-10", SK, "woman", "unexecuted",
            143),
        row("earlier_standing", *C2, BS, "man", "unexecuted", 242),
        row("earlier_standing", *C3, SK, "other", "unexecuted", 227),
    ]  # fmt: skip


def test_the_fourth_quarter_before_the_cancelling_was_recorded(sql: Sql) -> None:
    """Nor c-2's execution, nor c-1's reason of 4 October."""
    got = quarterly_report(sql, "2021Q4", reference, "2021-10-01T09:00:00.000000Z")
    assert got == [
        row("new", "c-6", "2021-06-30", "2021-09-30", BS, "unknown", "unexecuted",
            184),
        row("earlier_standing", *C2, BS, "man", "unexecuted", 334),
        row("earlier_standing", *C3, SK, "other", "unexecuted", 319),
        row("earlier_standing", *C1, SK, "woman", "unexecuted", 275,
            "offer_declined"),
    ]  # fmt: skip


def test_a_running_quarter_is_counted_to_today(sql: Sql) -> None:
    """Counted to 11 August: c-5's first late day has come (and it was
    executed that day); counted to the 10th it has not."""
    on_the_11th = quarterly_report(sql, "2021Q3", reference, None, D("2021-08-11"))
    assert on_the_11th == [
        row("new", *C1, SK, "woman", "unexecuted", 133, "offer_declined"),
        row("new", "c-9", "2021-04-01", "2021-07-01", SK, "woman", "executed", 92,
            resolved="2021-07-02"),
        row("new", "c-5", "2021-05-10", "2021-08-10", SK, "woman", "executed", 93,
            "client_unreachable", resolved="2021-08-11"),
        row("earlier_standing", *C2, BS, "man", "unexecuted", 192),
        row("earlier_standing", *C3, SK, "other", "unexecuted", 177),
    ]  # fmt: skip
    on_the_10th = quarterly_report(sql, "2021Q3", reference, None, D("2021-08-10"))
    assert [(r["reference"], r["days_waiting"]) for r in on_the_10th] == [
        ("ref-c-1", 132),
        ("ref-c-9", 92),
        ("ref-c-2", 191),
        ("ref-c-3", 176),
    ]
    # On its first day; and a day to count to after the quarter changes nothing.
    first = quarterly_report(sql, "2021Q3", reference, None, D("2021-07-01"))
    assert [(r["reference"], r["days_waiting"]) for r in first] == [
        ("ref-c-1", 92),
        ("ref-c-2", 151),
        ("ref-c-3", 136),
    ]
    assert quarterly_report(sql, "2021Q3", reference, None, D("2021-09-30")) == (
        quarterly_report(sql, "2021Q3", reference, None, D("2022-01-01"))
    )
    assert quarterly_report(sql, "2021Q3", reference, None, D("2021-09-30")) == (
        quarterly_report(sql, "2021Q3", reference)
    )


def test_ended_on_the_day_counted_to_says_why(sql: Sql) -> None:
    """c-3 was cancelled on 1 October: counted to that day, the fourth
    quarter already shows it ended, and why."""
    got = quarterly_report(sql, "2021Q4", reference, None, D("2021-10-01"))
    assert got[1] == row(
        "earlier_resolved", *C3, SK, "other", "cancelled", 228,
        resolved="2021-10-01", end_reason="own_housing_found",
    )  # fmt: skip


def test_a_fact_recorded_at_the_moment_asked_about_is_known(sql: Sql) -> None:
    """c-5's execution was recorded at 10:00 on 11 August."""
    at = quarterly_report(sql, "2021Q3", reference, "2021-08-11T10:00:00.000000Z")
    assert (at[2]["reference"], at[2]["status_at_quarter_end"]) == (
        "ref-c-5",
        "executed",
    )
    just_before = "2021-08-11T09:59:59.999999Z"
    before = quarterly_report(sql, "2021Q3", reference, just_before)
    assert before[2]["status_at_quarter_end"] == "unexecuted"


def test_a_day_known_only_with_its_recorded_time() -> None:
    moment = "2021-10-05T08:00:00.000000Z"
    assert _known_day("2021-08-15", moment, moment) == D("2021-08-15")
    assert _known_day("2021-08-15", moment, "2021-10-05T07:59:59.999999Z") is None
    assert _known_day(None, moment, moment) is None
    assert _known_day("2021-08-15", None, moment) is None


def test_a_quarter_not_begun_on_the_day_counted_to(sql: Sql) -> None:
    with pytest.raises(ValueError, match=r"^2021Q3 has not begun on 2021-06-30$"):
        quarterly_report(sql, "2021Q3", reference, None, D("2021-06-30"))


def test_an_empty_read_model_reports_nothing() -> None:
    with tables(Unexecuted()) as sql:
        assert quarterly_report(sql, "2021Q3", reference) == []
        assert unexecuted(sql, D("2021-07-01"), reference) == []


def test_grants_as_known_leave_out_what_was_recorded_later(sql: Sql) -> None:
    """Decided by 31 December, not known resolved before 1 October, as known
    on 1 October: c-2's execution and c-3's cancelling are not known yet."""
    known = "2021-10-01T09:00:00.000000Z"
    grants = _grants(sql, D("2021-12-31"), D("2021-10-01"), known)
    assert [g.case_id for g in grants] == ["c-2", "c-3", "c-1", "c-6"]
    c2, c3 = grants[0], grants[1]
    assert (c2.executed_on, c2.ended_on, c2.end_kind, c2.end_reason) == (
        None,
        None,
        None,
        None,
    )
    assert (c3.ended_on, c3.end_kind, c3.end_reason) == (None, None, None)
    later = _grants(sql, D("2021-12-31"), D("2021-10-01"), None)
    assert [g.case_id for g in later] == ["c-3", "c-1", "c-6"]
    cancelled = D("2021-10-01"), "cancelled", "own_housing_found"
    assert later[0] == Grant("c-3", D("2021-02-15"), SK, "other", None, *cancelled)

    def case_ids(decided_by: str, resolved_from: str) -> list[str]:
        return [g.case_id for g in _grants(sql, D(decided_by), D(resolved_from), None)]

    # Resolved on the first day asked for is kept; the day before is not.
    assert case_ids("2021-12-31", "2021-08-15") == ["c-2", "c-3", "c-1", "c-6"]
    # Decided on the last day asked for is kept; the day after is not.
    assert case_ids("2021-06-30", "2021-08-16") == ["c-3", "c-1", "c-6"]
    assert case_ids("2021-06-29", "2021-08-16") == ["c-3", "c-1"]


def test_how_a_grant_ended_without_a_kind() -> None:
    grant = Grant("c", D("2021-01-01"), SK, "man", None, D("2021-06-01"), None, "x")
    assert grant.status_on(D("2021-05-31")) == "unexecuted"
    assert grant.status_on(D("2021-06-01")) == "ended"
    executed = Grant("c", D("2021-01-01"), SK, "man", D("2021-06-01"), None, None, None)
    assert executed.status_on(D("2021-06-01")) == "executed"
    assert executed.status_on(D("2021-05-31")) == "unexecuted"


@pytest.mark.parametrize(
    ("quarter", "bounds"),
    [
        ("2021Q1", ("2021-01-01", "2021-03-31")),
        ("2024Q1", ("2024-01-01", "2024-03-31")),
        ("2021Q2", ("2021-04-01", "2021-06-30")),
        ("2021Q3", ("2021-07-01", "2021-09-30")),
        ("2021Q4", ("2021-10-01", "2021-12-31")),
        ("0999Q4", ("0999-10-01", "0999-12-31")),
    ],
)
def test_the_bounds_of_a_quarter(quarter: str, bounds: tuple[str, str]) -> None:
    assert quarter_bounds(quarter) == (D(bounds[0]), D(bounds[1]))


@pytest.mark.parametrize(
    "quarter", ["2021Q5", "2021Q0", "2021q3", "21Q3", "2021Q3 ", " 2021Q3", "2021-Q3"]
)
def test_what_is_not_a_quarter(quarter: str) -> None:
    with pytest.raises(ValueError) as refused:
        quarter_bounds(quarter)
    assert str(refused.value) == f"{quarter!r} is not a quarter like 2021Q3"


def test_a_decision_executed_in_the_next_year_waits_until_then() -> None:
    """Y-1, decided on 1 September 2023 (deadline 1 December), executed on
    10 January 2024: on 20 December it is late, whatever the year of the
    month it was executed in; on 10 January it is not."""
    log = Log()
    case = HousingCase.file(stamp("2023-08-01"), "Y-1", {}, {}, "woman", 1980)
    case.grant(stamp("2023-09-01"), "d-y1", SK, "assessment")
    log.take(case, "2023-09-01T08:00:00")
    apartment = flat(9)
    log.take(apartment, "2023-09-01T08:00:00")
    case.execute(stamp("2024-01-10"), apartment, 1, D("2024-01-10"))
    log.take(case, "2024-01-10T08:00:00")
    log.take(apartment, "2024-01-10T08:00:00")
    projection = Unexecuted()
    with tables(projection) as sql:
        projection.process_batch(sql, log.records)
        late = unexecuted(sql, D("2023-12-20"), reference)
        executed = unexecuted(sql, D("2024-01-10"), reference)
    assert late == [
        {
            "reference": "ref-Y-1",
            "decided_on": "2023-09-01",
            "deadline": "2023-12-01",
            "days_waiting": 110,
            "intervention": SK,
            "gender": "woman",
            "delay_reason": None,
        }
    ]
    assert executed == []


class MonthsAsked(Sql):
    """The read model's ``Sql``, noting how many months each read of the
    open decisions asked for."""

    def __init__(self, sql: Sql) -> None:
        super().__init__(sql.cursor, sql.postgres)
        self.months: list[int] = []

    def all(self, statement: str, params: Sequence[Any] = ()) -> list[dict[str, Any]]:
        if "WHERE resolved_month IN" in statement:
            self.months.append(len(params) - 3)  # decided by, and the day after twice
        return super().all(statement, params)


@pytest.mark.parametrize(
    ("executed", "asked"),
    [("2018-03-10", [100]), ("2018-04-10", [101])],
)
def test_the_open_decisions_are_read_in_one_statement(
    executed: str, asked: list[int]
) -> None:
    """On 20 January 2010, three decisions of September 2009 are late: Z-1
    executed in March or April 2018 (the 99th or 100th month from January
    2010), Z-2 never, Z-3 on 25 January 2010. The months from the day's to
    the last month of an execution, and the month of those still open, are
    read in one statement (a century of months is 1,200 parameters, within
    both engines' limits), never an empty list (PostgreSQL refuses ``IN
    ()``), and each decision once."""
    log = Log()
    for n, (decided, done) in enumerate(
        [("2009-09-01", executed), ("2009-09-02", None), ("2009-09-03", "2010-01-25")],
        start=1,
    ):
        case = HousingCase.file(stamp("2009-08-01"), f"Z-{n}", {}, {}, "man", 1980)
        case.grant(stamp(decided), f"d-z{n}", SK, "assessment")
        log.take(case, f"{decided}T08:00:00")
        if done:
            apartment = Apartment.acquire(
                stamp(decided, "ALN"), f"a-z{n}", "AB Bo", "N", 2, 1
            )
            log.take(apartment, f"{decided}T08:00:00")
            case.execute(stamp(done), apartment, 1, D(done))
            log.take(case, f"{done}T08:00:00")
            log.take(apartment, f"{done}T08:00:00")
    projection = Unexecuted()
    with tables(projection) as plain:
        projection.process_batch(plain, log.records)
        sql = MonthsAsked(plain)
        late = unexecuted(sql, D("2010-01-20"), reference)
    assert sql.months == asked
    assert [(row["reference"], row["deadline"]) for row in late] == [
        ("ref-Z-1", "2009-12-01"),
        ("ref-Z-2", "2009-12-02"),
        ("ref-Z-3", "2009-12-03"),
    ]
