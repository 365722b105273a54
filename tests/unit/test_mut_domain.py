"""The aggregates' facts carry what they were given, and their refusals say
exactly what was refused (mutants of ``domain/`` that the other tests let
live: a field dropped from a fact, a refusal's message or details lost)."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest

from domain.apartment import Apartment
from domain.authority import check_may_submit
from domain.case import HousingCase
from domain.errors import (
    ApartmentUnavailable,
    DateOutOfOrder,
    DomainError,
    Forbidden,
    FutureDate,
    OfferDateInvalid,
    TransitionNotAllowed,
)
from domain.facts import Stamp, check_dates
from domain.personnummer import luhn_check_digit, parse_personnummer

TODAY = date(2026, 11, 25)


def stamp(day: str = "2021-03-15") -> Stamp:
    return Stamp("s-1", "IFN", "u-1", date.fromisoformat(day), TODAY)


def filed(case_id: str = "c-1") -> HousingCase:
    return HousingCase.file(
        stamp(), case_id, {"personnummer": "x"}, {"adults": 1}, "woman", 1990
    )


def granted() -> HousingCase:
    case = filed()
    case.grant(stamp("2021-04-01"), "d-1", "socialt_kontrakt", "assessment")
    return case


def apartment(apartment_id: str = "a-1", day: str = "2021-03-15") -> Apartment:
    return Apartment.acquire(stamp(day), apartment_id, "AB Bo", "Norr", 3, 7100)


def executed() -> tuple[HousingCase, Apartment]:
    case, flat = granted(), apartment()
    case.execute(stamp("2021-05-01"), flat, 6400, date(2021, 5, 2))
    return case, flat


def last_fact(aggregate: Any) -> Any:
    return aggregate.pending_events[-1]


def test_a_refusal_is_its_message() -> None:
    error = DomainError("no such thing", what="x")
    assert (str(error), error.message, error.details) == (
        "no such thing",
        "no such thing",
        {"what": "x"},
    )
    refusal = TransitionNotAllowed("grant_cancelled", "filed", ["a"])
    assert str(refusal) == "grant_cancelled is not allowed in state filed"


@pytest.mark.parametrize(
    ("command", "args", "fields"),
    [
        ("withdraw", ("moved away",), {"reason": "moved away"}),
        (
            "reject",
            ("d-9", "no_need"),
            {"decision_id": "d-9", "reason": "no_need"},
        ),
    ],
)
def test_a_filed_case_records_what_it_was_told(
    command: str, args: tuple[Any, ...], fields: dict[str, Any]
) -> None:
    case = filed()
    getattr(case, command)(stamp("2021-04-01"), *args)
    fact = last_fact(case)
    assert {name: getattr(fact, name) for name in fields} == fields
    assert fact.case_id == "c-1"


@pytest.mark.parametrize(
    ("command", "args", "fields"),
    [
        (
            "record_delay_reason",
            ("no_apartment", "waiting"),
            {"reason": "no_apartment", "note": "waiting"},
        ),
        ("cancel_grant", ("declined",), {"reason": "declined"}),
    ],
)
def test_a_granted_case_records_what_it_was_told(
    command: str, args: tuple[Any, ...], fields: dict[str, Any]
) -> None:
    case = granted()
    getattr(case, command)(stamp("2021-04-02"), *args)
    fact = last_fact(case)
    assert {name: getattr(fact, name) for name in fields} == fields


def test_an_execution_records_the_rent_and_the_lease_start() -> None:
    case, flat = executed()
    fact = last_fact(case)
    assert (fact.apartment_id, fact.monthly_rent_sek, fact.lease_starts_on) == (
        "a-1",
        6400,
        date(2021, 5, 2),
    )
    assert (flat.tenant_case_id, last_fact(flat).case_id) == ("c-1", "c-1")


def test_a_follow_up_records_outcome_and_note() -> None:
    case, _ = executed()
    case.record_follow_up(stamp("2021-06-01"), "on_track", "fine")
    assert (last_fact(case).outcome, last_fact(case).note) == ("on_track", "fine")
    assert case.follow_ups == 1


def test_a_conversion_records_consent_and_transfers_the_apartment() -> None:
    case, flat = executed()
    case.convert_to_first_hand(stamp("2022-05-01"), flat, date(2022, 4, 20))
    assert last_fact(case).landlord_consented_on == date(2022, 4, 20)
    assert last_fact(flat).case_id == "c-1"
    assert flat.state.value == "transferred" and flat.tenant_case_id is None


def test_a_termination_records_its_reason_and_vacates() -> None:
    case, flat = executed()
    case.terminate(stamp("2022-05-01"), flat, "moved")
    assert last_fact(case).reason == "moved"
    assert last_fact(flat).case_id == "c-1"
    assert flat.state.value == "available" and flat.tenant_case_id is None


def test_a_rejected_case_is_granted_only_on_appeal_and_the_refusal_says_so() -> None:
    case = filed()
    case.reject(stamp("2021-04-01"), "d-1", "no_need")
    with pytest.raises(TransitionNotAllowed) as refusal:
        case.grant(stamp("2021-04-02"), "d-2", "socialt_kontrakt", "assessment")
    assert str(refusal.value) == (
        "application_granted (a rejected application is granted only with basis"
        ' "appeal") is not allowed in state rejected'
    )
    assert refusal.value.details == {
        "state": "rejected",
        "allowed": ["application_granted"],
    }


def test_a_refused_transition_names_the_event() -> None:
    with pytest.raises(TransitionNotAllowed) as refusal:
        filed().record_follow_up(stamp("2021-04-01"), "on_track", None)
    assert str(refusal.value) == "follow_up_recorded is not allowed in state filed"


def test_an_occupied_apartment_refusal_names_it() -> None:
    _, flat = executed()
    other = filed("c-2")
    other.grant(stamp("2021-04-01"), "d-2", "socialt_kontrakt", "assessment")
    with pytest.raises(ApartmentUnavailable) as refusal:
        other.execute(stamp("2021-05-01"), flat, 6400, date(2021, 5, 2))
    assert str(refusal.value) == "apartment a-1 is occupied, not available"
    assert refusal.value.details == {
        "apartment_id": "a-1",
        "apartment_state": "occupied",
    }


def test_an_execution_before_the_apartment_says_whose_date() -> None:
    case, flat = granted(), apartment(day="2021-06-01")
    with pytest.raises(DateOutOfOrder) as refusal:
        case.execute(stamp("2021-05-01"), flat, 6400, date(2021, 5, 2))
    assert str(refusal.value) == (
        "occurred_on 2021-05-01 is before the apartment's previous fact (2021-06-01)"
    )


def test_a_case_fact_before_the_last_one_says_whose_date() -> None:
    case = granted()
    with pytest.raises(DateOutOfOrder) as refusal:
        case.cancel_grant(stamp("2021-03-20"), "declined")
    assert str(refusal.value) == (
        "occurred_on 2021-03-20 is before the case's previous fact (2021-04-01)"
    )
    assert refusal.value.details == {"previous_occurred_on": "2021-04-01"}


def test_an_erasure_records_rule_and_eraser_and_keeps_the_course() -> None:
    case = granted()
    case.record_personal_data_erased(stamp("2021-04-05"), "request", "dpo-1")
    fact = last_fact(case)
    assert (fact.rule, fact.erased_by, fact.case_id) == ("request", "dpo-1", "c-1")
    assert case.last_occurred_on == date(2021, 4, 1)
    assert case.state.value == "granted"


def test_an_erasure_cannot_predate_the_case_s_last_fact() -> None:
    case = granted()
    with pytest.raises(DateOutOfOrder) as refusal:
        case.record_personal_data_erased(stamp("2021-03-31"), "retention", "job")
    assert "the case's previous fact (2021-04-01)" in str(refusal.value)


def test_an_erasure_names_the_rules_it_knows() -> None:
    with pytest.raises(ValueError) as refusal:
        filed().record_personal_data_erased(stamp("2021-04-01"), "whim", "x")
    assert str(refusal.value) == (
        "erasure rule must be one of ['request', 'retention']"
    )


def test_only_an_executed_case_has_a_tenancy() -> None:
    with pytest.raises(AssertionError) as refusal:
        granted().tenancy()
    assert str(refusal.value).startswith("an executed case names its apartment")
    assert executed()[0].tenancy() == "a-1"


def test_an_acquired_apartment_is_what_was_acquired() -> None:
    flat = apartment()
    assert (
        flat.apartment_id,
        flat.landlord,
        flat.district,
        flat.rooms,
        flat.monthly_rent_sek,
        flat.state.value,
        flat.tenant_case_id,
    ) == ("a-1", "AB Bo", "Norr", 3, 7100, "available", None)


def test_an_apartment_in_the_future_is_refused() -> None:
    with pytest.raises(FutureDate):
        apartment(day="2026-11-26")


def test_a_returned_apartment_records_its_reason() -> None:
    flat = apartment()
    flat.return_to_landlord(stamp("2021-04-01"), "renovation")
    assert last_fact(flat).reason == "renovation"
    assert flat.state.value == "returned"


def test_an_occupied_apartment_cannot_be_returned_and_says_why() -> None:
    _, flat = executed()
    with pytest.raises(TransitionNotAllowed) as refusal:
        flat.return_to_landlord(stamp("2021-06-01"), None)
    assert str(refusal.value) == "apartment_returned is not allowed in state occupied"
    assert refusal.value.details == {"state": "occupied", "allowed": []}


def test_a_return_cannot_predate_the_apartment_s_last_fact() -> None:
    flat = apartment(day="2021-06-01")
    with pytest.raises(DateOutOfOrder) as refusal:
        flat.return_to_landlord(stamp("2021-05-01"), None)
    assert str(refusal.value) == (
        "occurred_on 2021-05-01 is before the apartment's previous fact (2021-06-01)"
    )


def test_the_date_rule_on_its_own() -> None:
    check_dates(stamp("2021-03-15"), date(2021, 3, 15), "case")  # same day is fine
    with pytest.raises(FutureDate) as future:
        check_dates(stamp("2026-11-26"), None, "case")
    assert str(future.value) == "occurred_on must not be after today (2026-11-25)"
    assert future.value.details == {
        "details": [
            {"loc": "occurred_on", "problem": "must not be after today (2026-11-25)"}
        ]
    }


def test_a_filed_case_has_nothing_decided_yet() -> None:
    case = filed()
    assert (
        case.decision_id,
        case.intervention,
        case.granted_on,
        case.rejected_on,
        case.delay_reason,
        case.apartment_id,
        case.executed_on,
        case.ended_on,
        case.follow_ups,
    ) == (None, None, None, None, None, None, None, None, 0)
    assert case.last_occurred_on == date(2021, 3, 15)
    assert (case.case_id, case.gender, case.birth_year, case.household) == (
        "c-1",
        "woman",
        1990,
        {"adults": 1},
    )


def test_an_unknown_committee_may_submit_nothing_and_is_named() -> None:
    with pytest.raises(Forbidden) as refusal:
        check_may_submit("XY", "application_filed")
    assert str(refusal.value) == "committee XY may not submit application_filed"
    assert refusal.value.details == {"committee": "XY", "type": "application_filed"}


def test_a_doubled_five_counts_one_in_the_check_digit() -> None:
    # 550101123: the doubled 5 gives 10, whose digits add up to 1.
    assert luhn_check_digit("550101123") == 2
    assert parse_personnummer("19550101-1232", TODAY).birth_date == date(1955, 1, 1)


def test_a_coordination_number_adds_sixty_to_the_day() -> None:
    number = parse_personnummer("19900161-2341", TODAY)
    assert (number.birth_date, number.coordination) == (date(1990, 1, 1), True)
    assert number.canonical == "19900161-2341"


def test_someone_born_today_has_a_valid_number() -> None:
    assert parse_personnummer("19900101-2344", date(1990, 1, 1)).birth_date == date(
        1990, 1, 1
    )
    with pytest.raises(ValueError) as refusal:
        parse_personnummer("19900101-2344", date(1989, 12, 31))
    assert str(refusal.value) == "personnummer birth date is in the future"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            "1990-01-01",
            "personnummer must be YYYYMMDD-NNNN or YYMMDD-NNNN (digits only)",
        ),
        ("19900101-2345", "personnummer check digit (Luhn) does not match"),
        ("19900231-2347", "personnummer does not hold a valid birth date"),
    ],
)
def test_a_refused_number_says_why_without_repeating_it(
    text: str, message: str
) -> None:
    with pytest.raises(ValueError) as refusal:
        parse_personnummer(text, TODAY)
    assert str(refusal.value) == message


def test_a_declined_offer_is_dated_no_earlier_than_the_decision() -> None:
    """The case checks the offer day itself, whoever calls it."""
    case = granted()  # granted 2021-04-01
    with pytest.raises(OfferDateInvalid) as refusal:
        case.record_delay_reason(
            stamp("2021-04-10"), "offer_declined", None, date(2021, 3, 31)
        )
    assert refusal.value.message == (
        "payload.offered_on must not be before the decision day (2021-04-01)"
    )
    case.record_delay_reason(
        stamp("2021-04-10"), "offer_declined", None, date(2021, 4, 1)
    )
    assert last_fact(case).offered_on == date(2021, 4, 1)
