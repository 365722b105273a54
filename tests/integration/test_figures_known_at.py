"""The seed figures as the log knew them at a recorded time (``known_at``):
the path to a first-hand lease, rents and vacancy (``projections.
tenancies``' recorded times).

A scripted history on SQLite and PostgreSQL whose later-registered facts
(a termination, a return, an acquisition registered late) change the
answers only for a ``known_at`` after them, worked out by hand; a vacancy
still open counted to the day of ``known_at``, not to today; and a
hypothesis oracle: for random cut points in recorded time, the read model
answers what folding only the events recorded by then gives.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from infra.settings import Settings
from projections import first_hand, rents
from projections.base import utc_text
from services.bootstrap import Boende, bootstrap
from services.http.app import create_app
from tests.conftest import Ids
from tests.integration.test_counts_oracle import START, log_events, record
from tests.integration.test_seed_figures_oracle import (
    naive_first_hand,
    naive_rents,
    naive_vacancy,
    shown_first_hand,
)
from tests.integration.test_unexecuted import Cases

BEFORE_EVERYTHING = "2000-01-01T00:00:00Z"


@pytest.fixture
def api(boende: Boende) -> Iterator[TestClient]:
    with TestClient(create_app(boende)) as client:
        yield client


def acquired(
    c: Cases, key: str, day: str, landlord: str, org_no: str, rent: int
) -> None:
    c.post("apartment_acquired", key, day, landlord=landlord, landlord_org_no=org_no,
           district="norrby", rooms=2, monthly_rent_sek=rent)  # fmt: skip


def history(c: Cases) -> str:
    """What was registered by the moment returned, then what came later."""
    acquired(c, "A1", "2025-01-01", "Bo AB", "556999-0012", 6000)
    c.filed("X", "2024-12-01")
    c.granted("X", "2024-12-10")
    c.post("contract_executed", c.case_ids["X"], "2025-01-11", apartment_id="A1",
           monthly_rent_sek=6200, lease_starts_on="2025-01-11")  # fmt: skip
    acquired(c, "A3", "2025-01-05", "Bo AB", "556999-0012", 7000)
    c.filed("Y", "2024-12-02")
    c.granted("Y", "2024-12-12")
    c.catch_up()
    moment = datetime.now(UTC).isoformat()
    # Registered later, all of it dated before that moment:
    c.post("contract_terminated", c.case_ids["X"], "2025-02-15", reason="moved_out")
    c.post("apartment_returned", "A1", "2025-03-01")  # vacant 15-28 February
    acquired(c, "A2", "2025-01-16", "Hem HB", "916512-3457", 9300)  # never lived in
    # A3 stood empty from 5 January: as known at the moment, it still does.
    c.post("contract_executed", c.case_ids["Y"], "2025-01-20", apartment_id="A3",
           monthly_rent_sek=7100, lease_starts_on="2025-01-20")  # fmt: skip
    c.catch_up()
    return moment


def get(api: TestClient, path: str, **params: str) -> dict[str, Any]:
    response = api.get(f"/v1/oversight/{path}", params=params)
    assert response.status_code == 200, response.text
    return response.json()


def test_first_hand_as_known_then(boende: Boende, api: TestClient, ids: Ids) -> None:
    moment = history(Cases(boende, api, ids))
    query = {"from": "2025-01-01", "to": "2025-03-31", "as_of": "2025-03-31"}
    (now,) = get(api, "first-hand", **query)["cohorts"]
    assert (now["executed"], now["terminated"], now["still_second_hand"]) == (2, 1, 1)
    assert now["terminated_by_reason"]["moved_out"] == 1
    assert now["days_in_contract"]["median_days"] == 70  # Y, from 20 January
    then = get(api, "first-hand", **query, known_at=moment)
    assert then["known_at"] is not None
    (cohort,) = then["cohorts"]
    assert (cohort["cohort"], cohort["executed"]) == ("2025Q1", 1)
    assert (cohort["terminated"], cohort["still_second_hand"]) == (0, 1)
    # 11 January to 31 March in a contract, as far as was known
    assert cohort["days_in_contract"]["median_days"] == 79
    assert get(api, "first-hand", **query, known_at=BEFORE_EVERYTHING)["cohorts"] == []


def test_rents_as_known_then(boende: Boende, api: TestClient, ids: Ids) -> None:
    moment = history(Cases(boende, api, ids))
    (now,) = get(api, "rents", as_of="2025-02-20")["groups"]
    assert (now["apartments"], now["occupied"]) == (3, 1)  # X gone, Y in A3
    assert now["aln_pays"]["per_month"] == 6000 + 9300 + 7000
    assert now["households_pay"]["per_month"] == 7100
    assert now["difference_per_occupied_apartment"] == 100
    (then,) = get(api, "rents", as_of="2025-02-20", known_at=moment)["groups"]
    assert (then["apartments"], then["occupied"]) == (2, 1)  # A1 and A3, X in A1
    assert (then["aln_pays"]["per_month"], then["households_pay"]["median"]) == (
        6000 + 7000,
        6200,
    )
    assert then["difference_per_month"] == 200
    # On 5 March A1 was back with its landlord; as known then, X lived there.
    (march,) = get(api, "rents", as_of="2025-03-05")["groups"]
    (march_then,) = get(api, "rents", as_of="2025-03-05", known_at=moment)["groups"]
    assert (march["apartments"], march["aln_pays"]["per_month"]) == (2, 9300 + 7000)
    assert (march_then["apartments"], march_then["aln_pays"]["per_month"]) == (
        2,
        6000 + 7000,
    )
    (nothing,) = get(api, "rents", as_of="2025-03-05", known_at=BEFORE_EVERYTHING)[
        "groups"
    ]
    assert nothing["apartments"] == 0


def test_vacancy_as_known_then(boende: Boende, api: TestClient, ids: Ids) -> None:
    moment = history(Cases(boende, api, ids))
    query = {"from": "2025-01-01", "to": "2025-03-31"}

    def months(**params: str) -> list[tuple[int, int]]:
        answer = get(api, "vacancy", **query, **params)
        return [(p["vacant_days"], p["cost_sek"]) for p in answer["periods"]]

    assert months() == [
        # A1 1-10 January (6000/31 a day), A2 16-31 (9300/31), A3 5-19 (7000/31)
        (10 + 16 + 15, round((6000 * 10 + 9300 * 16 + 7000 * 15) / 31)),
        (14 + 28, 3000 + 9300),  # A1 from 15 February, A2 all month
        (31, 9300),  # A1 returned on 1 March
    ]
    # As known then: A1 1-10 January, and A3 empty from 5 January on.
    assert months(known_at=moment) == [
        (10 + 27, round((6000 * 10 + 7000 * 27) / 31)),
        (28, 7000),
        (31, 7000),
    ]
    assert months(known_at=BEFORE_EVERYTHING) == [(0, 0)] * 3


def test_a_vacancy_still_open_is_counted_to_the_day_of_known_at(
    store_settings: Settings, ids: Ids
) -> None:
    """What was known at a moment cannot see past its day: the vacancy open
    then is counted to that day (the municipality's), not to today."""
    zone = ZoneInfo(store_settings.timezone)
    real_today = datetime.now(zone).date()
    today = real_today + timedelta(days=40)  # the municipality's, fixed ahead
    running = bootstrap(store_settings.model_copy(update={"today": today}))
    try:
        with TestClient(create_app(running)) as api:
            c = Cases(running, api, ids)
            began = real_today - timedelta(days=3)
            acquired(c, "A1", began.isoformat(), "Bo AB", "556999-0012", 6000)
            c.catch_up()
            moment = datetime.now(UTC)
            query = {"from": began.isoformat(), "to": today.isoformat()}

            def counted(**params: str) -> tuple[int, str]:
                answer = get(api, "vacancy", **query, **params)
                days = sum(p["vacant_days"] for p in answer["periods"])
                return days, answer["counted_to"]

            assert counted() == ((today - began).days + 1, today.isoformat())
            then = moment.astimezone(zone).date()
            assert counted(known_at=moment.isoformat()) == (
                (then - began).days + 1,
                then.isoformat(),
            )
    finally:
        running.close()


@settings(max_examples=5, deadline=None, suppress_health_check=list(HealthCheck))
@given(
    seed=st.integers(0, 10_000),
    months=st.integers(12, 30),
    cuts=st.lists(
        st.tuples(st.integers(30, 900), st.floats(0, 1)), min_size=2, max_size=3
    ),
)
def test_seed_figures_as_known_equal_a_fold_over_what_was_recorded(
    tmp_path_factory: Any, seed: int, months: int, cuts: list[tuple[int, float]]
) -> None:
    data_dir: Path = tmp_path_factory.mktemp("seed-known")
    boende = bootstrap(Settings(data_dir=data_dir))
    try:
        record(boende, months, seed)
        boende.runner("tenancies").catch_up()
        events = log_events(boende)
        recorded = sorted(utc_text(e.timestamp) for e in events)
        with boende.views["tenancies"].transaction(commit=False) as sql:
            for offset, fraction in cuts:
                day = START + timedelta(days=offset)
                known = recorded[min(int(fraction * len(recorded)), len(recorded) - 1)]
                then = [e for e in events if utc_text(e.timestamp) <= known]
                got = first_hand.first_hand(sql, START, day, day, "none", known)
                assert shown_first_hand(got) == naive_first_hand(then, START, day, day)
                (group,) = rents.rents(sql, day, "none", known)
                assert {
                    "apartments": group["apartments"],
                    "occupied": group["occupied"],
                    "aln_per_month": group["aln_pays"]["per_month"],
                    "households_per_month": group["households_pay"]["per_month"],
                    "difference": group["difference_per_month"],
                } == naive_rents(then, day)
                vacancy = rents.vacancy(sql, START, day, "month", "none", day, known)
                assert {
                    r["period"]: (r["vacant_days"], r["cost_sek"]) for r in vacancy
                } == naive_vacancy(then, START, day, day)
    finally:
        boende.close()


def test_the_oracle_can_tell_known_from_now(tmp_path: Path) -> None:
    """The cut points above matter: in a simulated history, some answer
    as known halfway differs from the answer now."""
    boende = bootstrap(Settings(data_dir=tmp_path / "var"))
    try:
        record(boende, 18, 3)
        boende.runner("tenancies").catch_up()
        recorded = sorted(utc_text(e.timestamp) for e in log_events(boende))
        halfway = recorded[len(recorded) // 2]
        day = START + timedelta(days=500)
        with boende.views["tenancies"].transaction(commit=False) as sql:
            now = rents.vacancy(sql, START, day, "month", "none", day)
            then = rents.vacancy(sql, START, day, "month", "none", day, halfway)
            assert now != then
            assert first_hand.first_hand(
                sql, START, day, day, "none"
            ) != first_hand.first_hand(sql, START, day, day, "none", halfway)
    finally:
        boende.close()
