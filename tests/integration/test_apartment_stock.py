"""The apartment stock (``/v1/oversight/apartments``) on SQLite and PostgreSQL.

A scripted history of six apartments — acquired, occupied, vacated,
occupied again, returned, transferred by a conversion — is recorded over HTTP
with the read models caught up after every submission. The stock on a fixed
"today" must match numbers worked out by hand here, vacancy days included,
and a rebuild from the log must give exactly the same rows and answer.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import date
from typing import Any

import pytest
from fastapi.testclient import TestClient

from infra.settings import Settings
from services.bootstrap import Boende, bootstrap
from services.http.app import create_app
from services.projecting.rebuild import rebuild_together
from services.submission.examples import EXAMPLE_PERSONNUMMER, PAYLOADS
from tests.conftest import Ids, envelope, later

#: The service's "today". Day n of the script is ``later(n)``, 2021-03-15 + n;
#: TODAY is day 291.
TODAY = date(2021, 12, 31)
APPLICANT_NAME = PAYLOADS["application_filed"]["applicant"]["name"]
BOSTADER, EK = "AB Bostäder", "Fastighets AB Ek"
#: Their organisation numbers (fictitious, Luhn-checked).
ORG_NO = {BOSTADER: "556999-0020", EK: "556999-0038"}


@pytest.fixture
def boende(store_settings: Settings) -> Iterator[Boende]:
    """Boende on both engines, on a fixed today, with a short read wait."""
    settings = store_settings.model_copy(update={"read_wait_seconds": 0.2})
    running = bootstrap(settings, today=lambda: TODAY)
    yield running
    running.close()


@pytest.fixture
def client(boende: Boende) -> TestClient:
    return TestClient(create_app(boende))


class History:
    """Records submissions over HTTP, catching the read models up after each."""

    def __init__(self, boende: Boende, client: TestClient, ids: Ids) -> None:
        self.boende, self.client, self.ids = boende, client, ids
        self.keys: list[str] = []

    def post(self, event_type: str, key: str, day: int, **payload: Any) -> None:
        body = envelope(event_type, key, later(day), payload=payload)
        response = self.client.post("/v1/submissions", json=body)
        assert response.status_code == 201, response.text
        for runner in self.boende.runners:
            runner.catch_up()

    def acquire(self, day: int, landlord: str, district: str) -> str:
        apartment_id = self.ids.next("apt")
        self.keys.append(apartment_id)
        self.post(
            "apartment_acquired",
            apartment_id,
            day,
            landlord=landlord,
            landlord_org_no=ORG_NO[landlord],
            district=district,
            rooms=len(self.keys) % 3 + 1,
            monthly_rent_sek=5000 + 100 * len(self.keys),
        )
        return apartment_id

    def granted_case(self) -> str:
        case_id = self.ids.next("c")
        self.keys.append(case_id)
        self.post("application_filed", case_id, 0)
        self.post("application_granted", case_id, 5)
        return case_id

    def execute(self, case_id: str, apartment_id: str, day: int) -> None:
        self.post(
            "contract_executed",
            case_id,
            day,
            apartment_id=apartment_id,
            lease_starts_on=later(day),
        )


def scripted_history(history: History) -> None:
    """Six apartments; the comments give each one's vacancies in days."""
    a1 = history.acquire(0, BOSTADER, "Norrby")
    a2 = history.acquire(0, BOSTADER, "Söderberga")
    a3 = history.acquire(10, EK, "Norrby")
    a4 = history.acquire(40, EK, "Söderberga")
    a5 = history.acquire(0, BOSTADER, "Västerdal")
    c1, c2, c3, c4 = (history.granted_case() for _ in range(4))
    history.execute(c2, a3, 15)  # a3: vacant 10..15 -> 5
    history.execute(c1, a1, 20)  # a1: vacant 0..20 -> 20
    history.post("apartment_returned", a2, 30)  # a2: vacant 0..30 -> 30
    history.post("contract_terminated", c1, 50)  # a1: vacant again from 50
    history.post("converted_to_first_hand", c2, 60, landlord_consented_on=later(55))
    history.execute(c3, a4, 100)  # a4: vacant 40..100 -> 60
    history.post("contract_terminated", c3, 130)  # a4: vacant again from 130
    history.execute(c4, a5, 200)  # a5: vacant 0..200 -> 200
    history.acquire(280, EK, "Västerdal")  # a6: vacant from 280


def by_state(
    available: int = 0, occupied: int = 0, returned: int = 0, transferred: int = 0
) -> dict[str, int]:
    return {
        "available": available,
        "occupied": occupied,
        "returned": returned,
        "transferred": transferred,
    }


#: Today (day 291) a1 has stood empty 241 days, a4 161, a6 11; past vacancies
#: add up to 5 + 20 + 30 + 60 + 200 = 315.
EXPECTED_STOCK = {
    "today": "2021-12-31",
    "as_of": "2021-12-31",
    "apartments_total": 6,
    "by_state": by_state(available=3, occupied=1, returned=1, transferred=1),
    "by_landlord": {
        BOSTADER: {
            "landlord_org_no": ORG_NO[BOSTADER],
            "total": 3,
            "by_state": by_state(1, 1, 1, 0),  # a1 a5 a2
        },
        EK: {
            "landlord_org_no": ORG_NO[EK],
            "total": 3,
            "by_state": by_state(2, 0, 0, 1),  # a4 a6 a3
        },
    },
    "by_district": {  # by the list's codes
        "norrby": {"total": 2, "by_state": by_state(1, 0, 0, 1)},  # a1 a3
        "söderberga": {"total": 2, "by_state": by_state(1, 0, 1, 0)},  # a4 a2
        "västerdal": {"total": 2, "by_state": by_state(1, 1, 0, 0)},  # a6 a5
    },
    "vacancy_days": {
        "current": {"count": 3, "mean": 137.67, "median": 161, "max": 241},
        "total_to_date": 315 + 241 + 161 + 11,
    },
}


def stock_rows(boende: Boende) -> list[dict[str, Any]]:
    with boende.views["apartments"].transaction(commit=False) as sql:
        return sql.all("SELECT * FROM apartments_stock ORDER BY apartment_id")


@pytest.fixture
def history(boende: Boende, client: TestClient, ids: Ids) -> History:
    return History(boende, client, ids)


def test_stock_of_a_scripted_history(
    boende: Boende, client: TestClient, history: History
) -> None:
    scripted_history(history)

    response = client.get("/v1/oversight/apartments")

    assert response.status_code == 200, response.text
    body = response.json()
    assert body.pop("as_of_position") == boende.app.recorder.max_notification_id()
    assert body.pop("tree_size") == boende.app.recorder.max_notification_id()
    assert len(body.pop("root_hash")) == 64  # the log it was read from (hex)
    assert body == EXPECTED_STOCK
    # Aggregates only: no apartment or case ids, no personal data.
    for text in (*history.keys, EXAMPLE_PERSONNUMMER, APPLICANT_NAME):
        assert text not in response.text


def test_empty_stock(client: TestClient) -> None:
    body = client.get("/v1/oversight/apartments").json()
    assert body["apartments_total"] == 0
    assert body["by_state"] == by_state()
    assert body["by_landlord"] == {} and body["by_district"] == {}
    assert body["vacancy_days"] == {
        "current": {"count": 0, "mean": None, "median": None, "max": None},
        "total_to_date": 0,
    }


def test_min_position_beyond_the_log_answers_503_quickly(
    boende: Boende, client: TestClient, history: History
) -> None:
    history.acquire(0, BOSTADER, "Norrby")
    position = boende.app.recorder.max_notification_id() or 0

    started = time.monotonic()
    lagging = client.get(
        "/v1/oversight/apartments", params={"min_position": position + 1}
    )

    assert time.monotonic() - started < 3
    assert lagging.status_code == 503
    assert lagging.json()["error"] == "projection_lagging"
    answered = client.get("/v1/oversight/apartments", params={"min_position": position})
    assert answered.status_code == 200
    assert answered.json()["apartments_total"] == 1


def test_rebuild_gives_the_same_rows_and_answer(
    boende: Boende, client: TestClient, history: History
) -> None:
    scripted_history(history)
    live_rows = stock_rows(boende)
    live_answer = client.get("/v1/oversight/apartments").json()
    assert len(live_rows) == 6

    rebuild_together([boende.runner("apartments")])

    assert stock_rows(boende) == live_rows
    assert client.get("/v1/oversight/apartments").json() == live_answer


def test_stock_as_of_a_day_before_today(client: TestClient, history: History) -> None:
    """Day 45 (2021-04-29), worked out from the script: a1 occupied since 20
    (vacant 0..20), a2 returned on 30 (vacant 0..30), a3 occupied since 15
    (vacant 10..15), a4 vacant since its acquisition on 40 (5 days), a5
    vacant since 0 (45 days); a6 not yet acquired."""
    scripted_history(history)

    body = client.get("/v1/oversight/apartments", params={"as_of": later(45)}).json()

    assert body.pop("tree_size") == body.pop("as_of_position")
    assert len(body.pop("root_hash")) == 64
    assert body == {
        "today": "2021-12-31",
        "as_of": "2021-04-29",
        "apartments_total": 5,
        "by_state": by_state(available=2, occupied=2, returned=1),
        "by_landlord": {
            BOSTADER: {
                "landlord_org_no": ORG_NO[BOSTADER],
                "total": 3,
                "by_state": by_state(1, 1, 1, 0),  # a5 a1 a2
            },
            EK: {
                "landlord_org_no": ORG_NO[EK],
                "total": 2,
                "by_state": by_state(1, 1, 0, 0),  # a4 a3
            },
        },
        "by_district": {
            "norrby": {"total": 2, "by_state": by_state(0, 2, 0, 0)},  # a1 a3
            "söderberga": {"total": 2, "by_state": by_state(1, 0, 1, 0)},  # a4 a2
            "västerdal": {"total": 1, "by_state": by_state(1, 0, 0, 0)},  # a5
        },
        "vacancy_days": {
            "current": {"count": 2, "mean": 25, "median": 25, "max": 45},
            "total_to_date": 20 + 30 + 5 + 5 + 45,
        },
    }


@pytest.mark.parametrize(
    ("day", "total", "states", "current", "vacant_days"),
    [
        (-1, 0, by_state(), [], 0),  # before the first acquisition
        # Day 10: a3 acquired that very day (vacant 0 days), a1 a2 a5 for 10.
        (10, 4, by_state(available=4), [10, 10, 0, 10], 30),
        # Day 60: a3 transferred; a1 vacant again since 50, a4 since 40, a5 since 0.
        (60, 5, by_state(3, 0, 1, 1), [10, 20, 60], 20 + 30 + 5 + 90),
        # Today, as without as_of.
        (291, 6, by_state(3, 1, 1, 1), [241, 161, 11], 315 + 241 + 161 + 11),
    ],
)
def test_stock_as_of_by_hand(
    client: TestClient,
    history: History,
    day: int,
    total: int,
    states: dict[str, int],
    current: list[int],
    vacant_days: int,
) -> None:
    scripted_history(history)

    body = client.get("/v1/oversight/apartments", params={"as_of": later(day)}).json()

    assert (body["as_of"], body["apartments_total"]) == (later(day), total)
    assert body["by_state"] == states
    assert body["vacancy_days"]["current"]["count"] == len(current)
    assert body["vacancy_days"]["current"]["max"] == max(current, default=None)
    assert body["vacancy_days"]["total_to_date"] == vacant_days


def test_as_of_today_is_the_answer_without_it(
    client: TestClient, history: History
) -> None:
    scripted_history(history)
    plain = client.get("/v1/oversight/apartments").json()
    dated = client.get("/v1/oversight/apartments", params={"as_of": "2021-12-31"})
    assert dated.json() == plain
