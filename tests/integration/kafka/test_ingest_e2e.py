"""End to end through Kafka: 10,000 simulated submissions (a few per cent built
to be refused) are published as the simulator's ``--via kafka`` publishes
them, and recorded by the ingest worker. Every valid one must be recorded
once, every invalid one must be on the rejected topic with the reason a direct
``record_batch`` run gives it, and the oversight counts must equal those of
the same simulation recorded directly into a second, fresh store.

The topic has one partition. DOMAIN.md keys a message by its case *or* its
apartment, so an apartment's facts and the case facts that name it (a
contract executed in it, a tenancy that frees it) can sit in different
partitions; a consumer reading a backlog then meets them out of order and
refuses valid facts (``not_found``, ``apartment_unavailable``). One partition
keeps the order the senders published in.
"""

from __future__ import annotations

import json
import time
from collections import Counter
from datetime import date
from pathlib import Path
from typing import Any

from infra import kafka
from infra.broker import LocalBroker
from projections import counts as view
from services.bootstrap import Boende, bootstrap
from services.kafka.ingest import IngestWorker
from services.simulation.player import generate_with_expectations, publish
from services.submission.service import Accepted, parse
from tests.conftest import kafka_settings, stockholm_today
from tests.integration.kafka.test_ingest import (
    events_in,
    fresh_topics,
    header,
    read_topic,
    receipts,
    running,
    wait_until,
)

TOTAL = 10_000
START = date(2023, 1, 2)


def simulated() -> list[tuple[dict[str, Any], bool]]:
    """10,000 submissions from as many two-year worlds as it takes (the last
    one cut short: any prefix of a world is a valid world)."""
    items: list[tuple[dict[str, Any], bool]] = []
    seed = 1
    while len(items) < TOTAL:
        items += generate_with_expectations(24, seed, START, invalid_share=0.03)
        seed += 1
    return items[:TOTAL]


def encoded(body: dict[str, Any]) -> bytes:
    """The bytes ``publish`` puts on the topic."""
    return json.dumps(body, ensure_ascii=False).encode()


def record_directly(boende: Boende, bodies: list[dict[str, Any]]) -> list[str | None]:
    """Each submission's refusal code (None: recorded), straight into the store
    through ``record_batch`` in batches, in order."""
    codes: list[str | None] = [None] * len(bodies)
    limit = boende.settings.max_body_bytes
    for start in range(0, len(bodies), 500):
        parsed: dict[int, Any] = {}
        for index in range(start, min(start + 500, len(bodies))):
            try:
                parsed[index] = parse(encoded(bodies[index]), limit)
            except Exception as refusal:
                codes[index] = getattr(refusal, "code", "unexpected")
        outcomes = boende.service.record_batch(list(parsed.values()))
        for index, outcome in zip(parsed, outcomes, strict=True):
            if not isinstance(outcome, Accepted):
                codes[index] = outcome.code
    return codes


def oversight(boende: Boende, days: list[date]) -> list[dict[str, Any]]:
    for runner in boende.runners:
        runner.catch_up()
    with boende.views["counts"].transaction(commit=False) as sql:
        return [view.counts(sql, day, None) for day in days]


def test_simulation_through_kafka_equals_a_direct_run(
    kafka_broker: LocalBroker, tmp_path: Path
) -> None:
    items = simulated()
    bodies = [body for body, _ in items]
    settings = kafka_settings(kafka_broker, tmp_path / "via-kafka")
    direct = bootstrap(kafka_settings(kafka_broker, tmp_path / "direct"))
    via_kafka = bootstrap(settings)
    try:
        started = time.perf_counter()
        codes = record_directly(direct, bodies)
        direct_rate = TOTAL / (time.perf_counter() - started)
        assert [code is None for code in codes] == [valid for _, valid in items]
        topic, rejected = fresh_topics(settings, partitions=1)
        producer = kafka.producer(settings)
        try:
            assert publish(bodies, producer, topic) == TOTAL
        finally:
            producer.close()
        worker = IngestWorker(
            via_kafka.service, settings, topic=topic, rejected_topic=rejected,
            group_id=f"g-{topic}",
        )  # fmt: skip
        with running(worker):
            wait_until(lambda: worker.stats.consumed == TOTAL, "every message", 120)
        refused = Counter(
            (encoded(b), c) for b, c in zip(bodies, codes, strict=True) if c
        )
        out = read_topic(settings, rejected, expected=sum(refused.values()))
        print(f"{kafka_broker.kind}: {worker.stats.line()} "
              f"(record_batch alone: {direct_rate:.0f}/s)")  # fmt: skip

        valid = [body for body, code in zip(bodies, codes, strict=True) if not code]
        assert receipts(via_kafka, valid) == len(valid)
        assert events_in(via_kafka) == events_in(direct)  # none twice
        assert Counter((r.value, header(r, "error").decode()) for r in out) == refused
        days = [date(2023, 3, 31), date(2024, 1, 1), date(2024, 9, 30)]
        days.append(stockholm_today())
        assert oversight(via_kafka, days) == oversight(direct, days)
    finally:
        via_kafka.close()
        direct.close()
