"""Signed tree heads kept outside the store, so a rollback is seen.

The store's own heads prove nothing about what the store no longer holds:
whoever deletes the newer events can delete the newer heads and leaves with
them, and a restored backup brings back older heads with an older log. So
every head is also written where a database backup and restore do not reach:

- **a directory of head files** (``BOENDE_TREE_HEAD_MIRROR_DIR``; default
  ``<data_dir>-tree-heads`` beside the data directory): one JSON file per
  head, named by its size and time, written to a temporary file, flushed,
  then hard-linked to its name, so a file is never half written and never
  overwritten;
- **the Kafka topic** ``boende.audit.heads`` (kept forever), when Kafka is
  configured (``BOENDE_KAFKA_BOOTSTRAP`` set), keyed by the signing key's id.

A head is signed only once both copies are written (``AuditLog.sign_head``
in ``services.audit.log`` writes them inside its transaction). ``boende
audit verify`` and the checks at start read them back: the newest head
found anywhere must not cover more events than the log holds.
"""

from __future__ import annotations

import contextlib
import json
import logging
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from infra.keyfiles import create_once
from infra.settings import Settings
from infra.signing import (
    SignedTreeHead,
    canonical_json,
    parse_timestamp,
    verify_head,
)

log = logging.getLogger(__name__)

SUFFIX = ".json"
KAFKA_TIMEOUT_MS = 10_000


class HeadNotMirrored(RuntimeError):
    """A head could not be written outside the store: it is not signed."""


def mirror_dir(settings: Settings) -> Path:
    """``BOENDE_TREE_HEAD_MIRROR_DIR``, else ``<data_dir>-tree-heads`` beside
    the data directory (never inside it: a restore of the data directory
    would bring back old head files with the old log)."""
    if settings.tree_head_mirror_dir is not None:
        return settings.tree_head_mirror_dir
    data = settings.data_dir.absolute()
    return data.parent / f"{data.name}-tree-heads"


def kafka_configured(settings: Settings) -> bool:
    """Whether Kafka is in use: ``BOENDE_KAFKA_BOOTSTRAP`` was set."""
    return "kafka_bootstrap" in settings.model_fields_set


@dataclass(frozen=True)
class Found:
    """A head kept outside the store, and where (for the operator)."""

    head: SignedTreeHead
    where: str


@dataclass
class Mirrored:
    """Every head read back from outside the store, and what could not be read."""

    found: list[Found] = field(default_factory=list)
    unreadable: list[str] = field(default_factory=list)

    def summary(self) -> list[str]:
        """Where heads were found outside the store, and what was unreadable."""
        places: dict[str, int] = {}
        for f in self.found:
            places[f.where] = places.get(f.where, 0) + 1
        lines = [f"{count} signed heads {where}" for where, count in places.items()]
        return (lines or ["no signed head outside the store"]) + self.unreadable


def newest(heads: Iterable[Found]) -> Found | None:
    """The head that covers the most events (the latest of those)."""
    return max(heads, key=lambda f: (f.head.tree_size, f.head.timestamp), default=None)


def rollback(
    public_key: Ed25519PublicKey,
    found: Iterable[Found],
    held: Sequence[tuple[int, bytes]],
    signed: Sequence[tuple[int, bytes]],
) -> str | None:
    """A rollback, named: a well-signed head covers more events than the log
    ``held`` (``(position, leaf hash)``), and what it holds is the start of
    what was ``signed`` (the leaf table's leaves); else None (a log that
    changed rather than shrank is located by the leaf comparison)."""
    top = newest(f for f in found if verify_head(public_key, f.head))
    if top is None or top.head.tree_size <= len(held):
        return None
    if any(mine != theirs for mine, theirs in zip(held, signed, strict=False)):
        return None
    return (
        f"the log holds {len(held)} events but a head signed on "
        f"{signed_on(top.head)} ({top.where}) covers {top.head.tree_size}: "
        "rolled back or restored from an older backup?"
    )


def signed_on(head: SignedTreeHead) -> str:
    """The head's time for people: ``2026-12-04 21:20:00 UTC``."""
    return parse_timestamp(head.timestamp).strftime("%Y-%m-%d %H:%M:%S UTC")


class HeadMirror:
    """The head files, and the Kafka topic when Kafka is configured."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.directory = mirror_dir(settings)
        self.kafka = kafka_configured(settings)

    def write(self, head: SignedTreeHead) -> None:
        """Write ``head`` to the directory and the topic; raise
        :class:`HeadNotMirrored` when either cannot take it."""
        path = self.directory / file_name(head)
        try:
            create_once(path, canonical_json(head.as_json()) + b"\n", 0o644)
        except OSError as error:
            raise HeadNotMirrored(
                f"cannot write the head file {path}: {error}"
            ) from None
        if self.kafka:
            publish(self.settings, head)

    def read(self, key_id: str | None = None) -> Mirrored:
        """Every head in the directory and, given the signing ``key_id``,
        those on the topic signed by that key (a cluster may be shared)."""
        mirrored = Mirrored()
        self._read_files(mirrored)
        if key_id is not None and self.kafka:
            try:
                heads = topic_heads(self.settings)
            except Exception as error:  # the broker away: said, not fatal
                mirrored.unreadable.append(f"{HEADS_NAME}: not read ({error!r})")
            else:
                mine = [h for h in heads if h.key_id == key_id]
                mirrored.found += [Found(h, f"on {HEADS_NAME}") for h in mine]
        return mirrored

    def latest(self) -> list[Found]:
        """The newest head file that reads as a head (names sort by size,
        then time), or none: what the signer checks before each head."""
        if not self.directory.is_dir():
            return []
        for path in sorted(self.directory.glob(f"*{SUFFIX}"), reverse=True):
            with contextlib.suppress(OSError, ValueError):
                head = SignedTreeHead.from_json(json.loads(path.read_text()))
                return [Found(head, f"in {self.directory}")]
        return []

    def _read_files(self, mirrored: Mirrored) -> None:
        if not self.directory.is_dir():
            return
        for path in sorted(self.directory.glob(f"*{SUFFIX}")):
            try:
                head = SignedTreeHead.from_json(json.loads(path.read_text()))
            except (OSError, ValueError) as error:
                mirrored.unreadable.append(f"{path}: not a signed head ({error})")
                continue
            mirrored.found.append(Found(head, f"in {self.directory}"))


def file_name(head: SignedTreeHead) -> str:
    """``000000000012-20261204T212000.123456Z.json``: sorted by size, then time."""
    moment = head.timestamp.replace("-", "").replace(":", "")
    return f"{head.tree_size:012d}-{moment}{SUFFIX}"


# -- the Kafka topic -----------------------------------------------------------

#: ``infra.kafka.HEADS``, named here without importing kafka-python.
HEADS_NAME = "boende.audit.heads"


def publish(settings: Settings, head: SignedTreeHead) -> None:
    """Send ``head`` to ``boende.audit.heads`` (created as specified if
    missing) and wait for the acknowledgement of every in-sync replica."""
    from kafka.errors import KafkaError

    from infra.kafka import HEADS, producer

    try:
        _ensure_topic(settings)
        sender = producer(
            settings,
            linger_ms=0,
            request_timeout_ms=KAFKA_TIMEOUT_MS,
            max_block_ms=KAFKA_TIMEOUT_MS,
            delivery_timeout_ms=KAFKA_TIMEOUT_MS + 5_000,
        )
    except KafkaError as error:
        raise HeadNotMirrored(f"cannot reach Kafka for {HEADS}: {error}") from None
    try:
        future = sender.send(
            HEADS,
            key=head.key_id.encode(),
            value=canonical_json(head.as_json()),
        )
        sender.flush(timeout=KAFKA_TIMEOUT_MS / 1000 * 2)
        future.get(timeout=0)
    except KafkaError as error:
        raise HeadNotMirrored(f"{HEADS} did not take the head: {error}") from None
    finally:
        with contextlib.suppress(KafkaError):
            sender.close(timeout=5)


def _ensure_topic(settings: Settings) -> None:
    from kafka import KafkaAdminClient
    from kafka.errors import TopicAlreadyExistsError

    from infra.kafka import HEADS, client_config, topic_specs

    spec = next(s for s in topic_specs(settings) if s.name == HEADS)
    admin = KafkaAdminClient(
        **client_config(settings),
        bootstrap_timeout_ms=KAFKA_TIMEOUT_MS,
        request_timeout_ms=KAFKA_TIMEOUT_MS,
    )
    try:
        if HEADS not in admin.list_topics():
            with contextlib.suppress(TopicAlreadyExistsError):  # a racing creator
                admin.create_topics([spec])
    finally:
        admin.close()


def topic_heads(settings: Settings) -> list[SignedTreeHead]:
    """Every head on ``boende.audit.heads``, in the topic's order; none when
    the topic does not exist. A message that is no head is skipped, logged."""
    from kafka import KafkaConsumer, TopicPartition

    from infra.kafka import HEADS, client_config

    reader = KafkaConsumer(
        **client_config(settings),
        group_id=None,
        enable_auto_commit=False,
        request_timeout_ms=KAFKA_TIMEOUT_MS + 1_000,
        consumer_timeout_ms=KAFKA_TIMEOUT_MS,
    )
    try:
        if not reader.partitions_for_topic(HEADS):
            return []
        partition = TopicPartition(HEADS, 0)
        reader.assign([partition])
        reader.seek_to_beginning(partition)
        end = reader.end_offsets([partition])[partition]
        return _read_until(reader, partition, end)
    finally:
        reader.close()


def _read_until(reader: Any, partition: Any, end: int) -> list[SignedTreeHead]:
    """Poll until ``end``; a broker that stops answering is an error."""
    heads: list[SignedTreeHead] = []
    deadline = time.monotonic() + KAFKA_TIMEOUT_MS / 1000 * 3
    while reader.position(partition) < end:
        if time.monotonic() > deadline:
            raise TimeoutError(f"{HEADS_NAME} stopped answering before its end")
        polled = reader.poll(timeout_ms=1_000)
        for record in (r for batch in polled.values() for r in batch):
            try:
                heads.append(SignedTreeHead.from_json(json.loads(record.value)))
            except ValueError:
                log.warning(
                    "%s offset %d holds no signed head", HEADS_NAME, record.offset
                )
    return heads
