"""The simulator against the real application: a SQLite store in a temporary
directory, served in-process (``TestClient``) and over loopback HTTP (the CLI)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from infra.settings import Settings
from services.bootstrap import Boende, bootstrap
from services.cli import main as cli
from services.http.app import create_app
from services.simulation.behaviour import Plan
from services.simulation.player import main, plan, send
from tests.conftest import LiveServer


@pytest.fixture
def running(tmp_path: Path) -> Iterator[Boende]:
    boende = bootstrap(Settings(data_dir=tmp_path / "var"))
    yield boende
    boende.close()


def position(boende: Boende) -> int:
    return boende.app.recorder.max_notification_id() or 0


def check_first_send(world: Plan, statuses: list[int]) -> None:
    for index, (status, item) in enumerate(zip(statuses, world.items, strict=True)):
        if item.valid:
            assert status == 201, (index, item.envelope["type"], status)
        else:
            assert 400 <= status < 500, (index, item.kind, status)


def test_six_months_then_a_resend_records_each_fact_once(running: Boende) -> None:
    world = plan(6, seed=11, invalid_share=0.05)
    assert world.expectations.count(False) > 10
    with TestClient(create_app(running)) as client:
        first = send(
            world.envelopes, client, concurrency=4, expect_valid=world.expectations
        )
        check_first_send(world, first.statuses)
        assert first.unexpected == 0
        recorded = position(running)
        assert first.max_position == recorded

        again = send(
            world.envelopes, client, concurrency=4, expect_valid=world.expectations
        )
        for status, item in zip(again.statuses, world.items, strict=True):
            assert status == 200 if item.valid else 400 <= status < 500
        assert again.unexpected == 0
        assert position(running) == recorded

        for state in sorted(set(world.case_states.values())):
            case_id = next(k for k, v in world.case_states.items() if v == state)
            view = client.get(f"/v1/cases/{case_id}").json()
            assert view["state"] == state, case_id
            assert view["apartment_id"] == world.tenancies.get(case_id)
        for state in sorted(set(world.apartment_states.values())):
            flat = next(k for k, v in world.apartment_states.items() if v == state)
            view = client.get(f"/v1/apartments/{flat}").json()
            assert view["state"] == state, flat


def test_the_command_sends_over_http_and_prints_no_personal_data(
    running: Boende, capsys: pytest.CaptureFixture[str]
) -> None:
    argv = ["--months", "2", "--seed", "4", "--invalid-share", "0.05"]
    with LiveServer(running) as server:
        assert main([*argv, "--base-url", server.url, "--concurrency", "8"]) == 0
    printed = capsys.readouterr().out
    assert "unexpected outcomes: 0" in printed
    assert_no_personal_data(printed, plan(2, seed=4, invalid_share=0.05))


def test_the_command_writes_json_lines_instead(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "plan.jsonl"
    assert main(["--months", "3", "--start", "2024-01-08", "--out", str(out)]) == 0
    lines = out.read_text(encoding="utf-8").splitlines()
    world = plan(3, 1, start=date(2024, 1, 8))
    assert [json.loads(line) for line in lines] == world.envelopes
    assert_no_personal_data(capsys.readouterr().out, world)


def test_boende_simulate_passes_its_options_on(tmp_path: Path) -> None:
    out = tmp_path / "plan.jsonl"
    assert cli.main(["simulate", "--months", "1", "--out", str(out)]) == 0


def test_boende_simulate_after_a_double_dash(tmp_path: Path) -> None:
    out = tmp_path / "plan.jsonl"
    assert cli.main(["simulate", "--", "--months", "1", "--out", str(out)]) == 0
    assert out.read_text(encoding="utf-8").count("\n") > 10


def test_an_unreachable_service_fails_the_run(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["--months", "1", "--base-url", "http://127.0.0.1:9"]) == 1
    assert "cannot reach" in capsys.readouterr().err


def assert_no_personal_data(printed: str, world: Plan) -> None:
    for env in world.envelopes:
        if env["type"] == "application_filed":
            applicant = env["payload"]["applicant"]
            assert applicant["personnummer"] not in printed
            assert applicant.get("name", "\0") not in printed
