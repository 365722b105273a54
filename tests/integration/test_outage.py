"""A PostgreSQL outage under load: a 2xx means recorded, anything else means
nothing was, now or later; reads and readiness answer 503 within a bounded
time; writes come back within seconds of the database.

The test runs a PostgreSQL server of its own (``own_postgres``) and a real
``boende serve`` on it, submits fresh filings from several client threads,
stops the server (``pg_ctl stop -m fast``) for 10 s and, marked slow, for
45 s, and starts it again. A prober reads ``/readyz`` and a case meanwhile.
Afterwards the log is read: every 201 is in it once, no 503 is in it, and
nothing but 201 and 503 was answered. The recovery time (the server back to
the first 201) is printed; docs/reliability.md has the figures.
"""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest

from infra.settings import Settings
from services.bootstrap import bootstrap
from tests.conftest import envelope
from tests.integration.own_postgres import OwnPostgres
from tests.integration.test_durability import Serve

CLIENTS = 6
READ_BOUND_S = 6.0  # readiness and reads answer within this in the outage
RECOVERY_BOUND_S = 15.0  # the first 201 after the server is back


@dataclass
class Load:
    """What the clients sent and were answered, and when."""

    answers: dict[str, int] = field(default_factory=dict)  # submission id -> status
    created_at: list[float] = field(default_factory=list)  # when each 201 came
    unanswered: list[str] = field(default_factory=list)  # transport errors
    slowest_read_s: float = 0.0
    read_statuses: set[int] = field(default_factory=set)
    lock: threading.Lock = field(default_factory=threading.Lock)
    stop: threading.Event = field(default_factory=threading.Event)


@pytest.fixture
def own_postgres() -> Iterator[OwnPostgres]:
    server = OwnPostgres().start()
    yield server
    server.remove()


def submit_until_stopped(url: str, load: Load) -> None:
    with httpx.Client(base_url=url, timeout=120) as http:
        while not load.stop.is_set():
            body = envelope("application_filed", f"c-{uuid.uuid4().hex[:12]}")
            try:
                status = http.post("/v1/submissions", json=body).status_code
            except httpx.TransportError:
                with load.lock:
                    load.unanswered.append(body["submission_id"])
                continue
            with load.lock:
                load.answers[body["submission_id"]] = status
                if status == 201:
                    load.created_at.append(time.monotonic())
            if status == 503:
                time.sleep(0.2)  # as a sender honouring Retry-After would, briefly


def probe_until_stopped(url: str, case_id: str, load: Load) -> None:
    """Readiness and a case read, timed; in the outage they must say 503."""
    with httpx.Client(base_url=url, timeout=60) as http:
        while not load.stop.is_set():
            for path in ("/readyz", f"/v1/cases/{case_id}"):
                started = time.monotonic()
                status = http.get(path).status_code
                took = time.monotonic() - started
                with load.lock:
                    load.slowest_read_s = max(load.slowest_read_s, took)
                    load.read_statuses.add(status)
            time.sleep(0.2)


def recorded(settings: Settings, ids: list[str]) -> set[str]:
    """The submission ids whose receipts the log holds."""
    boende = bootstrap(settings)
    try:
        found = boende.app.recorder.select_receipts(ids)  # type: ignore[attr-defined]
        return set(found)
    finally:
        boende.close()


def run_outage(
    own_postgres: OwnPostgres, tmp_path: Path, outage_s: float
) -> tuple[Load, float]:
    settings = Settings(data_dir=tmp_path / "var", database_url=own_postgres.url)
    server = Serve(settings, tmp_path / "serve.log")
    load = Load()
    try:
        first = httpx.post(
            f"{server.url}/v1/submissions",
            json=envelope("application_filed", "c-probe"),
            timeout=30,
        )
        assert first.status_code == 201, first.text
        threads = [
            threading.Thread(target=submit_until_stopped, args=(server.url, load))
            for _ in range(CLIENTS)
        ]
        threads.append(
            threading.Thread(
                target=probe_until_stopped, args=(server.url, "c-probe", load)
            )
        )
        for thread in threads:
            thread.start()
        time.sleep(2)  # normal load first
        own_postgres.stop()
        time.sleep(outage_s)
        before_outage_end = len(load.created_at)
        own_postgres.start()
        back_at = time.monotonic()
        deadline = back_at + 60
        while time.monotonic() < deadline:
            with load.lock:
                after = [t for t in load.created_at if t >= back_at]
            if after:
                break
            time.sleep(0.05)
        recovery_s = (min(after) - back_at) if after else float("inf")
        time.sleep(2)  # load after the recovery
        load.stop.set()
        for thread in threads:
            thread.join(timeout=150)
        assert not any(t.is_alive() for t in threads), "a client never returned"
    finally:
        server.kill()
    assert before_outage_end > 0, "nothing was recorded before the outage"
    load.answers["(first)"] = 201
    found = recorded(settings, [s for s in load.answers if s != "(first)"])
    statuses = set(load.answers.values())
    created = {s for s, status in load.answers.items() if status == 201} - {"(first)"}
    refused = {s for s, status in load.answers.items() if status != 201}
    print(
        f"\noutage {outage_s:g} s: {len(created)} recorded (201), "
        f"{len(refused)} answered 503, {len(load.unanswered)} unanswered; "
        f"writes back {recovery_s:.2f} s after the server; slowest read or "
        f"readiness answer {load.slowest_read_s:.2f} s"
    )
    assert statuses <= {201, 503}, f"answers other than 201 and 503: {statuses}"
    assert 503 in statuses, "the outage was never felt"
    assert created - found == set(), "a 201 that is not in the log"
    assert refused & found == set(), "a 503 that was recorded after all"
    assert load.read_statuses <= {200, 503}, load.read_statuses
    assert 503 in load.read_statuses, "readiness never said the store was away"
    assert load.slowest_read_s < READ_BOUND_S, load.slowest_read_s
    assert recovery_s < RECOVERY_BOUND_S, recovery_s
    return load, recovery_s


def test_a_ten_second_outage(own_postgres: OwnPostgres, tmp_path: Path) -> None:
    run_outage(own_postgres, tmp_path, 10)


@pytest.mark.slow
def test_a_forty_five_second_outage(own_postgres: OwnPostgres, tmp_path: Path) -> None:
    run_outage(own_postgres, tmp_path, 45)
