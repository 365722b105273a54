"""Read models built from Kafka's ``boende.events`` equal those built from the
store, for the same history, on both broker implementations — including the
re-deliveries a relay crash can cause."""

from __future__ import annotations

import json
import uuid
from pathlib import Path

from kafka import KafkaAdminClient
from kafka.admin import NewTopic

from infra.broker import LocalBroker
from infra.kafka import client_config, producer
from infra.settings import Settings
from services.bootstrap import PROJECTIONS, bootstrap
from services.kafka.codec import encode_event
from services.kafka.feed import KafkaFeed
from services.projecting.runner import ProjectionRunner, build_runners
from services.simulation.player import generate
from services.submission.service import parse
from tests.conftest import kafka_settings, runner_rows


def test_read_models_from_kafka_equal_those_from_the_store(
    kafka_broker: LocalBroker, tmp_path: Path
) -> None:
    topic = f"events-{uuid.uuid4().hex[:8]}"
    store = bootstrap(kafka_settings(kafka_broker, tmp_path / "store"))
    admin = KafkaAdminClient(**client_config(store.settings))
    admin.create_topics([NewTopic(topic, 1, 1)])
    admin.close()
    try:
        envelopes = generate(8, seed=3)
        subs = [parse(json.dumps(e).encode(), 1 << 20) for e in envelopes]
        for i in range(0, len(subs), 100):
            store.service.record_batch(subs[i : i + 100])
        for runner in store.runners:
            runner.catch_up()
        notes = store.app.recorder.select_notifications(None, 100_000)
        events = [(n.id, store.app.mapper.to_domain_event(n)) for n in notes]
        send = producer(store.settings)
        for index, (position, event) in enumerate(events):
            key, value, headers = encode_event(position, event)
            send.send(topic, key=key, value=value, headers=headers)
            if index % 250 == 249:  # a relay crash re-sends what it had not recorded
                for again_position, again in events[index - 40 : index + 1]:
                    key, value, headers = encode_event(again_position, again)
                    send.send(topic, key=key, value=value, headers=headers)
        send.flush()
        send.close()

        oversight = kafka_settings(
            kafka_broker, tmp_path / "oversight", projection_batch_size=97
        )
        last = events[-1][0]
        runners = build_runners(oversight, None, [p() for p in PROJECTIONS])
        feed_until(oversight, runners, topic, last)
        assert runner_rows(runners) == runner_rows(store.runners)

        # An upgrade that changes every read model: they are reset at start
        # (no version recorded), and the group's committed offset is at the
        # topic's end; the feed must read the topic again from its start.
        for runner in runners:
            with runner.store.transaction(commit=True) as sql:
                sql.execute("DELETE FROM projection_versions")
            runner.store.close()
        runners = build_runners(oversight, None, [p() for p in PROJECTIONS])
        assert all(r.store.position() == 0 for r in runners)
        feed_until(oversight, runners, topic, last)  # the same group as before
        assert runner_rows(runners) == runner_rows(store.runners)
        for runner in runners:
            runner.store.close()
    finally:
        store.close()


def feed_until(
    settings: Settings, runners: list[ProjectionRunner], topic: str, last: int
) -> None:
    """Feed ``runners`` from ``topic`` (group ``test-<topic>``) until every
    one has reached position ``last``."""
    feed = KafkaFeed(settings, runners, topic=topic, group_id=f"test-{topic}")
    try:
        for _ in range(400):
            feed.step(timeout_ms=200)
            if min(r.store.position() for r in runners) >= last:
                return
    finally:
        feed.close()
