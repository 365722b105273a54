"""Boende's Prometheus metrics: one table of every metric a process exposes,
and the listener that serves them (``BOENDE_METRICS_PORT``; off when unset).

Two kinds. *Event* metrics (counters, histograms) are updated where the thing
happens: a submission decided, a request answered, a batch applied. *State*
metrics (the log's end, each read model's lag, the last signed head) are read
when Prometheus scrapes, by the probes a process registers with
:func:`add_probe`: a figure that is read at scrape time cannot be stale, and
one that cannot be read (the store is down) is left out and says so through
``boende_store_up``. Names follow Prometheus conventions: ``boende_`` prefix,
base units (seconds, events), ``_total`` on counters.

Metrics are served on a port of their own, not on the API's listener: the API
answers the public behind bearer tokens, while ``/metrics`` is for the
operator's Prometheus on the internal network.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from typing import Any

from prometheus_client import (
    REGISTRY,
    Counter,
    Gauge,
    Histogram,
    start_http_server,
)
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

log = logging.getLogger(__name__)

#: Latency buckets (seconds): a submission is milliseconds, an outage seconds.
LATENCY = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30)
BATCH_SIZES = (1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024)

# -- submissions and requests -----------------------------------------------

SUBMISSIONS = Counter(
    "boende_submissions",
    "Submissions decided, by door (http, kafka), committee and outcome "
    "(recorded, repeated, or the refusal's error code)",
    ["door", "committee", "outcome"],
)
SUBMISSION_SECONDS = Histogram(
    "boende_submission_duration_seconds",
    "From a submission's arrival to its answer, by door",
    ["door"],
    buckets=LATENCY,
)
COMMIT_BATCH = Histogram(
    "boende_commit_batch_size",
    "Envelopes recorded in one group-commit transaction",
    buckets=BATCH_SIZES,
)
HTTP_SECONDS = Histogram(
    "boende_http_request_duration_seconds",
    "HTTP requests by method, route template and status",
    ["method", "route", "status"],
    buckets=LATENCY,
)


def count_submission(
    door: str, committee: str, outcome: str, started: float | None = None
) -> None:
    """One submission decided at ``door``: its outcome (``recorded``,
    ``repeated`` or the refusal's code) and, with ``started`` (a
    ``time.perf_counter()``), how long it took."""
    SUBMISSIONS.labels(door, committee, outcome).inc()
    if started is not None:
        SUBMISSION_SECONDS.labels(door).observe(time.perf_counter() - started)


# -- read models ---------------------------------------------------------------

READ_MODEL_BATCH_SECONDS = Histogram(
    "boende_read_model_batch_duration_seconds",
    "Time to apply one batch of events to a read model, in one transaction",
    ["read_model"],
    buckets=LATENCY,
)
READ_MODEL_REBUILDS = Counter(
    "boende_read_model_rebuilds",
    "Read models dropped and replayed from the log (rebuilds and resets)",
    ["read_model"],
)

# -- Kafka -------------------------------------------------------------------------

INGEST_MESSAGES = Counter(
    "boende_ingest_messages",
    "Messages of boende.submissions handled by the ingest: recorded, "
    "repeated, or rejected (to the rejected topic) with the reason's code",
    ["outcome", "reason"],
)
INGEST_LAG = Gauge(
    "boende_ingest_consumer_lag_messages",
    "Messages on a partition the ingest has not yet committed",
    ["topic", "partition"],
)
RELAY_PRODUCE_ERRORS = Counter(
    "boende_relay_produce_errors",
    "Batches the relay failed to publish (retried from its last position)",
)

# -- personal data -------------------------------------------------------------------

PERSONAL_DATA_READS = Counter(
    "boende_personal_data_reads",
    "Reads of personal data (each logged in the access log), by stated purpose",
    ["purpose"],
)


# -- state read at scrape time --------------------------------------------------------

Probe = Callable[[], Iterable[Metric]]


class _Probes(Collector):
    """Runs every registered probe at scrape time; a probe that fails is
    logged and left out, so one unreachable table does not hide the rest."""

    def __init__(self) -> None:
        self._probes: list[Probe] = []
        self._lock = threading.Lock()

    def add(self, probe: Probe) -> Callable[[], None]:
        with self._lock:
            self._probes.append(probe)

        def remove() -> None:
            with self._lock:
                if probe in self._probes:
                    self._probes.remove(probe)

        return remove

    def collect(self) -> Iterator[Metric]:
        with self._lock:
            probes = list(self._probes)
        for probe in probes:
            try:
                yield from list(probe())
            except Exception:
                log.warning("a metrics probe failed", exc_info=True)

    def describe(self) -> Iterable[Metric]:
        return []  # state metrics are read at scrape time only


_PROBES = _Probes()
REGISTRY.register(_PROBES)


def add_probe(probe: Probe) -> Callable[[], None]:
    """Read ``probe``'s metrics at every scrape; the returned function
    removes it again (when the parts it reads are closed)."""
    return _PROBES.add(probe)


def gauge(name: str, documentation: str, value: float) -> GaugeMetricFamily:
    """One unlabelled gauge sample, for a probe."""
    return GaugeMetricFamily(name, documentation, value=value)


def labelled(
    name: str, documentation: str, labels: list[str], samples: Iterable[Any]
) -> GaugeMetricFamily:
    """A labelled gauge family from ``(label values, value)`` pairs."""
    family = GaugeMetricFamily(name, documentation, labels=labels)
    for values, value in samples:
        family.add_metric(list(values), value)
    return family


_serving: dict[int, object] = {}
_serving_lock = threading.Lock()


def serve(port: int | None, host: str = "127.0.0.1") -> bool:
    """Serve ``/metrics`` on ``port`` (once per process; None: off). False
    when it is off."""
    if port is None:
        return False
    with _serving_lock:
        if port not in _serving:
            _serving[port] = start_http_server(port, addr=host, registry=REGISTRY)
            log.info("metrics on http://%s:%d/metrics", host, port)
    return True
