"""``boende simulate --via kafka``: the plan published to
``boende.submissions``, in order, keyed by case or apartment, each message
with its committee's bearer token in the header ``authorization``
(``services.simulation.tokens``), for ``boende ingest`` to record."""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from infra.progress import progress
from infra.settings import Settings
from services.simulation.behaviour import Envelope, Plan
from services.simulation.tokens import committee_tokens, token_for


def publish(
    envelopes: Iterable[Envelope],
    producer: Any,
    topic: str,
    on_progress: Callable[[int], None] | None = None,
    tokens: Mapping[str, str] | None = None,
) -> int:
    """Publish each envelope in order, keyed by its case or apartment id,
    its committee's token in the header ``authorization``, and wait until
    the broker has acknowledged every one; the number published.
    ``on_progress`` is told of each one handed to the producer."""
    futures = []
    for env in envelopes:
        key = env.get("case_id") or env.get("apartment_id")
        value = json.dumps(env, ensure_ascii=False).encode()
        encoded = key.encode() if isinstance(key, str) else None
        auth = token_for(tokens or {}, env)
        headers = [("authorization", auth.encode())] if auth else []
        futures.append(producer.send(topic, key=encoded, value=value, headers=headers))
        if on_progress is not None:
            on_progress(1)
    producer.flush()
    for future in futures:
        future.get(timeout=0)  # raises the send's error, if it failed
    return len(futures)


def via_kafka(world: Plan, args: argparse.Namespace) -> int:
    """Publish the plan to ``boende.submissions``; ``boende ingest`` records
    it and puts the refused ones on ``boende.submissions.rejected``."""
    from kafka.errors import KafkaError

    from infra.kafka import SUBMISSIONS, producer

    settings = Settings()
    if args.bootstrap:
        settings = settings.model_copy(update={"kafka_bootstrap": args.bootstrap})
    started = time.perf_counter()
    try:
        client = producer(settings)
        try:
            with progress(
                f"publishing to {SUBMISSIONS}", len(world.envelopes)
            ) as shown:
                count = publish(
                    world.envelopes, client, SUBMISSIONS, shown.advance,
                    committee_tokens(args.token, settings),
                )  # fmt: skip
        finally:
            client.close()
    except KafkaError as error:
        where = settings.kafka_bootstrap
        print(f"cannot publish to Kafka at {where}: {error}", file=sys.stderr)
        return 1
    took = time.perf_counter() - started
    print(f"published {count} submissions to {SUBMISSIONS} in {took:.2f} s")
    return 0
