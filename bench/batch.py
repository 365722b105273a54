"""The bulk door in ``make bench``: envelopes per second through ``POST
/v1/submissions/batch`` beside the single door, on one server in one run,
and both beside the library's ceiling measured at the top of the same run.

One ``boende serve`` (one worker, tokens off) on a data dir of its own takes
unique filings through the single door from the most clients of the plan,
then batches of ``BATCH_SIZE`` unique filings (NDJSON) from ``CLIENTS``
clients. A batch counts as answered when it is 200; the log's advance says
how many envelopes were recorded (every one must be). The rows: envelopes/s
(events/s) of each door, the batch's against the single door's and against
the library's ten-events-per-save rate in events/s (issue 15's goal: at
least 0.5 of it).
"""

from __future__ import annotations

import os
import signal
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from bench.report import Findings, Row
from bench.server import Server
from bench.submissions import FILING, Workload, measure_load, submission_body

if TYPE_CHECKING:
    from bench.run import Plan

BATCH_SIZE = 1000  # BOENDE_BATCH_MAX's default: a migration's natural chunk
CLIENTS = 2  # one batch being committed while the next is read and checked


def _batch(key: str, auth: bytes) -> bytes:
    body = b"\n".join(
        submission_body(f"{key}-{n}-{uuid.uuid4().hex[:6]}") for n in range(BATCH_SIZE)
    )
    return (
        b"POST /v1/submissions/batch HTTP/1.1\r\nhost: bench\r\n"
        b"content-type: application/x-ndjson\r\n"
        + auth
        + b"content-length: %d\r\n\r\n" % len(body)
        + body
    )


BATCH = Workload(f"bulk: batch x{BATCH_SIZE}", 200, _batch)


def run_batch(
    backend: str,
    plan: Plan,
    data_dir: Path,
    url: str | None,
    library: dict[int, float],
    emit: Callable[[Row], None],
) -> Findings:
    """The single door, then the bulk door, on one fresh server."""
    found = Findings()
    server = Server(data_dir / "bulk", url)
    try:
        server.wait_ready()
    except RuntimeError as error:
        server.stop()
        found.fail(f"{backend} bulk: the server did not start: {error}")
        return found
    ceiling = library[10] * 10  # events/s of ten events per save
    try:
        clients = max(plan.clients)
        tag = f"{backend}-{os.getpid()}-bulk"
        single = measure_load(
            server, FILING, clients, plan.seconds, plan.max_requests, f"{tag}-1"
        )
        emit(Row(backend, "bulk: single door", clients, single, library[1],
                 note=_versus(single.events_rate, ceiling)))  # fmt: skip
        batches = max(1, plan.max_requests // BATCH_SIZE)
        bulk = measure_load(server, BATCH, CLIENTS, plan.seconds, batches, f"{tag}-b")
        by_door = bulk.events_rate / single.events_rate if single.events_rate else 0
        note = f"{_versus(bulk.events_rate, ceiling)}; x single door {by_door:.2f}"
        emit(Row(backend, BATCH.name, CLIENTS, bulk, None, note=note))
        for sample, name in ((single, "single door"), (bulk, "batch")):
            if sample.failed:
                found.fail(f"{backend} bulk {name}: {', '.join(sample.problems)}")
        if bulk.events != bulk.ok * BATCH_SIZE:
            found.fail(
                f"{backend} bulk: {bulk.events} envelopes recorded of "
                f"{bulk.ok * BATCH_SIZE} in batches answered 200"
            )
    finally:
        code = server.stop()
    if code not in (0, -signal.SIGTERM):
        found.fail(f"{backend} bulk: the server exited with {code}")
    return found


def _versus(events_rate: float, ceiling: float) -> str:
    share = events_rate / ceiling if ceiling else float("nan")
    return f"{share:.2f} x library 10 ev/save ({ceiling:.0f} ev/s)"
