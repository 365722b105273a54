"""The outbox relay: publishes every recorded event to ``boende.events``, in
log order (message format: ``services.kafka.codec``).

The relay follows the case log like a projection does, with its own durable
position (a ``ViewStore`` named ``relay``). Each batch is sent with the
idempotent, ``acks=all`` producer, flushed, and every send checked; only then
is the batch's last position recorded. So a position is never skipped, and a
crash between the acknowledgement and the record re-sends the batch:
consumers drop duplicates by the ``position`` header.

While the broker is away the relay retries the same batch with exponential
backoff, on a new producer each time, and carries on when it is back. Logs
carry positions, counts and error types, never an event's contents.
"""

from __future__ import annotations

import contextlib
import logging
import signal
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

from kafka import KafkaAdminClient, KafkaProducer
from kafka.admin import NewTopic
from kafka.errors import KafkaError, TopicAlreadyExistsError
from prometheus_client.core import Metric

from infra import logs, metrics
from infra.kafka import EVENTS, client_config, producer, topic_specs
from infra.schema_lock import schema_lock
from infra.settings import Settings
from infra.store import CaseLog
from infra.views import ViewStore
from services.kafka.codec import encode_event

log = logging.getLogger(__name__)

IDLE_POLL_SECONDS = 0.05
BACKOFF_FIRST_SECONDS = 0.1
BACKOFF_CAP_SECONDS = 3.0
#: Each batch ends with a flush, so a long linger costs no latency: it lets a
#: batch go out as one request per partition instead of many small ones. The
#: timeouts bound how long the producer keeps trying on its own before a send
#: is reported failed (then the relay backs off and re-sends on a new producer).
PRODUCER_OPTIONS: dict[str, Any] = {
    "linger_ms": 1_000,
    "batch_size": 256 * 1024,  # well under a broker's default message size cap
    "delivery_timeout_ms": 15_000,
    "request_timeout_ms": 10_000,
    "max_block_ms": 10_000,
    "bootstrap_timeout_ms": 10_000,
    "reconnect_backoff_max_ms": 1_000,
}
#: A flush outlives every send's delivery timeout; past this, something is stuck.
FLUSH_LIMIT_SECONDS = 60.0


class Relay:
    """Publishes the case log to a Kafka topic, at least once, in log order."""

    def __init__(
        self,
        app: CaseLog,
        settings: Settings,
        producer_factory: Callable[[], KafkaProducer] | None = None,
        *,
        topic: str = EVENTS,
    ) -> None:
        self.app = app
        self.settings = settings
        self.topic = topic
        self.batch_max = settings.kafka_relay_batch_max
        self.store = ViewStore(settings, "relay")
        self.new_producer = producer_factory or (
            lambda: producer(settings, **PRODUCER_OPTIONS)
        )
        self.published = 0  # messages acknowledged by this process
        self.failures = 0  # attempts that failed (and were retried)
        self._producer: KafkaProducer | None = None
        self._topics_ready = False
        self._from = 0  # the position the batch under way follows
        self._stop = threading.Event()

    def position(self) -> int:
        """The last log position published and acknowledged."""
        return self.store.position()

    def step(self) -> int:
        """Publish the next batch after our position; return its size. Raises
        if any send was not acknowledged; then nothing is recorded."""
        self._from = self.store.position()
        notifications = self.app.recorder.select_notifications(
            self._from, self.batch_max, inclusive_of_start=False
        )
        if not notifications:
            return 0
        self._publish(
            [
                encode_event(n.id, self.app.mapper.to_domain_event(n))
                for n in notifications
            ]
        )
        with self.store.transaction(commit=True) as sql:
            self.store.track(sql, notifications[-1].id)
        self.published += len(notifications)
        return len(notifications)

    def catch_up(self) -> int:
        """Publish everything recorded so far (no retries); return how many."""
        total = 0
        while done := self.step():
            total += done
        return total

    def run(self) -> None:
        """Follow the log until ``request_stop``: the batch under way is
        finished (or given up, unrecorded, if the broker is away)."""
        delay = BACKOFF_FIRST_SECONDS
        while not self._stop.is_set():
            try:
                busy = self.step()
            except Exception as error:  # the broker or the store is away
                self.failures += 1
                metrics.RELAY_PRODUCE_ERRORS.inc()
                self._discard_producer()
                log.warning(
                    "publishing after position %d failed (%s); retrying in %.1f s",
                    self._from,
                    _describe(error),
                    delay,
                )
                self._stop.wait(delay)
                delay = min(delay * 2, BACKOFF_CAP_SECONDS)
                continue
            if delay > BACKOFF_FIRST_SECONDS:
                log.info("publishing again; now at position %d", self.position())
                delay = BACKOFF_FIRST_SECONDS
            if not busy:
                self._stop.wait(IDLE_POLL_SECONDS)

    def probe(self) -> Iterator[Metric]:
        """``boende_relay_position_events`` and ``boende_relay_lag_events``,
        read at scrape time (``infra.metrics``): a stuck relay's lag grows."""
        position = self.position()
        yield metrics.gauge(
            "boende_relay_position_events",
            "The last log position published to boende.events",
            position,
        )
        end = self.app.recorder.max_notification_id() or 0
        yield metrics.gauge(
            "boende_relay_lag_events",
            "Events recorded in the log and not yet published",
            max(end - position, 0),
        )

    def request_stop(self) -> None:
        """Ask ``run`` to return after the current batch (signal-safe)."""
        self._stop.set()

    def close(self) -> None:
        """Flush and close the producer, close the position store."""
        self._discard_producer()
        self.store.close()

    def _publish(
        self, messages: list[tuple[bytes, bytes, list[tuple[str, bytes]]]]
    ) -> None:
        """Send, flush, then check that every send was acknowledged."""
        kafka = self._ready_producer()
        try:
            futures = [
                kafka.send(self.topic, key=key, value=value, headers=headers)
                for key, value, headers in messages
            ]
        finally:  # even after a failed send: let the earlier ones complete
            kafka.flush(timeout=FLUSH_LIMIT_SECONDS)
        for future in futures:
            future.get(timeout=0)  # raises the send's error, if it failed

    def _ready_producer(self) -> KafkaProducer:
        if not self._topics_ready:
            ensure_topic(self.settings, self.topic)
            self._topics_ready = True
        if self._producer is None:
            self._producer = self.new_producer()
        return self._producer

    def _discard_producer(self) -> None:
        """Close the producer; a fresh one is made for the next attempt. By
        now every send has completed or expired, so closing does not block."""
        if self._producer is None:
            return
        kafka, self._producer = self._producer, None
        with contextlib.suppress(KafkaError):
            kafka.close(timeout=5)


def ensure_topic(settings: Settings, topic: str) -> None:
    """Create ``topic`` unless it exists, as ``boende.events`` is specified
    (partitions, replication, kept forever): a broker's auto-creation would
    apply its own defaults."""
    spec = next(spec for spec in topic_specs(settings) if spec.name == EVENTS)
    admin = KafkaAdminClient(
        **client_config(settings),
        bootstrap_timeout_ms=10_000,
        request_timeout_ms=10_000,
    )
    try:
        if topic not in admin.list_topics():
            with contextlib.suppress(TopicAlreadyExistsError):  # a racing creator
                admin.create_topics(
                    [
                        NewTopic(
                            topic,
                            spec.num_partitions,
                            spec.replication_factor,
                            topic_configs=spec.topic_configs,
                        )
                    ]
                )
    finally:
        admin.close()


def _describe(error: Exception) -> str:
    """An error's type, and its text if it comes from Kafka (which never
    quotes a record); other errors could quote data, so only their type."""
    if isinstance(error, KafkaError):
        return str(error)  # kafka-python's text starts with the type's name
    return type(error).__name__


def wait_for_position(relay: Relay, position: int, timeout: float) -> bool:
    """Wait until ``relay`` has published up to ``position``; False on timeout."""
    deadline = time.monotonic() + timeout
    while relay.position() < position:
        if time.monotonic() >= deadline:
            return False
        time.sleep(0.02)
    return True


def run(settings: Settings, topic: str | None = None) -> int:
    """``boende relay``: publish the case log until SIGTERM or Ctrl-C, which
    finish the batch under way; exit status 0.

    Builds the case log alone, not all of ``bootstrap``: the relay needs no
    read models, and should not hold the personal-data keys it never uses."""
    logs.configure(settings.log_level, settings.effective_log_format)
    with schema_lock(settings):  # started beside the API and the ingest
        app = CaseLog(env=settings.eventsourcing_env())
        relay = Relay(app, settings, topic=topic or EVENTS)
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: relay.request_stop())
    unprobe = metrics.add_probe(relay.probe)
    metrics.serve(settings.metrics_port, settings.metrics_host)
    print(
        f"relaying the case log to {relay.topic} at {settings.kafka_bootstrap}, "
        f"after position {relay.position()}",
        flush=True,
    )
    started = time.monotonic()
    try:
        relay.run()
    finally:
        unprobe()
        relay.close()
        app.close()
    took = time.monotonic() - started
    print(f"published {relay.published} events in {took:.1f} s", flush=True)
    return 0
