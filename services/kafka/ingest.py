"""``boende ingest``: the Kafka ingest worker.

Consumes ``boende.submissions`` in the consumer group ``boende-ingest`` and
records what it reads through the same path as ``POST /v1/submissions``.
Each poll is one batch, handled in the order of quix-streams' checkpointing
(process, flush the producer, then commit):

1. every message's bearer token (header ``authorization``) is verified, its
   lifetime judged at the message's own timestamp, and the message parsed;
   a missing or bad token (``unauthenticated``), what ``parse`` refuses (a
   null, empty, oversize, non-UTF-8, non-JSON or off-schema value), and an
   envelope the token may not send (``forbidden``: the same rule as HTTP,
   ``services.submission.submitters``) become rejections
   (``services.kafka.senders``); the token's ``sub`` and ``iss`` are recorded
   as the facts' ``submitted_by``;
2. the valid envelopes go together into **one** ``record_batch`` call, one
   store transaction; what the domain refuses becomes a rejection too;
3. every rejection is produced to ``boende.submissions.rejected`` and
   acknowledged (``services.kafka.rejected``);
4. only then are the batch's offsets committed.

So an offset is committed only once its message's outcome is durable.
``concurrent_update`` and ``unavailable`` are not the message's fault: the
batch is not committed, the consumer seeks back and retries it after a
backoff. A message read again (after a crash, a failed commit or a retry) is
answered from its submission receipt and records nothing new. SIGTERM
finishes the current batch, commits, closes and exits 0. Only counts and
codes are logged, never a key or a body.
"""

from __future__ import annotations

import logging
import signal
import sys
import threading
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from kafka import ConsumerRebalanceListener
from kafka.errors import KafkaError
from kafka.structs import OffsetAndMetadata, TopicPartition

from domain.errors import DomainError
from infra import kafka, metrics
from infra.auth import AuthConfigError
from infra.settings import Settings
from services.errors import (
    ConcurrentUpdate,
    InvalidSubmission,
    ServiceError,
    StoreUnavailable,
)
from services.kafka.rejected import NotPublished, Record, RejectedTopic
from services.kafka.senders import message_verifier, sender_of
from services.submission.service import (
    Accepted,
    Outcome,
    Refusal,
    SubmissionService,
    parse,
)
from services.submission.submitters import Submitter, submitted_by

log = logging.getLogger(__name__)

GROUP_ID = "boende-ingest"
POLL_TIMEOUT_MS = 500
BACKOFF_S, BACKOFF_MAX_S = 0.1, 5.0

Polled = dict[TopicPartition, list[Record]]


class RetryLater(Exception):
    """The batch could not be finished for a reason that is not its own."""


@dataclass
class IngestStats:
    """Running totals of one worker: messages and codes, never contents."""

    batches: int = 0
    consumed: int = 0
    recorded: int = 0
    repeated: int = 0
    store_calls: int = 0
    retries: int = 0
    rejected: Counter[str] = field(default_factory=Counter)
    first_batch_at: float | None = None  # time.monotonic() of the first batch
    last_commit_at: float = 0.0

    @property
    def per_second(self) -> float:
        """Messages committed per second since the first batch arrived."""
        if self.first_batch_at is None or self.last_commit_at <= self.first_batch_at:
            return 0.0
        return self.consumed / (self.last_commit_at - self.first_batch_at)

    def line(self) -> str:
        codes = ", ".join(f"{c} {n}" for c, n in sorted(self.rejected.items()))
        return (
            f"{self.consumed} consumed in {self.batches} batches: "
            f"{self.recorded} recorded, {self.repeated} repeats, "
            f"{sum(self.rejected.values())} rejected ({codes or 'none'}), "
            f"{self.retries} retried batches; {self.per_second:.0f}/s"
        )


def parse_record(record: Record, max_bytes: int) -> Any:
    """The envelope in a message's value; a null value is refused like bad JSON."""
    if record.value is None:
        raise InvalidSubmission(
            "the message has no value",
            details=[{"loc": "(body)", "problem": "null value"}],
        )
    return parse(record.value, max_bytes)


def is_transient(outcome: Outcome) -> bool:
    """A refusal that says nothing about the message: retry, don't reject."""
    return isinstance(outcome, ConcurrentUpdate | StoreUnavailable)


class LogAssignments(ConsumerRebalanceListener):  # type: ignore[misc]
    """Say which partitions this worker holds (nothing to do on revocation:
    every batch is committed before the next poll, where rebalances happen)."""

    def on_partitions_revoked(self, revoked: Any) -> None:
        log.info("partitions revoked: %s", _names(revoked))

    def on_partitions_assigned(self, assigned: Any) -> None:
        log.info("partitions assigned: %s", _names(assigned))


def _names(partitions: Any) -> str:
    return ", ".join(sorted(f"{tp.topic}/{tp.partition}" for tp in partitions))


class IngestWorker:
    """One member of the ingest consumer group.

    With an ``instance_id`` (say, the pod's name) it is a static member
    (KIP-345): where the broker supports it, a restarted worker takes its
    partitions back at once instead of waiting for the group to notice that
    the old one is gone.
    """

    def __init__(
        self,
        service: SubmissionService,
        settings: Settings,
        *,
        topic: str = kafka.SUBMISSIONS,
        rejected_topic: str = kafka.REJECTED,
        group_id: str = GROUP_ID,
        instance_id: str | None = None,
    ) -> None:
        self.service = service
        self.verifier = message_verifier(settings)  # None: BOENDE_AUTH=off
        self.max_body_bytes = settings.max_body_bytes
        self.batch_max = settings.kafka_ingest_batch_max
        static = {"group_instance_id": instance_id} if instance_id else {}
        self.consumer = kafka.consumer(
            settings, group_id=group_id, max_poll_records=self.batch_max, **static
        )
        self.consumer.subscribe([topic], listener=LogAssignments())
        self.rejected = RejectedTopic(settings, rejected_topic)
        self.stats = IngestStats()
        self._stop = threading.Event()
        self._failures = 0  # batches retried in a row, for the backoff
        self._next: dict[TopicPartition, int] = {}  # next offset, as committed

    def request_stop(self) -> None:
        """Stop after the current batch (safe from a signal handler)."""
        self._stop.set()

    def run_until_stopped(self) -> None:
        """Consume until ``request_stop``; then close the clients."""
        try:
            while not self._stop.is_set():
                self.step()
        finally:
            self.close()

    def step(self) -> int:
        """Poll one batch and see it through; the number of messages committed."""
        polled: Polled = self.consumer.poll(
            timeout_ms=POLL_TIMEOUT_MS, max_records=self.batch_max
        )
        records = [record for batch in polled.values() for record in batch]
        if not records:
            self.observe_lag()
            return 0
        if self.stats.first_batch_at is None:
            self.stats.first_batch_at = time.monotonic()
        try:
            self._handle(records)
        except (RetryLater, NotPublished) as reason:
            self._retry_later(polled, f"{type(reason).__name__}: {reason}")
            return 0
        self._failures = 0
        self._commit(polled)
        self.stats.last_commit_at = time.monotonic()
        self.stats.batches += 1
        self.stats.consumed += len(records)
        self.observe_lag()
        log.debug("batch of %d done; %s", len(records), self.stats.line())
        return len(records)

    def _handle(self, records: Sequence[Record]) -> None:
        """Record the valid, publish the refused: every message gets a durable
        outcome, or an exception is raised and nothing is committed."""
        refusals: dict[int, Refusal] = {}
        valid: dict[int, Any] = {}
        senders: dict[int, Submitter] = {}
        for index, record in enumerate(records):
            try:
                senders[index], valid[index] = self._admit(record)
            except (ServiceError, DomainError) as refusal:
                # unauthenticated, invalid_submission, payload_too_large, forbidden
                refusals[index] = refusal
        outcomes = self._record(list(valid.values()), [senders[i] for i in valid])
        for index, outcome in zip(valid, outcomes, strict=True):
            if not isinstance(outcome, Accepted):
                refusals[index] = outcome
        self.rejected.publish([(records[i], refusals[i]) for i in sorted(refusals)])
        accepted = [o for o in outcomes if isinstance(o, Accepted)]
        repeats = sum(o.repeated for o in accepted)
        self.stats.recorded += len(accepted) - repeats
        self.stats.repeated += repeats
        self.stats.rejected.update(r.code for r in refusals.values())
        _count(valid, outcomes, refusals)

    def _admit(self, record: Record) -> tuple[Submitter, Any]:
        """Who sent ``record`` (its token), and its envelope, if that sender
        may send it; else the refusal is raised."""
        principal = sender_of(self.verifier, record)
        envelope = parse_record(record, self.max_body_bytes)
        actor = envelope.actor
        return submitted_by(principal, actor.committee, actor.user), envelope

    def _record(self, envelopes: list[Any], by: list[Submitter]) -> list[Outcome]:
        """One ``record_batch`` call (one store transaction) for the batch."""
        if not envelopes:
            return []
        self.stats.store_calls += 1
        outcomes = self.service.record_batch(envelopes, by)
        transient = Counter(o.code for o in outcomes if is_transient(o))  # type: ignore[union-attr]
        if transient:
            raise RetryLater(", ".join(f"{c} {n}" for c, n in transient.items()))
        return outcomes

    def _retry_later(self, polled: Polled, reason: str) -> None:
        """Seek back to the batch's first offsets and wait; nothing committed.
        What the failed attempt did record comes back as repeats."""
        assigned = self.consumer.assignment()
        for tp, batch in polled.items():
            if batch and tp in assigned:
                self.consumer.seek(tp, batch[0].offset)
        self._failures += 1
        self.stats.retries += 1
        delay = min(BACKOFF_MAX_S, BACKOFF_S * 2 ** (self._failures - 1))
        log.warning("batch not finished (%s); retry in %.1f s", reason, delay)
        self._stop.wait(delay)

    def _commit(self, polled: Polled) -> None:
        offsets = {
            tp: OffsetAndMetadata(batch[-1].offset + 1, None, -1)
            for tp, batch in polled.items()
            if batch
        }
        try:
            self.consumer.commit(offsets)
        except KafkaError as error:
            # The outcomes are durable: whoever reads these messages again
            # gets repeats (and the rejected topic may see a refusal twice).
            log.warning("offset commit failed (%s)", type(error).__name__)
            return
        self._next.update({tp: meta.offset for tp, meta in offsets.items()})

    def observe_lag(self) -> None:
        """Set ``boende_ingest_consumer_lag_messages`` of each partition this
        worker holds: the broker's end (as of the last fetch) minus the next
        offset to commit. Partitions never committed here are left out."""
        for tp in self.consumer.assignment():
            end = self.consumer.highwater(tp)
            if end is not None and tp in self._next:
                lag = max(end - self._next[tp], 0)
                metrics.INGEST_LAG.labels(tp.topic, str(tp.partition)).set(lag)

    def close(self) -> None:
        """Close both clients; nothing is committed here."""
        self.consumer.close(autocommit=False)
        self.rejected.close()
        log.info("ingest stopped: %s", self.stats.line())


def run(
    settings: Settings,
    topic: str | None = None,
    rejected_topic: str | None = None,
    group_id: str | None = None,
    instance_id: str | None = None,
) -> int:
    """``boende ingest``: consume until SIGTERM or Ctrl-C, then exit 0."""
    from services.bootstrap import bootstrap

    boende = bootstrap(settings)
    metrics.serve(settings.metrics_port, settings.metrics_host)
    # kafka-python logs message values at DEBUG and chats at INFO.
    logging.getLogger("kafka").setLevel(max(logging.WARNING, log.getEffectiveLevel()))
    try:
        worker = IngestWorker(
            boende.service,
            settings,
            topic=topic or kafka.SUBMISSIONS,
            rejected_topic=rejected_topic or kafka.REJECTED,
            group_id=group_id or GROUP_ID,
            instance_id=instance_id,
        )
    except AuthConfigError as error:  # auth off, or no key, in production
        boende.close()
        print(f"boende ingest: {error}", file=sys.stderr)
        return 2
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: worker.request_stop())
    log.info("ingesting %s in group %s", topic or kafka.SUBMISSIONS,
             group_id or GROUP_ID)  # fmt: skip
    try:
        worker.run_until_stopped()
    finally:
        boende.close()
    return 0


def _count(
    valid: dict[int, Any], outcomes: Sequence[Outcome], refusals: dict[int, Refusal]
) -> None:
    """The batch's messages in ``boende_ingest_messages_total`` and
    ``boende_submissions_total`` (door ``kafka``)."""
    committee = {i: envelope.actor.committee for i, envelope in valid.items()}
    for index, outcome in zip(valid, outcomes, strict=True):
        if isinstance(outcome, Accepted):
            decided = "repeated" if outcome.repeated else "recorded"
            metrics.INGEST_MESSAGES.labels(decided, "").inc()
            metrics.count_submission("kafka", committee[index], decided)
    for index, refusal in refusals.items():
        metrics.INGEST_MESSAGES.labels("rejected", refusal.code).inc()
        metrics.count_submission("kafka", committee.get(index, ""), refusal.code)
