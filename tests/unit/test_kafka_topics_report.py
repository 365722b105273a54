"""``ensure_topics`` on brokers the local ones cannot play: one without
IncrementalAlterConfigs, one whose DescribeConfigs fails or answers nothing,
one that refuses an alteration — and the report's lines for the real topic
names. A scripted admin client stands in for KafkaAdminClient."""

from __future__ import annotations

from typing import Any

import pytest
from kafka.admin import ConfigResource
from kafka.errors import IncompatibleBrokerVersion, KafkaConnectionError

from infra import kafka
from infra.kafka import EVENTS, HEADS, REJECTED, SUBMISSIONS, TOPICS, ensure_topics
from infra.settings import Settings


class ScriptedAdmin:
    """All four topics exist with one partition, one replica and the configs
    in ``configs``; records every alter_configs call."""

    configs: dict[str, dict[str, str]]
    describe_error: Exception | None = None
    incremental: bool = True
    alter_answer: str = "OK"
    alters: list[tuple[bool, dict[str, dict[str, str]]]]

    def __init__(self, **_: Any) -> None:
        pass

    def list_topics(self) -> list[str]:
        return list(TOPICS)

    def create_topics(self, specs: Any) -> None:
        raise AssertionError(f"nothing to create: {specs}")

    def describe_topics(self, names: list[str]) -> list[dict[str, Any]]:
        partition = {"error_code": 0, "replica_nodes": [1]}
        return [{"name": n, "error_code": 0, "partitions": [partition]} for n in names]

    def describe_configs(
        self, resources: list[ConfigResource], config_filter: str = "modified"
    ) -> dict[str, Any]:
        if self.describe_error is not None:
            raise self.describe_error
        return {
            "topic": {
                r.name: {
                    k: {"value": v} for k, v in self.configs.get(r.name, {}).items()
                }
                for r in resources
            }
        }

    def alter_configs(
        self,
        resources: list[ConfigResource],
        raise_on_unknown: bool = True,
        incremental: bool | None = None,
    ) -> dict[str, Any]:
        if incremental and not self.incremental:
            raise IncompatibleBrokerVersion("no IncrementalAlterConfigs")
        self.alters.append((bool(incremental), {r.name: r.configs for r in resources}))
        if self.alter_answer == "OK":
            for r in resources:
                self.configs.setdefault(r.name, {}).update(r.configs)
        return {"topic": {r.name: self.alter_answer for r in resources}}

    def close(self) -> None:
        pass


@pytest.fixture
def admin(monkeypatch: pytest.MonkeyPatch) -> type[ScriptedAdmin]:
    scripted = type("Admin", (ScriptedAdmin,), {"configs": {}, "alters": []})
    monkeypatch.setattr(kafka, "KafkaAdminClient", scripted)
    return scripted


def ours(settings: Settings) -> dict[str, dict[str, str]]:
    return {spec.name: dict(spec.topic_configs) for spec in kafka.topic_specs(settings)}


def test_without_incremental_alter_all_of_our_configs_are_sent(
    admin: type[ScriptedAdmin],
) -> None:
    """AlterConfigs replaces a topic's whole set of dynamic configs: sending
    only the differing key would reset retention and the rest."""
    settings = Settings(kafka_max_message_bytes=8 * 1024 * 1024)
    admin.configs = ours(Settings())
    admin.incremental = False
    report = ensure_topics(settings)
    assert [incremental for incremental, _ in admin.alters] == [False]
    [(_, sent)] = admin.alters
    assert sent == ours(settings)
    assert set(report.altered) == set(TOPICS)
    assert all(
        [c.key for c in changes] == ["max.message.bytes"]
        for changes in report.altered.values()
    )


def test_incremental_alter_sends_only_what_differs(admin: type[ScriptedAdmin]) -> None:
    settings = Settings(kafka_max_message_bytes=8 * 1024 * 1024)
    admin.configs = ours(Settings())
    ensure_topics(settings)
    [(incremental, sent)] = admin.alters
    assert incremental
    assert sent == {
        name: {"max.message.bytes": configs["max.message.bytes"]}
        for name, configs in ours(settings).items()
    }


@pytest.mark.parametrize(
    "error", [None, KafkaConnectionError("socket disconnected")], ids=["empty", "error"]
)
def test_configs_that_cannot_be_read_are_reported_not_altered(
    admin: type[ScriptedAdmin], error: Exception | None
) -> None:
    admin.describe_error = error
    report = ensure_topics(Settings())
    assert admin.alters == []
    assert all(topic.unreadable for topic in report.topics)
    assert report.in_line  # nothing is known to differ
    assert all("configs could not be read" in line for line in report.lines())


def test_topics_that_cannot_be_described_are_reported_not_a_traceback(
    admin: type[ScriptedAdmin], monkeypatch: pytest.MonkeyPatch
) -> None:
    def unreachable(self: ScriptedAdmin, names: list[str]) -> Any:
        raise KafkaConnectionError("broker went away")

    monkeypatch.setattr(admin, "describe_topics", unreachable)
    admin.configs = ours(Settings())
    report = ensure_topics(Settings())
    assert all(topic.layout_unknown for topic in report.topics)
    assert not report.in_line  # boende.events' one partition went unchecked
    assert sum("describe_topics failed" in line for line in report.lines()) == len(
        TOPICS
    )


def test_a_refused_alteration_is_reported(admin: type[ScriptedAdmin]) -> None:
    admin.configs = ours(Settings())
    admin.alter_answer = "PolicyViolationError: no"
    report = ensure_topics(Settings(kafka_max_message_bytes=8 * 1024 * 1024))
    assert report.altered == {}
    assert not report.in_line
    assert all("altering its configs failed: PolicyViolationError" in line
               for line in report.lines())  # fmt: skip


def test_the_lines_name_the_setting_that_asks(admin: type[ScriptedAdmin]) -> None:
    settings = Settings(kafka_topic_partitions=3, kafka_replication_factor=3)
    admin.configs = ours(settings)
    report = ensure_topics(settings)
    assert report.lines() == [
        f"{SUBMISSIONS}: exists; configs match",
        f"{SUBMISSIONS}: partition count is 1, BOENDE_KAFKA_TOPIC_PARTITIONS asks "
        "for 3; not changed (topics create cannot alter it)",
        f"{SUBMISSIONS}: replication factor is 1, BOENDE_KAFKA_REPLICATION_FACTOR "
        "asks for 3; not changed (topics create cannot alter it)",
        f"{REJECTED}: exists; configs match",
        f"{REJECTED}: replication factor is 1, BOENDE_KAFKA_REPLICATION_FACTOR asks "
        "for 3; not changed (topics create cannot alter it)",
        f"{EVENTS}: exists; configs match",
        f"{EVENTS}: replication factor is 1, BOENDE_KAFKA_REPLICATION_FACTOR asks "
        "for 3; not changed (topics create cannot alter it)",
        f"{HEADS}: exists; configs match",
        f"{HEADS}: replication factor is 1, BOENDE_KAFKA_REPLICATION_FACTOR asks "
        "for 3; not changed (topics create cannot alter it)",
    ]
    assert not report.in_line
