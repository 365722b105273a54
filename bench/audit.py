"""The auditor's checks at scale, on the read-model bench's log.

On the same cached log as ``bench.projections`` (default 1,000,000 events),
in one run:

1. ``boende audit sign``: a signed tree head over the whole log. The first
   head hashes every event into the leaf table; on a log that was signed
   before (a reused dataset) it hashes only what is new, and the note says so;
2. ``boende audit verify``: every event read back from the store, its leaf
   recomputed from its canonical bytes, and checked against every signed
   head and the leaf table — the check an auditor runs, which must take
   seconds, not minutes, at a million events;
3. the ``tree_size``/``root_hash`` every oversight answer carries
   (``AuditLog.log_at``) at random positions: the first call of a process
   reads the whole tree, later ones a few lookups.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from dataclasses import replace

from bench.measure import Clock, Sample
from bench.report import Row
from infra.settings import Settings
from infra.signing import read_signer
from services.audit.log import AuditLog, signing_key_path
from services.bootstrap import bootstrap

BACKEND = "sqlite"
ROOT_CALLS = 1000


def run_audit(settings: Settings, ceiling: float, emit: Callable[[Row], None]) -> None:
    """Sign, verify and per-answer roots on the log under ``settings``."""
    boende = bootstrap(settings)
    audit = AuditLog(boende.settings, boende.app)
    try:
        log_end = boende.app.recorder.max_notification_id() or 0
        before = audit.signed_size()
        clock = Clock()
        head = audit.sign_head()
        new = head.tree_size - before
        note = f"{new:,} new leaves hashed" + (
            f" ({before:,} signed before)" if before else ""
        )
        emit(Row(BACKEND, "audit sign head", 1, _once(new, clock), ceiling, note))

        key = read_signer(signing_key_path(settings)).public_key
        clock = Clock()
        report = audit.verify(key)
        verified = _once(report.event_count, clock)
        note = "ok" if report.ok else f"FAILED: {report.problems[:1]}"
        emit(Row(BACKEND, "audit verify (all)", 1, verified, ceiling, note))

        emit(_roots(audit, log_end, ceiling))
    finally:
        audit.close()
        boende.close()


def _once(events: int, clock: Clock) -> Sample:
    """One timed operation over ``events``: its latency is the whole run."""
    return clock.sample(events, [clock.elapsed()])


def _roots(audit: AuditLog, log_end: int, ceiling: float) -> Row:
    """``log_at`` at random positions, as oversight answers call it."""
    rng = random.Random(1)
    started = time.perf_counter()
    audit.log_at(log_end)  # the process's first call reads the tree
    first = time.perf_counter() - started
    latencies: list[float] = []
    clock = Clock()
    for _ in range(ROOT_CALLS):
        position = rng.randint(1, log_end)
        started = time.perf_counter()
        audit.log_at(position)
        latencies.append(time.perf_counter() - started)
    sample = clock.sample(0, latencies)
    sample = replace(sample, ok=len(latencies))
    note = f"first call of a process (reads the tree): {first:.1f} s"
    return Row(BACKEND, "report tree_size+root", 1, sample, None, note)
