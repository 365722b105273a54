"""A newcomer's first tour (issue 11, item 8): ``boende simulate --months
12`` against a fresh Boende gives some of every figure — conversions to
first-hand leases, terminations, rents, vacancies, people in contracts,
landlords by number and by name — and ``boende simulate`` finds the API
where ``BOENDE_HOST`` and ``BOENDE_PORT`` say ``boende serve`` listens."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from infra.settings import Settings
from projections.landlords import register
from services.bootstrap import Boende, bootstrap
from services.http.app import create_app
from services.simulation.behaviour import api_address
from services.simulation.player import main, plan, send
from tests.conftest import LiveServer


@pytest.fixture
def running(tmp_path: Path) -> Iterator[Boende]:
    boende = bootstrap(Settings(data_dir=tmp_path / "var"))
    yield boende
    boende.close()


def figure(client: TestClient, path: str, **params: str) -> Any:
    response = client.get(f"/v1/oversight/{path}", params=params)
    assert response.status_code == 200, response.text
    return response.json()


def test_a_simulated_year_has_every_figure(running: Boende) -> None:
    world = plan(12, seed=1)
    with TestClient(create_app(running)) as client:
        sent = send(world.envelopes, client, 4, expect_valid=world.expectations)
        assert sent.unexpected == 0
        for runner in running.runners:
            runner.catch_up()
        window = {"from": world.start.isoformat(), "to": world.end.isoformat()}
        today = world.end.isoformat()

        # As a newcomer asks: the default window, three years of executions.
        cohorts = figure(client, "first-hand")["cohorts"]
        assert sum(c["converted"] for c in cohorts) > 0
        assert sum(c["terminated"] for c in cohorts) > 0
        assert sum(c["still_second_hand"] for c in cohorts) > 0
        assert any(c["cohort"] < f"{world.start.year}Q" for c in cohorts)  # loaded

        (rents,) = figure(client, "rents", as_of=today)["groups"]
        assert rents["apartments"] > rents["occupied"] > 0
        assert rents["aln_pays"]["median"] and rents["households_pay"]["median"]
        by_landlord = figure(client, "rents", as_of=today, by="landlord")["groups"]
        numbers = {g["landlord_org_no"] for g in by_landlord}
        assert None in numbers and len(numbers) > 3  # a sole trader, and companies

        vacancy = figure(client, "vacancy", **window)["periods"]
        assert sum(p["vacant_days"] for p in vacancy) > 0
        assert sum(p["cost_sek"] for p in vacancy) > 0

        households = figure(client, "households", as_of=today)
        assert households["households"] > 0

        stock = figure(client, "apartments", as_of=today)
        assert stock["by_state"]["transferred"] > 0  # converted: left the stock
        assert stock["vacancy_days"]["total_to_date"] > 0
        assert set(stock["by_district"]) <= {
            "centrum",
            "norrby",
            "söderberga",
            "västerdal",
            "österäng",
            "björkhaga",
            "ekbacken",
        }
    with running.views["landlords"].transaction(commit=False) as sql:
        assert len(register(sql)) == 5


def test_simulate_finds_the_api_where_serve_listens(
    running: Boende, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    with LiveServer(running) as server:
        monkeypatch.setenv("BOENDE_HOST", "127.0.0.1")
        monkeypatch.setenv("BOENDE_PORT", str(server.port))
        assert main(["--months", "1", "--seed", "2"]) == 0
    assert "unexpected outcomes: 0" in capsys.readouterr().out


def test_the_command_names_the_address_it_could_not_reach(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("BOENDE_PORT", "9")
    assert main(["--months", "1"]) == 1
    assert "cannot reach Boende at http://127.0.0.1:9" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("host", "address"),
    [
        ("127.0.0.1", "http://127.0.0.1:8123"),
        ("0.0.0.0", "http://127.0.0.1:8123"),
        ("::", "http://[::1]:8123"),
        ("::1", "http://[::1]:8123"),
        ("boende.kommun.se", "http://boende.kommun.se:8123"),
    ],
)
def test_the_address_of_serve(host: str, address: str) -> None:
    assert api_address(Settings(host=host, port=8123)) == address
