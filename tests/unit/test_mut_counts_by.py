"""Counts broken down (``counts(by=...)`` of ``projections/counts.py``), on
the scripted history of ``test_mut_counts.py`` and a small one of two
cases: each case with all its facts in the group it is in on ``as_of``,
every code listed, worked out by hand; and the facts that change no state
(delays, follow-ups) in the facts table."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from typing import Any

import pytest

from domain.apartment import Apartment
from domain.case import HousingCase
from projections.counts import CASE_STATES, FLOW_TYPES, counts
from projections.flows import flows
from tests.unit.test_mut_counts import FEEDS, fed, history
from tests.unit.test_mut_projections_base import Log, stamp

TOTALS = ("filed", "granted", "rejected", "executed", "converted", "terminated")


def group(
    states: dict[str, int] | None = None,
    reasons: dict[str, int] | None = None,
    **totals: int,
) -> dict[str, Any]:
    """A group's figures: the states and totals named, every other zero."""
    return {
        "cases_by_state": dict.fromkeys(CASE_STATES, 0) | (states or {}),
        **{f"{name}_total": totals.get(name, 0) for name in TOTALS},
        "terminations_by_reason": reasons or {},
    }


@pytest.fixture(params=FEEDS)
def sql(request: pytest.FixtureRequest) -> Iterator[Any]:
    context, sql = fed(history().records, request.param)
    yield sql
    context.__exit__(None, None, None)


BOTH_REASONS = {"eviction": 1, "moved_out": 1}
NOT_GRANTED = group({"withdrawn": 1}, filed=1)  # c-3: filed and withdrawn


@pytest.mark.parametrize("known_at", [None, "2021-12-01T09:00:00.000000Z"])
def test_by_gender_at_the_end_of_the_year(sql: Any, known_at: str | None) -> None:
    answer = counts(sql, date(2021, 12, 31), known_at, "gender")
    assert answer == counts(sql, date(2021, 12, 31), known_at) | {
        "by": "gender",
        "groups": {
            # c-1 and c-6 terminated, c-3 withdrawn, c-4 cancelled
            "man": group(
                {"withdrawn": 1, "cancelled": 1, "terminated": 2},
                BOTH_REASONS,
                filed=4,
                granted=3,
                executed=2,
                terminated=2,
            ),
            # c-2 granted on appeal, c-5 converted
            "woman": group(
                {"granted": 1, "converted": 1},
                filed=2,
                granted=2,
                rejected=1,
                executed=1,
                converted=1,
            ),
            "other": group(),
            "unknown": group(),
        },
    }
    assert list(answer["groups"]) == ["woman", "man", "other", "unknown"]


@pytest.mark.parametrize("known_at", [None, "2021-12-01T09:00:00.000000Z"])
def test_by_intervention_a_grant_takes_the_case_s_history_along(
    sql: Any, known_at: str | None
) -> None:
    """Every case but c-3 was granted a socialt kontrakt: its filing (and
    c-2's rejection) moves with the grant out of ``none``."""
    answer = counts(sql, date(2021, 12, 31), known_at, "intervention")
    assert answer["by"] == "intervention"
    assert answer["groups"] == {
        "none": NOT_GRANTED,
        "socialt_kontrakt": group(
            {"granted": 1, "cancelled": 1, "converted": 1, "terminated": 2},
            BOTH_REASONS,
            filed=5,
            granted=5,
            rejected=1,
            executed=3,
            converted=1,
            terminated=2,
        ),
        "boendesocial_insats": group(),
    }
    assert "apartments_by_state" in answer  # the whole answer's, not a group's


@pytest.mark.parametrize("known_at", [None, "2021-12-01T09:00:00.000000Z"])
def test_by_basis_an_appeal_is_its_own_group(sql: Any, known_at: str | None) -> None:
    answer = counts(sql, date(2021, 12, 31), known_at, "basis")
    assert answer["groups"] == {
        "none": NOT_GRANTED,
        "assessment": group(
            {"cancelled": 1, "converted": 1, "terminated": 2},
            BOTH_REASONS,
            filed=4,
            granted=4,
            executed=3,
            converted=1,
            terminated=2,
        ),
        "appeal": group({"granted": 1}, filed=1, granted=1, rejected=1),  # c-2
    }


def test_by_intervention_in_the_middle_of_the_history(sql: Any) -> None:
    """On 31 March: c-1 executed (granted in February), c-2 rejected (its
    appeal comes in July: still without intervention)."""
    for known_at in (None, "2021-12-01T09:00:00.000000Z", "2021-04-01T00:00:00Z"):
        answer = counts(sql, date(2021, 3, 31), known_at, "intervention")
        assert answer["groups"] == {
            "none": group({"rejected": 1}, filed=1, rejected=1),
            "socialt_kontrakt": group({"executed": 1}, filed=1, granted=1, executed=1),
            "boendesocial_insats": group(),
        }, known_at


def test_a_past_known_at_groups_only_what_was_known() -> None:
    """Known at 2021-06-30 12:00, c-2's appeal (recorded in July) is not:
    c-2 is still rejected and without intervention."""
    context, sql = fed(history().records, "one batch")
    answer = counts(sql, date(2021, 12, 31), "2021-06-30T12:00:00.000000Z", "basis")
    context.__exit__(None, None, None)
    assert answer["groups"]["appeal"] == group()
    assert answer["groups"]["none"] == group(
        {"rejected": 1, "withdrawn": 1}, filed=2, rejected=1
    )


def two_cases() -> Log:
    """c-a (gender other): filed, rejected, granted boendesocial insats on
    appeal; c-b (gender unknown): filed only."""
    log = Log()
    a = HousingCase.file(stamp("2021-01-01"), "c-a", {}, {}, "other", 1980)
    a.reject(stamp("2021-01-05"), "d-a", "not now")
    log.take(a, "2021-01-05T09:00:00")
    b = HousingCase.file(stamp("2021-01-02"), "c-b", {}, {}, "unknown", 1990)
    log.take(b, "2021-01-06T09:00:00")
    a.grant(stamp("2021-01-20"), "d-a2", "boendesocial_insats", "appeal")
    a.record_delay_reason(stamp("2021-01-21"), "no_apartment", None)
    log.take(a, "2021-01-21T09:00:00")
    return log


@pytest.mark.parametrize("how", FEEDS)
def test_a_grant_on_appeal_moves_the_rejection_too(how: str) -> None:
    context, sql = fed(two_cases().records, how)
    before = counts(sql, date(2021, 1, 10), None, "intervention")["groups"]
    after = counts(sql, date(2021, 1, 31), None, "intervention")["groups"]
    by_basis = counts(sql, date(2021, 1, 31), None, "basis")["groups"]
    by_gender = counts(sql, date(2021, 1, 31), None, "gender")["groups"]
    context.__exit__(None, None, None)
    assert before == {
        "none": group({"filed": 1, "rejected": 1}, filed=2, rejected=1),
        "socialt_kontrakt": group(),
        "boendesocial_insats": group(),
    }
    moved = group({"granted": 1}, filed=1, granted=1, rejected=1)
    assert after == {
        "none": group({"filed": 1}, filed=1),
        "socialt_kontrakt": group(),
        "boendesocial_insats": moved,
    }
    assert by_basis == {
        "none": group({"filed": 1}, filed=1),
        "assessment": group(),
        "appeal": moved,
    }
    assert by_gender == {
        "woman": group(),
        "man": group(),
        "other": moved,
        "unknown": group({"filed": 1}, filed=1),
    }


def test_a_delay_is_a_fact_in_the_state_it_leaves_unchanged() -> None:
    context, sql = fed(two_cases().records, "one batch")
    facts = sql.all("SELECT * FROM counts_facts WHERE position = 5")
    context.__exit__(None, None, None)
    assert facts == [
        {
            "position": 5,
            "kind": "case",
            "aggregate_id": "c-a",
            "type": "delay_reason_recorded",
            "reason": "no_apartment",
            "state": "granted",
            "prev_state": "granted",
            "occurred_on": "2021-01-21",
            "recorded_at": "2021-01-21T09:00:00.000000Z",
            "gender": "other",
            "intervention": "boendesocial_insats",
            "basis": "appeal",
            "key_id": 36091191379255936,  # monthly_totals.id_of of the eight above
        }
    ]


def test_a_code_outside_today_s_list_is_a_group_of_its_own() -> None:
    """A gender the envelope no longer takes, recorded under an older list:
    its cases are counted in a group of their own, not lost or refused."""
    log = Log()
    case = HousingCase.file(stamp("2021-01-01"), "c-x", {}, {}, "kvinna", 1980)
    log.take(case, "2021-01-01T09:00:00")
    context, sql = fed(log.records, "one batch")
    groups = counts(sql, date(2021, 1, 31), None, "gender")["groups"]
    context.__exit__(None, None, None)
    assert list(groups) == ["woman", "man", "other", "unknown", "kvinna"]
    assert groups["kvinna"] == group({"filed": 1}, filed=1)
    assert groups["woman"] == group()


NO_FLOW = dict.fromkeys(FLOW_TYPES.values(), 0)


@pytest.mark.parametrize("known_at", [None, "2021-02-01T00:00:00.000000Z"])
def test_the_facts_after_a_delay_still_flow(known_at: str | None) -> None:
    """A delay changes no state and is no flow (``projections.flows``
    counts it): passed over, and the kinds and months after it counted,
    from the rollup and (known at a time before the last fact) the facts."""
    log = two_cases()
    case = HousingCase.file(stamp("2021-02-01"), "c-c", {}, {}, "man", 1980)
    case.withdraw(stamp("2021-02-02"), "moved")
    log.take(case, "2021-01-21T09:00:00")
    flat = Apartment.acquire(stamp("2021-02-03", "ALN"), "a-1", "AB", "N", 2, 1)
    log.take(flat, "2021-03-01T09:00:00")  # no flow: only moves known_at
    context, sql = fed(log.records, "one batch")
    got = flows(sql, date(2021, 1, 1), date(2021, 2, 28), "month", known_at)
    context.__exit__(None, None, None)
    assert got == [
        {"period": "2021-01", **NO_FLOW, "filed": 2, "granted": 1, "rejected": 1},
        {"period": "2021-02", **NO_FLOW, "filed": 1, "withdrawn": 1},
    ]
