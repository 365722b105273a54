"""Kafka clients and the topics report (``infra/kafka.py``) without a broker:
the options every client gets, the four topics' specs, and what
``ensure_topics`` does and reports for each thing a broker may answer. A
scripted admin client stands in for KafkaAdminClient (the real brokers:
``tests/integration/kafka/``)."""

from __future__ import annotations

from typing import Any

import pytest
from kafka.admin import ConfigResourceType, NewTopic
from kafka.errors import (
    IncompatibleBrokerVersion,
    KafkaConnectionError,
    TopicAlreadyExistsError,
)

from infra import kafka
from infra.kafka import (
    EVENTS,
    HEADS,
    REJECTED,
    SUBMISSIONS,
    ConfigChange,
    Mismatch,
    TopicOutcome,
    TopicsReport,
    ensure_topics,
)
from infra.settings import Settings

MIB = 1024 * 1024
DAY_MS = 24 * 3600 * 1000


# -- clients -------------------------------------------------------------------


def test_a_client_connects_to_every_bootstrap_server() -> None:
    settings = Settings(kafka_bootstrap="a:9092,b:9093")
    assert kafka.client_config(settings) == {
        "bootstrap_servers": ["a:9092", "b:9093"],
        "security_protocol": "PLAINTEXT",
    }


def test_sasl_and_tls_are_passed_through_when_set() -> None:
    settings = Settings(
        kafka_security_protocol="SASL_SSL",
        kafka_sasl_mechanism="SCRAM-SHA-512",
        kafka_sasl_username="boende",
        kafka_sasl_password="hemligt",
        kafka_ssl_cafile="/etc/ca.pem",
    )
    assert kafka.client_config(settings) == {
        "bootstrap_servers": ["127.0.0.1:9092"],
        "security_protocol": "SASL_SSL",
        "sasl_mechanism": "SCRAM-SHA-512",
        "sasl_plain_username": "boende",
        "sasl_plain_password": "hemligt",
        "ssl_cafile": "/etc/ca.pem",
    }


class Built:
    """Stands in for a kafka-python client class: keeps what it was given."""

    def __init__(self, *topics: str, **options: Any) -> None:
        self.topics, self.options = topics, options


def test_a_producer_loses_nothing(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(kafka, "KafkaProducer", Built)
    settings = Settings(kafka_max_message_bytes=8 * MIB)
    made: Any = kafka.producer(settings, linger_ms=0)
    assert made.options == {
        "bootstrap_servers": ["127.0.0.1:9092"],
        "security_protocol": "PLAINTEXT",
        "acks": "all",
        "enable_idempotence": True,
        "linger_ms": 0,
        "retries": 2_147_483_647,
        "max_request_size": 8 * MIB,
    }
    assert kafka.producer(settings).options["linger_ms"] == 5


def test_a_consumer_commits_only_when_told(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(kafka, "KafkaConsumer", Built)
    made: Any = kafka.consumer(Settings(), EVENTS, REJECTED, group_id="g")
    assert made.topics == (EVENTS, REJECTED)
    assert made.options == {
        "bootstrap_servers": ["127.0.0.1:9092"],
        "security_protocol": "PLAINTEXT",
        "group_id": "g",
        "enable_auto_commit": False,
        "auto_offset_reset": "earliest",
        "session_timeout_ms": 6000,
        "heartbeat_interval_ms": 1000,
        "max_partition_fetch_bytes": 4 * MIB + 64 * 1024,
    }
    # At least 4 MiB, and at least the largest rejection.
    small: Any = kafka.consumer(
        Settings(kafka_max_message_bytes=2 * MIB), group_id=None, session_timeout_ms=1
    )
    assert small.options["max_partition_fetch_bytes"] == 4 * MIB
    assert small.options["session_timeout_ms"] == 1
    big: Any = kafka.consumer(Settings(kafka_max_message_bytes=9 * MIB), group_id="g")
    assert big.options["max_partition_fetch_bytes"] == 9 * MIB + 64 * 1024


# -- the topics ----------------------------------------------------------------


def test_the_four_topics() -> None:
    settings = Settings(
        kafka_topic_partitions=6,
        kafka_replication_factor=3,
        kafka_min_insync_replicas=2,
        kafka_max_message_bytes=5 * MIB,
    )
    specs = kafka.topic_specs(settings)
    assert [
        (s.name, s.num_partitions, s.replication_factor, s.topic_configs) for s in specs
    ] == [
        (
            SUBMISSIONS,
            6,
            3,
            {
                "min.insync.replicas": "2",
                "retention.ms": str(7 * DAY_MS),
                "cleanup.policy": "delete",
                "max.message.bytes": str(5 * MIB),
            },
        ),
        (
            REJECTED,
            1,
            3,
            {
                "min.insync.replicas": "2",
                "retention.ms": str(90 * DAY_MS),
                "cleanup.policy": "delete",
                "max.message.bytes": str(5 * MIB + 64 * 1024),
            },
        ),
        (
            EVENTS,
            1,
            3,
            {
                "min.insync.replicas": "2",
                "retention.ms": "-1",
                "cleanup.policy": "delete",
                "max.message.bytes": str(5 * MIB),
            },
        ),
        (
            HEADS,
            1,
            3,
            {
                "min.insync.replicas": "2",
                "retention.ms": "-1",
                "cleanup.policy": "delete",
                "max.message.bytes": str(5 * MIB),
            },
        ),
    ]


# -- the report's words ----------------------------------------------------------


def test_a_config_change_and_a_mismatch_in_words() -> None:
    assert str(ConfigChange("retention.ms", "1", "2")) == "retention.ms 1 -> 2"
    assert str(ConfigChange("retention.ms", None, "2")) == (
        "retention.ms (not reported) -> 2"
    )
    assert str(Mismatch("partition count", 3, 1, None)) == (
        "partition count is 3, Boende needs 1; "
        "not changed (topics create cannot alter it)"
    )
    assert str(Mismatch("replication factor", 1, 3, "X")) == (
        "replication factor is 1, X asks for 3; "
        "not changed (topics create cannot alter it)"
    )


def test_each_outcome_in_lines() -> None:
    change = ConfigChange("a", "1", "2")
    other = ConfigChange("b", None, "3")
    mismatch = Mismatch("partition count", 3, 1, None)
    assert TopicOutcome("t", created=True, mismatches=[mismatch]).lines() == [
        "t: created"
    ]
    assert TopicOutcome("t", failed="E", unreadable="U").lines() == [
        "t: exists; altering its configs failed: E"
    ]
    assert TopicOutcome("t", unreadable="U", altered=[change]).lines() == [
        "t: exists; configs could not be read (U), so they were not checked"
    ]
    assert TopicOutcome("t", altered=[change, other]).lines() == [
        "t: exists; altered a 1 -> 2, b (not reported) -> 3"
    ]
    assert TopicOutcome("t", layout_unknown="L", mismatches=[mismatch]).lines() == [
        "t: exists; configs match",
        "t: partitions and replicas not checked: L",
        f"t: {mismatch}",
    ]


def test_what_is_in_line() -> None:
    assert TopicOutcome("t").in_line
    assert TopicOutcome(
        "t", unreadable="U", altered=[ConfigChange("a", "1", "2")]
    ).in_line
    assert not TopicOutcome("t", failed="E").in_line
    assert not TopicOutcome("t", failed="").in_line
    assert not TopicOutcome("t", layout_unknown="L").in_line
    assert not TopicOutcome("t", mismatches=[Mismatch("x", 1, 2, None)]).in_line


def test_the_report_of_all_topics() -> None:
    change = ConfigChange("a", "1", "2")
    report = TopicsReport(
        [
            TopicOutcome("one", created=True),
            TopicOutcome("two", altered=[change]),
            TopicOutcome("three"),
        ]
    )
    assert report.created == ["one"]
    assert report.altered == {"two": [change]}
    assert report.in_line
    assert report.lines() == [
        "one: created",
        "two: exists; altered a 1 -> 2",
        "three: exists; configs match",
    ]
    report.topics.append(TopicOutcome("four", failed="E"))
    assert not report.in_line


# -- ensure_topics against a scripted broker ------------------------------------------


class Admin:
    """A broker holding ``topics`` (name -> partitions, replicas, configs)."""

    topics: dict[str, tuple[int, int, dict[str, str]]]
    calls: list[tuple[str, Any]]
    incremental = True
    answers: dict[str, str] | None = None  # alter_configs' answer per topic
    errors: dict[str, Exception]  # method -> what it raises
    describe_after: dict[str, dict[str, str]] | None = None
    described = 0

    def __init__(self, **options: Any) -> None:
        self.calls.append(("init", options))

    def _fail(self, method: str) -> None:
        error = self.errors.get(method)
        if error is not None:
            raise error

    def list_topics(self) -> list[str]:
        self._fail("list_topics")
        return list(self.topics)

    def create_topics(self, specs: list[NewTopic]) -> None:
        self.calls.append(("create", [s.name for s in specs]))
        self._fail("create_topics")

    def describe_topics(self, names: list[str]) -> list[dict[str, Any]]:
        self.calls.append(("describe_topics", names))
        self._fail("describe_topics")
        return [
            {
                "name": name,
                "error_code": 0,
                "partitions": [{"replica_nodes": list(range(replicas))}] * partitions,
            }
            for name, (partitions, replicas, _) in self.topics.items()
            if name in names
        ]

    def describe_configs(self, resources: list[Any], config_filter: str) -> Any:
        type(self).described += 1
        self.calls.append(("describe_configs", config_filter))
        assert all(r.resource_type is ConfigResourceType.TOPIC for r in resources)
        if type(self).described > 1 and "describe_again" in self.errors:
            raise self.errors["describe_again"]
        self._fail("describe_configs")
        if type(self).described > 1 and self.describe_after is not None:
            configs = self.describe_after
        else:
            configs = {name: c for name, (_, _, c) in self.topics.items()}
        return {
            "topic": {
                r.name: {k: {"value": v} for k, v in configs.get(r.name, {}).items()}
                for r in resources
                if r.name in configs
            }
        }

    def alter_configs(
        self, resources: list[Any], raise_on_unknown: bool, incremental: bool
    ) -> Any:
        assert raise_on_unknown is False
        if incremental and not self.incremental:
            raise IncompatibleBrokerVersion("no IncrementalAlterConfigs")
        self._fail("alter_configs")
        self.calls.append(
            ("alter", (incremental, {r.name: dict(r.configs) for r in resources}))
        )
        assert all(r.resource_type is ConfigResourceType.TOPIC for r in resources)
        answers = self.answers or {r.name: "OK" for r in resources}
        for r in resources:
            if answers.get(r.name) == "OK":
                partitions, replicas, configs = self.topics[r.name]
                kept = configs if incremental else {}
                self.topics[r.name] = (partitions, replicas, kept | dict(r.configs))
        return {"topic": answers}

    def close(self) -> None:
        self.calls.append(("close", None))


@pytest.fixture
def admin(monkeypatch: pytest.MonkeyPatch) -> type[Admin]:
    scripted = type(
        "Scripted",
        (Admin,),
        {"topics": {}, "calls": [], "errors": {}, "described": 0},
    )
    monkeypatch.setattr(kafka, "KafkaAdminClient", scripted)
    return scripted


def ours(settings: Settings) -> dict[str, dict[str, str]]:
    return {spec.name: dict(spec.topic_configs) for spec in kafka.topic_specs(settings)}


def as_they_should_be(settings: Settings) -> dict[str, tuple[int, int, dict[str, str]]]:
    return {name: (1, 1, configs) for name, configs in ours(settings).items()}


def calls(admin: type[Admin], kind: str) -> list[Any]:
    return [args for name, args in admin.calls if name == kind]


def test_missing_topics_are_created_and_the_others_checked(admin: type[Admin]) -> None:
    settings = Settings(kafka_bootstrap="k:1")
    admin.topics = {EVENTS: (1, 1, ours(settings)[EVENTS])}
    report = ensure_topics(settings)
    assert calls(admin, "init") == [kafka.client_config(settings)]
    assert calls(admin, "create") == [[SUBMISSIONS], [REJECTED], [HEADS]]
    assert calls(admin, "describe_topics") == [[EVENTS]]
    assert calls(admin, "describe_configs") == ["all"]
    assert report.created == [SUBMISSIONS, REJECTED, HEADS]
    assert report.lines() == [
        f"{SUBMISSIONS}: created",
        f"{REJECTED}: created",
        f"{EVENTS}: exists; configs match",
        f"{HEADS}: created",
    ]
    assert admin.calls[-1] == ("close", None)
    assert kafka.create_topics(settings) == [SUBMISSIONS, REJECTED, HEADS]


def test_nothing_exists_nothing_is_checked(admin: type[Admin]) -> None:
    report = ensure_topics(Settings())
    assert report.created == [SUBMISSIONS, REJECTED, EVENTS, HEADS]
    assert calls(admin, "describe_topics") == calls(admin, "describe_configs") == []


def test_a_topic_a_racing_creator_made_first_is_checked(admin: type[Admin]) -> None:
    admin.errors = {"create_topics": TopicAlreadyExistsError("raced")}
    settings = Settings()
    admin.topics = as_they_should_be(settings)
    admin.list_topics = lambda self: []  # type: ignore[method-assign]
    report = ensure_topics(settings)
    assert report.created == []
    assert calls(admin, "describe_topics") == [[SUBMISSIONS, REJECTED, EVENTS, HEADS]]
    assert report.in_line


def test_the_client_is_closed_whatever_happens(admin: type[Admin]) -> None:
    admin.errors = {"list_topics": KafkaConnectionError("down")}
    with pytest.raises(KafkaConnectionError):
        ensure_topics(Settings())
    assert admin.calls[-1] == ("close", None)


def test_a_layout_that_differs_is_reported(admin: type[Admin]) -> None:
    settings = Settings(kafka_topic_partitions=2, kafka_replication_factor=2)
    configs = ours(settings)
    admin.topics = {
        SUBMISSIONS: (3, 2, configs[SUBMISSIONS]),
        REJECTED: (1, 2, configs[REJECTED]),
        EVENTS: (4, 1, configs[EVENTS]),
        HEADS: (1, 2, configs[HEADS]),
    }
    report = ensure_topics(settings)
    assert [(t.name, t.mismatches) for t in report.topics] == [
        (
            SUBMISSIONS,
            [Mismatch("partition count", 3, 2, "BOENDE_KAFKA_TOPIC_PARTITIONS")],
        ),
        (REJECTED, []),
        (
            EVENTS,
            [
                Mismatch("partition count", 4, 1, None),
                Mismatch("replication factor", 1, 2, "BOENDE_KAFKA_REPLICATION_FACTOR"),
            ],
        ),
        (HEADS, []),
    ]
    assert not report.in_line


def test_the_most_replicated_partition_counts(admin: type[Admin]) -> None:
    settings = Settings(kafka_replication_factor=2)
    admin.topics = {EVENTS: (2, 1, ours(settings)[EVENTS])}

    def uneven(self: Admin, names: list[str]) -> list[dict[str, Any]]:
        parts = [{"replica_nodes": [1]}, {"replica_nodes": [1, 2]}]
        return [{"name": EVENTS, "error_code": 0, "partitions": parts}]

    admin.describe_topics = uneven  # type: ignore[method-assign]
    specs = [NewTopic(EVENTS, 2, 2, topic_configs=ours(settings)[EVENTS])]
    report = ensure_topics(settings, specs)
    assert report.topics[0].mismatches == []
    # A spec that leaves partitions or replicas to the broker (-1) checks none.
    specs = [NewTopic(EVENTS, -1, -1, topic_configs=ours(settings)[EVENTS])]
    assert ensure_topics(settings, specs).topics[0].mismatches == []


@pytest.mark.parametrize(
    "answer",
    [
        [],
        [{"name": EVENTS, "error_code": 3, "partitions": [{"replica_nodes": []}]}],
        [{"name": EVENTS, "error_code": 0, "partitions": []}],
        [{"name": EVENTS, "error_code": 0}],
    ],
    ids=["not described", "an error code", "no partitions", "no partition key"],
)
def test_a_topic_not_described_is_not_known_to_differ(
    admin: type[Admin], answer: list[dict[str, Any]]
) -> None:
    settings = Settings(kafka_replication_factor=3)
    admin.topics = {EVENTS: (5, 1, ours(settings)[EVENTS])}
    admin.describe_topics = lambda self, names: answer  # type: ignore[method-assign]
    specs = [s for s in kafka.topic_specs(settings) if s.name == EVENTS]
    report = ensure_topics(settings, specs)
    assert report.topics[0].mismatches == []
    assert report.in_line


def test_a_describe_topics_that_fails_is_a_line(admin: type[Admin]) -> None:
    settings = Settings()
    admin.topics = as_they_should_be(settings)
    admin.errors = {"describe_topics": KafkaConnectionError("gone")}
    report = ensure_topics(settings)
    assert {t.layout_unknown for t in report.topics} == {
        "describe_topics failed: KafkaConnectionError('gone')"
    }
    assert report.lines()[:2] == [
        f"{SUBMISSIONS}: exists; configs match",
        f"{SUBMISSIONS}: partitions and replicas not checked: "
        "describe_topics failed: KafkaConnectionError('gone')",
    ]


def test_differing_configs_are_altered_incrementally(admin: type[Admin]) -> None:
    settings = Settings()
    wanted = ours(settings)
    events = dict(wanted[EVENTS], **{"retention.ms": "1000"})
    del events["cleanup.policy"]
    admin.topics = {
        SUBMISSIONS: (1, 1, wanted[SUBMISSIONS]),
        EVENTS: (1, 1, events),
        REJECTED: (1, 1, wanted[REJECTED]),
    }
    report = ensure_topics(settings)
    assert calls(admin, "alter") == [
        (True, {EVENTS: {"retention.ms": "-1", "cleanup.policy": "delete"}})
    ]
    assert report.altered == {
        EVENTS: [
            ConfigChange("retention.ms", "1000", "-1"),
            ConfigChange("cleanup.policy", None, "delete"),
        ]
    }
    assert calls(admin, "describe_configs") == ["all", "all"]  # and confirmed
    assert report.in_line


def test_without_incremental_alter_every_config_of_ours_is_sent(
    admin: type[Admin],
) -> None:
    settings = Settings()
    wanted = ours(settings)
    admin.topics = as_they_should_be(settings)
    admin.topics[REJECTED] = (1, 1, dict(wanted[REJECTED], **{"retention.ms": "1"}))
    admin.incremental = False
    report = ensure_topics(settings)
    assert calls(admin, "alter") == [(False, {REJECTED: wanted[REJECTED]})]
    assert list(report.altered) == [REJECTED]


def test_a_broker_that_reports_no_configs_leaves_them_unchecked(
    admin: type[Admin],
) -> None:
    settings = Settings()
    admin.topics = as_they_should_be(settings)
    admin.topics[EVENTS] = (1, 1, {})
    report = ensure_topics(settings)
    assert report.topics[2].unreadable == "the broker reported none"
    assert calls(admin, "alter") == []
    assert report.in_line


def test_describe_configs_that_fails_leaves_every_topic_unchecked(
    admin: type[Admin],
) -> None:
    settings = Settings()
    admin.topics = as_they_should_be(settings)
    admin.errors = {"describe_configs": KafkaConnectionError("x")}
    report = ensure_topics(settings)
    assert {t.unreadable for t in report.topics} == {
        "describe_configs failed: KafkaConnectionError('x')"
    }


def drifted(admin: type[Admin], settings: Settings) -> None:
    admin.topics = as_they_should_be(settings)
    configs = dict(ours(settings)[EVENTS], **{"retention.ms": "5"})
    admin.topics[EVENTS] = (1, 1, configs)


def test_an_alteration_that_fails_is_reported_per_topic(admin: type[Admin]) -> None:
    settings = Settings()
    drifted(admin, settings)
    admin.errors = {"alter_configs": KafkaConnectionError("refused")}
    report = ensure_topics(settings)
    assert report.topics[2].failed == "KafkaConnectionError('refused')"
    assert report.topics[0].failed is None
    assert not report.in_line


def test_an_alteration_the_broker_refuses_or_does_not_answer(
    admin: type[Admin],
) -> None:
    settings = Settings()
    drifted(admin, settings)
    admin.answers = {EVENTS: "PolicyViolation"}
    report = ensure_topics(settings)
    assert report.topics[2].failed == ("PolicyViolation; wanted retention.ms 5 -> -1")
    assert report.topics[2].altered == []
    admin.answers = {SUBMISSIONS: "OK"}
    report = ensure_topics(settings)
    assert report.topics[2].failed == (
        "no answer from the broker; wanted retention.ms 5 -> -1"
    )


def test_an_alteration_the_broker_accepted_but_did_not_make(
    admin: type[Admin],
) -> None:
    settings = Settings()
    drifted(admin, settings)
    still = dict(ours(settings)[EVENTS], **{"retention.ms": "5"})
    admin.describe_after = {EVENTS: still}
    report = ensure_topics(settings)
    assert report.topics[2].failed == (
        "the broker accepted but still reports retention.ms=5"
    )


def test_an_alteration_not_confirmed_is_taken_as_the_broker_said(
    admin: type[Admin],
) -> None:
    settings = Settings()
    drifted(admin, settings)
    admin.errors = {"describe_again": KafkaConnectionError("x")}
    report = ensure_topics(settings)
    assert report.topics[2].altered == [ConfigChange("retention.ms", "5", "-1")]
    # A key the broker leaves out after the change is not "still" wrong.
    drifted(admin, settings)
    admin.errors = {}
    admin.described = 0
    admin.describe_after = {EVENTS: {}}
    report = ensure_topics(settings)
    assert report.topics[2].altered == [ConfigChange("retention.ms", "5", "-1")]


def test_a_topic_not_described_does_not_stop_the_check_of_the_next(
    admin: type[Admin],
) -> None:
    settings = Settings()
    admin.topics = as_they_should_be(settings)
    admin.topics[EVENTS] = (3, 2, ours(settings)[EVENTS])

    def all_but_the_first(self: Admin, names: list[str]) -> list[dict[str, Any]]:
        described = Admin.describe_topics(self, names)
        return [t for t in described if t["name"] != SUBMISSIONS]

    admin.describe_topics = all_but_the_first  # type: ignore[method-assign]
    report = ensure_topics(settings)
    assert report.topics[0].mismatches == []
    assert report.topics[2].mismatches == [
        Mismatch("partition count", 3, 1, None),
        Mismatch("replication factor", 2, 1, "BOENDE_KAFKA_REPLICATION_FACTOR"),
    ]


def test_a_broker_that_answers_without_a_topic_section(admin: type[Admin]) -> None:
    settings = Settings()
    drifted(admin, settings)
    admin.describe_configs = lambda self, resources, config_filter: {}  # type: ignore[method-assign]
    report = ensure_topics(settings)
    assert {t.unreadable for t in report.topics} == {"the broker reported none"}
    admin.describe_configs = Admin.describe_configs  # type: ignore[method-assign]
    admin.alter_configs = lambda self, resources, **_: {}  # type: ignore[method-assign]
    report = ensure_topics(settings)
    assert report.topics[2].failed == (
        "no answer from the broker; wanted retention.ms 5 -> -1"
    )


def test_only_the_missing_topics_are_created(admin: type[Admin]) -> None:
    settings = Settings()
    admin.topics = {SUBMISSIONS: (1, 1, ours(settings)[SUBMISSIONS])}
    report = ensure_topics(settings)
    assert calls(admin, "create") == [[REJECTED], [EVENTS], [HEADS]]
    assert report.created == [REJECTED, EVENTS, HEADS]


def test_the_specs_given_are_the_ones_checked(admin: type[Admin]) -> None:
    settings = Settings()
    admin.topics = as_they_should_be(settings)
    specs = [NewTopic(EVENTS, 1, 1, topic_configs={"retention.ms": "-1"})]
    report = ensure_topics(settings, specs)
    assert [t.name for t in report.topics] == [EVENTS]
    assert calls(admin, "describe_topics") == [[EVENTS]]


def test_every_differing_key_is_named(admin: type[Admin]) -> None:
    settings = Settings()
    admin.topics = as_they_should_be(settings)
    configs = dict(ours(settings)[EVENTS], **{"retention.ms": "5"})
    configs["cleanup.policy"] = "compact"
    admin.topics[EVENTS] = (1, 1, configs)
    admin.answers = {EVENTS: "PolicyViolation"}
    report = ensure_topics(settings)
    assert report.topics[2].failed == (
        "PolicyViolation; wanted retention.ms 5 -> -1, cleanup.policy compact -> delete"
    )
    admin.answers = None
    admin.described = 0
    admin.describe_after = {EVENTS: configs}
    report = ensure_topics(settings)
    assert report.topics[2].failed == (
        "the broker accepted but still reports retention.ms=5, cleanup.policy=compact"
    )
