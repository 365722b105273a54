"""Messages on ``boende.submissions`` carry the sender's bearer token in the
header ``authorization``, verified by the ingest as HTTP verifies one, its
lifetime judged at the message's own timestamp (``services.kafka.senders``).
Against real brokers (noida and Tansu), with token checks on.

The rule, both sides of each edge (leeway 30 s):

- a message produced while its token was valid is recorded, even when the
  token has expired by the time the ingest reads it (a backlog that waited
  through an ingest outage), up to ``exp + leeway`` at the message's time;
- a message dated one second past ``exp + leeway`` is rejected, as is one
  dated before its token was issued (``iat - leeway``);
- no token, a token that does not verify, a role that may not send the fact,
  a person naming another officer: rejected, with the reason, and the token
  never copied to the rejected topic.
"""

from __future__ import annotations

import json
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from infra import kafka
from infra.auth import DEV_ISSUER, load_or_create_dev_key, mint
from infra.broker import LocalBroker
from infra.settings import Settings
from services.bootstrap import bootstrap
from services.kafka.ingest import IngestWorker
from tests.conftest import envelope, kafka_settings
from tests.integration.kafka.test_ingest import (
    fresh_topics,
    header,
    read_topic,
    receipts,
    running,
    wait_until,
)

LEEWAY = 30
NOW = datetime.now(UTC).replace(microsecond=0)


def token(
    settings: Settings,
    sub: str,
    roles: list[str],
    issued: datetime,
    lifetime: timedelta = timedelta(hours=1),
    committee: str | None = "IFN",
) -> bytes:
    key = load_or_create_dev_key(settings)
    jwt = mint(
        key, sub, roles, lifetime, issued, iss=DEV_ISSUER, committee=committee
    )  # fmt: skip
    return f"Bearer {jwt}".encode()


def message(
    body: dict[str, Any], auth: bytes | None, at: datetime
) -> tuple[bytes, bytes, list[tuple[str, bytes]], int]:
    key = str(body["case_id"]).encode()
    headers = [] if auth is None else [("authorization", auth)]
    return key, json.dumps(body).encode(), headers, int(at.timestamp() * 1000)


def filing(user: str = "handlaggare-17") -> dict[str, Any]:
    case_id = f"c-{uuid.uuid4().hex[:10]}"
    return envelope(
        "application_filed", case_id, actor={"committee": "IFN", "user": user}
    )


def test_tokens_are_judged_at_the_messages_own_time(
    kafka_broker: LocalBroker, tmp_path: Path
) -> None:
    settings = kafka_settings(
        kafka_broker, tmp_path / "var", auth="jwt", jwt_leeway_seconds=LEEWAY
    )
    topic, rejected = fresh_topics(settings)
    # A case system's token, valid from 3 h ago for 1 h: expired 2 h ago.
    issued = NOW - timedelta(hours=3)
    expired_now = token(settings, "treserva", ["case_system"], issued)
    exp = issued + timedelta(hours=1)
    fresh = token(settings, "treserva", ["case_system"], NOW - timedelta(minutes=1))
    person = token(settings, "anna", ["ifn_officer"], NOW, committee=None)
    officer_a = token(settings, "officer-a", ["ifn_officer"], NOW, committee=None)
    kf = token(settings, "kf", ["oversight"], NOW)
    aln_system = token(settings, "fast", ["case_system"], NOW, committee="ALN")
    second = timedelta(seconds=1)
    lee = timedelta(seconds=LEEWAY)
    recorded = {
        "in its lifetime (a backlog)": message(
            filing(), expired_now, exp - timedelta(minutes=20)
        ),
        "at exp + leeway": message(filing(), expired_now, exp + lee),
        "a person naming itself": message(filing("anna"), person, NOW),
    }
    fresh_issued = NOW - timedelta(minutes=1)
    refused = {
        "no token": (message(filing(), None, NOW), "unauthenticated", "no bearer"),
        "not a JWT": (
            message(filing(), b"Bearer nonsense", NOW),
            "unauthenticated",
            "not a JWT",
        ),
        "exp + leeway + 1 s": (
            message(filing(), expired_now, exp + lee + second),
            "unauthenticated",
            "had expired when the message was produced",
        ),
        "dated before iat - leeway": (
            message(filing(), fresh, fresh_issued - lee - second),
            "unauthenticated",
            "dated before its bearer token was issued",
        ),
        "wrong role": (
            message(filing(), kf, NOW),
            "forbidden",
            "needs the role ifn_officer",
        ),
        "bound to ALN": (
            message(filing(), aln_system, NOW),
            "forbidden",
            "bound to ALN",
        ),
        "a person naming another": (
            message(filing("chef-bob"), officer_a, NOW),
            "forbidden",
            "may only name itself",
        ),
    }
    sent = [*recorded.values(), *(m for m, _, _ in refused.values())]
    producer = kafka.producer(settings)
    try:
        for key, value, headers, at in sent:
            producer.send(topic, key=key, value=value, headers=headers, timestamp_ms=at)
        producer.flush()
    finally:
        producer.close()
    boende = bootstrap(settings)
    try:
        worker = IngestWorker(
            boende.service, settings, topic=topic, rejected_topic=rejected,
            group_id=f"g-{topic}",
        )  # fmt: skip
        with running(worker):
            wait_until(lambda: worker.stats.consumed == len(sent), "every message")
        bodies = [json.loads(value) for _, value, _, _ in recorded.values()]
        assert receipts(boende, bodies) == len(recorded)
        refused_bodies = [json.loads(m[1]) for m, _, _ in refused.values()]
        assert receipts(boende, refused_bodies) == 0
        stored = boende.app.recorder.select_notifications(None, 100)
        senders = [json.loads(n.state)["submitted_by"] for n in stored]
        assert senders == [
            {"sub": "treserva", "iss": DEV_ISSUER},
            {"sub": "treserva", "iss": DEV_ISSUER},
            {"sub": "anna", "iss": DEV_ISSUER},
        ]
        out = read_topic(settings, rejected, expected=len(refused))
    finally:
        boende.close()
    assert len(out) == len(refused)
    for record, (name, (sent_message, code, reason)) in zip(
        out, refused.items(), strict=True
    ):
        assert record.value == sent_message[1], name
        assert header(record, "error") == code.encode(), name
        assert reason in (header(record, "message") or b"").decode(), name
        assert header(record, "authorization") is None, name  # never copied


def test_with_auth_off_the_ingest_records_that_nobody_was_checked(
    kafka_broker: LocalBroker, tmp_path: Path
) -> None:
    settings = kafka_settings(kafka_broker, tmp_path / "var", auth="off")
    topic, rejected = fresh_topics(settings)
    key, value, headers, at = message(filing(), None, NOW)
    producer = kafka.producer(settings)
    try:
        producer.send(topic, key=key, value=value, headers=headers, timestamp_ms=at)
        producer.flush()
    finally:
        producer.close()
    boende = bootstrap(settings)
    try:
        worker = IngestWorker(
            boende.service, settings, topic=topic, rejected_topic=rejected,
            group_id=f"g-{topic}",
        )  # fmt: skip
        with running(worker):
            wait_until(lambda: worker.stats.consumed == 1, "the message")
        [stored] = boende.app.recorder.select_notifications(None, 10)
        assert json.loads(stored.state)["submitted_by"] == {
            "sub": "anonymous (auth off)"
        }
    finally:
        boende.close()
    time.sleep(0)  # nothing to wait for: the rejected topic stays empty
    assert read_topic(settings, rejected, expected=0, timeout=1) == []
