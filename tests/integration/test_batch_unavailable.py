"""The batch door when the store is slow or gone: a 503 means nothing of the
batch was recorded; otherwise each result says whether its envelope was.

The writer takes a batch's envelopes in order, a transaction at a time; the
request gives up on those still queued when its wait ends (from the last one
back), so what was recorded is a prefix of the batch, answered with its
positions, and the rest are ``unavailable`` and never recorded. A real
PostgreSQL that stops taking connections is 503 for the whole batch."""

from __future__ import annotations

import json
import queue
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import psycopg
import pytest
from fastapi.testclient import TestClient

from infra.settings import Settings
from services.bootstrap import Boende, bootstrap
from services.http.app import create_app
from services.submission.committer import GroupCommitter, Pending
from services.submission.envelope import Envelope
from services.submission.service import Outcome, SubmissionService
from tests.conftest import ADMIN_URL, envelope, later
from tests.integration.test_unavailable import parse_envelope

BATCH = "/v1/submissions/batch"


class HeldService:
    """The real submission service, each of whose transactions waits until
    the test lets it go: the writer is busy for exactly as long as the test
    says, and the test sees each transaction the writer takes."""

    def __init__(self, service: SubmissionService) -> None:
        self.service = service
        self.taken: queue.Queue[tuple[int, threading.Event]] = queue.Queue()
        self.held: list[threading.Event] = []

    def record_batch(
        self, subs: Sequence[Envelope], by: Sequence[Any] | None = None
    ) -> list[Outcome]:
        go = threading.Event()
        self.held.append(go)
        self.taken.put((len(subs), go))
        go.wait(timeout=30)
        return self.service.record_batch(subs, by)

    def next_transaction(self) -> tuple[int, threading.Event]:
        """How many submissions the writer's next transaction took, and the
        event that lets it commit."""
        return self.taken.get(timeout=10)

    def release_all(self) -> None:
        for go in self.held:
            go.set()


def test_what_the_writer_took_is_recorded_the_rest_is_not(
    sqlite_boende: Boende, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The batch queues behind an earlier submission whose transaction is
    held. When the request's wait ends, the writer is let go and takes the
    batch's first pair into a transaction of two, held in turn; the request
    gives up the pair still queued (503 each, never recorded) and the first
    pair is answered once its commit lands.

    Each step waits for the one before it, not for the clock: the request's
    give-up is where the test lets the writer on. (It used to open the gate
    on a 1.0 s timer and lost whenever the request took over 0.7 s to reach
    the writer: under faketime, whose GIL thrash slowed the app's first
    request to 2 s; docs/testing.md, "The clock set years ahead".)"""
    held = HeldService(sqlite_boende.service)
    writer = GroupCommitter(held, max_batch=2, timeout=0.3)  # type: ignore[arg-type]
    sqlite_boende.committer.close()
    sqlite_boende.committer = writer
    envelopes = [
        envelope("application_filed", "c-prefix"),
        envelope("application_granted", "c-prefix", later(3)),
        envelope("application_filed", "c-given-up"),
        envelope("application_granted", "c-given-up", later(3)),
    ]
    earlier = parse_envelope(envelope("application_filed", "c-earlier"))
    busy = threading.Thread(target=writer.submit, args=(earlier, 30.0))
    decided: list[Pending] = []
    pair: list[tuple[int, threading.Event]] = []
    abandon = Pending.abandon

    def the_wait_ended(pending: Pending) -> bool:
        if not decided:  # before giving any up: the writer takes the first pair
            busy_transaction.set()
            pair.append(held.next_transaction())
        decided.append(pending)
        given_up = abandon(pending)
        if len(decided) == len(envelopes):  # all decided: the pair may commit
            pair[0][1].set()
        return given_up

    try:
        busy.start()
        _, busy_transaction = held.next_transaction()  # the batch queues behind it
        monkeypatch.setattr(Pending, "abandon", the_wait_ended)
        body = "".join(json.dumps(e) + "\n" for e in envelopes)
        response = TestClient(create_app(sqlite_boende)).post(
            BATCH, content=body, headers={"Content-Type": "application/x-ndjson"}
        )
    finally:
        held.release_all()
        busy.join(timeout=10)
        writer.close()
    assert [size for size, _ in pair] == [2], "the writer took a pair"
    assert response.status_code == 200, response.text
    results = response.json()["results"]
    assert [r["status"] for r in results] == [201, 201, 503, 503]
    assert results[2]["error"] == results[3]["error"] == "unavailable"
    recorded = sqlite_boende.app.recorder.select_receipts(  # type: ignore[attr-defined]
        [e["submission_id"] for e in envelopes]
    )
    assert set(recorded) == {e["submission_id"] for e in envelopes[:2]}


def test_a_store_outage_is_a_503_for_the_whole_batch(
    postgres_url: str, tmp_path: Path
) -> None:
    boende = bootstrap(Settings(data_dir=tmp_path, database_url=postgres_url))
    client = TestClient(create_app(boende))
    headers = {"Content-Type": "application/x-ndjson"}
    name = postgres_url.rsplit("/", 1)[1]
    try:
        first = json.dumps(envelope("application_filed", "c-before")) + "\n"
        assert client.post(BATCH, content=first, headers=headers).status_code == 200
        with psycopg.connect(ADMIN_URL, autocommit=True) as admin:
            admin.execute(f'ALTER DATABASE "{name}" WITH ALLOW_CONNECTIONS false')
            admin.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
                " WHERE datname = %s",
                [name],
            )
        envelopes = [
            envelope("application_filed", "c-during"),
            envelope("application_granted", "c-during", later(3)),
            envelope("application_granted", "c-before", later(3)),
        ]
        body = "".join(json.dumps(e) + "\n" for e in envelopes)
        response = client.post(BATCH, content=body, headers=headers)
        assert response.status_code == 503, response.text
        assert response.json()["error"] == "unavailable"
        assert response.headers["retry-after"]
        with psycopg.connect(ADMIN_URL, autocommit=True) as admin:
            admin.execute(f'ALTER DATABASE "{name}" WITH ALLOW_CONNECTIONS true')
        assert client.get("/v1/cases/c-during").status_code == 404
        assert client.get("/v1/cases/c-before").json()["state"] == "filed"
    finally:
        boende.close()
