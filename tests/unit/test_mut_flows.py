"""Flows in detail (``projections.flows``) on a scripted history: delays and
follow-ups, apartments acquired and returned, each reasoned fact by its
reason, and every case fact in the group its case was in at that fact,
per month, quarter and year, both ends inclusive, from the daily rollup (a
known-at now) and from the facts table (a past known-at). Every figure
worked out by hand from the history's docstring."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from typing import Any

import pytest

from domain.apartment import Apartment
from domain.case import HousingCase
from infra.views import Sql
from projections.flows import CASE_FLOWS, FLOW_REASONS, flow_details
from tests.unit.test_mut_counts import FEEDS, fed
from tests.unit.test_mut_projections_base import Log, stamp


def history() -> Log:
    """Four cases and two apartments, January to May 2021.

    A-1 is acquired on 5 January; A-2 on 3 February and returned on
    10 April. C-1 (a man) is filed on 10 January, granted a socialt kontrakt
    on assessment on 20 January, delayed (no apartment) on 25 January,
    moves into A-1 on 15 February, is followed up on 1 March (on track) and
    2 April (rent arrears), and evicted on 20 April. C-2 (a woman) is filed
    on 15 January, rejected on 25 January, granted boendesocial insats on
    appeal on 10 March, delayed twice (offer declined) on 12 and 20 March,
    and the grant cancelled on 5 April (own housing found). C-3 (other) is
    filed on 20 March and withdrawn on 25 March. C-4 (unknown) is filed on
    3 May, granted on 4 May and the grant cancelled on 6 May (deceased), all
    recorded late, on 1 June. Every other fact is recorded on its own day.
    """
    log = Log()
    a1 = Apartment.acquire(stamp("2021-01-05", "ALN"), "A-1", "AB Bo", "Norr", 2, 6000)
    log.take(a1, "2021-01-05T09:00:00")  # 1
    c1 = HousingCase.file(stamp("2021-01-10"), "C-1", {}, {"adults": 1}, "man", 1980)
    log.take(c1, "2021-01-10T09:00:00")  # 2
    c2 = HousingCase.file(stamp("2021-01-15"), "C-2", {}, {"adults": 2}, "woman", 1990)
    log.take(c2, "2021-01-15T09:00:00")  # 3
    c1.grant(stamp("2021-01-20"), "d-1", "socialt_kontrakt", "assessment")
    log.take(c1, "2021-01-20T09:00:00")  # 4
    c1.record_delay_reason(stamp("2021-01-25"), "no_apartment_available", None)
    log.take(c1, "2021-01-25T09:00:00")  # 5
    c2.reject(stamp("2021-01-25"), "d-2", "not now")
    log.take(c2, "2021-01-25T10:00:00")  # 6
    a2 = Apartment.acquire(stamp("2021-02-03", "ALN"), "A-2", "AB Bo", "Syd", 3, 7000)
    log.take(a2, "2021-02-03T09:00:00")  # 7
    c1.execute(stamp("2021-02-15"), a1, 6000, date(2021, 2, 15))
    log.take(c1, "2021-02-15T09:00:00")  # 8
    log.take(a1, "2021-02-15T09:00:00")  # 9: occupied, counted by C-1's execution
    c1.record_follow_up(stamp("2021-03-01"), "on_track", None)
    log.take(c1, "2021-03-01T09:00:00")  # 10
    c2.grant(stamp("2021-03-10"), "d-2b", "boendesocial_insats", "appeal")
    c2.record_delay_reason(stamp("2021-03-12"), "offer_declined", None)
    c2.record_delay_reason(stamp("2021-03-20"), "offer_declined", None)
    log.take(c2, "2021-03-20T09:00:00")  # 11..13
    c3 = HousingCase.file(stamp("2021-03-20"), "C-3", {}, {"adults": 1}, "other", 1970)
    c3.withdraw(stamp("2021-03-25"), "moved")
    log.take(c3, "2021-03-25T09:00:00")  # 14, 15
    c1.record_follow_up(stamp("2021-04-02"), "rent_arrears", None)
    log.take(c1, "2021-04-02T09:00:00")  # 16
    c2.cancel_grant(stamp("2021-04-05"), "own_housing_found")
    log.take(c2, "2021-04-05T09:00:00")  # 17
    a2.return_to_landlord(stamp("2021-04-10", "ALN"), "worn")
    log.take(a2, "2021-04-10T09:00:00")  # 18
    c1.terminate(stamp("2021-04-20"), a1, "eviction")
    log.take(c1, "2021-04-20T09:00:00")  # 19
    log.take(a1, "2021-04-20T09:00:00")  # 20: vacated, not a flow
    c4 = HousingCase.file(stamp("2021-05-03"), "C-4", {}, {}, "unknown", 1960)
    c4.grant(stamp("2021-05-04"), "d-4", "socialt_kontrakt", "assessment")
    c4.cancel_grant(stamp("2021-05-06"), "deceased")
    log.take(c4, "2021-06-01T09:00:00")  # 21..23
    return log


#: Known before the late C-4 (recorded 1 June): the facts table answers.
BEFORE_C4 = "2021-05-15T00:00:00.000000Z"
#: Known exactly when C-2's delays were recorded: C-3 not yet.
AT_C2_DELAYS = "2021-03-20T09:00:00.000000Z"


@pytest.fixture(params=FEEDS)
def sql(request: pytest.FixtureRequest) -> Iterator[Sql]:
    context, sql = fed(history().records, request.param)
    yield sql
    context.__exit__(None, None, None)


def reasons(**given: dict[str, int]) -> dict[str, dict[str, int]]:
    """Every reasoned fact's reasons, zero but those given."""
    return {
        name: {code: given.get(name, {}).get(code, 0) for code in codes}
        for name, codes in FLOW_REASONS.items()
    }


def detail(
    period: str,
    by_reason: dict[str, dict[str, int]] | None = None,
    **totals: int,
) -> dict[str, Any]:
    """A period's answer without ``by``: the totals given, the rest zero."""
    extra = ("delays", "follow_ups", "apartments_acquired", "apartments_returned")
    return {
        "period": period,
        **{name: totals.get(name, 0) for name in extra},
        "by_reason": by_reason or reasons(),
    }


def flows_of(**given: int) -> dict[str, int]:
    """A group's case facts: those given, every other zero."""
    return {name: given.get(name, 0) for name in CASE_FLOWS}


JANUARY = detail(
    "2021-01",
    reasons(delays={"no_apartment_available": 1}),
    delays=1,
    apartments_acquired=1,
)
FEBRUARY = detail("2021-02", apartments_acquired=1)
MARCH = detail(
    "2021-03",
    reasons(delays={"offer_declined": 2}, follow_ups={"on_track": 1}),
    delays=2,
    follow_ups=1,
)
APRIL = detail(
    "2021-04",
    reasons(
        cancelled={"own_housing_found": 1},
        terminated={"eviction": 1},
        follow_ups={"rent_arrears": 1},
    ),
    follow_ups=1,
    apartments_returned=1,
)
MAY = detail("2021-05", reasons(cancelled={"deceased": 1}))


def test_every_month_of_the_history(sql: Sql) -> None:
    answer = flow_details(sql, date(2021, 1, 1), date(2021, 6, 30), "month", None)
    assert answer == [JANUARY, FEBRUARY, MARCH, APRIL, MAY, detail("2021-06")]
    assert list(answer[0]) == [
        "period",
        "delays",
        "follow_ups",
        "apartments_acquired",
        "apartments_returned",
        "by_reason",
    ]
    assert list(answer[0]["by_reason"]) == [
        "cancelled",
        "terminated",
        "delays",
        "follow_ups",
    ]


def test_both_ends_are_inclusive(sql: Sql) -> None:
    """From A-1's acquisition to C-4's cancellation, to the day."""
    answer = flow_details(sql, date(2021, 1, 5), date(2021, 5, 6), "month", None)
    assert answer == [JANUARY, FEBRUARY, MARCH, APRIL, MAY]


def test_days_outside_the_range_are_left_out(sql: Sql) -> None:
    """From the day after A-1's acquisition to the day before C-4's
    cancellation: January without A-1, May without its cancellation."""
    answer = flow_details(sql, date(2021, 1, 6), date(2021, 5, 5), "month", None)
    january = JANUARY | {"apartments_acquired": 0}
    assert answer == [january, FEBRUARY, MARCH, APRIL, detail("2021-05")]


def test_quarters_and_years_add_up_their_months(sql: Sql) -> None:
    first = detail(
        "2021Q1",
        reasons(
            delays={"no_apartment_available": 1, "offer_declined": 2},
            follow_ups={"on_track": 1},
        ),
        delays=3,
        follow_ups=1,
        apartments_acquired=2,
    )
    second = detail(
        "2021Q2",
        reasons(
            cancelled={"own_housing_found": 1, "deceased": 1},
            terminated={"eviction": 1},
            follow_ups={"rent_arrears": 1},
        ),
        follow_ups=1,
        apartments_returned=1,
    )
    quarters = flow_details(sql, date(2021, 1, 1), date(2021, 6, 30), "quarter", None)
    assert quarters == [first, second]
    years = flow_details(sql, date(2021, 1, 1), date(2021, 12, 31), "year", None)
    assert years == [
        detail(
            "2021",
            reasons(
                cancelled={"own_housing_found": 1, "deceased": 1},
                terminated={"eviction": 1},
                delays={"no_apartment_available": 1, "offer_declined": 2},
                follow_ups={"on_track": 1, "rent_arrears": 1},
            ),
            delays=3,
            follow_ups=2,
            apartments_acquired=2,
            apartments_returned=1,
        )
    ]


def test_a_past_known_at_counts_only_what_was_known(sql: Sql) -> None:
    """Before 1 June, C-4 is not known: May is empty (the facts table
    answers); from then on the rollup answers the same as now."""
    months = (date(2021, 1, 1), date(2021, 5, 31), "month")
    assert flow_details(sql, *months, BEFORE_C4) == [
        JANUARY,
        FEBRUARY,
        MARCH,
        APRIL,
        detail("2021-05"),
    ]
    now = flow_details(sql, *months, None)
    assert flow_details(sql, *months, "2021-06-01T09:00:00.000000Z") == now
    assert flow_details(sql, *months, "2099-01-01T00:00:00.000000Z") == now


def test_known_at_includes_what_was_recorded_at_that_moment(sql: Sql) -> None:
    """At the moment C-2's delays were recorded: they are known, C-3's
    filing and withdrawal (recorded on 25 March) and what follows are not."""
    answer = flow_details(
        sql, date(2021, 1, 1), date(2021, 4, 30), "month", AT_C2_DELAYS, "gender"
    )
    assert [month["groups"] for month in answer] == [
        {
            "woman": flows_of(filed=1, rejected=1),
            "man": flows_of(filed=1, granted=1, delays=1),
            "other": flows_of(),
            "unknown": flows_of(),
        },
        {
            "woman": flows_of(),
            "man": flows_of(executed=1),
            "other": flows_of(),
            "unknown": flows_of(),
        },
        {
            "woman": flows_of(granted=1, delays=2),
            "man": flows_of(follow_ups=1),
            "other": flows_of(),
            "unknown": flows_of(),
        },
        {
            "woman": flows_of(),
            "man": flows_of(),
            "other": flows_of(),
            "unknown": flows_of(),
        },
    ]
    assert answer[2] == MARCH | {"groups": answer[2]["groups"]}
    assert answer[3] == detail("2021-04") | {"groups": answer[3]["groups"]}


@pytest.mark.parametrize("known_at", [None, BEFORE_C4])
def test_by_gender_every_case_fact_in_its_case_s_group(
    sql: Sql, known_at: str | None
) -> None:
    answer = flow_details(
        sql, date(2021, 1, 1), date(2021, 4, 30), "quarter", known_at, "gender"
    )
    assert answer == [
        detail(
            "2021Q1",
            reasons(
                delays={"no_apartment_available": 1, "offer_declined": 2},
                follow_ups={"on_track": 1},
            ),
            delays=3,
            follow_ups=1,
            apartments_acquired=2,
        )
        | {
            "groups": {
                "woman": flows_of(filed=1, rejected=1, granted=1, delays=2),
                "man": flows_of(filed=1, granted=1, delays=1, executed=1, follow_ups=1),
                "other": flows_of(filed=1, withdrawn=1),
                "unknown": flows_of(),
            }
        },
        detail(
            "2021Q2",
            reasons(
                cancelled={"own_housing_found": 1},
                terminated={"eviction": 1},
                follow_ups={"rent_arrears": 1},
            ),
            follow_ups=1,
            apartments_returned=1,
        )
        | {
            "groups": {
                "woman": flows_of(cancelled=1),
                "man": flows_of(follow_ups=1, terminated=1),
                "other": flows_of(),
                "unknown": flows_of(),
            }
        },
    ]
    assert list(answer[0]["groups"]["man"]) == CASE_FLOWS
    assert list(answer[0]["groups"]) == ["woman", "man", "other", "unknown"]


def test_by_intervention_a_filing_stays_in_none(sql: Sql) -> None:
    """Unlike ``counts``, a grant takes nothing along: each fact counts in
    the group its case was in at that fact."""
    answer = flow_details(
        sql, date(2021, 1, 1), date(2021, 5, 31), "year", None, "intervention"
    )
    assert answer[0]["groups"] == {
        "none": flows_of(filed=4, rejected=1, withdrawn=1),
        "socialt_kontrakt": flows_of(
            granted=2,
            delays=1,
            executed=1,
            follow_ups=2,
            terminated=1,
            cancelled=1,
        ),
        "boendesocial_insats": flows_of(granted=1, delays=2, cancelled=1),
    }


def test_by_basis_an_appeal_is_its_own_group(sql: Sql) -> None:
    answer = flow_details(
        sql, date(2021, 3, 1), date(2021, 3, 31), "month", None, "basis"
    )
    assert answer == [
        MARCH
        | {
            "groups": {
                "none": flows_of(filed=1, withdrawn=1),
                "assessment": flows_of(follow_ups=1),
                "appeal": flows_of(granted=1, delays=2),
            }
        }
    ]


def test_no_groups_without_by(sql: Sql) -> None:
    for known_at in (None, BEFORE_C4):
        answer = flow_details(
            sql, date(2021, 1, 1), date(2021, 1, 31), "month", known_at
        )
        assert answer == [JANUARY]
        assert "groups" not in answer[0]


def test_a_code_outside_the_list_is_a_group_of_its_own() -> None:
    """The domain takes any gender (the envelope checks it): a filing by
    gender ``x`` is counted under ``x``, after the listed codes."""
    log = Log()
    case = HousingCase.file(stamp("2021-01-10"), "C-9", {}, {}, "x", 1980)
    log.take(case, "2021-01-10T09:00:00")
    context, sql = fed(log.records, "one batch")
    try:
        (january,) = flow_details(
            sql, date(2021, 1, 1), date(2021, 1, 31), "month", None, "gender"
        )
    finally:
        context.__exit__(None, None, None)
    assert january["groups"] == {
        "woman": flows_of(),
        "man": flows_of(),
        "other": flows_of(),
        "unknown": flows_of(),
        "x": flows_of(filed=1),
    }
    assert list(january["groups"])[-1] == "x"
