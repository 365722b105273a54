"""When the store goes away, submissions get 503 with Retry-After and
nothing is half-written; readiness says so too."""

from __future__ import annotations

from pathlib import Path

import psycopg
from fastapi.testclient import TestClient

from infra.settings import Settings
from services.bootstrap import bootstrap
from services.http.app import create_app
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
