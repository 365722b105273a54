"""``boende serve --workers 2``: a real server process on a free port with
two uvicorn workers and one ``boende project`` beside them (not one
follower per worker). Submissions sent over many connections land once
each, a repeat is answered as a repeat, the read models follow the log, and
SIGTERM stops the whole family."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from services.http import app as http_app
from tests.conftest import envelope, free_port

pytestmark = pytest.mark.slow

FILINGS = 40
CONNECTIONS = 8


@dataclass
class Family:
    process: subprocess.Popen[bytes]
    url: str
    log: Path


def children(pid: int) -> list[tuple[int, str]]:
    """The direct children of ``pid``: (pid, command line)."""
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as stat:
                parent = int(stat.read().rsplit(")", 1)[1].split()[1])
            with open(f"/proc/{entry}/cmdline", "rb") as line:
                command = line.read().replace(b"\0", b" ").decode()
        except (OSError, ValueError):
            continue  # gone meanwhile
        if parent == pid:
            found.append((int(entry), command))
    return found


@pytest.fixture
def family(tmp_path: Path) -> Iterator[Family]:
    port = free_port()
    env = os.environ | {
        "BOENDE_DATA_DIR": str(tmp_path / "var"),
        "BOENDE_PORT": str(port),
        "BOENDE_AUTH": "off",
    }
    for name in ("BOENDE_DATABASE_URL", "BOENDE_METRICS_PORT", "BOENDE_WEB_WORKERS"):
        env.pop(name, None)
    log = tmp_path / "serve.log"
    with log.open("wb") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "services.cli.main", "serve", "--workers", "2"],
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 120  # a shared, loaded host: generous
    try:
        while True:
            assert process.poll() is None, log.read_text()[-3000:]
            assert time.monotonic() < deadline, log.read_text()[-3000:]
            try:
                if httpx.get(f"{url}/readyz", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                time.sleep(0.1)
        yield Family(process, url, log)
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(60)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def post(url: str, bodies: list[dict[str, Any]]) -> list[tuple[int, dict[str, Any]]]:
    """``bodies`` over one keep-alive connection of its own."""
    with httpx.Client(base_url=url, timeout=60) as client:
        return [
            (answer.status_code, answer.json())
            for answer in (client.post("/v1/submissions", json=b) for b in bodies)
        ]


def test_two_workers_one_follower_and_every_submission_once(family: Family) -> None:
    family_members = children(family.process.pid)
    followers = [pid for pid, command in family_members if " project" in command]
    workers = [pid for pid, command in family_members if "spawn_main" in command]
    assert len(followers) == 1, family_members
    assert len(workers) == 2, family_members

    bodies = [envelope("application_filed", f"c-w{i}") for i in range(FILINGS)]
    shares = [bodies[i::CONNECTIONS] for i in range(CONNECTIONS)]
    with ThreadPoolExecutor(CONNECTIONS) as pool:
        first = [a for share in pool.map(post, [family.url] * CONNECTIONS, shares)
                 for a in share]  # fmt: skip
        again = [a for share in pool.map(post, [family.url] * CONNECTIONS, shares)
                 for a in share]  # fmt: skip
    assert [status for status, _ in first] == [201] * FILINGS, first
    assert [status for status, _ in again] == [200] * FILINGS, again
    assert all(answer["repeated"] for _, answer in again)
    positions = sorted(answer["position"] for _, answer in first)
    assert positions == list(range(1, FILINGS + 1))  # each landed once
    assert sorted(a["position"] for _, a in again) == positions

    ready = httpx.get(f"{family.url}/readyz", timeout=10).json()
    assert ready["position"] == FILINGS
    counts = httpx.get(
        f"{family.url}/v1/oversight/counts",
        params={"min_position": FILINGS},
        timeout=60,
    )
    assert counts.status_code == 200, counts.text
    assert counts.json()["filed_total"] == FILINGS
    assert counts.json()["as_of_position"] >= FILINGS

    family.process.send_signal(signal.SIGTERM)
    assert family.process.wait(60) in (0, -signal.SIGTERM)
    for pid, _ in family_members:  # no orphan worker or follower
        deadline = time.monotonic() + 30
        while os.path.exists(f"/proc/{pid}") and time.monotonic() < deadline:
            time.sleep(0.1)
        assert not _alive(pid), f"{pid} outlived serve"
    text = family.log.read_text()
    assert text.count("read models: one 'boende project' beside the workers") == 1
    assert text.count("following the case log for:") == 1


def _alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def test_a_worker_builds_its_app_without_a_follower(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    seen: list[bool] = []
    real = http_app.bootstrap

    def bootstrap(settings: Any, *, follow: bool = False) -> Any:
        seen.append(follow)
        return real(settings, follow=follow)

    monkeypatch.setenv("BOENDE_DATA_DIR", str(tmp_path / "var"))
    monkeypatch.setenv("BOENDE_AUTH", "off")
    monkeypatch.setenv("BOENDE_HTTP_READ_TIMEOUT_SECONDS", "7")
    monkeypatch.setattr(http_app, "bootstrap", bootstrap)
    app = http_app.worker_app()
    try:
        assert seen == [False]
        protocol = http_app.http_server.protocol_path().rsplit(":", 1)[1]
        assert getattr(http_app.http_server, protocol).read_timeout == 7
    finally:
        app.state.boende.close()
        http_app.http_server.configure(10.0, 1000)


def test_metrics_port_with_several_workers_is_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from infra.settings import Settings

    settings = Settings(
        data_dir=tmp_path / "var", auth="off", web_workers=2, metrics_port=free_port()
    )
    assert http_app.run(settings) == 2
    assert "BOENDE_METRICS_PORT" in capsys.readouterr().err
