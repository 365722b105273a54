"""Log lines, as the operator reads them: JSON or text, one access line per
request with its id, and never a personnummer, a name or a free-text note,
whatever the request carried (the bad-input suite's cases included)."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient

from infra import logs
from infra.logs import Format
from services.bootstrap import Boende
from services.http.app import create_app
from services.privacy.rights import erase
from services.submission.examples import EXAMPLE_PERSONNUMMER
from tests.api.test_bad_input import CASES, SECRET_NAME
from tests.conftest import Ids, envelope, later

NOTE = "Kalle Karlsson ringde om Annas skulder"  # a free-text note naming people
PERSONAL = [
    EXAMPLE_PERSONNUMMER,  # 19850317-1236
    EXAMPLE_PERSONNUMMER.replace("-", ""),
    EXAMPLE_PERSONNUMMER[2:],  # 850317-1236
    "Test Testsson",  # the example applicant's name
    SECRET_NAME,
    "Kalle Karlsson",
    "skulder",
]

JSON = {"content-type": "application/json"}


@pytest.fixture(params=["text", "json"])
def captured(
    request: pytest.FixtureRequest, client: TestClient
) -> Iterator[io.StringIO]:
    """Every log line of the process, in the format asked for, at DEBUG."""
    stream = io.StringIO()
    logs.configure("DEBUG", request.param, stream)
    yield stream
    logs.configure("INFO", "text")


def post(client: TestClient, body: dict[str, Any]) -> Any:
    return client.post("/v1/submissions", json=body)


def test_no_personal_data_reaches_a_log_line(
    captured: io.StringIO, client: TestClient, sqlite_boende: Boende, ids: Ids
) -> None:
    requests = 0
    for make, status, _ in CASES.values():  # the bad-input suite, every case
        body = make()
        sent = (
            client.post("/v1/submissions", content=body, headers=JSON)
            if isinstance(body, bytes)
            else post(client, body)
        )
        assert sent.status_code == status
        requests += 1
    case = ids.next("c")
    filing = envelope(
        "application_filed",
        case,
        payload={
            "applicant": {"personnummer": EXAMPLE_PERSONNUMMER, "name": SECRET_NAME}
        },
    )
    assert post(client, filing).status_code == 201
    assert post(client, {**filing, "case_id": f"{case}!"}).status_code == 422
    assert (
        post(client, envelope("application_granted", case, later(7))).status_code == 201
    )
    delay = envelope(
        "delay_reason_recorded",
        case,
        later(60),
        payload={"reason": "other", "note": NOTE},
    )
    assert post(client, delay).status_code in (201, 422)
    withdrawn = envelope(
        "application_withdrawn", case, later(61), payload={"reason": NOTE}
    )
    assert post(client, withdrawn).status_code == 409  # granted: not allowed
    read = client.get(
        f"/v1/cases/{case}/applicant",
        headers={
            "X-Purpose": "handläggning".encode(),  # type: ignore[dict-item]
            "X-Purpose-Note": f"ringde {SECRET_NAME}".encode(),  # type: ignore[dict-item]
        },
    )
    assert read.status_code == 200 and read.json()["applicant"]["name"] == SECRET_NAME
    requests += 6
    erase(sqlite_boende, EXAMPLE_PERSONNUMMER, "dataskydd-1")

    text = captured.getvalue()
    access_lines = [line for line in text.splitlines() if "boende.access" in line]
    assert len(access_lines) == requests  # the run was logged: no vacuous pass
    for personal in PERSONAL:
        assert personal not in text, f"{personal!r} reached a log line"


def json_lines(stream: io.StringIO) -> list[dict[str, Any]]:
    return [json.loads(line) for line in stream.getvalue().splitlines() if line]


def test_json_lines_carry_the_request_id_and_the_route_template(
    client: TestClient, ids: Ids
) -> None:
    stream = io.StringIO()
    logs.configure("INFO", "json", stream)
    try:
        case = ids.next("c")
        filed = post(client, envelope("application_filed", case))
        refused = post(client, envelope("application_filed", case))  # a new id: 409
        looked_up = client.get(f"/v1/cases/{case}")
    finally:
        logs.configure("INFO", "text")
    lines = json_lines(stream)
    assert all({"time", "level", "logger", "message"} <= set(line) for line in lines)
    access = [line for line in lines if line["logger"] == "boende.access"]
    assert [(a["method"], a["route"], a["status"]) for a in access] == [
        ("POST", "/v1/submissions", 201),
        ("POST", "/v1/submissions", 409),
        ("GET", "/v1/cases/{case_id}", 200),
    ]
    assert case not in json.dumps(access)  # the template, never the path
    for line, response in zip(access, (filed, refused, looked_up), strict=True):
        assert line["request_id"] == response.headers["X-Request-ID"]
        assert line["duration_ms"] >= 0 and line["sub"]
    assert refused.json()["request_id"] == refused.headers["X-Request-ID"]


def test_a_plain_request_id_is_kept_and_anything_else_replaced(
    client: TestClient,
) -> None:
    kept = client.get("/healthz", headers={"X-Request-ID": "lb-7f3a.2_x"})
    assert kept.headers["X-Request-ID"] == "lb-7f3a.2_x"
    for unsafe in (
        f"{EXAMPLE_PERSONNUMMER} {SECRET_NAME}",
        EXAMPLE_PERSONNUMMER,  # a plain token, but a personnummer
        f"req-{EXAMPLE_PERSONNUMMER.replace('-', '')}",
        "x" * 129,
        "",
    ):
        replaced = client.get("/healthz", headers={"X-Request-ID": unsafe})
        fresh = replaced.headers["X-Request-ID"]
        assert fresh != unsafe and len(fresh) == 32
    missing = client.get("/v1/cases/c-none", headers={"X-Request-ID": "abc"})
    assert missing.status_code == 404 and missing.json()["request_id"] == "abc"


@pytest.mark.parametrize("kind", ["text", "json"])
def test_lines_written_while_handling_a_request_name_it(
    client: TestClient,
    sqlite_boende: Boende,
    kind: Format,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A line written deep in a route (here: in the store call ``/readyz``
    makes, in the threadpool) carries the request's id like the access line."""
    store = logging.getLogger("infra.store")
    recorder = sqlite_boende.app.recorder
    position = recorder.max_notification_id

    def logged_position() -> int | None:
        store.warning("asked for the position")
        return position()

    monkeypatch.setattr(recorder, "max_notification_id", logged_position)
    stream = io.StringIO()
    logs.configure("INFO", kind, stream)
    try:
        assert client.get("/readyz", headers={"X-Request-ID": "req-42"}).is_success
    finally:
        logs.configure("INFO", "text")
    lines = [line for line in stream.getvalue().splitlines() if "httpx" not in line]
    assert len(lines) == 2  # the store's line and the access line
    for line in lines:
        if kind == "json":
            assert json.loads(line)["request_id"] == "req-42"
        else:
            assert line.endswith("[request req-42]")


@pytest.mark.parametrize("kind", ["text", "json"])
def test_an_unexpected_error_is_logged_with_where_not_with_its_text(
    sqlite_boende: Boende, kind: Format, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The traceback's frames for the operator; the exception's text, which
    may quote the input, stays out."""

    def failing() -> int:
        raise ValueError(f"bad input {EXAMPLE_PERSONNUMMER} {SECRET_NAME}")

    monkeypatch.setattr(sqlite_boende.app.recorder, "max_notification_id", failing)
    stream = io.StringIO()
    logs.configure("INFO", kind, stream)
    try:
        client = TestClient(create_app(sqlite_boende), raise_server_exceptions=False)
        response = client.get("/readyz")
    finally:
        logs.configure("INFO", "text")
    assert response.status_code == 500
    text = stream.getvalue()
    assert "unexpected ValueError" in text and "in failing" in text
    for personal in PERSONAL:
        assert personal not in text and personal not in response.text
