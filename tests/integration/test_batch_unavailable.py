"""The batch door when the store is slow or gone: a 503 means nothing of the
batch was recorded; otherwise each result says whether its envelope was.

The writer takes a batch's envelopes in order, a transaction at a time; the
request gives up on those still queued when its wait ends (from the last one
back), so what was recorded is a prefix of the batch, answered with its
positions, and the rest are ``unavailable`` and never recorded. A real
PostgreSQL that stops taking connections is 503 for the whole batch."""

from __future__ import annotations

import json
import threading
from pathlib import Path

import psycopg
from fastapi.testclient import TestClient

from infra.settings import Settings
from services.bootstrap import Boende, bootstrap
from services.http.app import create_app
from services.submission.committer import GroupCommitter
from tests.conftest import ADMIN_URL, envelope, later
from tests.integration.test_unavailable import GatedService

BATCH = "/v1/submissions/batch"


def test_what_the_writer_took_is_recorded_the_rest_is_not(
    sqlite_boende: Boende,
) -> None:
    """Two transactions of two: the first is held past the request's wait,
    so the second pair is given up while queued (503 each, never recorded)
    and the first pair is answered once its commit lands."""
    gated = GatedService(sqlite_boende.service)
    writer = GroupCommitter(gated, max_batch=2, timeout=0.3)  # type: ignore[arg-type]
    sqlite_boende.committer.close()
    sqlite_boende.committer = writer
    filed = envelope("application_filed", "c-prefix")
    envelopes = [
        filed,
        envelope("application_granted", "c-prefix", later(3)),
        envelope("application_filed", "c-given-up"),
        envelope("application_granted", "c-given-up", later(3)),
    ]
    opened = threading.Timer(1.0, gated.gate.set)  # after the request gave up
    opened.start()
    try:
        body = "".join(json.dumps(e) + "\n" for e in envelopes)
        response = TestClient(create_app(sqlite_boende)).post(
            BATCH, content=body, headers={"Content-Type": "application/x-ndjson"}
        )
    finally:
        opened.cancel()
        gated.gate.set()
        writer.close()
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
