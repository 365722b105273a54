"""Shared fixtures: stores (real SQLite files, a real PostgreSQL database),
the application wired on them, and a live HTTP server on loopback.

PostgreSQL: each test that asks for it gets a database of its own, created on
the server at ``BOENDE_TEST_POSTGRES_URL`` (default: the local one). Locally a
missing server skips those tests with the reason; with ``CI`` set to any
truthy value (``1``, ``true``, ``yes``, any case: anything but empty, ``0``,
``false``, ``no``, ``off`` or ``n``) it fails them, so CI can never go green
without having run them.
"""

from __future__ import annotations

import json
import os
import socket
import threading
import time
import uuid
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit
from zoneinfo import ZoneInfo

import httpx
import psycopg
import pytest
import uvicorn
from fastapi.testclient import TestClient

from infra.broker import BROKERS, LocalBroker
from infra.settings import Settings
from infra.views import ViewStore
from projections.base import Projection
from services.bootstrap import Boende, bootstrap
from services.http.app import create_app
from services.projecting.runner import ProjectionRunner
from services.submission.examples import example

# Most tests call the API without tokens: authentication is off unless a test
# builds ``Settings(auth="jwt", ...)`` (tests/api/test_authorization_matrix.py,
# tests/integration/test_access_log.py). Production refuses "off".
os.environ.setdefault("BOENDE_AUTH", "off")

#: The municipality's "today" in every test, through the one clock the rules
#: read (``BOENDE_TODAY``, ``services.bootstrap.clock``), in this process and
#: the ``boende`` processes tests start: no test depends on the calendar.
TODAY = date(2026, 11, 30)
os.environ.setdefault("BOENDE_TODAY", TODAY.isoformat())

ADMIN_URL = os.environ.get(
    "BOENDE_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres"
)


def stockholm_today() -> date:
    """The tests' today: what the service's clock says (``TODAY``)."""
    return Settings().today or datetime.now(ZoneInfo("Europe/Stockholm")).date()


def _admin_connection() -> psycopg.Connection[Any]:
    return psycopg.connect(ADMIN_URL, autocommit=True, connect_timeout=3)


#: What ``CI`` may say to mean "this is not CI", in any case. Everything
#: else that is not empty means CI: a misspelt switch (``ture``) or a CI
#: system's own value (Woodpecker sets ``CI=woodpecker``) must not turn a
#: missing service into a quiet skip.
CI_FALSY = frozenset({"0", "false", "no", "off", "n"})


def ci_is_set(value: str | None = None) -> bool:
    """Whether ``CI`` (or ``value``) is truthy: anything but empty, ``0``,
    ``false``, ``no``, ``off`` or ``n`` (any case, spaces around ignored)."""
    text = os.environ.get("CI", "") if value is None else value
    word = text.strip().lower()
    return word != "" and word not in CI_FALSY


def skip_or_fail_on_ci(reason: str) -> None:
    """A missing service: skip locally with the reason, fail on CI."""
    if ci_is_set():
        pytest.fail(f"CI={os.environ.get('CI')} and {reason}")
    pytest.skip(reason)


def postgres_or_skip() -> None:
    """Fail on CI, skip locally, when PostgreSQL cannot be reached."""
    try:
        _admin_connection().close()
    except psycopg.OperationalError as error:
        skip_or_fail_on_ci(f"PostgreSQL unreachable at {ADMIN_URL}: {error}".strip())


@contextmanager
def fresh_postgres_database() -> Iterator[str]:
    """The URL of a new, empty PostgreSQL database, dropped afterwards;
    skips locally, fails on CI, without the server."""
    postgres_or_skip()
    name = f"boende_test_{os.getpid()}_{uuid.uuid4().hex[:8]}"
    with _admin_connection() as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    parts = urlsplit(ADMIN_URL)
    yield urlunsplit(parts._replace(path=f"/{name}"))
    with _admin_connection() as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
def postgres_url() -> Iterator[str]:
    """A fresh, empty PostgreSQL database for one test, dropped afterwards."""
    with fresh_postgres_database() as url:
        yield url


@pytest.fixture(params=["sqlite", "postgres"])
def store_settings(request: pytest.FixtureRequest, tmp_path: Path) -> Settings:
    """Settings for a fresh store: every test using this runs on both engines."""
    if request.param == "sqlite":
        return Settings(data_dir=tmp_path / "var")
    url = request.getfixturevalue("postgres_url")
    return Settings(data_dir=tmp_path / "var", database_url=url)


@pytest.fixture
def sqlite_settings(tmp_path: Path) -> Settings:
    return Settings(data_dir=tmp_path / "var")


@pytest.fixture
def boende(store_settings: Settings) -> Iterator[Boende]:
    running = bootstrap(store_settings)
    yield running
    running.close()


@pytest.fixture
def sqlite_boende(sqlite_settings: Settings) -> Iterator[Boende]:
    running = bootstrap(sqlite_settings)
    yield running
    running.close()


@pytest.fixture
def client(sqlite_boende: Boende) -> TestClient:
    return TestClient(create_app(sqlite_boende))


@pytest.fixture(scope="session", params=BROKERS)
def kafka_broker(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[LocalBroker]:
    """A real Kafka-protocol broker process on loopback; every Kafka test runs
    against both implementations. A broker that will not start fails the test."""
    data_dir = tmp_path_factory.mktemp(f"broker-{request.param}")
    broker = LocalBroker(request.param, free_port(), data_dir).start()
    yield broker
    broker.stop()


def view_rows(store: ViewStore, projection: Projection) -> dict[str, list[str]]:
    """Every row of ``projection``'s tables in ``store``, sorted, comparable
    across engines and across builds (live, rebuilt, fed from Kafka)."""
    with store.transaction(commit=False) as sql:
        return {
            table: sorted(
                json.dumps(row, sort_keys=True, default=str)
                for row in sql.all(f"SELECT * FROM {table}")
            )
            for table in projection.tables
        }


def runner_rows(runners: Iterable[ProjectionRunner]) -> dict[str, Any]:
    """Every runner's rows (``view_rows``) and tracking position."""
    rows: dict[str, Any] = {}
    for runner in runners:
        rows[f"{runner.projection.name}@"] = runner.store.position()
        rows.update(view_rows(runner.store, runner.projection))
    return rows


def kafka_settings(broker: LocalBroker, data_dir: Path, **overrides: Any) -> Settings:
    """Settings for a fresh store that talks to ``broker``."""
    return Settings(data_dir=data_dir, kafka_bootstrap=broker.bootstrap, **overrides)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


class LiveServer:
    """The real app under uvicorn on a loopback port, in a thread."""

    def __init__(self, boende: Boende) -> None:
        self.port = free_port()
        config = uvicorn.Config(
            create_app(boende), host="127.0.0.1", port=self.port, log_level="warning"
        )
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def __enter__(self) -> LiveServer:
        self.thread.start()
        deadline = time.monotonic() + 10
        while not self.server.started:
            if time.monotonic() > deadline:
                raise RuntimeError("server did not start")
            time.sleep(0.01)
        return self

    def __exit__(self, *_: object) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=10)


@pytest.fixture
def live_server(boende: Boende) -> Iterator[LiveServer]:
    with LiveServer(boende) as server:
        yield server


@pytest.fixture
def http(live_server: LiveServer) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=live_server.url, timeout=30) as c:
        yield c


class Ids:
    """Fresh ids so tests sharing a store never collide."""

    def __init__(self) -> None:
        self.prefix = uuid.uuid4().hex[:8]
        self.n = 0

    def next(self, kind: str) -> str:
        self.n += 1
        return f"{kind}-{self.prefix}-{self.n}"


@pytest.fixture
def ids() -> Ids:
    return Ids()


def envelope(
    event_type: str, key: str, day: date | str = "2021-03-15", **kw: Any
) -> dict[str, Any]:
    """A valid envelope of ``event_type`` for case/apartment ``key``."""
    id_field = "apartment_id" if event_type.startswith("apartment_") else "case_id"
    body = example(
        event_type,
        submission_id=str(uuid.uuid4()),
        occurred_on=str(day),
        **{id_field: key},
    )
    if "payload" in kw:
        body["payload"] = {**body["payload"], **kw.pop("payload")}
    body.update(kw)
    return body


Post = Callable[[dict[str, Any]], httpx.Response]


def later(days: int, start: date = date(2021, 3, 15)) -> str:
    return str(start + timedelta(days=days))
