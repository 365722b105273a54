"""The audit trail (``projections.audit``): one row per recorded fact with
its provenance, a case's trail through its submissions, and the paged,
filtered event list (recorded-time days inclusive, a cursor to go on)."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest

from domain.apartment import Apartment
from domain.case import HousingCase
from infra.views import Sql
from projections.audit import (
    APARTMENT_FACTS,
    CASE_FACTS,
    AuditTrail,
    _facts_of,
    case_trail,
    events,
)
from tests.unit.test_mut_projections_base import Log, RecordingCursor, stamp, tables


def history() -> Log:
    log = Log()
    flat = Apartment.acquire(
        stamp("2021-01-01", "ALN", "aln-1"), "a-1", "AB", "N", 2, 1
    )
    log.take(flat, "2021-01-01T10:00:00")  # 1
    case = HousingCase.file(stamp("2021-01-02", "IFN", "ifn-1"), "c-1", {}, {}, "m", 1)
    log.take(case, "2021-01-02T10:00:00")  # 2
    other = HousingCase.file(stamp("2021-01-03", "IFN", "ifn-2"), "c-2", {}, {}, "m", 1)
    log.take(other, "2021-01-03T23:59:59.999999")  # 3
    case.grant(stamp("2021-01-04", "IFN", "ifn-2"), "d-1", "socialt_kontrakt", "x")
    log.take(case, "2021-01-04T00:00:00")  # 4
    case.execute(stamp("2021-01-05", "IFN", "ifn-1"), flat, 1, date(2021, 1, 5))
    log.take(case, "2021-01-05T10:00:00")  # 5
    log.take(flat, "2021-01-05T10:00:00")  # 6: the same submission as 5
    return log


@pytest.fixture
def sql() -> Any:
    projection = AuditTrail()
    with tables(projection) as sql:
        projection.process_batch(sql, history().records)
        yield sql


def row(*values: Any) -> dict[str, Any]:
    """An answer's row from its values in column order (the submission id
    is the stamp's, made of the committee and the day)."""
    position, kind, aggregate, version, type_, day, recorded, committee, user = values
    return {
        "position": position,
        "aggregate_type": kind,
        "aggregate_id": aggregate,
        "version": version,
        "type": type_,
        "occurred_on": day,
        "recorded_at": recorded,
        "committee": committee,
        "user": user,
        "submission_id": f"s-{committee}-{day}",
    }


R1 = row(1, "apartment", "a-1", 1, "apartment_acquired", "2021-01-01",
         "2021-01-01T10:00:00.000000Z", "ALN", "aln-1")  # fmt: skip
R2 = row(2, "case", "c-1", 1, "application_filed", "2021-01-02",
         "2021-01-02T10:00:00.000000Z", "IFN", "ifn-1")  # fmt: skip
R3 = row(3, "case", "c-2", 1, "application_filed", "2021-01-03",
         "2021-01-03T23:59:59.999999Z", "IFN", "ifn-2")  # fmt: skip
R4 = row(4, "case", "c-1", 2, "application_granted", "2021-01-04",
         "2021-01-04T00:00:00.000000Z", "IFN", "ifn-2")  # fmt: skip
R5 = row(5, "case", "c-1", 3, "contract_executed", "2021-01-05",
         "2021-01-05T10:00:00.000000Z", "IFN", "ifn-1")  # fmt: skip
R6 = row(6, "apartment", "a-1", 2, "apartment_occupied", "2021-01-05",
         "2021-01-05T10:00:00.000000Z", "IFN", "ifn-1")  # fmt: skip


def test_every_fact_of_either_aggregate_is_audited() -> None:
    case_facts: list[Any] = CASE_FACTS
    apartment_facts: list[Any] = APARTMENT_FACTS
    names = {event.type_name for event in case_facts}
    assert "personal_data_erased" in names
    assert "follow_up_recorded" in names
    assert len(CASE_FACTS) == len(names) == 11
    assert {event.type_name for event in apartment_facts} == {
        "apartment_acquired",
        "apartment_returned",
        "apartment_occupied",
        "apartment_vacated",
        "apartment_transferred",
    }
    assert HousingCase.Event not in CASE_FACTS  # the base has no type name
    # Found, not listed: the same when looked for again.
    assert _facts_of(HousingCase) == CASE_FACTS
    assert _facts_of(Apartment) == APARTMENT_FACTS


def test_a_case_trail_is_its_events_and_those_of_its_submissions(sql: Any) -> None:
    assert case_trail(sql, "c-1") == [R2, R4, R5, R6]
    assert case_trail(sql, "c-2") == [R3]
    assert case_trail(sql, "a-1") == []  # an apartment has no case trail
    assert case_trail(sql, "c-404") == []


def test_all_events_in_log_order(sql: Any) -> None:
    assert events(sql, None, None, None, None, 0, 100) == {
        "events": [R1, R2, R3, R4, R5, R6],
        "next_after": None,
    }


def test_pages_and_their_cursor(sql: Any) -> None:
    first = events(sql, None, None, None, None, 0, 2)
    assert first == {"events": [R1, R2], "next_after": 2}
    second = events(sql, None, None, None, None, 2, 2)
    assert second == {"events": [R3, R4], "next_after": 4}
    last = events(sql, None, None, None, None, 4, 2)
    assert last == {"events": [R5, R6], "next_after": None}


def test_filters_by_committee_and_user(sql: Any) -> None:
    assert events(sql, "ALN", None, None, None, 0, 10)["events"] == [R1]
    assert events(sql, None, "ifn-2", None, None, 0, 10)["events"] == [R3, R4]
    assert events(sql, "IFN", "ifn-1", None, None, 0, 10)["events"] == [R2, R5, R6]
    assert events(sql, "ALN", "ifn-1", None, None, 0, 10)["events"] == []


def test_recorded_days_are_inclusive_whole_utc_days(sql: Any) -> None:
    day = date(2021, 1, 3)
    assert events(sql, None, None, day, day, 0, 10)["events"] == [R3]
    assert events(sql, None, None, date(2021, 1, 4), None, 0, 10)["events"] == [
        R4,
        R5,
        R6,
    ]
    assert events(sql, None, None, None, date(2021, 1, 2), 0, 10)["events"] == [R1, R2]
    assert events(sql, None, None, day, date(2021, 1, 4), 2, 1) == {
        "events": [R3],
        "next_after": 3,
    }


def test_on_sqlite_a_fact_s_position_is_the_rowid_and_indexes_come_by_default() -> None:
    """``AuditTrail.create_tables`` (its own, not ``Projection``'s): on
    SQLite ``position`` is the rowid itself (one B-tree less), on PostgreSQL
    a ``BIGINT`` (a 32-bit ``INTEGER`` would end the log at 2**31); the
    query indexes are made unless a rebuild leaves them for later."""
    with tables(AuditTrail()) as sql:
        for position in (5, 9):
            sql.execute(
                "INSERT INTO audit_events VALUES (?,?,?,?,?,?,?,?,?,?)",
                [
                    position,
                    "case",
                    "c-1",
                    1,
                    "Filed",
                    "2021-01-01",
                    "t",
                    "IFN",
                    "u",
                    "s",
                ],
            )
        rows = sql.all("SELECT rowid AS r, position FROM audit_events ORDER BY r")
        assert [(row["r"], row["position"]) for row in rows] == [(5, 5), (9, 9)]
        indexes = sql.all("SELECT name FROM sqlite_master WHERE type = 'index'")
        assert sorted(row["name"] for row in indexes) == [
            "audit_events_by_aggregate",
            "audit_events_by_committee_user",
            "audit_events_by_submission",
            "audit_events_by_user",
        ]

    cursor = RecordingCursor()
    AuditTrail().create_tables(Sql(cursor, postgres=True), query_indexes=False)
    assert cursor.statements == [AuditTrail.tables["audit_events"]]
    assert "position BIGINT PRIMARY KEY" in cursor.statements[0]
