"""A repeat is answered as a repeat, whichever process gets it: two real
``boende serve`` processes on one store (PostgreSQL, and one SQLite file),
fifty identical submissions at once, half to each. Every answer is 201 or
200, exactly one is 201, and all name one position.

Before, a process that looked for the receipt just before the other one
committed, then loaded the case just after, refused the repeat of a grant
with 409 ``transition_not_allowed`` (8 of ~3,400 repeats): now a refusal
reads the receipts again first. Each round files a case and grants it, fifty
times each; as many rounds as fit in ``BUDGET_S`` (at most ``ROUNDS``).
"""

from __future__ import annotations

import threading
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx
import pytest

from infra.settings import Settings
from tests.conftest import envelope
from tests.integration.test_durability import Serve

ROUNDS = 100
BUDGET_S = 30.0  # per engine
SENDERS = 50


@pytest.fixture
def two_servers(
    store_settings: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[tuple[Serve, Serve]]:
    monkeypatch.setenv("BOENDE_RUN_PROJECTIONS", "false")  # the log is enough
    first = Serve(store_settings, tmp_path / "first.log")
    second = Serve(store_settings, tmp_path / "second.log")
    yield first, second
    first.kill()
    second.kill()


def burst(
    pool: ThreadPoolExecutor, clients: list[httpx.Client], body: dict[str, Any]
) -> list[tuple[int, dict[str, Any]]]:
    """``SENDERS`` identical submissions released together, alternating
    between the two processes."""
    ready = threading.Barrier(SENDERS)

    def send(index: int) -> tuple[int, dict[str, Any]]:
        ready.wait()
        answer = clients[index % 2].post("/v1/submissions", json=body)
        return answer.status_code, answer.json()

    return list(pool.map(send, range(SENDERS)))


def test_identical_submissions_to_two_processes_are_one_fact(
    two_servers: tuple[Serve, Serve],
) -> None:
    clients = [httpx.Client(base_url=s.url, timeout=60) for s in two_servers]
    rounds, refused = 0, Counter[str]()
    started = time.monotonic()
    try:
        with ThreadPoolExecutor(SENDERS) as pool:
            while rounds < ROUNDS and time.monotonic() - started < BUDGET_S:
                case_id = f"c-{uuid.uuid4().hex[:12]}"
                for body in (
                    envelope("application_filed", case_id),
                    envelope("application_granted", case_id),
                ):
                    answers = burst(pool, clients, body)
                    statuses = Counter(status for status, _ in answers)
                    for status, answer in answers:
                        if status not in (200, 201):
                            refused[f"{status} {answer.get('error')}"] += 1
                    assert refused == Counter(), (body["type"], refused)
                    assert statuses[201] == 1, statuses
                    positions = {answer["position"] for _, answer in answers}
                    assert len(positions) == 1, positions
                rounds += 1
    finally:
        for client in clients:
            client.close()
    took = time.monotonic() - started
    print(
        f"\n{rounds} rounds of 2 x {SENDERS} identical submissions over two "
        f"processes in {took:.1f} s: every answer 201 once, else 200, one position"
    )
    assert rounds >= 10, "too few rounds to say anything"
