"""Kafka options reach the clients, without a broker: static group membership
from ``make stack`` down to kafka-python's ``group_instance_id``, and the
message size limit on the topics, the producers and the consumers.

Every Kafka client class is replaced by a recorder of its arguments, so no
connection is ever attempted."""

from __future__ import annotations

import argparse
import signal
from typing import Any

import pytest
from pydantic import ValidationError

import services.bootstrap
from infra import kafka
from infra.settings import Settings
from services.cli import main as cli
from services.cli import stack
from services.kafka import ingest


class Recorder:
    """Stands in for a client class: keeps what it was built with."""

    built: list[Recorder]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        self.args, self.kwargs = args, kwargs
        type(self).built.append(self)

    def subscribe(self, *_: Any, **__: Any) -> None:
        pass


@pytest.fixture
def clients(monkeypatch: pytest.MonkeyPatch) -> list[Recorder]:
    """Every KafkaConsumer and KafkaProducer built during the test."""
    built: list[Recorder] = []
    recorder = type("Client", (Recorder,), {"built": built})
    monkeypatch.setattr(kafka, "KafkaConsumer", recorder)
    monkeypatch.setattr(kafka, "KafkaProducer", recorder)
    return built


# -- static membership -----------------------------------------------------------


def test_the_stack_starts_ingest_as_a_static_member() -> None:
    command = stack.worker_command("ingest")
    assert command[-2:] == ["--instance-id", stack.INGEST_INSTANCE_ID]
    assert "--instance-id" not in stack.worker_command("relay")
    assert "--instance-id" not in stack.worker_command("serve")


def test_the_cli_hands_the_instance_id_to_the_worker(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    seen: dict[str, Any] = {}

    def fake_run(settings: Settings, *args: Any) -> int:
        seen["args"] = args
        return 0

    monkeypatch.setattr(ingest, "run", fake_run)
    args = cli.build_parser().parse_args(["ingest", "--instance-id", "stack-ingest-0"])
    assert args.run(args) == 0
    assert seen["args"] == (None, None, None, "stack-ingest-0")


def test_run_builds_the_worker_with_the_instance_id(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    built: dict[str, Any] = {}

    class FakeWorker:
        def __init__(self, service: Any, settings: Settings, **options: Any) -> None:
            built.update(options)

        def request_stop(self) -> None:
            pass

        def run_until_stopped(self) -> None:
            pass

    class FakeBoende:
        service = None

        def close(self) -> None:
            pass

    monkeypatch.setattr(services.bootstrap, "bootstrap", lambda s: FakeBoende())
    monkeypatch.setattr(ingest, "IngestWorker", FakeWorker)
    monkeypatch.setattr(signal, "signal", lambda *_: None)  # keep pytest's
    assert ingest.run(Settings(), instance_id="stack-ingest-0") == 0
    assert built["instance_id"] == "stack-ingest-0"


@pytest.mark.parametrize("instance_id", ["stack-ingest-0", None])
def test_the_worker_joins_as_a_static_member_only_with_an_id(
    clients: list[Recorder], monkeypatch: pytest.MonkeyPatch, instance_id: str | None
) -> None:
    monkeypatch.setattr(ingest, "RejectedTopic", lambda *_: None)
    ingest.IngestWorker(None, Settings(), instance_id=instance_id)  # type: ignore[arg-type]
    [consumer] = clients
    assert consumer.kwargs.get("group_instance_id") == instance_id
    assert consumer.kwargs["group_id"] == ingest.GROUP_ID


def test_the_parser_takes_instance_id_only_for_ingest() -> None:
    parser = cli.build_parser()
    with pytest.raises(SystemExit):
        parser.parse_args(["relay", "--instance-id", "x"])
    args: argparse.Namespace = parser.parse_args(["ingest"])
    assert args.instance_id is None


# -- message size --------------------------------------------------------------------


def test_topics_take_the_configured_message_size() -> None:
    settings = Settings(kafka_max_message_bytes=8 * 1024 * 1024)
    limits = {
        spec.name: int(spec.topic_configs["max.message.bytes"])
        for spec in kafka.topic_specs(settings)
    }
    assert limits[kafka.SUBMISSIONS] == limits[kafka.EVENTS] == 8 * 1024 * 1024
    assert limits[kafka.REJECTED] == 8 * 1024 * 1024 + kafka.REJECTED_HEADROOM_BYTES


def test_the_default_takes_a_2mb_poison_message() -> None:
    settings = Settings()
    assert settings.kafka_max_message_bytes > 2 * 1024 * 1024 > settings.max_body_bytes


def test_clients_send_and_fetch_what_the_topics_take(clients: list[Recorder]) -> None:
    settings = Settings(kafka_max_message_bytes=8 * 1024 * 1024)
    kafka.producer(settings)
    kafka.consumer(settings, kafka.SUBMISSIONS, group_id="g")
    producer, consumer = clients
    assert producer.kwargs["max_request_size"] == 8 * 1024 * 1024
    assert consumer.kwargs["max_partition_fetch_bytes"] >= 8 * 1024 * 1024


def test_a_limit_below_the_http_body_limit_is_refused() -> None:
    with pytest.raises(ValidationError, match="MAX_MESSAGE_BYTES"):
        Settings(max_body_bytes=2 * 1024 * 1024, kafka_max_message_bytes=1024 * 1024)
