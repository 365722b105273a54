"""What the Prometheus metrics cost a submission (``make bench``, HTTP part).

Two figures, in the run that measures the plain HTTP path:

- *instrumentation*: the metric updates one HTTP submission makes (its
  request histogram, its outcome counter and latency, its share of a group
  commit's batch-size observation), timed in this process over many rounds:
  microseconds of CPU per submission, and that as a share of the server's CPU
  per submission in the plain run. These updates happen whether or not
  metrics are served.
- *serving*: the same load at the highest concurrency against a server that
  serves ``/metrics`` (``BOENDE_METRICS_PORT``) while a scraper reads it every
  second (Prometheus' default is every 15 s): its rate over the plain one.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

import httpx

from bench.server import Server, free_port
from infra import metrics

SCRAPE_EVERY_SECONDS = 1.0


def instrumentation_seconds(rounds: int = 50_000, batch: int = 32) -> float:
    """CPU seconds of the metric updates of one HTTP submission."""
    started = time.process_time()
    for n in range(rounds):
        metrics.HTTP_SECONDS.labels("POST", "/v1/submissions", "201").observe(0.004)
        metrics.count_submission("bench", "IFN", "recorded", time.perf_counter())
        if n % batch == 0:
            metrics.COMMIT_BATCH.observe(batch)
    return (time.process_time() - started) / rounds


def metrics_env() -> dict[str, str]:
    """The environment that makes ``boende serve`` serve ``/metrics``."""
    return {"BOENDE_METRICS_PORT": str(free_port())}


@contextmanager
def scraping(server: Server, env: dict[str, str]) -> Iterator[list[float]]:
    """Scrape ``server``'s ``/metrics`` every second until the block ends;
    yields the list of scrape durations (seconds) as they are made."""
    url = f"http://127.0.0.1:{env['BOENDE_METRICS_PORT']}/metrics"
    took: list[float] = []
    stop = threading.Event()

    def scrape() -> None:
        with httpx.Client(timeout=5.0) as client:
            while not stop.wait(SCRAPE_EVERY_SECONDS):
                started = time.perf_counter()
                client.get(url).raise_for_status()
                took.append(time.perf_counter() - started)

    thread = threading.Thread(target=scrape, name="scraper", daemon=True)
    thread.start()
    try:
        yield took
    finally:
        stop.set()
        thread.join(timeout=10)
