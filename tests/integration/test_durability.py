"""A 2xx means durable: a real ``boende serve`` killed with SIGKILL right
after it answered 201 has, once restarted, every fact it acknowledged, and
none twice.

Two shapes of load, on SQLite and PostgreSQL: one client at a time (each
submission its own commit), and sixteen at once (the group-commit writer
records them in shared transactions). A killer watches the answers and
kills the server the moment a chosen number of 201s has come back, while
other requests are still in flight. Three kills per run, each on the store
the last one left.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
import uuid
from collections import Counter
from pathlib import Path

import httpx
import pytest

from infra.settings import Settings
from services.bootstrap import bootstrap
from tests.conftest import envelope, free_port

ROUNDS = 3
KILL_AFTER = 40  # acknowledgements before the kill, per round


class Serve:
    """``boende serve`` in a subprocess on a free port."""

    def __init__(self, settings: Settings, log: Path) -> None:
        self.port = free_port()
        env = os.environ | {
            "BOENDE_DATA_DIR": str(settings.data_dir),
            "BOENDE_PORT": str(self.port),
            "BOENDE_AUTH": "off",
        }
        env.pop("BOENDE_DATABASE_URL", None)
        if settings.database_url:
            env["BOENDE_DATABASE_URL"] = settings.database_url
        self.log = log.open("ab")
        command = [sys.executable, "-m", "services.cli.main", "serve"]
        self.process = subprocess.Popen(
            command, env=env, stdout=self.log, stderr=self.log
        )
        self.url = f"http://127.0.0.1:{self.port}"
        deadline = time.monotonic() + 60
        while True:
            assert self.process.poll() is None, log.read_text()[-2000:]
            assert time.monotonic() < deadline, "the server did not start"
            try:
                if httpx.get(f"{self.url}/readyz", timeout=1).status_code == 200:
                    return
            except httpx.TransportError:
                time.sleep(0.05)

    def kill(self) -> None:
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(timeout=30)
        self.log.close()


def load_until_killed(server: Serve, clients: int) -> list[str]:
    """Submit fresh filings from ``clients`` threads; SIGKILL the server as
    soon as ``KILL_AFTER`` have been answered 201. The acknowledged ids."""
    acknowledged: list[str] = []
    lock = threading.Lock()
    killed = threading.Event()

    def client() -> None:
        with httpx.Client(base_url=server.url, timeout=10) as http:
            while not killed.is_set():
                body = envelope("application_filed", f"c-{uuid.uuid4().hex[:12]}")
                try:
                    answer = http.post("/v1/submissions", json=body)
                except httpx.TransportError:
                    return  # the server is gone: this one was never answered
                if answer.status_code != 201:
                    continue  # not acknowledged: nothing promised
                with lock:
                    acknowledged.append(body["submission_id"])
                    if len(acknowledged) == KILL_AFTER:
                        server.kill()  # right after the answer, others in flight
                        killed.set()

    threads = [threading.Thread(target=client) for _ in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert killed.is_set(), "the server was never killed"
    return acknowledged


def recorded_submissions(settings: Settings) -> Counter[str]:
    """How many events of each submission the log holds."""
    boende = bootstrap(settings)
    try:
        notes = boende.app.recorder.select_notifications(0, 1_000_000)
        events = [boende.app.mapper.to_domain_event(n) for n in notes]
        return Counter(str(event.submission_id) for event in events)
    finally:
        boende.close()


@pytest.mark.slow
@pytest.mark.parametrize("clients", [1, 16], ids=["one-at-a-time", "group-commit"])
def test_every_acknowledged_fact_survives_sigkill_once(
    store_settings: Settings, tmp_path: Path, clients: int
) -> None:
    acknowledged: list[str] = []
    for _ in range(ROUNDS):
        server = Serve(store_settings, tmp_path / "serve.log")
        acknowledged += load_until_killed(server, clients)
    found = recorded_submissions(store_settings)
    missing = [s for s in acknowledged if s not in found]
    assert missing == [], f"{len(missing)} acknowledged facts lost"
    twice = {s: n for s, n in found.items() if n != 1}
    assert twice == {}, "a filing recorded more than once"
    assert len(acknowledged) >= ROUNDS * KILL_AFTER
