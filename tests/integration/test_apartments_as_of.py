"""The apartment stock on any day (``/v1/oversight/apartments?as_of=``)
against a straightforward fold of a simulated municipality's submissions,
on SQLite and PostgreSQL; and a rebuild gives the same tables and answers."""

from __future__ import annotations

from collections import Counter
from datetime import date, timedelta
from typing import Any

from fastapi.testclient import TestClient

from services.bootstrap import Boende
from services.http.app import create_app
from services.projecting.rebuild import rebuild_together
from services.simulation.player import send
from services.simulation.scenario import generate
from tests.conftest import view_rows

START = date(2022, 1, 1)


def test_the_stock_on_any_day_equals_a_fold_of_the_submissions(
    boende: Boende,
) -> None:
    envelopes = generate(12, seed=9, start=START, today=date(2026, 1, 1))
    with TestClient(create_app(boende)) as api:
        assert send(envelopes, api, concurrency=4).unexpected == 0
        for runner in boende.runners:
            runner.catch_up()
        days = [START + timedelta(days=d) for d in range(-400, 400, 29)]
        live = {day: stock(api, day) for day in days}
        for day, answer in live.items():
            assert shown(answer) == naive(envelopes, day), day
        assert max(a["apartments_total"] for a in live.values()) > 20

        runner = boende.runner("apartments")
        before = view_rows(runner.store, runner.projection)
        rebuild_together([runner])
        assert view_rows(runner.store, runner.projection) == before
        assert stock(api, days[-1]) == live[days[-1]]


def stock(api: TestClient, day: date) -> dict[str, Any]:
    response = api.get("/v1/oversight/apartments", params={"as_of": day.isoformat()})
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def shown(answer: dict[str, Any]) -> dict[str, Any]:
    return {
        "by_state": {k: v for k, v in answer["by_state"].items() if v},
        "by_landlord": {
            g["landlord_org_no"] or name: g["total"]
            for name, g in answer["by_landlord"].items()
        },
        "by_district": {k: g["total"] for k, g in answer["by_district"].items()},
        "vacant_now": answer["vacancy_days"]["current"]["count"],
        "vacant_days": answer["vacancy_days"]["total_to_date"],
    }


def naive(envelopes: list[dict[str, Any]], day: date) -> dict[str, Any]:
    """Apartment by apartment, its facts dated on or before ``day`` in the
    order sent: the state after the last, and the days it stood available."""
    acquired: dict[str, dict[str, Any]] = {}
    lives_in: dict[str, str] = {}  # case -> apartment
    moves: dict[str, list[tuple[date, str]]] = {}
    for env in envelopes:
        on = date.fromisoformat(env["occurred_on"])
        kind, payload = env["type"], env["payload"]
        if kind == "apartment_acquired":
            acquired[env["apartment_id"]] = payload
            moves[env["apartment_id"]] = [(on, "available")]
        elif kind == "apartment_returned":
            moves[env["apartment_id"]].append((on, "returned"))
        elif kind == "contract_executed":
            lives_in[env["case_id"]] = payload["apartment_id"]
            moves[payload["apartment_id"]].append((on, "occupied"))
        elif kind == "contract_terminated":
            moves[lives_in[env["case_id"]]].append((on, "available"))
        elif kind == "converted_to_first_hand":
            moves[lives_in[env["case_id"]]].append((on, "transferred"))
    states: Counter[str] = Counter()
    landlords: Counter[str] = Counter()
    districts: Counter[str] = Counter()
    vacant_now = vacant_days = 0
    for apartment, history in moves.items():
        known = [(on, state) for on, state in history if on <= day]
        if not known:
            continue
        states[known[-1][1]] += 1
        payload = acquired[apartment]
        landlords[payload.get("landlord_org_no") or payload["landlord"]] += 1
        districts[payload["district"]] += 1
        for (since, state), (until, _) in zip(
            known, [*known[1:], (day, "")], strict=True
        ):
            if state == "available":
                vacant_days += (until - since).days
        vacant_now += known[-1][1] == "available"
    return {
        "by_state": dict(states),
        "by_landlord": dict(landlords),
        "by_district": dict(districts),
        "vacant_now": vacant_now,
        "vacant_days": vacant_days,
    }
