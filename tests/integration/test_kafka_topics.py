"""Topics are created on a real broker (both implementations), idempotently."""

from __future__ import annotations

from pathlib import Path

from kafka import KafkaAdminClient

from infra.broker import LocalBroker
from infra.kafka import TOPICS, client_config, create_topics
from tests.conftest import kafka_settings


def test_create_topics_twice(kafka_broker: LocalBroker, tmp_path: Path) -> None:
    settings = kafka_settings(kafka_broker, tmp_path)
    create_topics(settings)
    assert create_topics(settings) == []  # the second time finds them all
    admin = KafkaAdminClient(**client_config(settings))
    try:
        assert set(TOPICS) <= set(admin.list_topics())
    finally:
        admin.close()
