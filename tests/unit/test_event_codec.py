"""Events as Kafka messages and back, without a store or a broker: every event
type round trips to an equal event of the same class, except personal data
(the applicant, and the free-text notes, in clear in old events), which never
travels."""

from __future__ import annotations

import json
from datetime import date
from typing import Any

import pytest

from domain.apartment import Apartment
from domain.case import HousingCase
from domain.facts import Stamp
from services.kafka.codec import (
    UnsupportedMessage,
    decode_event,
    encode_event,
    position_of,
    to_domain_event,
)
from services.submission.examples import EXAMPLE_PERSONNUMMER

TODAY = date(2026, 11, 25)
NAME = "Test Testsson"


def stamp(day: str) -> Stamp:
    return Stamp("s-" + day, "IFN", "handlaggare-17", date.fromisoformat(day), TODAY)


def new_case(case_id: str) -> HousingCase:
    applicant = {"personnummer": EXAMPLE_PERSONNUMMER, "name": NAME}
    household = {"adults": 1, "children": 2}
    return HousingCase.file(
        stamp("2021-03-15"), case_id, applicant, household, "woman", 1985
    )


def history() -> list[Any]:
    """At least one event of every type, in an order the rules allow."""
    flat = Apartment.acquire(stamp("2021-03-01"), "apt-1", "AB Bo", "Norrby", 2, 6400)
    spare = Apartment.acquire(stamp("2021-03-01"), "apt-2", "AB Bo", "Söder", 1, 5200)
    spare.return_to_landlord(stamp("2021-03-02"), None)
    moving = new_case("c-1")
    moving.grant(stamp("2021-04-01"), "IFN-1", "socialt_kontrakt", "assessment")
    moving.record_delay_reason(stamp("2021-04-02"), "no_apartment_available", None)
    moving.execute(stamp("2021-05-01"), flat, 6400, date(2021, 5, 1))
    moving.record_follow_up(stamp("2021-06-01"), "on_track", "fine")
    moving.terminate(stamp("2021-07-01"), flat, "moved_out")
    staying = new_case("c-2")
    staying.reject(stamp("2021-04-01"), "IFN-2", "needs not met")
    staying.grant(stamp("2021-04-20"), "IFN-3", "boendesocial_insats", "appeal")
    staying.execute(stamp("2021-07-02"), flat, 6400, date(2021, 8, 1))
    staying.convert_to_first_hand(stamp("2021-09-01"), flat, date(2021, 8, 30))
    withdrawn, cancelled = new_case("c-3"), new_case("c-4")
    withdrawn.withdraw(stamp("2021-03-20"), "found housing elsewhere")
    withdrawn.record_personal_data_erased(stamp("2021-03-21"), "request", "ifn-1")
    cancelled.grant(stamp("2021-04-01"), "IFN-4", "socialt_kontrakt", "assessment")
    cancelled.cancel_grant(stamp("2021-04-02"), "own_housing_found")
    aggregates = [flat, spare, moving, staying, withdrawn, cancelled]
    events = [e for a in aggregates for e in a.collect_events()]
    return sorted(events, key=lambda e: e.timestamp)


def domain_event_types() -> set[str]:
    """Every event type the two aggregates define."""
    return {
        event_class.type_name
        for aggregate in (HousingCase, Apartment)
        for event_class in vars(aggregate).values()
        if isinstance(event_class, type)
        and issubclass(event_class, aggregate.Event)
        and event_class.type_name
    }


def round_trip(position: int, event: Any) -> Any:
    _, value, headers = encode_event(position, event)
    return to_domain_event(value, headers)


def test_every_event_type_round_trips_to_an_equal_event() -> None:
    events = history()
    assert {e.type_name for e in events} == domain_event_types()
    for position, event in enumerate(events, start=1):
        copy = round_trip(position, event)
        assert type(copy) is type(event)
        expected = dict(vars(event))
        for personal in ("applicant", "note"):
            if personal in expected:
                expected[personal] = None
        assert vars(copy) == expected
        assert b"fine" not in encode_event(position, event)[1]


def test_replaying_round_tripped_events_rebuilds_the_aggregates() -> None:
    by_aggregate: dict[Any, Any] = {}
    for position, event in enumerate(history(), start=1):
        copy = round_trip(position, event)
        by_aggregate[copy.originator_id] = copy.mutate(
            by_aggregate.get(copy.originator_id)
        )
    states = sorted(a.state.value for a in by_aggregate.values())
    assert states == [
        "cancelled",
        "converted",
        "returned",
        "terminated",
        "transferred",
        "withdrawn",
    ]


def test_the_message_format() -> None:
    case = new_case("c-2021-0042")
    case.grant(stamp("2021-03-16"), "IFN-2021-311", "socialt_kontrakt", "assessment")
    granted = case.collect_events()[-1]
    key, value, headers = encode_event(42, granted)
    assert key == b"c-2021-0042"
    assert headers == [
        ("position", b"42"),
        ("event_type", b"application_granted"),
        ("schema_version", b"1"),
        ("topic", b"domain.case:HousingCase.Granted"),
    ]
    assert json.loads(value) == {
        "position": 42,
        "aggregate_type": "case",
        "aggregate_key": "c-2021-0042",
        "aggregate_id": str(case.id),
        "version": 2,
        "type": "application_granted",
        "occurred_on": "2021-03-16",
        "recorded_at": granted.timestamp.isoformat(),
        "committee": "IFN",
        "user": "handlaggare-17",
        "submission_id": "s-2021-03-16",
        "payload": {
            "decision_id": "IFN-2021-311",
            "intervention": "socialt_kontrakt",
            "basis": "assessment",
        },
    }
    assert json.loads(value)["recorded_at"].endswith("+00:00")
    assert position_of(headers) == 42 == decode_event(value, headers)["position"]


def test_apartment_events_are_keyed_by_the_apartment() -> None:
    occupied = next(e for e in history() if e.type_name == "apartment_occupied")
    key, value, _ = encode_event(7, occupied)
    message = json.loads(value)
    assert key == b"apt-1" == message["aggregate_key"].encode()
    assert message["aggregate_type"] == "apartment"
    assert message["payload"] == {"case_id": "c-1"}


def test_the_applicant_never_travels() -> None:
    filed = new_case("c-9").collect_events()[0]
    key, value, headers = encode_event(1, filed)
    wire = key + value + b"".join(name.encode() + raw for name, raw in headers)
    assert EXAMPLE_PERSONNUMMER.encode() not in wire
    assert NAME.encode() not in wire
    assert "applicant" not in json.loads(value)["payload"]
    copy = to_domain_event(value, headers)
    assert copy.applicant is None
    assert copy.household == {"adults": 1, "children": 2}


def test_an_unknown_schema_version_is_refused() -> None:
    filed = new_case("c-9").collect_events()[0]
    _, value, headers = encode_event(1, filed)
    future = [(n, b"2" if n == "schema_version" else v) for n, v in headers]
    with pytest.raises(UnsupportedMessage):
        decode_event(value, future)
