"""HTTP load: concurrent clients POSTing unique ``application_filed`` submissions.

Each client is a thread with its own keep-alive ``httpx.Client``. All start
together and stop at the deadline (or when the level's request quota is
spent); every request's latency is kept, and any other status than the
workload's expected one (201 for a submission) is a failure. ``HEALTHZ`` is
the reference workload: the same HTTP stack with no store behind it.
"""

from __future__ import annotations

import json
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field

import httpx

from bench.measure import Clock, Sample, process_cpu
from bench.server import Server
from services.submission.examples import example

HEADERS = {"content-type": "application/json"}
START_TIMEOUT = 60.0  # seconds for every client to connect


def submission_body(case_id: str) -> bytes:
    """A valid, unique filing: a new case, a new submission id."""
    envelope = example(
        "application_filed", case_id=case_id, submission_id=str(uuid.uuid4())
    )
    return json.dumps(envelope).encode()


@dataclass(frozen=True)
class Workload:
    """What each client sends: a request built per call, and the answer due."""

    name: str
    expected_status: int
    build: Callable[[httpx.Client, str], httpx.Request]


def _filing(client: httpx.Client, key: str) -> httpx.Request:
    return client.build_request("POST", "/v1/submissions", content=submission_body(key))


def _healthz(client: httpx.Client, _: str) -> httpx.Request:
    return client.build_request("GET", "/healthz")


FILING = Workload("http submissions", 201, _filing)
HEALTHZ = Workload("http GET /healthz", 200, _healthz)


class Quota:
    """Hands out requests until a deadline or a count, whichever comes first."""

    def __init__(self, seconds: float, max_requests: int) -> None:
        self.seconds = seconds
        self.left = max_requests
        self.deadline = float("inf")
        self._lock = threading.Lock()

    def start(self) -> None:
        self.deadline = time.perf_counter() + self.seconds

    def take(self) -> bool:
        with self._lock:
            if self.left <= 0 or time.perf_counter() >= self.deadline:
                return False
            self.left -= 1
            return True


@dataclass
class ClientResult:
    """What one client thread saw."""

    latencies: list[float] = field(default_factory=list)
    failures: Counter[str] = field(default_factory=Counter)


def run_client(
    url: str,
    work: Workload,
    tag: str,
    quota: Quota,
    start: threading.Barrier,
    out: ClientResult,
) -> None:
    """One client: warm its connection, wait for the start, then send."""
    with httpx.Client(base_url=url, timeout=30.0, headers=HEADERS) as client:
        try:
            client.get("/healthz")  # opens the keep-alive connection
        except httpx.HTTPError as error:
            out.failures[f"connect {type(error).__name__}"] += 1
            start.wait()
            return
        start.wait()
        n = 0
        while quota.take():
            n += 1
            request = work.build(client, f"{tag}-{n}")
            began = time.perf_counter()
            try:
                response = client.send(request)
            except httpx.HTTPError as error:
                out.failures[type(error).__name__] += 1
                continue
            elapsed = time.perf_counter() - began
            if response.status_code == work.expected_status:
                out.latencies.append(elapsed)
            else:
                out.failures[f"{response.status_code} {_error_code(response)}"] += 1


def _error_code(response: httpx.Response) -> str:
    try:
        return str(response.json().get("error", ""))
    except ValueError:
        return ""


def measure_load(
    server: Server,
    work: Workload,
    clients: int,
    seconds: float,
    max_requests: int,
    tag: str,
) -> Sample:
    """Run ``clients`` concurrent clients of ``work`` against ``server``."""
    quota = Quota(seconds, max_requests)
    start = threading.Barrier(clients + 1, timeout=START_TIMEOUT)
    results = [ClientResult() for _ in range(clients)]
    threads = [
        threading.Thread(
            target=run_client,
            args=(server.url, work, f"{tag}-c{i}", quota, start, results[i]),
            name=f"client-{i}",
        )
        for i in range(clients)
    ]
    for thread in threads:
        thread.start()
    first_position = server.position()
    server_cpu = process_cpu(server.pid)
    clock = Clock()
    quota.start()
    start.wait()
    for thread in threads:
        thread.join()
    wall = clock.elapsed()
    sample_cpu, host_busy = clock.cpu_used(), clock.host_busy()
    server_cpu = process_cpu(server.pid) - server_cpu
    failures: Counter[str] = sum((r.failures for r in results), Counter())
    return Sample(
        ok=sum(len(r.latencies) for r in results),
        failed=sum(failures.values()),
        seconds=wall,
        latencies=[t for r in results for t in r.latencies],
        events=server.position() - first_position,
        client_cpu=sample_cpu,
        server_cpu=server_cpu,
        host_busy=host_busy,
        problems=tuple(f"{count} x {what}" for what, count in failures.items()),
    )
