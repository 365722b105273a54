"""A committee service can read its own write: ``min_position`` waits for the
read model (bounded), and says 503 ``projection_lagging`` when it cannot."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from infra.settings import Settings
from services.bootstrap import bootstrap
from services.http.app import create_app
from services.submission.service import parse
from tests.conftest import envelope


@pytest.fixture
def following(tmp_path: Path) -> Iterator[TestClient]:
    boende = bootstrap(Settings(data_dir=tmp_path, read_wait_seconds=2), follow=True)
    yield TestClient(create_app(boende))
    boende.close()


def test_min_position_sees_the_submission_just_made(following: TestClient) -> None:
    for n in range(5):
        written = following.post(
            "/v1/submissions", json=envelope("application_filed", f"c-{n}")
        )
        position = written.json()["position"]
        answer = following.get(
            "/v1/oversight/counts", params={"min_position": position}
        )
        assert answer.status_code == 200
        assert answer.json()["as_of_position"] >= position
        assert answer.json()["cases_by_state"]["filed"] == n + 1


def test_min_position_times_out_with_503_when_the_runner_is_stopped(
    tmp_path: Path,
) -> None:
    boende = bootstrap(
        Settings(data_dir=tmp_path, read_wait_seconds=0.3)
    )  # no follower
    try:
        client = TestClient(create_app(boende))
        written = client.post(
            "/v1/submissions", json=envelope("application_filed", "c-1")
        )
        answer = client.get(
            "/v1/oversight/counts", params={"min_position": written.json()["position"]}
        )
        assert answer.status_code == 503
        assert answer.json()["error"] == "projection_lagging"
        assert answer.headers["retry-after"]
        plain = client.get("/v1/oversight/counts").json()  # without it: what is there
        assert plain["as_of_position"] == 0
    finally:
        boende.close()


def test_on_postgresql_a_write_from_another_process_wakes_the_follower(
    postgres_url: str, tmp_path: Path
) -> None:
    """LISTEN/NOTIFY, not polling: the safety-net poll is set to a minute, so
    only the store's notification can bring the read model up in time."""
    settings = Settings(
        data_dir=tmp_path, database_url=postgres_url, projection_poll_seconds=60
    )
    reader = bootstrap(settings, follow=True)
    writer = bootstrap(settings)  # another instance: no in-process signal
    try:
        client = TestClient(create_app(reader))
        for n in range(3):
            written = writer.service.submit(
                parse(
                    json.dumps(envelope("application_filed", f"c-{n}")).encode(),
                    1 << 20,
                )
            )
            answer = client.get(
                "/v1/oversight/counts", params={"min_position": written.position}
            )
            assert answer.status_code == 200, answer.text
            assert answer.json()["cases_by_state"]["filed"] == n + 1
    finally:
        writer.close()
        reader.close()
