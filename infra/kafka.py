"""Kafka clients and topics, configured from ``Settings`` only.

Three topics: ``boende.submissions`` (committee services publish envelopes;
key = case or apartment id), ``boende.submissions.rejected`` (what the ingest
refused, with the original key and bytes and the reason in headers) and
``boende.events`` (every recorded event, in log order, keyed by aggregate).
"""

from __future__ import annotations

import contextlib
from typing import Any

from kafka import KafkaAdminClient, KafkaConsumer, KafkaProducer
from kafka.admin import NewTopic
from kafka.errors import TopicAlreadyExistsError

from infra.settings import Settings

SUBMISSIONS = "boende.submissions"
REJECTED = "boende.submissions.rejected"
EVENTS = "boende.events"
TOPICS = (SUBMISSIONS, REJECTED, EVENTS)
#: A rejection is the refused message plus the reason in headers (``error``,
#: ``message``, ``details``, the source's coordinates): the rejected topic
#: takes this much more than the submissions topic, so that a refused message
#: as big as the submissions topic allows still goes back with its bytes.
REJECTED_HEADROOM_BYTES = 64 * 1024


def client_config(settings: Settings) -> dict[str, Any]:
    """Connection settings shared by every client (SASL/TLS passed through)."""
    config: dict[str, Any] = {
        "bootstrap_servers": settings.kafka_bootstrap.split(","),
        "security_protocol": settings.kafka_security_protocol,
    }
    optional = {
        "sasl_mechanism": settings.kafka_sasl_mechanism,
        "sasl_plain_username": settings.kafka_sasl_username,
        "sasl_plain_password": settings.kafka_sasl_password,
        "ssl_cafile": settings.kafka_ssl_cafile,
    }
    return config | {k: v for k, v in optional.items() if v is not None}


def producer(settings: Settings, **overrides: Any) -> KafkaProducer:
    """A producer that loses nothing: all in-sync replicas ack, idempotent."""
    options: dict[str, Any] = {
        "acks": "all",
        "enable_idempotence": True,
        "linger_ms": 5,
        "retries": 2_147_483_647,
        # kafka-python's default (1 MiB) would refuse, in ``send``, values the
        # topics take; the broker still has the last word per topic.
        "max_request_size": settings.kafka_max_message_bytes,
    }
    return KafkaProducer(**client_config(settings), **(options | overrides))


def consumer(
    settings: Settings, *topics: str, group_id: str | None, **overrides: Any
) -> KafkaConsumer:
    """A consumer that commits only when told to (after the outcome is durable)."""
    options: dict[str, Any] = {
        "group_id": group_id,
        "enable_auto_commit": False,
        "auto_offset_reset": "earliest",
        "session_timeout_ms": 6000,
        "heartbeat_interval_ms": 1000,
        # At least the largest message a topic takes (brokers return one
        # oversize batch anyway, but need not).
        "max_partition_fetch_bytes": max(
            4 * 1024 * 1024, settings.kafka_max_message_bytes + REJECTED_HEADROOM_BYTES
        ),
    }
    return KafkaConsumer(*topics, **client_config(settings), **(options | overrides))


def topic_specs(settings: Settings) -> list[NewTopic]:
    """The three topics. ``boende.events`` keeps everything forever (it is a
    replayable copy of the log) and has ONE partition: projections need the
    log's total order, and positions may have gaps (PostgreSQL), so merging
    several partitions back into order could never know when to stop waiting.
    The submission topics are partitioned by key (case or apartment id).

    ``max.message.bytes`` is set on every topic rather than left to the broker
    (1 MiB by default on Apache Kafka and noida-db): an oversize submission
    must reach the ingest and go to the rejected topic with its original bytes."""
    common = {"min.insync.replicas": str(settings.kafka_min_insync_replicas)}
    largest = settings.kafka_max_message_bytes
    max_bytes = {
        SUBMISSIONS: largest,
        REJECTED: largest + REJECTED_HEADROOM_BYTES,
        EVENTS: largest,
    }
    week = str(7 * 24 * 3600 * 1000)
    retention = {SUBMISSIONS: week, REJECTED: str(90 * 24 * 3600 * 1000), EVENTS: "-1"}
    partitions = {SUBMISSIONS: settings.kafka_topic_partitions, REJECTED: 1, EVENTS: 1}
    return [
        NewTopic(
            name,
            partitions[name],
            settings.kafka_replication_factor,
            topic_configs=common
            | {
                "retention.ms": retention[name],
                "cleanup.policy": "delete",
                "max.message.bytes": str(max_bytes[name]),
            },
        )
        for name in TOPICS
    ]


def create_topics(settings: Settings) -> list[str]:
    """Create the topics that do not exist yet; return the names created."""
    admin = KafkaAdminClient(**client_config(settings))
    try:
        existing = set(admin.list_topics())
        missing = [t for t in topic_specs(settings) if t.name not in existing]
        for spec in missing:
            with contextlib.suppress(TopicAlreadyExistsError):  # a racing creator
                admin.create_topics([spec])
        return [t.name for t in missing]
    finally:
        admin.close()
