"""Slow clients cannot hold the server: a real ``boende serve`` with a 3 s
read timeout and a cap of 310 connections.

300 connections send half a request head and then nothing; meanwhile an
honest request is answered at once. The cap holds: of 60 more connections,
those beyond it are answered 503 ``unavailable`` and closed at once. Then every
slow one is answered 408 ``request_timeout`` and closed within the timeout
(plus slack), as is a request whose body stops half-way. Before, 600 such
connections were held open for as long as their clients liked.
"""

from __future__ import annotations

import json
import socket
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from infra.settings import Settings
from tests.integration.test_durability import Serve

SLOW = 300
CAP = SLOW + 10
BEYOND = 60
READ_TIMEOUT_S = 3.0
SLACK_S = 5.0  # generous: the machine is shared


@pytest.fixture
def server(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Serve]:
    monkeypatch.setenv("BOENDE_HTTP_READ_TIMEOUT_SECONDS", str(READ_TIMEOUT_S))
    monkeypatch.setenv("BOENDE_HTTP_MAX_CONNECTIONS", str(CAP))
    monkeypatch.setenv("BOENDE_RUN_PROJECTIONS", "false")
    serve = Serve(Settings(data_dir=tmp_path / "var"), tmp_path / "serve.log")
    yield serve
    serve.kill()


def open_slow(port: int, head: bytes) -> socket.socket:
    conn = socket.create_connection(("127.0.0.1", port), timeout=30)
    conn.sendall(head)
    return conn


def answer_then_close(conn: socket.socket, within: float) -> tuple[int | None, str]:
    """The status and error code the server sent before it closed, or
    (None, "") when it closed without an answer; fails if it stays open."""
    conn.settimeout(within)
    received = b""
    try:
        while chunk := conn.recv(65536):
            received += chunk
    except TimeoutError:
        pytest.fail(f"still open after {within:g} s: {received[:80]!r}")
    finally:
        conn.close()
    if not received:
        return None, ""
    head, _, body = received.partition(b"\r\n\r\n")
    status = int(head.split(b" ", 2)[1])
    return status, json.loads(body).get("error", "")


def test_slow_connections_are_closed_and_honest_ones_served(
    server: Serve, tmp_path: Path
) -> None:
    port = server.port
    slow = [
        open_slow(port, b"GET /readyz HTTP/1.1\r\nHost: x\r\n") for _ in range(SLOW)
    ]
    opened_at = time.monotonic()
    started = time.monotonic()
    honest = httpx.get(f"{server.url}/readyz", timeout=30)
    served_in = time.monotonic() - started
    assert honest.status_code == 200
    beyond = [open_slow(port, b"") for _ in range(BEYOND)]
    refused = Counter(answer_then_close(conn, SLACK_S) for conn in beyond)
    body_stops = open_slow(
        port,
        b"POST /v1/submissions HTTP/1.1\r\nHost: x\r\n"
        b'Content-Type: application/json\r\nContent-Length: 500\r\n\r\n{"submission',
    )
    closed = Counter(answer_then_close(conn, READ_TIMEOUT_S + SLACK_S) for conn in slow)
    all_closed_in = time.monotonic() - opened_at
    cut_off = answer_then_close(body_stops, READ_TIMEOUT_S + SLACK_S)
    print(
        f"\n{SLOW} slow connections held while an honest request was served in "
        f"{served_in * 1000:.0f} ms; all closed {all_closed_in:.1f} s after opening "
        f"(read timeout {READ_TIMEOUT_S:g} s); of {BEYOND} more at the cap of "
        f"{CAP}: {dict(refused)}; a body that stopped: {cut_off}"
    )
    assert served_in < 2.0, served_in
    # The cap counts the server's open connections: the slow ones, and the
    # honest one's if it is not gone yet.
    assert refused[(503, "unavailable")] >= BEYOND - (CAP - SLOW), refused
    assert refused[(503, "unavailable")] + refused[(408, "request_timeout")] == BEYOND
    assert closed == Counter({(408, "request_timeout"): SLOW}), closed
    assert cut_off in ((None, ""), (408, "request_timeout")), cut_off
    assert httpx.get(f"{server.url}/readyz", timeout=30).status_code == 200
    assert "unexpected" not in (tmp_path / "serve.log").read_text()  # no 500
