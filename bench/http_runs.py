"""The HTTP part of ``make bench``: the real server under load, set up each
way that matters, beside the library's rate measured in the same run.

For each setup — ``--workers`` 1 and 2 (``--http-workers``), token checking
off and on (``--http-auth``; on: an EdDSA development token, one per client,
checked on every request, remembered by the verifier until it expires) —
``boende serve`` starts on a data dir of its own (PostgreSQL: the same
database, the log continuing), takes a warm-up, then unique submissions at
each concurrency level, then ``GET /healthz`` (async: the bare stack's
ceiling) at the highest. Then, for the first setup only, what metrics cost
(``bench.metrics_cost``).
"""

from __future__ import annotations

import os
import signal
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING

from bench import metrics_cost
from bench.measure import Sample
from bench.report import Findings, Row
from bench.server import Server
from bench.submissions import FILING, HEALTHZ, measure_load
from infra.auth import mint_dev_token
from infra.settings import Settings

if TYPE_CHECKING:
    from bench.run import Plan

#: The officer the example envelope names (actor.user): a person's token
#: may only name itself.
OFFICER = "handlaggare-17"
AUTHS = ("off", "jwt")


def run_http(
    backend: str,
    plan: Plan,
    data_dir: Path,
    url: str | None,
    library_rate: float,
    emit: Callable[[Row], None],
) -> Findings:
    """Every setup of the server, one after another; then the metrics' cost."""
    found = Findings()
    plain: Sample | None = None
    for workers in plan.http_workers:
        for auth in plan.http_auth:
            setup_dir = data_dir / f"w{workers}-{auth}"
            outcome = run_setup(
                backend, plan, setup_dir, url, library_rate, emit, workers, auth
            )
            found += outcome[0]
            plain = plain or outcome[1]
    if plain is not None and not found.failed:
        found += run_http_metrics(backend, plan, data_dir, url, plain, emit)
    return found


def dev_token(data_dir: Path) -> str:
    """A development token for the example's officer, made with the key the
    server will check it against (made here first when missing)."""
    settings = Settings(data_dir=data_dir, auth="jwt")
    return mint_dev_token(settings, OFFICER, ["ifn_officer"], timedelta(hours=12))


def run_setup(
    backend: str,
    plan: Plan,
    data_dir: Path,
    url: str | None,
    library_rate: float,
    emit: Callable[[Row], None],
    workers: int,
    auth: str,
) -> tuple[Findings, Sample | None]:
    """Start ``boende serve`` so, load it level by level, stop it cleanly."""
    found, plain = Findings(), None
    data_dir.mkdir(parents=True, exist_ok=True)
    token = dev_token(data_dir) if auth == "jwt" else None
    server = Server(data_dir, url, {"BOENDE_AUTH": auth}, workers=workers)
    where = f"{backend} w{workers} auth {auth}"
    try:
        server.wait_ready()
    except RuntimeError as error:
        server.stop()
        found.fail(f"{where}: the server did not start: {error}")
        return found, None
    try:
        # Case ids of their own per setup: the setups on PostgreSQL share one
        # database, where a second "warm" tag filed the same cases again
        # (409 transition_not_allowed).
        warm_tag = f"warm-{backend}-{os.getpid()}-w{workers}{auth}"
        warm = measure_load(
            server, FILING, 1, 60.0, plan.warmup_requests, warm_tag, token
        )  # fmt: skip
        if warm.failed:
            found.fail(f"{where} warm-up failures: {', '.join(warm.problems)}")
        levels = [(FILING, clients, plan.seconds) for clients in plan.clients]
        levels.append((HEALTHZ, max(plan.clients), plan.library_seconds))
        for work, clients, seconds in levels:
            tag = f"{backend}-{os.getpid()}-w{workers}{auth}-k{clients}"
            sample = measure_load(
                server, work, clients, seconds, plan.max_requests, tag, token
            )
            if work is FILING and clients == max(plan.clients):
                plain = sample if (workers, auth) == (1, "off") else None
            name = f"{work.name} w{workers} {auth}"
            emit(Row(backend, name, clients, sample, library_rate))
            if sample.failed:
                found.fail(f"{where} {work.name} x{clients}: {sample.problems}")
    finally:
        code = server.stop()
    if code not in (0, -signal.SIGTERM):
        found.fail(f"{where}: the server exited with {code}:\n{server.log_tail()}")
    return found, plain


def run_http_metrics(
    backend: str,
    plan: Plan,
    data_dir: Path,
    url: str | None,
    plain: Sample,
    emit: Callable[[Row], None],
) -> Findings:
    """What metrics cost (``bench.metrics_cost``): the instrumentation's CPU
    per submission against the plain server's, and the highest load again on
    a server whose ``/metrics`` is scraped every second (one worker, auth
    off: the setup ``plain`` was measured in)."""
    found = Findings()
    per_submission = metrics_cost.instrumentation_seconds()
    server_cpu = (plain.server_cpu or 0.0) / max(plain.ok, 1)
    share = per_submission / server_cpu * 100 if server_cpu else float("nan")
    emit(
        Row(
            backend,
            "metrics per submission",
            note=f"{per_submission * 1e6:.1f} µs CPU of the server's "
            f"{server_cpu * 1e6:.0f} µs per submission = {share:.1f} %",
        )
    )
    env = metrics_cost.metrics_env()
    server = Server(data_dir / "metrics", url, env)
    try:
        server.wait_ready()
        clients = max(plan.clients)
        with metrics_cost.scraping(server, env) as scrapes:
            sample = measure_load(
                server, FILING, clients, plan.seconds, plan.max_requests,
                f"{backend}-{os.getpid()}-metrics",
            )  # fmt: skip
        ratio = sample.rate / plain.rate if plain.rate else float("nan")
        slowest = max(scrapes, default=0.0) * 1000
        emit(
            Row(
                backend,
                "subm. w1 off /metrics",
                clients,
                sample,
                None,
                note=f"x plain {ratio:.2f}; {len(scrapes)} scrapes, "
                f"slowest {slowest:.1f} ms",
            )
        )
        if sample.failed:
            found.fail(f"{backend} metrics run failures: {', '.join(sample.problems)}")
    except RuntimeError as error:
        found.fail(f"{backend} server with metrics did not start: {error}")
    finally:
        server.stop()
    return found
