"""Kafka clients and topics, configured from ``Settings`` only.

Four topics: ``boende.submissions`` (committee services publish envelopes;
key = case or apartment id), ``boende.submissions.rejected`` (what the ingest
refused, with the original key and bytes and the reason in headers) and
``boende.events`` (every recorded event, in log order, keyed by aggregate)
and ``boende.audit.heads`` (every signed tree head, keyed by the key's id).

``ensure_topics`` (``boende topics create``) creates the missing ones and
brings the configs of existing ones in line with the settings, reporting what
it changed and what it cannot change (partition count, replication factor).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from kafka import KafkaAdminClient, KafkaConsumer, KafkaProducer
from kafka.admin import ConfigResource, ConfigResourceType, NewTopic
from kafka.errors import IncompatibleBrokerVersion, KafkaError, TopicAlreadyExistsError

from infra.settings import Settings

SUBMISSIONS = "boende.submissions"
REJECTED = "boende.submissions.rejected"
EVENTS = "boende.events"
HEADS = "boende.audit.heads"  # signed tree heads, kept forever (infra.head_mirror)
TOPICS = (SUBMISSIONS, REJECTED, EVENTS, HEADS)
#: A rejection is the refused message plus the reason in headers (``error``,
#: ``message``, ``details``, the source's coordinates): the rejected topic
#: takes this much more than the submissions topic, so that a refused message
#: as big as the submissions topic allows still goes back with its bytes.
REJECTED_HEADROOM_BYTES = 64 * 1024


def client_config(settings: Settings) -> dict[str, Any]:
    """Connection settings shared by every client (SASL/TLS passed through)."""
    config: dict[str, Any] = {
        "bootstrap_servers": settings.kafka_bootstrap.split(","),
        "security_protocol": settings.kafka_security_protocol,
    }
    optional = {
        "sasl_mechanism": settings.kafka_sasl_mechanism,
        "sasl_plain_username": settings.kafka_sasl_username,
        "sasl_plain_password": settings.kafka_sasl_password,
        "ssl_cafile": settings.kafka_ssl_cafile,
    }
    return config | {k: v for k, v in optional.items() if v is not None}


def producer(settings: Settings, **overrides: Any) -> KafkaProducer:
    """A producer that loses nothing: all in-sync replicas ack, idempotent."""
    options: dict[str, Any] = {
        "acks": "all",
        "enable_idempotence": True,
        "linger_ms": 5,
        "retries": 2_147_483_647,
        # kafka-python's default (1 MiB) would refuse, in ``send``, values the
        # topics take; the broker still has the last word per topic.
        "max_request_size": settings.kafka_max_message_bytes,
    }
    return KafkaProducer(**client_config(settings), **(options | overrides))


def consumer(
    settings: Settings, *topics: str, group_id: str | None, **overrides: Any
) -> KafkaConsumer:
    """A consumer that commits only when told to (after the outcome is durable)."""
    options: dict[str, Any] = {
        "group_id": group_id,
        "enable_auto_commit": False,
        "auto_offset_reset": "earliest",
        "session_timeout_ms": 6000,
        "heartbeat_interval_ms": 1000,
        # At least the largest message a topic takes (brokers return one
        # oversize batch anyway, but need not).
        "max_partition_fetch_bytes": max(
            4 * 1024 * 1024, settings.kafka_max_message_bytes + REJECTED_HEADROOM_BYTES
        ),
    }
    return KafkaConsumer(*topics, **client_config(settings), **(options | overrides))


def topic_specs(settings: Settings) -> list[NewTopic]:
    """The four topics. ``boende.audit.heads`` (every signed tree head) and
    ``boende.events`` keep everything forever (the latter is a
    replayable copy of the log) and has ONE partition: projections need the
    log's total order, and positions may have gaps (PostgreSQL), so merging
    several partitions back into order could never know when to stop waiting.
    The submission topics are partitioned by key (case or apartment id).

    ``max.message.bytes`` is set on every topic rather than left to the broker
    (1 MiB by default on Apache Kafka and noida-db): an oversize submission
    must reach the ingest and go to the rejected topic with its original bytes."""
    common = {"min.insync.replicas": str(settings.kafka_min_insync_replicas)}
    largest = settings.kafka_max_message_bytes
    week, quarter = str(7 * 24 * 3600 * 1000), str(90 * 24 * 3600 * 1000)
    layout = {  # partitions, retention.ms, max.message.bytes
        SUBMISSIONS: (settings.kafka_topic_partitions, week, largest),
        REJECTED: (1, quarter, largest + REJECTED_HEADROOM_BYTES),
        EVENTS: (1, "-1", largest),
        HEADS: (1, "-1", largest),
    }
    return [
        NewTopic(
            name,
            partitions,
            settings.kafka_replication_factor,
            topic_configs=common
            | {
                "retention.ms": retention,
                "cleanup.policy": "delete",
                "max.message.bytes": str(max_bytes),
            },
        )
        for name, (partitions, retention, max_bytes) in layout.items()
    ]


@dataclass(frozen=True)
class ConfigChange:
    """One config of ours that an existing topic had otherwise."""

    key: str
    old: str | None  # None: the broker did not report the key for this topic
    new: str

    def __str__(self) -> str:
        old = "(not reported)" if self.old is None else self.old
        return f"{self.key} {old} -> {self.new}"


@dataclass(frozen=True)
class Mismatch:
    """A difference configs cannot fix (partition count, replication factor)."""

    what: str  # "partition count" or "replication factor"
    actual: int
    wanted: int
    setting: str | None  # the setting that asks for ``wanted``; None: Boende's own

    def __str__(self) -> str:
        asks = f"{self.setting} asks for" if self.setting else "Boende needs"
        return (
            f"{self.what} is {self.actual}, {asks} {self.wanted}; "
            "not changed (topics create cannot alter it)"
        )


@dataclass
class TopicOutcome:
    """What ``ensure_topics`` found and did for one topic."""

    name: str
    created: bool = False
    altered: list[ConfigChange] = field(default_factory=list)
    mismatches: list[Mismatch] = field(default_factory=list)
    unreadable: str | None = None  # why its configs could not be read (so unchecked)
    failed: str | None = None  # why altering its configs failed
    layout_unknown: str | None = None  # why partitions/replicas went unchecked

    @property
    def in_line(self) -> bool:
        """True unless something still differs from the settings (or failed).
        Unreadable configs count as in line: nothing is known to differ. An
        unknown layout does not: ``boende.events`` must have one partition."""
        return not self.mismatches and self.failed is None and not self.layout_unknown

    def lines(self) -> list[str]:
        """Human-readable report, one line per finding, each naming the topic."""
        if self.created:
            return [f"{self.name}: created"]
        if self.failed is not None:
            head = f"{self.name}: exists; altering its configs failed: {self.failed}"
        elif self.unreadable is not None:
            head = (
                f"{self.name}: exists; configs could not be read "
                f"({self.unreadable}), so they were not checked"
            )
        elif self.altered:
            head = f"{self.name}: exists; altered " + ", ".join(map(str, self.altered))
        else:
            head = f"{self.name}: exists; configs match"
        unknown = (
            [f"{self.name}: partitions and replicas not checked: {self.layout_unknown}"]
            if self.layout_unknown
            else []
        )
        return [head, *unknown] + [f"{self.name}: {m}" for m in self.mismatches]


@dataclass
class TopicsReport:
    """``ensure_topics``'s outcome, per topic, in ``topic_specs`` order."""

    topics: list[TopicOutcome]

    @property
    def created(self) -> list[str]:
        return [t.name for t in self.topics if t.created]

    @property
    def altered(self) -> dict[str, list[ConfigChange]]:
        return {t.name: t.altered for t in self.topics if t.altered}

    @property
    def in_line(self) -> bool:
        return all(t.in_line for t in self.topics)

    def lines(self) -> list[str]:
        return [line for t in self.topics for line in t.lines()]


#: The setting that asks for a topic's partition count (the others have one).
_PARTITIONS_SETTING = {SUBMISSIONS: "BOENDE_KAFKA_TOPIC_PARTITIONS"}


def ensure_topics(
    settings: Settings, specs: list[NewTopic] | None = None
) -> TopicsReport:
    """Create the topics that do not exist yet and bring existing ones in line
    with ``specs`` (default: ``topic_specs(settings)``).

    Every config of ours whose value differs on an existing topic is altered
    (IncrementalAlterConfigs, which sets only the keys sent; on a broker
    without it, AlterConfigs with all of our keys, since that request replaces
    the topic's whole set of dynamic configs — kafka-python adds the topic's
    other modified keys to it). Partition count and replication factor cannot
    be changed this way: a difference is reported, never acted on. A broker
    that reports no configs at all for a topic leaves it unchecked, reported
    as such."""
    specs = topic_specs(settings) if specs is None else specs
    outcomes = {spec.name: TopicOutcome(spec.name) for spec in specs}
    admin = KafkaAdminClient(**client_config(settings))
    try:
        listed = set(admin.list_topics())
        existing = [spec for spec in specs if spec.name in listed]
        for spec in specs:
            if spec.name in listed:
                continue
            try:
                admin.create_topics([spec])
                outcomes[spec.name].created = True
            except TopicAlreadyExistsError:  # a racing creator: check it instead
                existing.append(spec)
        if existing:
            _check_layout(admin, existing, outcomes)
            _align_configs(admin, existing, outcomes)
    finally:
        admin.close()
    return TopicsReport([outcomes[spec.name] for spec in specs])


def create_topics(settings: Settings) -> list[str]:
    """Create the missing topics and align existing ones (``ensure_topics``);
    return the names created."""
    return ensure_topics(settings).created


def _check_layout(
    admin: KafkaAdminClient, specs: list[NewTopic], outcomes: dict[str, TopicOutcome]
) -> None:
    """Report partition counts and replication factors that differ."""
    try:
        topics = admin.describe_topics([s.name for s in specs])
    except KafkaError as error:  # a report line, not a traceback at 3 a.m.
        for spec in specs:
            outcomes[spec.name].layout_unknown = f"describe_topics failed: {error!r}"
        return
    described = {t["name"]: t for t in topics}
    for spec in specs:
        topic = described.get(spec.name)
        partitions = (topic or {}).get("partitions") or []
        if topic is None or topic.get("error_code") or not partitions:
            continue  # not described (yet): nothing known to differ
        outcome = outcomes[spec.name]
        if spec.num_partitions > 0 and len(partitions) != spec.num_partitions:
            outcome.mismatches.append(
                Mismatch(
                    "partition count",
                    len(partitions),
                    spec.num_partitions,
                    _PARTITIONS_SETTING.get(spec.name),
                )
            )
        replicas = max(len(p["replica_nodes"]) for p in partitions)
        if spec.replication_factor > 0 and replicas != spec.replication_factor:
            outcome.mismatches.append(
                Mismatch(
                    "replication factor",
                    replicas,
                    spec.replication_factor,
                    "BOENDE_KAFKA_REPLICATION_FACTOR",
                )
            )


def _describe(admin: KafkaAdminClient, names: list[str]) -> dict[str, dict[str, str]]:
    """Each topic's configs (key -> value) as the broker reports them.

    All of them, whatever their source: kafka-python's default filter drops
    values the broker calls defaults, and Tansu labels every value a default,
    even one set at creation. No keys are named in the request: Tansu 0.6
    drops the connection on a DescribeConfigs that names keys."""
    answer = admin.describe_configs(
        [ConfigResource(ConfigResourceType.TOPIC, name) for name in names],
        config_filter="all",
    )
    topics = answer.get("topic", {})
    return {
        name: {key: entry["value"] for key, entry in topics.get(name, {}).items()}
        for name in names
    }


def _align_configs(
    admin: KafkaAdminClient, specs: list[NewTopic], outcomes: dict[str, TopicOutcome]
) -> None:
    """Alter the configs of ours that differ on existing topics."""
    try:
        current = _describe(admin, [spec.name for spec in specs])
    except KafkaError as error:
        for spec in specs:
            outcomes[spec.name].unreadable = f"describe_configs failed: {error!r}"
        return
    changes: dict[str, list[ConfigChange]] = {}
    for spec in specs:
        configs = current[spec.name]
        if not configs:  # nothing at all: unsupported, or not allowed to see them
            outcomes[spec.name].unreadable = "the broker reported none"
            continue
        differing = [
            ConfigChange(key, configs.get(key), value)
            for key, value in spec.topic_configs.items()
            if configs.get(key) != value
        ]
        if differing:
            changes[spec.name] = differing
    if not changes:
        return
    wanted = {spec.name: spec.topic_configs for spec in specs if spec.name in changes}
    try:
        results = _alter(admin, wanted, changes)
    except KafkaError as error:
        for name in changes:
            outcomes[name].failed = repr(error)
        return
    try:
        after = _describe(admin, list(changes))
    except KafkaError:  # not confirmed, but the broker said what it did
        after = {name: {} for name in changes}
    for name, differing in changes.items():
        result = results.get(name, "no answer from the broker")
        still = {
            c.key: after[name][c.key]
            for c in differing
            if after[name].get(c.key, c.new) != c.new
        }
        if result != "OK":
            outcomes[name].failed = f"{result}; wanted " + ", ".join(
                map(str, differing)
            )
        elif still:
            outcomes[name].failed = (
                "the broker accepted but still reports "
                + ", ".join(f"{key}={value}" for key, value in still.items())
            )
        else:
            outcomes[name].altered = differing


def _alter(
    admin: KafkaAdminClient,
    wanted: dict[str, dict[str, str]],
    changes: dict[str, list[ConfigChange]],
) -> dict[str, str]:
    """Set the differing keys (incremental), or all of ours where the broker
    has only the replacing AlterConfigs. Returns topic -> "OK" or the error."""
    incremental = [
        ConfigResource(
            ConfigResourceType.TOPIC, name, {c.key: c.new for c in changes[name]}
        )
        for name in changes
    ]
    try:
        answer = admin.alter_configs(
            incremental, raise_on_unknown=False, incremental=True
        )
    except IncompatibleBrokerVersion:
        replacing = [
            ConfigResource(ConfigResourceType.TOPIC, name, dict(wanted[name]))
            for name in changes
        ]
        answer = admin.alter_configs(
            replacing, raise_on_unknown=False, incremental=False
        )
    results: dict[str, str] = answer.get("topic", {})
    return results
