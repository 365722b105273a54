"""Read models fed from Kafka's ``boende.events`` instead of the store.

For an oversight deployment with no access to the event store: the same
projection code and the same tracking by log position, fed by the relay's
messages. ``boende.events`` has one partition, so offsets follow the log's
order; the relay delivers at least once, so a message whose position is not
beyond what was already seen is dropped. Offsets are committed only after the
read models' transactions, so a crash re-reads, and re-reading is harmless.

A read model at position 0 (new, or reset because an upgrade changed it)
needs the whole topic, whatever the group last committed: the feed then
starts from the topic's beginning (``boende.events`` is kept forever), and
the read models that are further on skip what they already hold.
"""

from __future__ import annotations

import logging
import signal
import threading
from collections.abc import Iterable, Sequence
from typing import Any

from kafka import ConsumerRebalanceListener, KafkaConsumer

from infra import metrics
from infra.kafka import EVENTS, consumer
from infra.schema_lock import schema_lock
from infra.settings import Settings
from projections.base import Recorded
from services.bootstrap import PROJECTIONS
from services.kafka.codec import position_of, to_domain_event
from services.projecting.metrics import log_probe
from services.projecting.runner import ProjectionRunner, build_runners

log = logging.getLogger(__name__)


class KafkaFeed:
    """Feeds every runner from ``topic``, in position order, at least once."""

    def __init__(
        self,
        settings: Settings,
        runners: Sequence[ProjectionRunner],
        *,
        topic: str = EVENTS,
        group_id: str = "boende-project",
    ) -> None:
        self.runners = runners
        self.batch_size = settings.projection_batch_size
        self.consumer: KafkaConsumer = consumer(
            settings, group_id=group_id, max_poll_records=self.batch_size
        )
        rewind = min((r.store.position() for r in runners), default=0) == 0
        self.consumer.subscribe([topic], listener=_FromTheStart(self.consumer, rewind))
        self._stop = threading.Event()

    def step(self, timeout_ms: int = 500) -> int:
        """Apply one polled batch to every runner, then commit the offsets."""
        polled = self.consumer.poll(timeout_ms=timeout_ms, max_records=self.batch_size)
        records = sorted(
            (r for batch in polled.values() for r in batch), key=lambda r: r.offset
        )
        if not records:
            return 0
        batch = in_position_order(
            Recorded(position_of(r.headers), to_domain_event(r.value, r.headers))
            for r in records
        )
        applied = max(runner.apply(batch) for runner in self.runners)
        self.consumer.commit()
        return applied

    def run_until_stopped(self) -> None:
        while not self._stop.is_set():
            self.step()

    def request_stop(self) -> None:
        self._stop.set()

    def close(self) -> None:
        self.consumer.close()


class _FromTheStart(ConsumerRebalanceListener):  # type: ignore[misc]
    """On the first assignment, start from the topic's beginning if ``rewind``."""

    def __init__(self, kafka: KafkaConsumer, rewind: bool) -> None:
        self.kafka = kafka
        self.rewind = rewind

    def on_partitions_revoked(self, revoked: Any) -> None:
        pass

    def on_partitions_assigned(self, assigned: Any) -> None:
        if self.rewind and assigned:
            log.info("a read model starts from position 0: reading from the start")
            self.kafka.seek_to_beginning(*assigned)
            self.rewind = False


def in_position_order(records: Iterable[Recorded]) -> list[Recorded]:
    """Drop re-deliveries: keep each record only if its position is beyond
    every position before it (the relay re-sends after a crash)."""
    kept: list[Recorded] = []
    for record in records:
        if not kept or record.position > kept[-1].position:
            kept.append(record)
    return kept


def run(settings: Settings) -> int:
    """Keep the read models up to date from ``boende.events`` (no store
    access), until SIGTERM or Ctrl-C: ``boende project --source kafka``."""
    with schema_lock(settings):  # other deployments may start at once
        runners = build_runners(settings, None, [p() for p in PROJECTIONS])
    feed = KafkaFeed(settings, runners)
    signal.signal(signal.SIGTERM, lambda *_: feed.request_stop())
    unprobe = metrics.add_probe(log_probe(None, runners))
    metrics.serve(settings.metrics_port, settings.metrics_host)
    print(f"following boende.events on {settings.kafka_bootstrap}", flush=True)
    try:
        feed.run_until_stopped()
    except KeyboardInterrupt:
        pass
    finally:
        unprobe()
        feed.close()
        for runner in runners:
            runner.store.close()
    return 0
