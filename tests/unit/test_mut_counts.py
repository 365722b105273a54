"""Counts and flows (``projections.counts``) on a scripted history: the
figures the module docstring promises, pinned, and the same figures from
every way the log can be fed (one batch, fact by fact, in two halves), for a
known-at now (the daily rollup) and in the past (the facts table)."""

from __future__ import annotations

from collections import Counter
from datetime import date
from typing import Any

import pytest

from domain.apartment import Apartment
from domain.case import HousingCase
from projections.base import END_OF_TIME, Recorded
from projections.counts import (
    APARTMENT_STATES,
    CASE_STATES,
    FLOW_TYPES,
    STATE_AFTER,
    Counts,
    counts,
    period_of,
    periods,
)
from projections.flows import flows
from projections.monthly_totals import KEY, KEY_COLUMNS, id_of
from tests.unit.test_mut_projections_base import Log, stamp, table_names, tables


def history() -> Log:
    """Five cases and three apartments through most of their facts."""
    log = Log()
    a1 = Apartment.acquire(stamp("2021-01-05", "ALN"), "a-1", "AB Bo", "Norr", 2, 6000)
    log.take(a1, "2021-01-05T09:00:00")  # 1
    c1 = HousingCase.file(stamp("2021-01-10"), "c-1", {}, {"adults": 1}, "man", 1980)
    log.take(c1, "2021-01-10T09:00:00")  # 2
    c2 = HousingCase.file(stamp("2021-01-20"), "c-2", {}, {"adults": 2}, "woman", 1990)
    log.take(c2, "2021-01-20T09:00:00")  # 3
    c1.grant(stamp("2021-02-05"), "d-1", "socialt_kontrakt", "assessment")
    log.take(c1, "2021-02-05T09:00:00")  # 4
    c2.reject(stamp("2021-02-10"), "d-2", "Anna Svensson has housing")
    # Recorded before the filing it follows (a skewed clock): known no
    # earlier than the filing.
    log.take(c2, "2021-01-19T09:00:00")  # 5
    c1.execute(stamp("2021-03-01"), a1, 6000, date(2021, 3, 1))
    log.take(c1, "2021-03-01T09:00:00")  # 6
    log.take(a1, "2021-03-01T09:00:00")  # 7
    c3 = HousingCase.file(stamp("2021-04-01"), "c-3", {}, {"adults": 1}, "man", 1970)
    log.take(c3, "2021-04-01T09:00:00")  # 8
    c3.withdraw(stamp("2021-04-15"), "moved to Malmö")
    log.take(c3, "2021-04-15T09:00:00")  # 9
    a2 = Apartment.acquire(stamp("2021-05-01", "ALN"), "a-2", "AB Bo", "Syd", 3, 7000)
    log.take(a2, "2021-05-01T09:00:00")  # 10
    c4 = HousingCase.file(stamp("2021-05-02"), "c-4", {}, {"adults": 1}, "man", 1960)
    c4.grant(stamp("2021-05-20"), "d-4", "socialt_kontrakt", "assessment")
    log.take(c4, "2021-05-20T09:00:00")  # 11, 12
    c5 = HousingCase.file(stamp("2021-05-03"), "c-5", {}, {"adults": 3}, "woman", 1985)
    c5.grant(stamp("2021-05-21"), "d-5", "socialt_kontrakt", "assessment")
    log.take(c5, "2021-05-21T09:00:00")  # 13, 14
    a3 = Apartment.acquire(stamp("2021-05-05", "ALN"), "a-3", "Hem AB", "Norr", 1, 5000)
    a3.return_to_landlord(stamp("2021-06-01", "ALN"), "worn")
    log.take(a3, "2021-06-01T09:00:00")  # 15, 16
    c1.terminate(stamp("2021-06-30"), a1, "eviction")
    log.take(c1, "2021-06-30T09:00:00")  # 17
    log.take(a1, "2021-06-30T09:00:00")  # 18
    c4.cancel_grant(stamp("2021-07-01"), "deceased")
    log.take(c4, "2021-07-01T09:00:00")  # 19
    c2.grant(stamp("2021-07-15"), "d-2b", "socialt_kontrakt", "appeal")
    log.take(c2, "2021-07-15T09:00:00")  # 20
    c5.execute(stamp("2021-08-01"), a2, 7000, date(2021, 8, 1))
    log.take(c5, "2021-08-01T09:00:00")  # 21
    log.take(a2, "2021-08-01T09:00:00")  # 22
    c5.convert_to_first_hand(stamp("2021-09-01"), a2, date(2021, 8, 20))
    log.take(c5, "2021-09-01T09:00:00")  # 23
    log.take(a2, "2021-09-01T09:00:00")  # 24
    c6 = HousingCase.file(stamp("2021-10-01"), "c-6", {}, {"adults": 1}, "man", 1999)
    c6.grant(stamp("2021-10-02"), "d-6", "socialt_kontrakt", "assessment")
    # Not a counted fact: skipped, and the facts after it still counted.
    c6.record_personal_data_erased(stamp("2021-10-02"), "request", "dataskydd")
    c6.execute(stamp("2021-10-03"), a1, 6000, date(2021, 10, 3))
    c6.terminate(stamp("2021-11-30"), a1, "moved_out")
    log.take(c6, "2021-12-01T09:00:00")  # 25..29
    log.take(a1, "2021-12-01T09:00:00")  # 30, 31
    return log


def fed(records: list[Recorded], how: str) -> Any:
    """A context with the counts tables fed ``records`` in the way ``how``."""
    projection = Counts()
    context = tables(projection)
    sql = context.__enter__()
    if how == "one batch":
        projection.process_batch(sql, records)
    elif how == "fact by fact":
        for record in records:
            projection.process(sql, record)
    else:
        half = len(records) // 2
        projection.process_batch(sql, records[:half])
        projection.process_batch(sql, records[half:])
    return context, sql


FEEDS = ["one batch", "fact by fact", "two halves"]


@pytest.fixture(params=FEEDS)
def sql(request: pytest.FixtureRequest) -> Any:
    context, sql = fed(history().records, request.param)
    yield sql
    context.__exit__(None, None, None)


def naive(records: list[Recorded], as_of: date, known_at: str) -> dict[str, Any]:
    """The oracle: fold the facts one by one, each known no earlier than the
    fact before it of the same aggregate."""
    known: dict[tuple[str, str], str] = {}
    states: dict[str, dict[str, str]] = {"case": {}, "apartment": {}}
    totals: Counter[str] = Counter()
    reasons: Counter[str] = Counter()
    for r in records:
        event = r.event
        if type(event) not in STATE_AFTER:
            continue
        kind, state = STATE_AFTER[type(event)]
        key = (kind, event.case_id if kind == "case" else event.apartment_id)
        known[key] = max(known.get(key, ""), r.recorded_at)
        if event.occurred_on > as_of or known[key] > known_at:
            continue
        states[kind][key[1]] = state
        totals[event.type_name] += 1
        if isinstance(event, HousingCase.ContractTerminated):
            reasons[event.reason] += 1
    by_case = Counter(states["case"].values())
    by_flat = Counter(states["apartment"].values())
    return {
        "cases_by_state": {s: by_case[s] for s in CASE_STATES},
        "filed_total": totals["application_filed"],
        "granted_total": totals["application_granted"],
        "rejected_total": totals["application_rejected"],
        "executed_total": totals["contract_executed"],
        "converted_total": totals["converted_to_first_hand"],
        "terminated_total": totals["contract_terminated"],
        "terminations_by_reason": dict(sorted(reasons.items())),
        "apartments_by_state": {s: by_flat[s] for s in APARTMENT_STATES},
    }


def test_the_counts_at_the_end_of_the_year(sql: Any) -> None:
    assert counts(sql, date(2021, 12, 31), None) == {
        "cases_by_state": {
            "filed": 0,
            "withdrawn": 1,
            "granted": 1,
            "rejected": 0,
            "cancelled": 1,
            "executed": 0,
            "converted": 1,
            "terminated": 2,
        },
        "filed_total": 6,
        "granted_total": 5,
        "rejected_total": 1,
        "executed_total": 3,
        "converted_total": 1,
        "terminated_total": 2,
        "terminations_by_reason": {"eviction": 1, "moved_out": 1},
        "apartments_by_state": {
            "available": 1,
            "occupied": 0,
            "returned": 1,
            "transferred": 1,
        },
    }


def test_the_counts_in_the_middle_of_a_history(sql: Any) -> None:
    figures = counts(sql, date(2021, 3, 31), None)
    assert figures["cases_by_state"] == {
        "filed": 0,
        "withdrawn": 0,
        "granted": 0,
        "rejected": 1,
        "cancelled": 0,
        "executed": 1,
        "converted": 0,
        "terminated": 0,
    }
    assert figures["apartments_by_state"] == {
        "available": 0,
        "occupied": 1,
        "returned": 0,
        "transferred": 0,
    }
    assert figures["terminations_by_reason"] == {}


@pytest.mark.parametrize(
    "as_of",
    [date(2020, 12, 31), date(2021, 2, 10), date(2021, 6, 30), date(2022, 1, 1)],
)
@pytest.mark.parametrize(
    "known_at",
    [
        "2021-01-19T12:00:00.000000Z",  # before the filing the rejection follows
        "2021-01-20T09:00:00.000000Z",  # the filing's own time: both known
        "2021-06-30T08:59:59.999999Z",
        "2021-06-30T09:00:00.000000Z",
        "2021-12-01T09:00:00.000000Z",  # the last recorded time
        END_OF_TIME,
    ],
)
def test_counts_equal_the_fold_of_the_log(sql: Any, as_of: date, known_at: str) -> None:
    expected = naive(history().records, as_of, known_at)
    assert counts(sql, as_of, known_at) == expected
    if known_at == END_OF_TIME:
        assert counts(sql, as_of, None) == expected


def test_a_fact_recorded_before_the_one_it_follows_is_known_after_it(sql: Any) -> None:
    """The rejection was stamped 2021-01-19, a day before the filing it
    follows: until the filing is known, neither is."""
    early = counts(sql, date(2021, 12, 31), "2021-01-19T12:00:00.000000Z")
    assert early["rejected_total"] == 0
    assert early["cases_by_state"]["rejected"] == 0
    assert early["filed_total"] == 1  # c-1 only
    rows = sql.all("SELECT recorded_at FROM counts_facts WHERE position = 5")
    assert rows == [{"recorded_at": "2021-01-20T09:00:00.000000Z"}]


def test_the_rows_of_the_facts_and_the_rollup(sql: Any) -> None:
    facts = sql.all("SELECT * FROM counts_facts ORDER BY position")
    assert len(facts) == 30
    assert facts[3] == {
        "position": 4,
        "kind": "case",
        "aggregate_id": "c-1",
        "type": "application_granted",
        "reason": "",
        "state": "granted",
        "prev_state": "filed",
        "occurred_on": "2021-02-05",
        "recorded_at": "2021-02-05T09:00:00.000000Z",
        "gender": "man",  # from the filing
        "intervention": "socialt_kontrakt",  # from this grant
        "basis": "assessment",
        "key_id": 70424650652267145,  # monthly_totals.id_of of the eight above
    }
    # Every fact carries the id of its rollup key.
    for fact in facts:
        assert fact["key_id"] == id_of(tuple(fact[c] for c in KEY_COLUMNS))
    assert (facts[1]["intervention"], facts[1]["basis"]) == ("none", "none")
    assert facts[0]["kind"] == "apartment"
    assert (facts[0]["gender"], facts[0]["intervention"]) == ("", "")
    assert facts[0]["prev_state"] == ""
    assert (facts[6]["aggregate_id"], facts[6]["state"], facts[6]["prev_state"]) == (
        "a-1",
        "occupied",
        "available",
    )
    # Free-text reasons (a rejection's, a withdrawal's, a return's) never
    # reach the table; enumerated ones do.
    reasons = {f["position"]: f["reason"] for f in facts if f["reason"]}
    assert reasons == {17: "eviction", 19: "deceased", 29: "moved_out"}
    daily = sql.all(
        f"SELECT d.occurred_on, {KEY}, d.n FROM counts_daily d JOIN counts_keys k "
        "ON k.key_id = d.key_id WHERE occurred_on = '2021-06-30' ORDER BY kind"
    )
    assert daily == [
        {
            "occurred_on": "2021-06-30",
            "kind": "apartment",
            "type": "apartment_vacated",
            "reason": "",
            "state": "available",
            "prev_state": "occupied",
            "gender": "",
            "intervention": "",
            "basis": "",
            "n": 1,
        },
        {
            "occurred_on": "2021-06-30",
            "kind": "case",
            "type": "contract_terminated",
            "reason": "eviction",
            "state": "terminated",
            "prev_state": "executed",
            "gender": "man",
            "intervention": "socialt_kontrakt",
            "basis": "assessment",
            "n": 1,
        },
    ]
    assert sql.all("SELECT SUM(n) AS n FROM counts_daily") == [{"n": 30}]
    assert sql.all("SELECT * FROM counts_last_recorded") == [
        {"id": 1, "recorded_at": "2021-12-01T09:00:00.000000Z"}
    ]


def test_two_facts_of_one_day_add_up_in_the_rollup() -> None:
    log = Log()
    for case_id in ("c-1", "c-2"):
        case = HousingCase.file(stamp("2021-01-10"), case_id, {}, {}, "man", 1980)
        log.take(case, "2021-01-10T09:00:00")
    for how in FEEDS:
        context, sql = fed(log.records, how)
        rows = sql.all("SELECT n FROM counts_daily")
        context.__exit__(None, None, None)
        assert rows == [{"n": 2}], how


def test_the_last_recorded_time_never_goes_back() -> None:
    log = history()
    context, sql = fed(log.records, "two halves")
    Counts().process_batch(sql, [])  # nothing to write: nothing changes
    late = Log()
    case = HousingCase.file(stamp("2021-01-10"), "c-9", {}, {}, "man", 1980)
    late.take(case, "2021-01-01T00:00:00")  # an old clock
    Counts().process(sql, Recorded(99, late.records[0].event))
    last = sql.all("SELECT recorded_at FROM counts_last_recorded")
    context.__exit__(None, None, None)
    assert last == [{"recorded_at": "2021-12-01T09:00:00.000000Z"}]


def test_a_past_known_at_reads_the_facts_not_the_rollup(sql: Any) -> None:
    """The rollup holds every fact; an answer as known at an earlier time
    must leave out what was recorded after it."""
    before_the_cancelling = "2021-06-30T12:00:00.000000Z"
    figures = counts(sql, date(2021, 12, 31), before_the_cancelling)
    assert figures["cases_by_state"]["cancelled"] == 0
    assert figures["cases_by_state"]["granted"] == 2  # c-4 and c-5 (c-2 rejected)
    assert figures["terminations_by_reason"] == {"eviction": 1}


def test_the_tables_and_the_retired_ones() -> None:
    """(The tables a version adds are its own tests' business: these are the
    ones every version since 2 has.)"""
    assert set(Counts.retired_tables) >= {"counts_case_facts", "counts_apartment_facts"}
    with tables(Counts()) as sql:
        assert {"counts_facts", "counts_daily", "counts_last_recorded"} <= (
            table_names(sql)
        )
        indexes = sql.all("SELECT name FROM sqlite_master WHERE type = 'index'")
        assert {"counts_facts_by_aggregate", "counts_facts_by_day"} <= {
            row["name"] for row in indexes
        }


# -- flows ---------------------------------------------------------------------

NO_FLOW = dict.fromkeys(FLOW_TYPES.values(), 0)


def test_flows_per_quarter(sql: Any) -> None:
    got = flows(sql, date(2021, 1, 1), date(2021, 12, 31), "quarter", None)
    assert got == [
        {"period": "2021Q1", **NO_FLOW, "filed": 2, "granted": 1, "rejected": 1,
         "executed": 1},
        {"period": "2021Q2", **NO_FLOW, "filed": 3, "granted": 2, "withdrawn": 1,
         "terminated": 1},
        {"period": "2021Q3", **NO_FLOW, "granted": 1, "cancelled": 1,
         "executed": 1, "converted": 1},
        {"period": "2021Q4", **NO_FLOW, "filed": 1, "granted": 1, "executed": 1,
         "terminated": 1},
    ]  # fmt: skip


def test_flows_per_month_between_two_days_inclusive(sql: Any) -> None:
    got = flows(sql, date(2021, 2, 5), date(2021, 3, 1), "month", None)
    assert got == [
        {"period": "2021-02", **NO_FLOW, "granted": 1, "rejected": 1},
        {"period": "2021-03", **NO_FLOW, "executed": 1},
    ]
    assert flows(sql, date(2021, 2, 6), date(2021, 2, 28), "month", None) == [
        {"period": "2021-02", **NO_FLOW, "rejected": 1}
    ]


def test_flows_per_year_as_known_at_a_past_time(sql: Any) -> None:
    known_at = "2021-05-21T09:00:00.000000Z"
    assert flows(sql, date(2021, 1, 1), date(2022, 12, 31), "year", known_at) == [
        {"period": "2021", **NO_FLOW, "filed": 5, "granted": 3, "rejected": 1,
         "executed": 1, "withdrawn": 1},
        {"period": "2022", **NO_FLOW},
    ]  # fmt: skip
    # A past known-at between two days reads the facts within the days only.
    assert flows(sql, date(2021, 2, 6), date(2021, 2, 28), "month", known_at) == [
        {"period": "2021-02", **NO_FLOW, "rejected": 1}
    ]


def test_the_flow_names() -> None:
    assert list(NO_FLOW) == [
        "filed",
        "granted",
        "rejected",
        "withdrawn",
        "executed",
        "converted",
        "terminated",
        "cancelled",
    ]


@pytest.mark.parametrize(
    ("day", "period", "key"),
    [
        (date(2021, 1, 31), "month", "2021-01"),
        (date(2021, 3, 31), "quarter", "2021Q1"),
        (date(2021, 4, 1), "quarter", "2021Q2"),
        (date(2021, 12, 1), "quarter", "2021Q4"),
        (date(2021, 12, 1), "year", "2021"),
    ],
)
def test_the_period_of_a_day(day: date, period: str, key: str) -> None:
    assert period_of(day, period) == key


def test_every_period_between_two_days_in_order() -> None:
    assert periods(date(2020, 11, 15), date(2021, 2, 1), "month") == [
        "2020-11",
        "2020-12",
        "2021-01",
        "2021-02",
    ]
    assert periods(date(2020, 12, 31), date(2021, 7, 1), "quarter") == [
        "2020Q4",
        "2021Q1",
        "2021Q2",
        "2021Q3",
    ]
    assert periods(date(2020, 12, 1), date(2022, 1, 1), "year") == [
        "2020",
        "2021",
        "2022",
    ]
    assert periods(date(2021, 5, 1), date(2021, 5, 31), "month") == ["2021-05"]
    assert periods(date(2021, 6, 1), date(2021, 5, 31), "month") == []


def test_an_empty_read_model_counts_nothing_whenever_asked() -> None:
    with tables(Counts()) as sql:
        for known_at in (None, "2021-01-01T00:00:00.000000Z", END_OF_TIME):
            figures = counts(sql, date(2021, 12, 31), known_at)
            assert figures["filed_total"] == 0
            assert set(figures["cases_by_state"].values()) == {0}


def test_terminations_of_one_reason_add_up_across_groups() -> None:
    """Two evictions of cases that differ in what the rollup keeps beside
    the reason (here the applicant's gender) are two evictions."""
    log = Log()
    for n, gender in ((1, "man"), (2, "woman")):
        flat = Apartment.acquire(stamp("2021-01-01", "ALN"), f"a-{n}", "AB", "N", 2, 1)
        case = HousingCase.file(stamp("2021-01-02"), f"c-{n}", {}, {}, gender, 1980)
        case.grant(stamp("2021-01-03"), f"d-{n}", "socialt_kontrakt", "assessment")
        case.execute(stamp("2021-01-04"), flat, 1, date(2021, 1, 4))
        case.terminate(stamp("2021-02-01"), flat, "eviction")
        log.take(flat, "2021-02-01T00:00:00")
        log.take(case, "2021-02-01T00:00:00")
    for how in FEEDS:
        context, sql = fed(log.records, how)
        figures = counts(sql, date(2021, 12, 31), None)
        context.__exit__(None, None, None)
        assert figures["terminations_by_reason"] == {"eviction": 2}, how
