"""The oversight web's pages against the JSON endpoints they show
(``--part pages``): ``boende serve`` on SQLite over a simulated municipality
(``boende simulate``'s seeded plan), then each page and its JSON endpoint
requested one at a time, the same query, and timed at the client.

A page costs its JSON answer (the same function, called in-process) plus the
template and its charts (``services.reporting.charts``, drawn once per set of
figures: the note gives the first request's time beside the p95); the quarterly
report's PDF (WeasyPrint) is timed apart, as a download, not a page. The
issue's budget: a page's p95 within :data:`BUDGET_MS`.
"""

from __future__ import annotations

import argparse
import logging
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import httpx

from bench.measure import Clock, Sample, process_cpu
from bench.report import Row
from bench.server import Server
from services.simulation.player import plan, send

BACKEND = "sqlite"
BUDGET_MS = 150.0
#: (name, the page, the JSON endpoint it shows), the same query each.
PAGES: tuple[tuple[str, str, str], ...] = (
    ("Översikt", "/oversikt", "/v1/oversight/counts"),
    ("Flöden", "/oversikt/floden?period=month", "/v1/oversight/flows?period=month"),
    (
        "Handläggningstider",
        "/oversikt/handlaggningstider?period=month",
        "/v1/oversight/lead-times?period=month",
    ),
    ("Ej verkställda", "/oversikt/ej-verkstallda", "/v1/oversight/unexecuted"),
    ("Bostadsbestånd", "/oversikt/bostadsbestand", "/v1/oversight/apartments"),
    ("Revision", "/oversikt/revision", "/v1/audit/tree-head"),
)
PDF = "/oversikt/ej-verkstallda/kvartalsrapport.pdf"
#: One endpoint per read model the pages read: waited on before timing.
READ_MODELS = (
    "/v1/oversight/counts",
    "/v1/oversight/unexecuted",
    "/v1/oversight/lead-times",
    "/v1/oversight/apartments",
)

LEGEND = (
    "pages: each page and then its JSON endpoint, one request at a time (conc "
    "1) after a warm-up, on boende serve over the simulated municipality; p95 "
    f"in the note, against the {BUDGET_MS:g} ms budget of a page. A page calls "
    "the endpoint's own function, so page minus JSON is the template and its "
    "charts. The PDF row is the quarterly report's download (WeasyPrint)."
)


@dataclass(frozen=True)
class PagePlan:
    """The simulated municipality and how often each page is asked for."""

    months: int
    seed: int
    requests: int
    pdf_requests: int


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--page-months", type=int, help="simulated months for the pages (24)"
    )
    parser.add_argument(
        "--page-requests", type=int, help="requests per page (200; --quick: 20)"
    )


def plan_from(args: argparse.Namespace) -> PagePlan:
    return PagePlan(
        months=args.page_months or 24,
        seed=1,
        requests=args.page_requests or (20 if args.quick else 200),
        pdf_requests=3 if args.quick else 10,
    )


def describe(pages: PagePlan) -> str:
    return (
        f"pages: {pages.months} simulated months (seed {pages.seed}), "
        f"{pages.requests} requests per page and per endpoint"
    )


def run_pages(pages: PagePlan, emit: Callable[[Row], None]) -> list[str]:
    """Every page and endpoint's row (``emit``); the failures, in words."""
    failures: list[str] = []
    with tempfile.TemporaryDirectory(prefix="boende-bench-pages-") as tmp:
        server = Server(Path(tmp), None)
        try:
            server.wait_ready()
            events = simulate(server, pages)
            emit(Row(BACKEND, "pages: simulated", note=f"{events} events"))
            with httpx.Client(base_url=server.url, timeout=60.0) as client:
                for name, page, endpoint in PAGES:
                    for what, path in (
                        (f"page {name}", page),
                        (f"json {name}", endpoint),
                    ):
                        first, sample = timed(client, server.pid, path, pages.requests)
                        p95 = sample.percentile_ms(95)
                        over = what.startswith("page") and p95 > BUDGET_MS
                        note = f"p95 {p95:.1f} ms, first {first * 1000:.0f} ms"
                        note += " OVER BUDGET" if over else ""
                        emit(Row(BACKEND, what, 1, sample, note=note))
                        if sample.failed:
                            failures.append(f"{path}: {', '.join(sample.problems)}")
                        if over:
                            failures.append(f"{path}: p95 {p95:.0f} ms > {BUDGET_MS:g}")
                _, sample = timed(client, server.pid, PDF, pages.pdf_requests, warmup=1)
                note = f"p95 {sample.percentile_ms(95):.0f} ms"
                emit(Row(BACKEND, "pdf Ej verkställda", 1, sample, note=note))
        except RuntimeError as error:
            failures.append(f"pages: the server did not start: {error}")
        finally:
            server.stop()
    return failures


def simulate(server: Server, pages: PagePlan) -> int:
    """Play the seeded municipality into the server; wait for its read models."""
    world = plan(pages.months, pages.seed)
    logging.disable(logging.INFO)
    try:
        with httpx.Client(base_url=server.url, timeout=60.0) as client:
            summary = send(world.envelopes, client, concurrency=4)
            position = server.position()
            for path in READ_MODELS:
                client.get(path, params={"min_position": position}).raise_for_status()
            client.post("/v1/audit/tree-heads").raise_for_status()
    finally:
        logging.disable(logging.NOTSET)
    if summary.unexpected:
        raise RuntimeError(f"{summary.unexpected} unexpected answers while simulating")
    return position


def timed(
    client: httpx.Client, pid: int, path: str, requests: int, warmup: int = 5
) -> tuple[float, Sample]:
    """``requests`` GETs of ``path`` one after another, after ``warmup``;
    and the first warm-up's seconds (the page's first render: its template
    compiled, its charts drawn; later ones reuse both while the figures
    stay the same)."""
    first = time.perf_counter()
    client.get(path)
    first = time.perf_counter() - first
    for _ in range(warmup - 1):
        client.get(path)
    latencies: list[float] = []
    problems: dict[str, int] = {}
    cpu = process_cpu(pid)
    clock = Clock()
    for _ in range(requests):
        start = time.perf_counter()
        response = client.get(path)
        elapsed = time.perf_counter() - start
        if response.status_code == 200:
            latencies.append(elapsed)
        else:
            key = str(response.status_code)
            problems[key] = problems.get(key, 0) + 1
    sample = clock.sample(0, latencies)
    return first, Sample(
        ok=len(latencies),
        failed=requests - len(latencies),
        seconds=sample.seconds,
        latencies=latencies,
        events=0,
        client_cpu=sample.client_cpu,
        server_cpu=process_cpu(pid) - cpu,
        host_busy=sample.host_busy,
        problems=tuple(f"{n}x {code}" for code, n in problems.items()),
    )
