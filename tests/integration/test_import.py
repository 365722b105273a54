"""``boende import``: a simulated case system's history (``boende simulate
--out``) through a real ``boende serve`` on a free port, on SQLite and on
PostgreSQL. Every line is recorded, a second import is all repeats, and the
read models are those of the same history sent one by one through the
single door to a store of its own.

Two stores of one history differ only in when each fact was recorded: every
other column of every read model (positions, versions, submission ids, states,
dates, counts) must be equal."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from infra.settings import Settings
from services.bootstrap import bootstrap
from services.cli.main import main as boende
from services.http.app import create_app
from services.simulation.player import main as simulate
from services.simulation.player import send
from tests.conftest import LiveServer, envelope, fresh_postgres_database, later
from tests.integration.test_durability import Serve

pytestmark = pytest.mark.slow

#: The columns that differ between two stores of one history: when each fact
#: was recorded (``recorded_at``, ``executed_recorded_at`` ...).
RECORDED = "recorded_at"


def history(tmp_path: Path, months: int = 3) -> tuple[Path, list[dict[str, Any]]]:
    path = tmp_path / "history.ndjson"
    assert simulate(["--months", str(months), "--seed", "3", "--out", str(path)]) == 0
    lines = path.read_text(encoding="utf-8").splitlines()
    return path, [json.loads(line) for line in lines]


def run_import(path: Path, url: str, *more: str) -> subprocess.CompletedProcess[str]:
    """The real command, in a process of its own."""
    command = [sys.executable, "-m", "services.cli.main", "import", str(path)]
    return subprocess.run(
        [*command, "--base-url", url, *more],
        capture_output=True,
        text=True,
        timeout=600,
        env=os.environ | {"BOENDE_AUTH": "off"},
    )


def read_models(settings: Settings) -> dict[str, list[str]]:
    """Every read model's rows, caught up with the log, without the columns
    that differ between two stores of one history."""
    boende = bootstrap(settings)
    try:
        rows: dict[str, list[str]] = {}
        for runner in boende.runners:
            runner.catch_up()
            rows[f"{runner.projection.name}@"] = [str(runner.store.position())]
            with runner.store.transaction(commit=False) as sql:
                for table in runner.projection.tables:
                    rows[table] = sorted(
                        json.dumps(_kept(row), sort_keys=True, default=str)
                        for row in sql.all(f"SELECT * FROM {table}")
                    )
        return rows
    finally:
        boende.close()


def _kept(row: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in row.items() if RECORDED not in k}


@pytest.fixture
def second_store(store_settings: Settings, tmp_path: Path) -> Iterator[Settings]:
    """A store of its own on the same engine, for the one-by-one history."""
    with ExitStack() as stack:
        url = None
        if store_settings.database_url:
            url = stack.enter_context(fresh_postgres_database())
        yield Settings(data_dir=tmp_path / "one-by-one", database_url=url)


def test_an_imported_history_equals_one_sent_one_by_one(
    store_settings: Settings, second_store: Settings, tmp_path: Path
) -> None:
    path, envelopes = history(tmp_path)
    server = Serve(store_settings, tmp_path / "serve.log")
    try:
        first = run_import(path, server.url, "--chunk", "64")
        assert first.returncode == 0, first.stdout + first.stderr
        assert f"{len(envelopes)} recorded, 0 repeats, 0 refused" in first.stdout
        assert "importing submissions" in first.stderr  # the progress' last line
        again = run_import(path, server.url)
        assert again.returncode == 0, again.stdout + again.stderr
        assert f"0 recorded, {len(envelopes)} repeats, 0 refused" in again.stdout
    finally:
        server.kill()

    alone = bootstrap(second_store)
    try:
        with TestClient(create_app(alone)) as client:
            summary = send(envelopes, client, concurrency=1)
        assert summary.unexpected == 0 and summary.by_status[201] == len(envelopes)
    finally:
        alone.close()
    imported, one_by_one = read_models(store_settings), read_models(second_store)
    assert imported.keys() == one_by_one.keys()
    for table, rows in one_by_one.items():
        assert imported[table] == rows, table
    assert sum(len(rows) for rows in imported.values()) > len(envelopes)


def test_refusals_are_summed_up_by_line_and_code(
    sqlite_settings: Settings, tmp_path: Path
) -> None:
    path = tmp_path / "mistakes.ndjson"
    secret = "19850317-1236 Anna Andersson"
    lines = [
        json.dumps(envelope("application_filed", "c-imp-1")),
        "",  # blank lines are skipped, and still counted as lines of the file
        json.dumps(envelope("application_granted", "c-imp-1", later(2))),
        json.dumps(envelope("application_granted", "c-imp-1", later(3))),  # 409
        secret,  # not JSON
        json.dumps(envelope("application_withdrawn", "c-imp-nobody")),  # 404
    ]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    server = Serve(sqlite_settings, tmp_path / "serve.log")
    try:
        done = run_import(path, server.url, "--chunk", "2")
    finally:
        server.kill()
    assert done.returncode == 1, done.stdout + done.stderr
    assert "2 recorded, 0 repeats, 3 refused" in done.stdout
    assert "invalid_submission 1, not_found 1, transition_not_allowed 1" in done.stdout
    assert "line 4: 409 transition_not_allowed" in done.stdout
    assert "line 5: 422 invalid_submission" in done.stdout
    assert "line 6: 404 not_found" in done.stdout
    assert "Andersson" not in done.stdout + done.stderr
    assert "19850317" not in done.stdout + done.stderr


def test_each_committee_is_sent_with_its_own_minted_token(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """With tokens checked, IFN's and ALN's lines go in chunks of their own,
    each with a case_system token bound to its committee."""
    data_dir = tmp_path / "var"
    monkeypatch.setenv("BOENDE_AUTH", "jwt")
    monkeypatch.setenv("BOENDE_DATA_DIR", str(data_dir))
    path, envelopes = history(tmp_path, months=1)
    committees = {e["actor"]["committee"] for e in envelopes}
    assert committees == {"IFN", "ALN"}
    running = bootstrap(Settings(data_dir=data_dir, auth="jwt"))
    try:
        with LiveServer(running) as server:
            code = boende(["import", str(path), "--base-url", server.url])
    finally:
        running.close()
    out = capsys.readouterr().out
    assert code == 0, out
    assert f"{len(envelopes)} recorded, 0 repeats, 0 refused" in out


def test_a_missing_file_or_server_is_exit_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert boende(["import", str(tmp_path / "none.ndjson")]) == 2
    path = tmp_path / "one.ndjson"
    path.write_text(json.dumps(envelope("application_filed", "c-x")) + "\n")
    assert boende(["import", str(path), "--base-url", "http://127.0.0.1:9"]) == 2
    assert "cannot reach Boende at http://127.0.0.1:9" in capsys.readouterr().err
