"""Decisions due soon (``/v1/oversight/unexecuted?due_within=N``) on SQLite
and PostgreSQL: a scripted history worked out by hand in the comments."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from services.bootstrap import Boende
from services.http.app import create_app
from tests.conftest import Ids
from tests.integration.test_unexecuted import Cases


@pytest.fixture
def api(boende: Boende) -> Iterator[TestClient]:
    with TestClient(create_app(boende)) as client:
        yield client


def history(c: Cases) -> None:
    """On 2025-03-20, within 30 days:"""
    for label, granted in [
        ("G1", "2024-12-20"),  # deadline 2025-03-20: today, 0 days left
        ("G2", "2025-01-15"),  # deadline 2025-04-15: 26 days left
        ("G3", "2025-01-25"),  # deadline 2025-04-25: 36 days, not within 30
        ("G4", "2024-12-10"),  # deadline 2025-03-10: past it, on the other list
        ("G5", "2025-01-10"),  # executed on 1 March: done
        ("G6", "2025-01-05"),  # deadline 2025-04-05, executed only on 25 March
    ]:
        c.filed(label, "2024-12-01")
        c.granted(label, granted)
    c.delayed("G2", "2025-03-01", "no_apartment_available")
    c.executed("G5", "2025-03-01")
    c.executed("G6", "2025-03-25")
    c.catch_up()


def test_due_within_by_hand(boende: Boende, api: TestClient, ids: Ids) -> None:
    cases = Cases(boende, api, ids)
    history(cases)
    labels = cases.labels_of()
    answer = api.get(
        "/v1/oversight/unexecuted", params={"as_of": "2025-03-20", "due_within": 30}
    ).json()
    assert answer["due_within"] == 30 and answer["count"] == 3
    rows = [
        (labels[d["reference"]], d["deadline"], d["days_left"], d["delay_reason"])
        for d in answer["decisions"]
    ]
    assert rows == [
        ("G1", "2025-03-20", 0, None),
        ("G6", "2025-04-05", 16, None),
        ("G2", "2025-04-15", 26, "no_apartment_available"),
    ]
    past = api.get("/v1/oversight/unexecuted", params={"as_of": "2025-03-20"}).json()
    assert [labels[d["reference"]] for d in past["decisions"]] == ["G4"]
    assert past["due_within"] is None


def test_due_within_zero_is_the_deadline_day_only(
    boende: Boende, api: TestClient, ids: Ids
) -> None:
    cases = Cases(boende, api, ids)
    history(cases)
    labels = cases.labels_of()
    answer = api.get(
        "/v1/oversight/unexecuted", params={"as_of": "2025-03-20", "due_within": 0}
    ).json()
    assert [labels[d["reference"]] for d in answer["decisions"]] == ["G1"]


@pytest.mark.parametrize("value", ["-1", "93", "soon"])
def test_a_bad_window_is_refused(client: TestClient, value: str) -> None:
    response = client.get("/v1/oversight/unexecuted", params={"due_within": value})
    assert response.status_code == 422, response.text
