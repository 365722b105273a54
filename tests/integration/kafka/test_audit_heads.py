"""Signed tree heads on the Kafka topic ``boende.audit.heads``, on a real
broker (both implementations): every head lands there, ``boende audit
verify`` reads them back and names a rollback by them, and ``boende topics
create`` makes the topic, kept forever.

The broker is shared by the session, so the topic holds heads of other
tests too: each test's heads are told apart by their signing key."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from infra.broker import LocalBroker
from infra.head_mirror import HeadNotMirrored, mirror_dir, topic_heads
from infra.kafka import HEADS
from infra.settings import Settings
from services.audit.log import AuditLog
from services.bootstrap import bootstrap
from services.cli import main as cli
from tests.conftest import free_port, kafka_settings
from tests.integration.audit.test_rollback import ROLLED_BACK, roll_back_to_eight
from tests.integration.audit.test_tamper import record, some_facts, verify
from tests.integration.kafka.test_kafka_topics import described


def test_every_head_goes_to_the_topic_and_verify_reads_it(
    kafka_broker: LocalBroker, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    settings = kafka_settings(kafka_broker, tmp_path / "var")
    boende = bootstrap(settings)
    audit = AuditLog(settings, boende.app)
    try:
        record(boende, some_facts("a", 4))
        first = audit.sign_head()
        record(boende, some_facts("b", 2))
        second = audit.sign_head()
        ours = [h for h in topic_heads(settings) if h.key_id == first.key_id]
        assert ours == [first, second]

        # Deleted with the newer events, heads and leaves, and the head files
        # gone too: the topic still names the rollback.
        roll_back_to_eight(settings)
        shutil.rmtree(mirror_dir(settings))
        code, out = verify(settings, capsys)
        assert code == 1, out
        assert "outside the store: 2 signed heads on boende.audit.heads" in out
        assert "the log holds 8 events but a head signed on " in out
        assert f"(on boende.audit.heads) covers 12: {ROLLED_BACK}" in out
    finally:
        audit.close()
        boende.close()


def test_topics_create_makes_the_heads_topic_kept_forever(
    kafka_broker: LocalBroker,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    settings = kafka_settings(kafka_broker, tmp_path)
    monkeypatch.setenv("BOENDE_KAFKA_BOOTSTRAP", kafka_broker.bootstrap)
    assert cli.main(["topics", "create"]) == 0
    said = capsys.readouterr().out
    assert f"{HEADS}: created" in said or f"{HEADS}: exists; configs match" in said
    configs = described(settings, [HEADS])[HEADS]
    if not configs:
        assert kafka_broker.kind == "tansu", "noida reports topic configs"
        pytest.skip(f"{kafka_broker.kind} reports no topic configs to check")
    assert configs["retention.ms"] == "-1"
    assert configs["cleanup.policy"] == "delete"


def test_no_head_is_signed_while_the_topic_cannot_take_it(tmp_path: Path) -> None:
    """Kafka configured but not there: the head is not signed, so no head
    exists in the store that the topic lacks."""
    away = f"127.0.0.1:{free_port()}"  # nothing listens there
    settings = Settings(data_dir=tmp_path / "var", kafka_bootstrap=away)
    boende = bootstrap(settings)
    audit = AuditLog(settings, boende.app)
    try:
        record(boende, some_facts("a", 1))
        with pytest.raises(HeadNotMirrored):
            audit.sign_head()
        assert audit.heads() == []
    finally:
        audit.close()
        boende.close()
