"""The Kafka ingest worker against real brokers (noida and Tansu, never a mock).

Each test gets topics of its own on the session's broker (and so a consumer
group of its own), so tests sharing a broker cannot see each other's
messages. Single-process tests run the worker in a thread with its stop flag;
the crash and rebalance tests run ``boende ingest`` as real subprocesses and
SIGKILL or SIGTERM them.
"""

from __future__ import annotations

import json
import os
import random
import re
import signal
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from kafka import KafkaAdminClient
from kafka.admin import NewTopic
from kafka.errors import MessageSizeTooLargeError
from kafka.structs import TopicPartition

from infra import kafka
from infra.broker import LocalBroker
from infra.settings import Settings
from services.bootstrap import Boende, bootstrap
from services.errors import ConcurrentUpdate, StoreUnavailable
from services.kafka.ingest import IngestWorker
from services.submission.service import Outcome, SubmissionService
from tests.conftest import envelope, kafka_settings, later

BIG = 16 * 1024 * 1024  # max.message.bytes of the test topics
Message = tuple[bytes | None, bytes | None]  # key, value


# -- helpers shared with test_ingest_e2e ---------------------------------------


def fresh_topics(
    settings: Settings, partitions: int = 1, rejected_max_bytes: int | None = BIG
) -> tuple[str, str]:
    """A new submissions topic and its rejected topic, both taking big messages
    unless ``rejected_max_bytes`` is None (the broker's default then)."""
    name = f"ingest-{uuid.uuid4().hex[:10]}"
    big = {"max.message.bytes": str(BIG)}
    rejected = {} if rejected_max_bytes is None else big
    admin = KafkaAdminClient(**kafka.client_config(settings))
    try:
        admin.create_topics(
            [
                NewTopic(name, partitions, 1, topic_configs=big),
                NewTopic(f"{name}.rejected", 1, 1, topic_configs=rejected),
            ]
        )
    finally:
        admin.close()
    return name, f"{name}.rejected"


def produce(
    settings: Settings, topic: str, messages: Sequence[Message], **overrides: Any
) -> list[Any]:
    """Publish in order with the idempotent producer; each message's metadata."""
    producer = kafka.producer(settings, **overrides)
    try:
        futures = [producer.send(topic, key=k, value=v) for k, v in messages]
        producer.flush()
        return [f.get(timeout=0) for f in futures]
    finally:
        producer.close()


def read_topic(
    settings: Settings,
    topic: str,
    expected: int | Callable[[list[Any]], bool],
    timeout: float = 60.0,
) -> list[Any]:
    """Every record on ``topic`` from the start: at least ``expected`` of them
    (or until ``expected(records)``), then whatever else arrives within a
    second, to catch extras."""
    if isinstance(expected, int):
        count = expected
        expected = lambda records: len(records) >= count  # noqa: E731
    consumer = kafka.consumer(settings, group_id=None)
    try:
        deadline = time.monotonic() + 15
        while not (parts := consumer.partitions_for_topic(topic)):
            assert time.monotonic() < deadline, f"no metadata for {topic}"
            time.sleep(0.1)
        consumer.assign([TopicPartition(topic, p) for p in parts])
        consumer.seek_to_beginning()
        records: list[Any] = []
        deadline = time.monotonic() + timeout
        while not expected(records) and time.monotonic() < deadline:
            records += [r for b in consumer.poll(timeout_ms=200).values() for r in b]
        settle = time.monotonic() + 1.0
        while time.monotonic() < settle:
            records += [r for b in consumer.poll(timeout_ms=200).values() for r in b]
        return records
    finally:
        consumer.close(autocommit=False)


def wait_until(check: Callable[[], bool], what: str, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.02)


@contextmanager
def running(worker: IngestWorker) -> Iterator[IngestWorker]:
    """The worker's loop in a thread; stopped (and its errors raised) on exit."""
    errors: list[BaseException] = []

    def loop() -> None:
        try:
            worker.run_until_stopped()
        except BaseException as error:  # surfaced in the test's thread
            errors.append(error)

    thread = threading.Thread(target=loop, name="ingest", daemon=True)
    thread.start()
    try:
        yield worker
    finally:
        worker.request_stop()
        thread.join(timeout=30)
        assert not thread.is_alive(), "the worker did not stop"
        if errors:
            raise errors[0]


def as_message(body: dict[str, Any]) -> Message:
    key = body.get("case_id") or body.get("apartment_id")
    return str(key).encode(), json.dumps(body).encode()


def case_histories(cases: int) -> list[dict[str, Any]]:
    """``cases`` independent cases, three facts each (filed, granted, a delay
    reason), interleaved in blocks of 50 so each partition's order matters."""
    prefix = uuid.uuid4().hex[:8]
    bodies: list[dict[str, Any]] = []
    for block in range(0, cases, 50):
        ids = [f"c-{prefix}-{n}" for n in range(block, min(block + 50, cases))]
        bodies += [envelope("application_filed", c) for c in ids]
        bodies += [envelope("application_granted", c, later(7)) for c in ids]
        bodies += [envelope("delay_reason_recorded", c, later(50)) for c in ids]
    return bodies


def receipts(boende: Boende, bodies: Sequence[dict[str, Any]]) -> int:
    """How many of ``bodies`` have a submission receipt in the store."""
    ids = [str(b["submission_id"]) for b in bodies]
    found = 0
    for i in range(0, len(ids), 500):
        found += len(boende.app.recorder.select_receipts(ids[i : i + 500]))
    return found


def events_in(boende: Boende) -> int:
    """How many events the log holds. Not the highest position: PostgreSQL
    positions have gaps after a rolled-back insert (a lost race on redelivery)."""
    return len(boende.app.recorder.select_notifications(None, 10_000_000))


def header(record: Any, name: str) -> bytes | None:
    return dict(record.headers).get(name)


# -- poison messages -----------------------------------------------------------


def test_poison_messages_are_rejected_whole_and_the_rest_recorded(
    kafka_broker: LocalBroker, tmp_path: Path
) -> None:
    settings = kafka_settings(kafka_broker, tmp_path / "var")
    topic, rejected = fresh_topics(settings)
    case = f"c-{uuid.uuid4().hex[:8]}"
    filed = envelope("application_filed", case)
    illegal = envelope("converted_to_first_hand", case)  # the case is only filed
    conflict = {**filed, "actor": {"committee": "IFN", "user": "someone-else"}}
    poison: list[tuple[Message, str]] = [
        ((b"bad-utf8", b'{"type": "\xff\xfe"}'), "invalid_submission"),
        ((b"bad-json", b'{"submission_id": '), "invalid_submission"),
        (as_message(illegal), "transition_not_allowed"),
        (as_message(envelope("application_granted", "c-nobody")), "not_found"),
        ((b"empty", b""), "invalid_submission"),
        ((b"tombstone", None), "invalid_submission"),
        ((None, b"not a submission"), "invalid_submission"),
        (as_message(conflict), "submission_id_conflict"),
    ]  # fmt: skip
    valid = [filed] + [
        envelope("application_filed", f"{case}-{n}") for n in range(len(poison))
    ]
    keyless = envelope("application_filed", f"{case}-keyless")
    messages: list[Message] = [as_message(filed)]
    for (message, _), body in zip(poison, valid[1:], strict=True):
        messages += [message, as_message(body)]  # a valid one after each
    messages += [(None, json.dumps(keyless).encode()), as_message(filed)]  # a repeat
    sent = produce(settings, topic, messages)
    boende = bootstrap(settings)
    try:
        worker = IngestWorker(
            boende.service, settings, topic=topic, rejected_topic=rejected,
            group_id=f"g-{topic}",
        )  # fmt: skip
        with running(worker):
            wait_until(lambda: worker.stats.consumed == len(messages), "the batch")
        assert receipts(boende, [*valid, keyless]) == len(valid) + 1
        assert events_in(boende) == len(valid) + 1
        assert worker.stats.repeated == 1  # the repeat is not rejected
        out = read_topic(settings, rejected, expected=len(poison))
    finally:
        boende.close()
    assert len(out) == len(poison)
    sources = sent[1 : 2 * len(poison) : 2]
    for record, ((key, value), code), source in zip(out, poison, sources, strict=True):
        assert (record.key, record.value) == (key, value), code
        assert header(record, "error") == code.encode()
        assert header(record, "message")
        assert header(record, "source_topic") == topic.encode()
        assert header(record, "source_partition") == str(source.partition).encode()
        assert header(record, "source_offset") == str(source.offset).encode()
    details = json.loads(header(out[1], "details") or b"{}")
    assert details["details"][0]["loc"] == "(body)"  # where, never the value


def test_a_value_too_big_for_the_rejected_topic_goes_without_it(
    kafka_broker: LocalBroker, tmp_path: Path
) -> None:
    """When the rejected topic refuses the original bytes, the reason still
    gets there (with the value's size and digest) and the offset moves on.

    Tansu enforces no size limit, so there nothing is too big for the
    rejected topic: it checks the other side instead, that a 2 MB refusal
    arrives there whole (after the probe message that found it out)."""
    settings = kafka_settings(kafka_broker, tmp_path / "var")
    topic, rejected = fresh_topics(settings, rejected_max_bytes=None)
    huge = b"x" * (2 * 1024 * 1024)
    try:
        produce(settings, rejected, [(b"probe", huge)], max_request_size=BIG)
        too_big = False
        assert kafka_broker.kind == "tansu", "noida took 2 MB on a default topic"
    except MessageSizeTooLargeError:
        too_big = True  # noida's 1 MiB default refuses it
    small = (b"small", b"not json")
    produce(settings, topic, [(b"huge", huge), small], max_request_size=BIG)
    boende = bootstrap(settings)
    try:
        worker = IngestWorker(
            boende.service, settings, topic=topic, rejected_topic=rejected,
            group_id=f"g-{topic}",
        )  # fmt: skip
        with running(worker):
            wait_until(lambda: worker.stats.consumed == 2, "both messages")
        found = read_topic(settings, rejected, expected=2 if too_big else 3)
    finally:
        boende.close()
    first, second = found if too_big else found[1:]  # after the probe
    if too_big:
        assert (first.key, first.value) == (b"huge", None)
        assert header(first, "value_omitted") == b"too_large"
        assert header(first, "value_bytes") == str(len(huge)).encode()
    else:
        assert (first.key, first.value) == (b"huge", huge)
        assert header(first, "value_omitted") is None
    assert header(first, "error") == b"payload_too_large"
    assert (second.key, second.value) == small  # a renewed producer sent it


# -- retries and batching ------------------------------------------------------


class FlakyStore:
    """The real service behind a store that fails now and then, as a store
    outage or a lost race looks from ``record_batch``."""

    def __init__(self, service: SubmissionService, failures: list[str]) -> None:
        self.service = service
        self.failures = failures
        self.calls = 0

    def record_batch(
        self, subs: Sequence[Any], by: Sequence[Any] | None = None
    ) -> list[Outcome]:
        self.calls += 1
        failure = self.failures.pop(0) if self.failures else None
        senders = list(by) if by is not None else [None] * len(subs)
        if failure == "unavailable":
            return [StoreUnavailable("the event store is unreachable")] * len(subs)
        if failure == "race":  # all but the last recorded; the last lost a race
            lost = ConcurrentUpdate("another submission changed this case first")
            return [*self.service.record_batch(subs[:-1], senders[:-1]), lost]
        return self.service.record_batch(subs, senders)


def test_store_outages_and_lost_races_are_retried_not_rejected(
    kafka_broker: LocalBroker, tmp_path: Path
) -> None:
    settings = kafka_settings(kafka_broker, tmp_path / "var")
    topic, rejected = fresh_topics(settings)
    bodies = case_histories(20)
    produce(settings, topic, [as_message(b) for b in bodies])
    boende = bootstrap(settings)
    try:
        store = FlakyStore(boende.service, ["unavailable", "race", "unavailable"])
        worker = IngestWorker(
            store, settings, topic=topic, rejected_topic=rejected,  # type: ignore[arg-type]
            group_id=f"g-{topic}",
        )  # fmt: skip
        with running(worker):
            wait_until(lambda: worker.stats.consumed == len(bodies), "every message")
        assert worker.stats.retries == 3
        assert not worker.stats.rejected
        assert receipts(boende, bodies) == events_in(boende) == len(bodies)
        assert read_topic(settings, rejected, expected=0) == []
    finally:
        boende.close()


def test_one_store_transaction_takes_many_messages(
    kafka_broker: LocalBroker, tmp_path: Path
) -> None:
    settings = kafka_settings(kafka_broker, tmp_path / "var")
    topic, rejected = fresh_topics(settings, partitions=3)
    bodies = case_histories(700)  # 2,100 messages
    produce(settings, topic, [as_message(b) for b in bodies])
    boende = bootstrap(settings)
    saves = 0
    save = boende.app.save

    def counted_save(*args: Any, **kwargs: Any) -> Any:
        nonlocal saves
        saves += 1  # one call, one store transaction
        return save(*args, **kwargs)

    boende.app.save = counted_save  # type: ignore[method-assign]
    try:
        worker = IngestWorker(
            boende.service, settings, topic=topic, rejected_topic=rejected,
            group_id=f"g-{topic}",
        )  # fmt: skip
        with running(worker):
            wait_until(lambda: worker.stats.consumed == len(bodies), "every message")
        assert receipts(boende, bodies) == events_in(boende) == len(bodies)
    finally:
        boende.close()
    print(f"{kafka_broker.kind}: {len(bodies)} messages in {saves} store "
          f"transactions, {worker.stats.per_second:.0f}/s")  # fmt: skip
    assert saves == worker.stats.store_calls
    assert len(bodies) / saves >= 20, f"{saves} transactions for {len(bodies)}"


# -- crashes and rebalances (real subprocesses) ---------------------------------


class Workers:
    """``boende ingest`` subprocesses on one store, topic and group; every one
    still running when the test ends is killed."""

    def __init__(self, settings: Settings, topic: str, group: str) -> None:
        self.settings = settings
        self.command = [sys.executable, "-m", "services.cli.main", "ingest",
                        "--topic", topic, "--rejected", f"{topic}.rejected",
                        "--group", group]  # fmt: skip
        self.started: list[subprocess.Popen[bytes]] = []

    def start(self, log: Path, *options: str, **env: str) -> subprocess.Popen[bytes]:
        environ = {
            **os.environ,
            "BOENDE_DATA_DIR": str(self.settings.data_dir),
            "BOENDE_KAFKA_BOOTSTRAP": self.settings.kafka_bootstrap,
            "BOENDE_LOG_LEVEL": "INFO",
            **env,
        }
        environ.pop("BOENDE_DATABASE_URL", None)
        if self.settings.database_url:
            environ["BOENDE_DATABASE_URL"] = self.settings.database_url
        with log.open("ab") as out:
            process = subprocess.Popen(
                [*self.command, *options], env=environ, stdout=out,
                stderr=subprocess.STDOUT,
            )  # fmt: skip
        self.started.append(process)
        return process

    def kill_all(self) -> None:
        for process in self.started:
            if process.poll() is None:
                process.kill()
                process.wait(timeout=10)


def wait_while_alive(
    check: Callable[[], bool], what: str, process: subprocess.Popen[bytes], log: Path
) -> None:
    """``wait_until``, failing at once (with the log's tail) if ``process`` ends."""

    def done() -> bool:
        if process.poll() is not None:
            tail = log.read_text(errors="replace")[-3000:]
            pytest.fail(f"ingest exited {process.returncode} before {what}:\n{tail}")
        return check()

    wait_until(done, what)


def stop(process: subprocess.Popen[bytes]) -> int:
    process.send_signal(signal.SIGTERM)
    return process.wait(timeout=30)


def consumed_by(log: Path) -> int:
    """What the worker's last words say it consumed."""
    found = re.findall(r"ingest stopped: (\d+) consumed", log.read_text())
    return int(found[-1]) if found else 0


def joined(log: Path) -> bool:
    return re.search(r"partitions assigned: \S", log.read_text()) is not None


def on_broker(store: Settings, broker: LocalBroker) -> Settings:
    return kafka_settings(broker, store.data_dir, database_url=store.database_url)


def test_killed_worker_records_every_submission_once(
    kafka_broker: LocalBroker, store_settings: Settings, tmp_path: Path
) -> None:
    settings = on_broker(store_settings, kafka_broker)
    topic, rejected = fresh_topics(settings, partitions=3)
    bodies = case_histories(1650)  # 4,950 valid
    poison: list[Message] = [(b"p", b'{"poison": %d' % n) for n in range(50)]
    messages = [as_message(b) for b in bodies]
    for n, message in enumerate(poison):
        messages.insert(n * 100, message)
    produce(settings, topic, messages)
    boende = bootstrap(settings)
    workers, log = Workers(settings, topic, f"g-{topic}"), tmp_path / "ingest.log"
    # A static member, as a restarted pod would be: noida never evicts a
    # SIGKILLed dynamic member (the group stays in rebalance for good), and
    # both brokers hand a static member's partitions straight back.
    static = ("--instance-id", "ingest-0")
    try:
        rng, kills = random.Random(4), 0
        small_batches = {"BOENDE_KAFKA_INGEST_BATCH_MAX": "100"}
        while kills < 3 and (before := events_in(boende)) < len(bodies):
            process = workers.start(log, *static, **small_batches)
            wait_while_alive(
                lambda: events_in(boende) > before, "progress", process, log
            )
            time.sleep(rng.uniform(0.0, 0.4))
            process.send_signal(signal.SIGKILL)
            process.wait(timeout=10)
            kills += events_in(boende) < len(bodies)  # killed mid-run
        assert kills >= 2, "the worker must be killed mid-run at least twice"
        last = workers.start(log, *static)
        wait_while_alive(
            lambda: events_in(boende) >= len(bodies), "every submission", last, log
        )
        wanted = {value for _, value in poison}
        out = read_topic(settings, rejected, lambda rs: {r.value for r in rs} >= wanted)
        assert stop(last) == 0
        assert receipts(boende, bodies) == len(bodies)
        assert events_in(boende) == len(bodies)  # none twice
    finally:
        workers.kill_all()
        boende.close()
    # every poison message is on the rejected topic (a killed worker may have
    # published some of them twice: at least once, never lost)
    assert {r.value for r in out} == wanted


def test_a_worker_leaving_the_group_hands_its_partitions_over(
    kafka_broker: LocalBroker, store_settings: Settings, tmp_path: Path
) -> None:
    settings = on_broker(store_settings, kafka_broker)
    topic, _ = fresh_topics(settings, partitions=3)
    bodies = case_histories(1000)
    boende = bootstrap(settings)
    workers = Workers(settings, topic, f"g-{topic}")
    logs = [tmp_path / "a.log", tmp_path / "b.log"]
    try:
        first, second = (workers.start(log) for log in logs)
        for process, log in zip((first, second), logs, strict=True):
            wait_while_alive(lambda log=log: joined(log), "joining", process, log)
        half = len(bodies) // 2
        produce(settings, topic, [as_message(b) for b in bodies[:half]])
        wait_while_alive(
            lambda: events_in(boende) >= half, "the first half", second, logs[1]
        )
        rest = [as_message(b) for b in bodies[half:]]
        publishing = threading.Thread(target=produce, args=(settings, topic, rest))
        publishing.start()
        assert stop(first) == 0  # mid-run: the rest is the other one's
        publishing.join(timeout=60)
        wait_while_alive(
            lambda: events_in(boende) >= len(bodies), "every submission", second,
            logs[1],
        )  # fmt: skip
        assert stop(second) == 0
        assert receipts(boende, bodies) == events_in(boende) == len(bodies)
    finally:
        workers.kill_all()
        boende.close()
    assert consumed_by(logs[0]) > 0
    assert consumed_by(logs[1]) > 0
    assert consumed_by(logs[0]) + consumed_by(logs[1]) >= len(bodies)
