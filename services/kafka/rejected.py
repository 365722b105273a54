"""``boende.submissions.rejected``: where the Kafka ingest puts what it refused.

Each refused message is produced again with its original key and value bytes
(never its headers: they carry the sender's bearer token) and the reason in
headers (``error``, ``message``, ``details``,
``source_topic``, ``source_partition``, ``source_offset``), so a committee
service can find, fix and resend it. ``publish`` returns only once the broker
has acknowledged every rejection: the caller may then commit the offsets.

Two edge cases keep their meaning rather than being dropped: a message with
neither key nor value (Kafka will not take one back) is produced with an
empty value and ``value_null: true``; a value the rejected topic refuses as
too large is produced without it, with ``value_omitted``, ``value_bytes`` and
``value_sha256`` (the original stays on the source topic for its retention).

Delivery is at least once: after a crash or a failed offset commit the same
refusal can be published again. ``source_topic``, ``source_partition`` and
``source_offset`` together identify it.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Sequence
from typing import Any, Protocol

from kafka.errors import KafkaError, MessageSizeTooLargeError, RecordListTooLargeError

from infra import kafka
from infra.settings import Settings
from services.submission.service import Refusal

log = logging.getLogger(__name__)

FLUSH_EVERY_BYTES = 8 * 1024 * 1024  # well inside the producer's 32 MiB buffer
FLUSH_TIMEOUT_S = 60.0
TOO_LARGE = (MessageSizeTooLargeError, RecordListTooLargeError)

Headers = list[tuple[str, bytes]]


class Record(Protocol):
    """The parts of a kafka-python ``ConsumerRecord`` that are read here."""

    topic: str
    partition: int
    offset: int
    key: bytes | None
    value: bytes | None
    headers: Any  # [(name, bytes)]: the sender's token (never copied here)
    timestamp: int  # milliseconds since the epoch; -1 when none


class NotPublished(Exception):
    """A rejection was not acknowledged: don't commit its offset."""


def headers_for(record: Record, refusal: Refusal) -> Headers:
    """The reason a message was refused and where it came from."""
    headers = [
        ("error", refusal.code.encode()),
        ("message", refusal.message.encode()),
        ("source_topic", record.topic.encode()),
        ("source_partition", str(record.partition).encode()),
        ("source_offset", str(record.offset).encode()),
    ]
    if refusal.details:  # what the HTTP body carries too: paths, never values
        headers.append(("details", json.dumps(refusal.details).encode()))
    if record.value is None and record.key is None:
        headers.append(("value_null", b"true"))
    return headers


def without_value(record: Record, headers: Headers) -> Headers:
    """Headers for a rejection whose value the rejected topic will not take."""
    value = record.value or b""
    return [
        *headers,
        ("value_omitted", b"too_large"),
        ("value_bytes", str(len(value)).encode()),
        ("value_sha256", hashlib.sha256(value).hexdigest().encode()),
    ]


class RejectedTopic:
    """An idempotent producer to the rejected topic, renewed after a failure."""

    def __init__(self, settings: Settings, topic: str = kafka.REJECTED) -> None:
        self.settings = settings
        self.topic = topic
        self.producer = self._new_producer()

    def _new_producer(self) -> Any:
        # A rejection is the refused message (as big as the submissions topic
        # takes) plus the reason in headers: the rejected topic's own limit.
        largest = self.settings.kafka_max_message_bytes + kafka.REJECTED_HEADROOM_BYTES
        return kafka.producer(self.settings, max_request_size=largest)

    def publish(self, rejections: Sequence[tuple[Record, Refusal]]) -> None:
        """Produce every rejection; raise ``NotPublished`` unless all are acked."""
        sent, pending = [], 0
        for record, refusal in rejections:
            headers = headers_for(record, refusal)
            sent.append((record, headers, self._send(record, headers)))
            pending += len(record.value or b"")
            if pending > FLUSH_EVERY_BYTES:
                self._flush()
                pending = 0
        self._flush()
        for record, headers, future in sent:
            if future.failed():
                self._publish_again(record, headers)

    def _publish_again(self, record: Record, headers: Headers) -> None:
        """One failed rejection, alone, on a new producer: kafka-python's
        idempotent producer stays failed after any refusal by the broker and
        fails every later send with that same error."""
        self._renew()
        future = self._send(record, headers)
        self._flush()
        if future.failed() and isinstance(future.exception, TOO_LARGE):
            log.warning("a rejection too large for %s goes without its value",
                        self.topic)  # fmt: skip
            self._renew()
            future = self._send(record, without_value(record, headers), value=False)
            self._flush()
        if future.failed():
            self._renew()
            raise NotPublished(type(future.exception).__name__)

    def _send(self, record: Record, headers: Headers, *, value: bool = True) -> Any:
        body = record.value if value else None
        if body is None and record.key is None:
            body = b""  # Kafka takes no message without a key or a value
        try:
            return self.producer.send(
                self.topic, key=record.key, value=body, headers=headers
            )
        except TOO_LARGE:  # over our own max_request_size: the reason alone
            return self._send(record, without_value(record, headers), value=False)

    def _flush(self) -> None:
        try:
            self.producer.flush(timeout=FLUSH_TIMEOUT_S)
        except KafkaError as error:
            raise NotPublished(type(error).__name__) from None

    def _renew(self) -> None:
        self.producer.close(timeout=5)
        self.producer = self._new_producer()

    def close(self) -> None:
        self.producer.close(timeout=10)
