"""A committee service can read its own write: ``min_position`` waits for the
read model (bounded), and says 503 ``projection_lagging`` when it cannot."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from infra.settings import Settings
from services.api import create_app
from services.bootstrap import bootstrap
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
