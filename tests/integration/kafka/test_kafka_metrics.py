"""The Kafka workers' metrics against a real broker: the ingest counts each
message by outcome and reason and its lag returns to zero; the relay's lag is
what it has not published, read at scrape time."""

from __future__ import annotations

import json
import uuid
from pathlib import Path

from prometheus_client import REGISTRY

from infra.broker import LocalBroker
from services.bootstrap import bootstrap
from services.kafka.ingest import IngestWorker
from services.kafka.relay import Relay
from services.submission.service import parse
from tests.conftest import envelope, kafka_settings
from tests.integration.kafka.test_ingest import (
    Message,
    as_message,
    fresh_topics,
    produce,
    running,
    wait_until,
)
from tests.integration.kafka.test_relay import fresh_topic


def sample(name: str, **labels: str) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


def test_ingest_counts_messages_by_outcome_and_its_lag_returns_to_zero(
    kafka_broker: LocalBroker, tmp_path: Path
) -> None:
    settings = kafka_settings(kafka_broker, tmp_path / "var")
    topic, rejected = fresh_topics(settings)
    prefix = uuid.uuid4().hex[:8]
    valid = [envelope("application_filed", f"c-{prefix}-{n}") for n in range(5)]
    poison: list[Message] = [
        (b"bad-json", b'{"submission_id": '),
        (b"empty", b""),
        as_message(envelope("application_granted", f"c-{prefix}-nobody")),
    ]
    messages = [*map(as_message, valid), *poison, as_message(valid[0])]  # + a repeat
    counted = {
        ("recorded", ""): 5,
        ("repeated", ""): 1,
        ("rejected", "invalid_submission"): 2,
        ("rejected", "not_found"): 1,
    }
    before = {k: sample("boende_ingest_messages_total", outcome=k[0], reason=k[1])
              for k in counted}  # fmt: skip
    kafka_not_found = sample(
        "boende_submissions_total", door="kafka", committee="IFN", outcome="not_found"
    )
    produce(settings, topic, messages)
    boende = bootstrap(settings)
    try:
        worker = IngestWorker(
            boende.service, settings, topic=topic, rejected_topic=rejected,
            group_id=f"g-{topic}",
        )  # fmt: skip
        with running(worker):
            wait_until(lambda: worker.stats.consumed == len(messages), "the batch")
            lag = "boende_ingest_consumer_lag_messages"
            wait_until(
                lambda: (
                    REGISTRY.get_sample_value(lag, {"topic": topic, "partition": "0"})
                    == 0
                ),
                "the lag to reach 0",
            )
    finally:
        boende.close()
    for (outcome, reason), expected in counted.items():
        after = sample("boende_ingest_messages_total", outcome=outcome, reason=reason)
        assert after - before[(outcome, reason)] == expected, (outcome, reason)
    assert (
        sample(
            "boende_submissions_total",
            door="kafka",
            committee="IFN",
            outcome="not_found",
        )
        - kafka_not_found
        == 1
    )


def test_the_relay_lag_is_what_it_has_not_published(
    kafka_broker: LocalBroker, tmp_path: Path
) -> None:
    settings = kafka_settings(kafka_broker, tmp_path / "var")
    boende = bootstrap(settings)
    relay = Relay(boende.app, settings, topic=fresh_topic(settings))
    try:
        for n in range(4):
            body = envelope("application_filed", f"c-relay-metrics-{n}")
            boende.service.submit(parse(json.dumps(body).encode(), 1 << 20))
        figures = {m.name: m.samples[0].value for m in relay.probe()}
        assert figures == {
            "boende_relay_position_events": 0,
            "boende_relay_lag_events": 4,
        }
        relay.catch_up()
        figures = {m.name: m.samples[0].value for m in relay.probe()}
        assert figures == {
            "boende_relay_position_events": 4,
            "boende_relay_lag_events": 0,
        }
    finally:
        relay.close()
        boende.close()
