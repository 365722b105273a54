"""Lead times (``/v1/oversight/lead-times``) on SQLite and PostgreSQL.

A small scripted history, recorded over HTTP, must give the numbers worked
out by hand below; a simulated municipality must agree with a naive count
from its submissions; and a rebuild from the log must equal the live model.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator
from datetime import date
from typing import Any

import pytest
from fastapi.testclient import TestClient

from projections.counts import period_of
from projections.lead_times import summary
from services.bootstrap import Boende
from services.http.app import create_app
from services.projecting.rebuild import rebuild_together
from services.simulation.player import generate, send
from tests.conftest import Ids, view_rows
from tests.integration.test_unexecuted import Cases

EMPTY = {"count": 0, "median_days": None, "p90_days": None, "max_days": None}


@pytest.fixture
def api(boende: Boende) -> Iterator[TestClient]:
    with TestClient(create_app(boende)) as client:
        yield client


@pytest.fixture
def cases(boende: Boende, api: TestClient, ids: Ids) -> Cases:
    return Cases(boende, api, ids)


def stats(count: int, median: float, p90: int, maximum: int) -> dict[str, Any]:
    return {"count": count, "median_days": median, "p90_days": p90, "max_days": maximum}


def history(c: Cases) -> None:
    """Each case's intervals, in days, in the comments."""
    c.filed("L1", "2021-01-10")
    c.granted("L1", "2021-01-20")  # filing→decision 10 (January)
    c.executed("L1", "2021-03-01")  # decision→execution 40 (March)
    c.post("converted_to_first_hand", c.case_ids["L1"], "2021-09-01")  # 184 (Sep)
    c.filed("L2", "2021-01-05")
    c.rejected("L2", "2021-01-25")  # filing→decision 20 (January)
    c.filed("L3", "2021-01-02")
    c.rejected("L3", "2021-01-12")  # superseded by the appeal's grant:
    c.granted("L3", "2021-02-15", basis="appeal")  # filing→decision 44 (Feb)
    c.executed("L3", "2021-03-17")  # decision→execution 30 (March)
    c.filed("L4", "2021-02-01")
    c.granted("L4", "2021-02-08")  # 7 (February)
    c.filed("L5", "2021-02-03")
    c.granted("L5", "2021-02-28")  # 25 (February)
    c.executed("L5", "2021-03-30")  # 30 (March)
    c.filed("L6", "2021-03-01")
    c.granted("L6", "2021-03-03")  # 2 (March)
    c.filed("L7", "2021-03-05")
    c.post("application_withdrawn", c.case_ids["L7"], "2021-03-10")  # no decision
    c.filed("L8", "2021-04-01")
    c.granted("L8", "2021-04-11")  # 10 (April), never executed
    c.catch_up()


def by_period(api: TestClient, **params: str) -> dict[str, Any]:
    body = api.get("/v1/oversight/lead-times", params=params).json()
    return {p.pop("period"): p for p in body["periods"]}


def test_monthly_lead_times_by_hand(cases: Cases, api: TestClient) -> None:
    history(cases)
    months = by_period(api, **{"from": "2021-01-01", "to": "2021-09-30"})
    assert list(months) == [f"2021-{m:02}" for m in range(1, 10)]
    assert months["2021-01"] == {
        "filing_to_decision": stats(2, 15, 20, 20),
        "decision_to_execution": EMPTY,
        "execution_to_first_hand": EMPTY,
    }
    assert months["2021-02"]["filing_to_decision"] == stats(3, 25, 44, 44)
    assert months["2021-03"] == {
        "filing_to_decision": stats(1, 2, 2, 2),
        "decision_to_execution": stats(3, 30, 40, 40),
        "execution_to_first_hand": EMPTY,
    }
    assert months["2021-04"]["filing_to_decision"] == stats(1, 10, 10, 10)
    assert months["2021-04"]["decision_to_execution"] == EMPTY
    for month in ("2021-05", "2021-06", "2021-07", "2021-08"):
        assert all(v == EMPTY for v in months[month].values()), month
    assert months["2021-09"]["execution_to_first_hand"] == stats(1, 184, 184, 184)


def test_quarterly_and_yearly_lead_times_by_hand(cases: Cases, api: TestClient) -> None:
    history(cases)
    window = {"from": "2021-01-01", "to": "2021-12-31"}
    quarters = by_period(api, **window, period="quarter")
    assert list(quarters) == ["2021Q1", "2021Q2", "2021Q3", "2021Q4"]
    # 2, 7, 10, 20, 25, 44: the median is halfway between 10 and 20
    assert quarters["2021Q1"]["filing_to_decision"] == stats(6, 15, 44, 44)
    assert quarters["2021Q1"]["decision_to_execution"] == stats(3, 30, 40, 40)
    assert quarters["2021Q2"]["filing_to_decision"] == stats(1, 10, 10, 10)
    assert quarters["2021Q3"]["execution_to_first_hand"] == stats(1, 184, 184, 184)
    year = by_period(api, **window, period="year")["2021"]
    # 2, 7, 10, 10, 20, 25, 44: nearest rank ceil(0.9 * 7) = 7th
    assert year["filing_to_decision"] == stats(7, 10, 44, 44)


def test_the_window_counts_by_the_later_date(cases: Cases, api: TestClient) -> None:
    history(cases)
    body = api.get(
        "/v1/oversight/lead-times",
        params={"from": "2021-02-01", "to": "2021-03-31", "min_position": 1},
    ).json()
    assert body["as_of_position"] == cases.position
    assert (body["from"], body["to"], body["period"]) == (
        "2021-02-01",
        "2021-03-31",
        "month",
    )
    assert [p["period"] for p in body["periods"]] == ["2021-02", "2021-03"]
    assert body["periods"][0]["filing_to_decision"]["count"] == 3


def test_from_after_to_is_refused(client: TestClient) -> None:
    response = client.get(
        "/v1/oversight/lead-times", params={"from": "2021-02-01", "to": "2021-01-01"}
    )
    assert response.status_code == 422
    assert response.json()["error"] == "invalid_request"


@pytest.mark.parametrize(
    ("days", "median", "p90"),
    [
        ([5], 5, 5),
        ([1, 2], 1.5, 2),
        ([3, 1, 2], 2, 3),
        (list(range(1, 11)), 5.5, 9),  # ceil(9.0) = 9th
        (list(range(1, 12)), 6, 10),  # ceil(9.9) = 10th
        (list(range(1, 21)), 10.5, 18),  # ceil(18.0) = 18th
    ],
)
def test_median_and_nearest_rank_p90(days: list[int], median: float, p90: int) -> None:
    result = summary(days)
    assert (result["median_days"], result["p90_days"]) == (median, p90)
    assert (result["count"], result["max_days"]) == (len(days), max(days))


def test_simulated_history_matches_a_naive_count_and_survives_a_rebuild(
    boende: Boende, api: TestClient
) -> None:
    envelopes = generate(12, seed=3, start=date(2021, 1, 1))
    assert send(envelopes, api, concurrency=4).unexpected == 0
    for runner in boende.runners:
        runner.catch_up()
    window = {"from": "2021-01-01", "to": "2021-12-31", "period": "quarter"}
    live = by_period(api, **window)
    assert live == naive_quarters(envelopes)
    assert sum(q["decision_to_execution"]["count"] for q in live.values()) > 20

    runner = boende.runner("lead_times")
    tables_before = view_rows(runner.store, runner.projection)
    rebuild_together([runner])
    assert view_rows(runner.store, runner.projection) == tables_before
    assert by_period(api, **window) == live


def naive_quarters(envelopes: list[dict[str, Any]]) -> dict[str, Any]:
    """The same figures straight from the submissions, case by case."""
    milestones: dict[str, dict[str, date]] = defaultdict(dict)
    names = {
        "application_filed": "filed",
        "application_rejected": "decided",
        "application_granted": "granted",
        "contract_executed": "executed",
        "converted_to_first_hand": "converted",
    }
    for env in envelopes:
        if env["type"] in names:
            milestones[env["case_id"]][names[env["type"]]] = date.fromisoformat(
                env["occurred_on"]
            )
    pairs = {
        "filing_to_decision": ("filed", "decided"),
        "decision_to_execution": ("granted", "executed"),
        "execution_to_first_hand": ("executed", "converted"),
    }
    days: dict[str, dict[str, list[int]]] = {
        f"2021Q{q}": {name: [] for name in pairs} for q in range(1, 5)
    }
    for m in milestones.values():
        if "granted" in m:
            m["decided"] = m["granted"]  # a grant on appeal is the decision
        for name, (earlier, later) in pairs.items():
            if earlier in m and later in m and m[later].year == 2021:
                key = period_of(m[later], "quarter")
                days[key][name].append((m[later] - m[earlier]).days)
    return {
        key: {name: summary(values) for name, values in intervals.items()}
        for key, intervals in days.items()
    }
