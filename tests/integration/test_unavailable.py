"""When the store goes away, submissions get 503 with Retry-After and
nothing is half-written; readiness says so too. And the group-commit writer
never records a submission whose caller was told 503 (a real outage, under
load: ``test_outage.py``)."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import psycopg
import pytest
from eventsourcing.persistence import OperationalError
from fastapi.testclient import TestClient

from infra.settings import Settings
from services.bootstrap import Boende, bootstrap
from services.errors import StoreUnavailable
from services.http.app import create_app
from services.submission.committer import GroupCommitter
from services.submission.envelope import Envelope
from services.submission.service import Accepted, Outcome, SubmissionService, parse
from tests.conftest import ADMIN_URL, envelope


def test_store_outage_is_a_503_and_records_nothing(
    postgres_url: str, tmp_path: Path
) -> None:
    boende = bootstrap(Settings(data_dir=tmp_path, database_url=postgres_url))
    client = TestClient(create_app(boende))
    try:
        assert (
            client.post(
                "/v1/submissions", json=envelope("application_filed", "c-1")
            ).status_code
            == 201
        )
        name = postgres_url.rsplit("/", 1)[1]
        with psycopg.connect(ADMIN_URL, autocommit=True) as admin:
            admin.execute(f'ALTER DATABASE "{name}" WITH ALLOW_CONNECTIONS false')
            admin.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
                " WHERE datname = %s",
                [name],
            )
        response = client.post(
            "/v1/submissions", json=envelope("application_filed", "c-2")
        )
        assert response.status_code == 503, response.text
        assert response.json()["error"] == "unavailable"
        assert response.headers["retry-after"]
        assert client.get("/readyz").status_code == 503
        with psycopg.connect(ADMIN_URL, autocommit=True) as admin:
            admin.execute(f'ALTER DATABASE "{name}" WITH ALLOW_CONNECTIONS true')
        assert client.get("/v1/cases/c-2").status_code == 404  # nothing was recorded
        assert client.get("/v1/cases/c-1").json()["state"] == "filed"
    finally:
        boende.close()


class GatedService:
    """The real submission service, whose commits wait for a gate: the
    writer is busy with an earlier batch for as long as the test likes."""

    def __init__(self, service: SubmissionService) -> None:
        self.service = service
        self.gate = threading.Event()
        self.entered = threading.Event()

    def record_batch(
        self, subs: Sequence[Envelope], by: Sequence[Any] | None = None
    ) -> list[Outcome]:
        self.entered.set()
        self.gate.wait(timeout=30)
        return self.service.record_batch(subs, by)


def test_a_caller_gives_up_only_while_queued(sqlite_boende: Boende) -> None:
    """First a submission is taken and its commit held: its caller waits past
    its timeout, since it is being committed, and is answered 201. Behind it,
    a second one stays queued: its caller gives up (503) and the writer,
    free again, skips it, so it is never recorded."""
    gated = GatedService(sqlite_boende.service)
    writer = GroupCommitter(gated)  # type: ignore[arg-type]
    first = parse_envelope(envelope("application_filed", "c-taken"))
    second = parse_envelope(envelope("application_filed", "c-queued"))
    answers: dict[str, Outcome] = {}
    taken = threading.Thread(
        target=lambda: answers.setdefault("taken", writer.submit(first, timeout=0.2))
    )
    try:
        taken.start()
        assert gated.entered.wait(10), "the writer never took the first"
        queued = writer.submit(second, timeout=0.2)  # the writer is busy
        assert isinstance(queued, StoreUnavailable), queued
        time.sleep(0.5)  # the first's caller is past its timeout too
        assert taken.is_alive(), "gave up while its batch was being committed"
        gated.gate.set()
        taken.join(timeout=10)
    finally:
        gated.gate.set()
        writer.close()
    assert isinstance(answers["taken"], Accepted), answers
    recorded = sqlite_boende.app.recorder.select_receipts(  # type: ignore[attr-defined]
        [str(first.submission_id), str(second.submission_id)]
    )
    assert set(recorded) == {str(first.submission_id)}


def parse_envelope(body: dict[str, object]) -> Envelope:
    return parse(json.dumps(body).encode(), 65536)


def test_a_commit_cut_off_is_answered_by_its_receipts(
    sqlite_boende: Boende, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The connection is lost around the commit, so the service cannot tell
    whether it landed: it asks the receipts before answering. One commit
    landed (201, with its position); one did not (503, and not recorded);
    one did not the first time and is tried once more (201)."""
    app, service = sqlite_boende.app, sqlite_boende.service
    save = app.save

    def landed_then_lost(*args: Any, **kwargs: Any) -> Any:
        save(*args, **kwargs)
        raise OperationalError("server closed the connection unexpectedly")

    def lost_before(*args: Any, **kwargs: Any) -> Any:
        raise OperationalError("server closed the connection unexpectedly")

    landed = parse_envelope(envelope("application_filed", "c-landed"))
    monkeypatch.setattr(app, "save", landed_then_lost)
    outcome = service.record_batch([landed])[0]
    assert isinstance(outcome, Accepted) and outcome.position > 0, outcome
    lost = parse_envelope(envelope("application_filed", "c-lost"))
    monkeypatch.setattr(app, "save", lost_before)
    assert isinstance(service.record_batch([lost])[0], StoreUnavailable)
    failures = iter([OperationalError("a pooled connection left broken")])

    def broken_once(*args: Any, **kwargs: Any) -> Any:
        if error := next(failures, None):
            raise error
        return save(*args, **kwargs)

    again = parse_envelope(envelope("application_filed", "c-again"))
    monkeypatch.setattr(app, "save", broken_once)  # not recorded: tried once more
    assert isinstance(service.record_batch([again])[0], Accepted)
    monkeypatch.setattr(app, "save", save)
    ids = [str(s.submission_id) for s in (landed, lost, again)]
    found = app.recorder.select_receipts(ids)  # type: ignore[attr-defined]
    assert set(found) == {ids[0], ids[2]}
