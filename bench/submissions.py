"""HTTP load that costs the bench little CPU: raw HTTP/1.1 over asyncio.

Each client is one coroutine holding one keep-alive connection (TCP_NODELAY)
on one event loop (uvloop when installed): it writes a request's bytes,
reads the status line and headers, then exactly ``content-length`` bytes of
body. No HTTP library parses anything: the 2026-11 bench's httpx threads
burnt ~600 µs of CPU per request on the two cores the server also uses.
All clients start together and stop at the deadline (or when the level's
request quota is spent); every request's latency is kept, and any other
status than the workload's expected one (201 for a submission) is a failure.

``FILING`` sends unique ``application_filed`` submissions (a new case and a
new submission id each: the envelope's bytes made from one template);
``HEALTHZ`` is the bare stack, ``GET /healthz`` (async: no thread pool, no
store). With ``token`` every request carries ``Authorization: Bearer``.

The server's CPU is read from ``/proc/<pid>/stat`` of the server and every
process below it (``--workers`` processes, the ``boende project`` beside
them), before and after the level.
"""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field

from bench.measure import Clock, Sample, tree_cpu
from bench.server import Server
from services.submission.examples import example

START_TIMEOUT = 60.0  # seconds for every client to connect
READ_TIMEOUT = 60.0  # seconds for one answer


@dataclass(frozen=True)
class Workload:
    """What each client sends: a request's bytes built per call from a
    unique key, and the answer due."""

    name: str
    expected_status: int
    build: Callable[[str, bytes], bytes]


def _filing_template() -> str:
    envelope = example("application_filed", case_id="@CASE@", submission_id="@SUB@")
    return json.dumps(envelope, separators=(",", ":"))


_TEMPLATE = _filing_template()


def submission_body(case_id: str) -> bytes:
    """A valid, unique filing: a new case, a new submission id."""
    text = _TEMPLATE.replace("@CASE@", case_id, 1)
    return text.replace("@SUB@", str(uuid.uuid4()), 1).encode()


def _filing(key: str, auth: bytes) -> bytes:
    body = submission_body(key)
    return (
        b"POST /v1/submissions HTTP/1.1\r\nhost: bench\r\n"
        b"content-type: application/json\r\n"
        + auth
        + b"content-length: %d\r\n\r\n" % len(body)
        + body
    )


def _healthz(_: str, auth: bytes) -> bytes:
    return b"GET /healthz HTTP/1.1\r\nhost: bench\r\n" + auth + b"\r\n"


FILING = Workload("submissions", 201, _filing)
HEALTHZ = Workload("GET /healthz", 200, _healthz)


class Quota:
    """Hands out requests until a deadline or a count, whichever comes first
    (one event loop: no lock)."""

    def __init__(self, seconds: float, max_requests: int) -> None:
        self.seconds = seconds
        self.left = max_requests
        self.deadline = float("inf")

    def start(self) -> None:
        self.deadline = time.perf_counter() + self.seconds

    def take(self) -> bool:
        if self.left <= 0 or time.perf_counter() >= self.deadline:
            return False
        self.left -= 1
        return True


@dataclass
class ClientResult:
    """What one client saw."""

    latencies: list[float] = field(default_factory=list)
    failures: Counter[str] = field(default_factory=Counter)


class Gate:
    """Every client connected before the clock starts; then one start."""

    def __init__(self, clients: int) -> None:
        self.waiting = clients
        self.all_in = asyncio.Event()
        self.start = asyncio.Event()

    def arrived(self) -> None:
        self.waiting -= 1
        if self.waiting <= 0:
            self.all_in.set()


class Connection:
    """One keep-alive HTTP/1.1 connection, reading answers by hand."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter):
        self.reader, self.writer = reader, writer

    @classmethod
    async def open(cls, host: str, port: int) -> Connection:
        reader, writer = await asyncio.open_connection(host, port)
        sock = writer.get_extra_info("socket")
        if sock is not None:
            import socket

            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        return cls(reader, writer)

    async def exchange(self, request: bytes) -> tuple[int, bytes, bool]:
        """Send ``request``; the answer's status, body and whether the
        server keeps the connection open."""
        self.writer.write(request)
        head = await self.reader.readuntil(b"\r\n\r\n")
        status = int(head[9:12])
        lower = head.lower()
        at = lower.find(b"\r\ncontent-length:")
        length = 0
        if at >= 0:
            end = lower.index(b"\r\n", at + 2)
            length = int(lower[at + 17 : end])
        body = await self.reader.readexactly(length) if length else b""
        return status, body, b"\r\nconnection: close" not in lower

    def close(self) -> None:
        self.writer.close()


async def run_client(
    server: Server,
    work: Workload,
    tag: str,
    auth: bytes,
    quota: Quota,
    gate: Gate,
    out: ClientResult,
) -> None:
    """One client: open its connection, wait for the start, then send."""
    try:
        conn = await Connection.open("127.0.0.1", server.port)
    except OSError as error:
        out.failures[f"connect {type(error).__name__}"] += 1
        gate.arrived()
        return
    gate.arrived()
    await gate.start.wait()
    n = 0
    try:
        while quota.take():
            n += 1
            request = work.build(f"{tag}-{n}", auth)
            began = time.perf_counter()
            try:
                status, body, alive = await asyncio.wait_for(
                    conn.exchange(request), READ_TIMEOUT
                )
            except (OSError, asyncio.IncompleteReadError, TimeoutError) as error:
                out.failures[type(error).__name__] += 1
                conn.close()
                conn = await Connection.open("127.0.0.1", server.port)
                continue
            elapsed = time.perf_counter() - began
            if status == work.expected_status:
                out.latencies.append(elapsed)
            else:
                out.failures[f"{status} {_error_code(body)}"] += 1
            if not alive:
                conn.close()
                conn = await Connection.open("127.0.0.1", server.port)
    finally:
        conn.close()


def _error_code(body: bytes) -> str:
    try:
        return str(json.loads(body).get("error", ""))
    except (ValueError, AttributeError):
        return ""


def measure_load(
    server: Server,
    work: Workload,
    clients: int,
    seconds: float,
    max_requests: int,
    tag: str,
    token: str | None = None,
) -> Sample:
    """Run ``clients`` concurrent clients of ``work`` against ``server``."""
    return _loop_run(_measure(server, work, clients, seconds, max_requests, tag, token))


async def _measure(
    server: Server,
    work: Workload,
    clients: int,
    seconds: float,
    max_requests: int,
    tag: str,
    token: str | None,
) -> Sample:
    auth = f"authorization: Bearer {token}\r\n".encode() if token else b""
    quota = Quota(seconds, max_requests)
    gate = Gate(clients)
    results = [ClientResult() for _ in range(clients)]
    tasks = [
        asyncio.create_task(
            run_client(server, work, f"{tag}-c{i}", auth, quota, gate, results[i])
        )
        for i in range(clients)
    ]
    await asyncio.wait_for(gate.all_in.wait(), START_TIMEOUT)
    first_position = await asyncio.to_thread(server.position)
    server_cpu = tree_cpu(server.pid)
    clock = Clock()
    quota.start()
    gate.start.set()
    await asyncio.gather(*tasks)
    wall = clock.elapsed()
    sample_cpu, host_busy = clock.cpu_used(), clock.host_busy()
    server_cpu = tree_cpu(server.pid) - server_cpu
    events = await asyncio.to_thread(server.position) - first_position
    failures: Counter[str] = sum((r.failures for r in results), Counter())
    return Sample(
        ok=sum(len(r.latencies) for r in results),
        failed=sum(failures.values()),
        seconds=wall,
        latencies=[t for r in results for t in r.latencies],
        events=events,
        client_cpu=sample_cpu,
        server_cpu=server_cpu,
        host_busy=host_busy,
        problems=tuple(f"{count} x {what}" for what, count in failures.items()),
    )


def _loop_run(coroutine: object) -> Sample:
    """Run on uvloop when installed: the cheaper loop for the client too."""
    try:
        import uvloop

        return uvloop.run(coroutine)  # type: ignore[arg-type, no-any-return]
    except ImportError:
        return asyncio.run(coroutine)  # type: ignore[arg-type]
