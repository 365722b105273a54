"""IVO's individual report (``projections.ivo``) on the scripted history of
``test_mut_unexecuted``: per quarter each decision's report kind (new,
re-report, executed, ended otherwise) with its day, its decision id and the
delay reasons of its own waiting time; a declined offer keeps a decision
unexecuted; known-at and a running quarter."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date

import pytest

from infra.views import Sql
from projections import ivo
from projections.ivo import DelayReason, IvoDecision, ivo_decisions, report_kind
from projections.unexecuted import Unexecuted
from tests.unit.test_mut_projections_base import tables
from tests.unit.test_mut_unexecuted import BS, SK, history

D = date.fromisoformat

NO_OFFER = DelayReason("no_apartment_available", "2021-05-10", None, 3)
DECLINED = DelayReason("offer_declined", "2021-08-02", "2021-07-20", 4)
UNREACHABLE = DelayReason("client_unreachable", "2021-10-04", None, 5)
C5_REASON = DelayReason("client_unreachable", "2021-05-10", None, 3)


@pytest.fixture
def sql() -> Iterator[Sql]:
    projection = Unexecuted()
    with tables(projection) as sql:
        projection.process_batch(sql, history().records)
        yield sql


def decision(
    case: str,
    kind: str,
    days: int,
    kind_on: str | None = None,
    end_reason: str | None = None,
    reasons: tuple[DelayReason, ...] = (),
) -> IvoDecision:
    """A decision of the history: its fixed facts, and the report's."""
    facts = {
        "c-1": ("d-1", "2021-03-31", "2021-06-30", SK, "woman"),
        "c-2": ("d-2", "2021-01-31", "2021-04-30", BS, "man"),
        "c-3": ("d-3", "2021-02-15", "2021-05-15", SK, "other"),
        "c-5": ("d-5", "2021-05-10", "2021-08-10", SK, "woman"),
        "c-6": ("d-6", "2021-06-30", "2021-09-30", BS, "unknown"),
        "c-9": ("d-9b", "2021-04-01", "2021-07-01", SK, "woman"),
    }
    decision_id, decided, deadline, intervention, gender = facts[case]
    return IvoDecision(
        case_id=case,
        decision_id=decision_id,
        decided_on=decided,
        deadline=deadline,
        intervention=intervention,
        gender=gender,
        kind=kind,
        kind_on=kind_on,
        end_reason=end_reason,
        days_waited=days,
        delay_reasons=list(reasons),
    )


def test_the_third_quarter(sql: Sql) -> None:
    """c-1 declined an offer: still new, unexecuted, its reason of 4 October
    is after the quarter. c-5's reason is dated its decision day."""
    assert ivo_decisions(sql, "2021Q3") == [
        decision("c-1", "new", 183, reasons=(NO_OFFER, DECLINED)),
        decision("c-9", "executed", 92, "2021-07-02"),
        decision("c-5", "executed", 93, "2021-08-11", reasons=(C5_REASON,)),
        decision("c-2", "executed", 196, "2021-08-15"),
        decision("c-3", "re_report", 227),
    ]


def test_the_fourth_quarter(sql: Sql) -> None:
    assert ivo_decisions(sql, "2021Q4") == [
        decision("c-6", "new", 184),
        decision("c-3", "ended", 228, "2021-10-01", "own_housing_found"),
        decision("c-1", "re_report", 275, reasons=(NO_OFFER, DECLINED, UNREACHABLE)),
    ]


def test_the_second_quarter_and_an_empty_one(sql: Sql) -> None:
    assert ivo_decisions(sql, "2021Q2") == [
        decision("c-2", "new", 150),
        decision("c-3", "new", 135),
    ]
    assert ivo_decisions(sql, "2021Q1") == []


def test_as_known_before_facts_were_recorded(sql: Sql) -> None:
    """As known just before c-1's reason of 4 October was recorded (10:00),
    and at that very moment; c-2's execution is not known either way."""
    before = ivo_decisions(sql, "2021Q4", "2021-10-04T09:59:59.999999Z")
    assert [d.case_id for d in before] == ["c-6", "c-3", "c-2", "c-1"]
    assert before[2] == decision("c-2", "re_report", 334)
    assert before[3].delay_reasons == [NO_OFFER, DECLINED]
    at = ivo_decisions(sql, "2021Q4", "2021-10-04T10:00:00.000000Z")
    assert at[3].delay_reasons == [NO_OFFER, DECLINED, UNREACHABLE]
    august = ivo_decisions(sql, "2021Q3", "2021-08-01T00:00:00.000000Z")
    assert august[2] == decision("c-5", "new", 143)  # execution, reason unknown
    assert august[0].delay_reasons == [NO_OFFER]


def test_a_running_quarter_takes_reasons_up_to_the_day_counted_to(sql: Sql) -> None:
    on_the_2nd = ivo_decisions(sql, "2021Q3", None, D("2021-08-02"))
    assert on_the_2nd[0] == decision("c-1", "new", 124, reasons=(NO_OFFER, DECLINED))
    on_the_1st = ivo_decisions(sql, "2021Q3", None, D("2021-08-01"))
    assert on_the_1st[0] == decision("c-1", "new", 123, reasons=(NO_OFFER,))
    assert [(d.case_id, d.kind) for d in on_the_1st] == [
        ("c-1", "new"),
        ("c-9", "executed"),
        ("c-2", "re_report"),
        ("c-3", "re_report"),
    ]


def test_queries_in_parts_give_the_same_report(
    sql: Sql, monkeypatch: pytest.MonkeyPatch
) -> None:
    whole = ivo_decisions(sql, "2021Q3")
    monkeypatch.setattr(ivo, "_PER_QUERY", 2)
    assert ivo_decisions(sql, "2021Q3") == whole


def test_the_parts_of_a_long_list() -> None:
    values = [str(n) for n in range(1001)]
    parts = ivo._parts(values)
    assert [len(part) for part in parts] == [500, 500, 1]
    assert [part[0] for part in parts] == ["0", "500", "1000"]
    assert ivo._parts([]) == []
    assert ivo._marks(["a", "b", "c"]) == "?,?,?"


@pytest.mark.parametrize(
    ("section", "status", "kind"),
    [
        ("new", "unexecuted", "new"),
        ("earlier_standing", "unexecuted", "re_report"),
        ("earlier_resolved", "unexecuted", "re_report"),
        ("new", "executed", "executed"),
        ("earlier_resolved", "executed", "executed"),
        ("new", "cancelled", "ended"),
        ("earlier_resolved", "cancelled", "ended"),
        ("earlier_resolved", "ended", "ended"),
    ],
)
def test_the_report_kind_of_a_row(section: str, status: str, kind: str) -> None:
    assert report_kind(section, status) == kind


def test_the_report_kinds_in_ivos_order() -> None:
    assert ivo.REPORT_KINDS == ("new", "re_report", "executed", "ended")
