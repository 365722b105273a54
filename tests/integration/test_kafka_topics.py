"""Topics are created on a real broker (both implementations), idempotently,
with the configs ``topic_specs`` gives them — big enough that an oversize
submission reaches the ingest and lands on the rejected topic whole."""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest
from kafka import KafkaAdminClient
from kafka.admin import ConfigResource, ConfigResourceType, NewTopic

from infra import kafka
from infra.broker import LocalBroker
from infra.kafka import TOPICS, client_config, create_topics, topic_specs
from infra.settings import Settings
from services.bootstrap import bootstrap
from services.ingest import IngestWorker
from tests.conftest import envelope, kafka_settings
from tests.integration.test_ingest import (
    as_message,
    header,
    produce,
    read_topic,
    receipts,
    running,
    wait_until,
)

TWO_MB = 2 * 1024 * 1024


def test_create_topics_twice(kafka_broker: LocalBroker, tmp_path: Path) -> None:
    settings = kafka_settings(kafka_broker, tmp_path)
    create_topics(settings)
    assert create_topics(settings) == []  # the second time finds them all
    admin = KafkaAdminClient(**client_config(settings))
    try:
        assert set(TOPICS) <= set(admin.list_topics())
    finally:
        admin.close()


def described(settings: Settings, names: list[str]) -> dict[str, dict[str, str]]:
    """Each topic's configs as the broker reports them (name -> value)."""
    admin = KafkaAdminClient(**client_config(settings))
    try:
        answer = admin.describe_configs(
            [ConfigResource(ConfigResourceType.TOPIC, name) for name in names]
        )
    finally:
        admin.close()
    topics = answer.get("topic", {})
    return {
        name: {key: entry["value"] for key, entry in topics.get(name, {}).items()}
        for name in names
    }


@pytest.mark.parametrize("limit", [None, 8 * 1024 * 1024])
def test_topics_carry_their_configs(
    kafka_broker: LocalBroker, tmp_path: Path, limit: int | None
) -> None:
    """``max.message.bytes`` (BOENDE_KAFKA_MAX_MESSAGE_BYTES; the rejected
    topic a little more, for the reason's headers) and retention, as the
    broker reports them back."""
    extra = {} if limit is None else {"kafka_max_message_bytes": limit}
    settings = kafka_settings(kafka_broker, tmp_path, **extra)
    specs = renamed(topic_specs(settings), f"cfg-{uuid.uuid4().hex[:8]}-")
    create(settings, specs)
    configs = described(settings, [spec.name for spec in specs])
    if not any(configs.values()):
        pytest.skip(
            f"{kafka_broker.kind} answers describe_configs with no configs "
            "at all, so what it applied cannot be checked"
        )
    wanted = settings.kafka_max_message_bytes
    submissions, rejected, events = (configs[spec.name] for spec in specs)
    assert int(submissions["max.message.bytes"]) == wanted
    assert int(events["max.message.bytes"]) == wanted
    assert int(rejected["max.message.bytes"]) > wanted  # room for the headers
    assert events["retention.ms"] == "-1"


def test_a_2mb_poison_message_reaches_the_rejected_topic_whole(
    kafka_broker: LocalBroker, tmp_path: Path
) -> None:
    """On topics made as ``boende topics create`` makes them, with Boende's
    own producer settings: a 2 MB value (over BOENDE_MAX_BODY_BYTES, under
    the topics' limit) is published, refused as ``payload_too_large`` with
    its original bytes, and the valid message after it is recorded."""
    settings = kafka_settings(kafka_broker, tmp_path / "var")
    specs = renamed(topic_specs(settings), f"big-{uuid.uuid4().hex[:8]}-")
    create(settings, specs)
    topic, rejected, _ = (spec.name for spec in specs)
    huge = b'{"padding": "' + b"x" * TWO_MB + b'"}'
    after = envelope("application_filed", f"c-{uuid.uuid4().hex[:8]}")
    produce(settings, topic, [(b"huge", huge), as_message(after)])
    boende = bootstrap(settings)
    try:
        worker = IngestWorker(
            boende.service, settings, topic=topic, rejected_topic=rejected,
            group_id=f"g-{topic}",
        )  # fmt: skip
        with running(worker):
            wait_until(lambda: worker.stats.consumed == 2, "both messages")
        assert receipts(boende, [after]) == 1
        [record] = read_topic(settings, rejected, expected=1)
    finally:
        boende.close()
    assert (record.key, record.value) == (b"huge", huge)
    assert header(record, "error") == b"payload_too_large"
    assert header(record, "value_omitted") is None


def renamed(specs: list[NewTopic], prefix: str) -> list[NewTopic]:
    """The production topics' specs under fresh names (the session's broker
    is shared, and only ``test_create_topics_twice`` owns the real names)."""
    return [
        NewTopic(
            prefix + spec.name,
            spec.num_partitions,
            spec.replication_factor,
            topic_configs=spec.topic_configs,
        )
        for spec in specs
    ]


def create(settings: Settings, specs: list[NewTopic]) -> None:
    admin = KafkaAdminClient(**kafka.client_config(settings))
    try:
        admin.create_topics(specs)
    finally:
        admin.close()
