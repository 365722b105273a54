"""The aggregates without any store: commands, rules and replay."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest

from domain.apartment import Apartment
from domain.authority import check_may_submit
from domain.case import CASE_TRANSITIONS, HousingCase
from domain.errors import (
    ApartmentUnavailable,
    DateOutOfOrder,
    Forbidden,
    FutureDate,
    TransitionNotAllowed,
)
from domain.facts import Stamp

TODAY = date(2026, 11, 25)


def stamp(day: str = "2021-03-15", committee: str = "IFN") -> Stamp:
    return Stamp("s-1", committee, "u-1", date.fromisoformat(day), TODAY)


def new_case(case_id: str = "c-1") -> HousingCase:
    return HousingCase.file(
        stamp(),
        case_id,
        {"personnummer": "x"},
        {"adults": 1, "children": 0},
        "man",
        1980,
    )


def new_apartment(apartment_id: str = "a-1") -> Apartment:
    return Apartment.acquire(stamp(), apartment_id, "AB Bo", "Norr", 2, 6000)


def replay(aggregate: Any) -> Any:
    result = None
    for event in aggregate.collect_events():
        result = event.mutate(result)
    return result


def test_a_case_replays_to_the_same_state() -> None:
    case, flat = new_case(), new_apartment()
    case.grant(stamp("2021-04-01"), "d-1", "socialt_kontrakt", "assessment")
    case.execute(stamp("2021-05-01"), flat, 6000, date(2021, 5, 1))
    copy = replay(case)
    assert (copy.state, copy.version, copy.apartment_id) == (case.state, 3, "a-1")
    assert copy.history == case.history
    assert replay(flat).tenant_case_id == "c-1"


def test_a_refused_command_triggers_nothing() -> None:
    case = new_case()
    case.collect_events()
    with pytest.raises(TransitionNotAllowed) as refusal:
        case.record_follow_up(stamp("2021-04-01"), "on_track", None)
    assert refusal.value.details == {
        "state": "filed",
        "allowed": [
            "application_withdrawn",
            "application_granted",
            "application_rejected",
        ],
    }
    assert case.pending_events == [] and case.version == 1


def test_dates_never_go_backwards_nor_into_the_future() -> None:
    case = new_case()
    with pytest.raises(DateOutOfOrder):
        case.grant(stamp("2021-03-14"), "d", "socialt_kontrakt", "assessment")
    with pytest.raises(FutureDate):
        case.grant(stamp("2026-11-26"), "d", "socialt_kontrakt", "assessment")
    case.grant(
        stamp("2021-03-15"), "d", "socialt_kontrakt", "assessment"
    )  # same day is fine


def test_one_tenant_per_apartment() -> None:
    flat = new_apartment()
    first, second = new_case("c-1"), new_case("c-2")
    for case in (first, second):
        case.grant(stamp("2021-04-01"), "d", "socialt_kontrakt", "assessment")
    first.execute(stamp("2021-05-01"), flat, 6000, date(2021, 5, 1))
    with pytest.raises(ApartmentUnavailable):
        second.execute(stamp("2021-05-01"), flat, 6000, date(2021, 5, 1))
    assert second.state.value == "granted"


def test_execution_cannot_predate_the_apartment() -> None:
    case = new_case()
    case.grant(stamp("2021-04-01"), "d", "socialt_kontrakt", "assessment")
    flat = Apartment.acquire(stamp("2021-06-01"), "a-9", "AB Bo", "Norr", 2, 6000)
    with pytest.raises(DateOutOfOrder):
        case.execute(stamp("2021-05-01"), flat, 6000, date(2021, 5, 1))


@pytest.mark.parametrize(
    ("committee", "event_type", "allowed"),
    [
        *[("IFN", t, True) for t in CASE_TRANSITIONS],
        ("IFN", "apartment_acquired", False),
        ("ALN", "apartment_acquired", True),
        ("ALN", "apartment_returned", True),
        ("ALN", "contract_executed", True),
        ("ALN", "application_granted", False),
        ("KS", "application_filed", False),
        ("KS", "apartment_acquired", False),
    ],
)
def test_who_may_submit_what(committee: str, event_type: str, allowed: bool) -> None:
    if allowed:
        check_may_submit(committee, event_type)
    else:
        with pytest.raises(Forbidden):
            check_may_submit(committee, event_type)
