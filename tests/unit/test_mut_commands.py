"""From an envelope to the domain call (``services/submission/commands.py``),
through the submission service on a small SQLite store: each command passes
on every field it was given, refuses with the domain's words (which state,
which id), checks the case's state before the apartment's, seals notes
under the person's key, and lets one batch see its own new aggregates.
(The same over HTTP, with status codes: ``tests/api/test_transitions.py``.)"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from domain.apartment import Apartment, apartment_id_to_uuid
from domain.case import HousingCase, case_id_to_uuid
from domain.errors import (
    DomainError,
    Forbidden,
    FutureDate,
    NotFound,
    OfferDateInvalid,
    TransitionNotAllowed,
)
from domain.facts import Stamp
from infra.person_keys import person_keys_of
from infra.settings import Settings
from services.bootstrap import Boende, bootstrap
from services.errors import InvalidSubmission
from services.privacy import rights
from services.submission import commands
from services.submission.examples import EXAMPLE_PERSONNUMMER
from services.submission.service import Accepted, parse
from tests.conftest import envelope

TODAY = date(2026, 11, 30)


@pytest.fixture
def boende(tmp_path: Path) -> Iterator[Boende]:
    running = bootstrap(Settings(data_dir=tmp_path / "var", today=TODAY))
    yield running
    running.close()


def sub(event_type: str, key: str, day: str, **fields: Any) -> Any:
    body = envelope(event_type, key, day, **fields)
    return parse(json.dumps(body).encode(), 1 << 20)


def submit(boende: Boende, event_type: str, key: str, day: str, **fields: Any) -> Any:
    return boende.service.submit(sub(event_type, key, day, **fields))


def refusal(boende: Boende, event_type: str, key: str, day: str, **fields: Any) -> Any:
    with pytest.raises((DomainError, InvalidSubmission)) as refused:
        submit(boende, event_type, key, day, **fields)
    return refused.value


def case(boende: Boende, case_id: str) -> Any:
    return boende.app.repository.get(case_id_to_uuid(case_id))


def flat(boende: Boende, apartment_id: str) -> Any:
    return boende.app.repository.get(apartment_id_to_uuid(apartment_id))


def log(boende: Boende) -> list[Any]:
    notes = boende.app.recorder.select_notifications(1, 1000)
    return [boende.app.mapper.to_domain_event(n) for n in notes]


def executed(boende: Boende) -> None:
    """c-1 granted and moved into apt-1."""
    submit(boende, "apartment_acquired", "apt-1", "2021-03-01")
    submit(boende, "application_filed", "c-1", "2021-03-02")
    submit(boende, "application_granted", "c-1", "2021-03-03")
    submit(
        boende,
        "contract_executed",
        "c-1",
        "2021-03-04",
        payload={"apartment_id": "apt-1", "monthly_rent_sek": 5100},
    )


def test_a_filing_passes_on_everything_and_seals_the_applicant(
    boende: Boende,
) -> None:
    accepted = submit(
        boende,
        "application_filed",
        "c-1",
        "2021-03-15",
        payload={"household": {"adults": 2, "children": 1}, "birth_year": 1977},
        actor={"committee": "IFN", "user": "u-9"},
    )
    assert isinstance(accepted, Accepted)
    filed = case(boende, "c-1")
    assert (filed.case_id, filed.state.value, filed.filed_on) == (
        "c-1",
        "filed",
        date(2021, 3, 15),
    )
    assert filed.household == {"adults": 2, "children": 1}
    assert (filed.gender, filed.birth_year) == ("woman", 1977)
    assert "personnummer" not in filed.applicant  # sealed, not in clear
    assert rights.applicant_of(boende, "c-1") == {
        "personnummer": EXAMPLE_PERSONNUMMER,
        "name": "Test Testsson",
    }
    (event,) = log(boende)
    assert (event.committee, event.user, event.occurred_on) == (
        "IFN",
        "u-9",
        date(2021, 3, 15),
    )


def test_a_second_filing_of_a_case_is_refused_by_its_state(boende: Boende) -> None:
    submit(boende, "application_filed", "c-1", "2021-03-15")
    submit(boende, "application_granted", "c-1", "2021-03-16")
    refused = refusal(boende, "application_filed", "c-1", "2021-03-17")
    assert isinstance(refused, TransitionNotAllowed)
    assert refused.message == "application_filed is not allowed in state granted"
    assert refused.details["state"] == "granted"
    allowed: Any = refused.details["allowed"]
    assert "grant_cancelled" in allowed


def test_an_invalid_personnummer_is_refused_with_why(boende: Boende) -> None:
    bad = {"applicant": {"personnummer": "19850317-1235"}}
    refused = refusal(boende, "application_filed", "c-1", "2021-03-15", payload=bad)
    assert isinstance(refused, InvalidSubmission)
    assert refused.message == "personnummer is not valid"
    [detail] = refused.details["details"]
    assert detail["loc"] == "payload.applicant.personnummer"
    assert "check digit" in detail["problem"]


def test_a_filing_dated_in_the_future_makes_no_key(boende: Boende) -> None:
    refused = refusal(boende, "application_filed", "c-1", "2026-12-01")
    assert isinstance(refused, FutureDate)
    assert person_keys_of(boende.app).table.key_ids() == set()


def test_an_acquisition_passes_on_everything_and_happens_once(
    boende: Boende,
) -> None:
    submit(
        boende,
        "apartment_acquired",
        "apt-1",
        "2021-03-01",
        payload={
            "landlord": "Hem AB",
            "landlord_org_no": "5566778899",
            "district": " SÖDERBERGA ",  # a name of the list, as the sender spells it
            "rooms": 4,
        },
    )
    acquired = flat(boende, "apt-1")
    assert (acquired.apartment_id, acquired.state.value) == ("apt-1", "available")
    assert acquired.landlord_org_no == "556677-8899"
    (event,) = log(boende)
    assert (
        event.landlord,
        event.landlord_org_no,
        event.district,
        event.rooms,
        event.monthly_rent_sek,
    ) == ("Hem AB", "556677-8899", "söderberga", 4, 6400)
    refused = refusal(boende, "apartment_acquired", "apt-1", "2021-03-02")
    assert isinstance(refused, TransitionNotAllowed)
    assert refused.message == "apartment_acquired is not allowed in state available"
    assert refused.details["state"] == "available"
    assert refused.details["allowed"] == ["apartment_returned"]


def test_an_unknown_case_or_apartment_is_named(boende: Boende) -> None:
    refused = refusal(boende, "application_granted", "c-404", "2021-03-01")
    assert isinstance(refused, NotFound)
    assert (refused.message, refused.details) == ("no case c-404", {"case_id": "c-404"})
    refused = refusal(boende, "apartment_returned", "apt-404", "2021-03-01")
    assert isinstance(refused, NotFound)
    assert (refused.message, refused.details) == (
        "no apartment apt-404",
        {"apartment_id": "apt-404"},
    )
    submit(boende, "application_filed", "c-1", "2021-03-02")
    submit(boende, "application_granted", "c-1", "2021-03-03")
    refused = refusal(
        boende,
        "contract_executed",
        "c-1",
        "2021-03-04",
        payload={"apartment_id": "apt-404"},
    )
    assert (refused.message, refused.details) == (
        "no apartment apt-404",
        {"apartment_id": "apt-404"},
    )


def test_an_execution_moves_the_client_in_and_is_the_submissions_last_fact(
    boende: Boende,
) -> None:
    executed(boende)
    moved_in = case(boende, "c-1")
    assert (moved_in.state.value, moved_in.apartment_id) == ("executed", "apt-1")
    assert flat(boende, "apt-1").state.value == "occupied"
    *_, occupied, execution = log(boende)
    assert isinstance(occupied, Apartment.Occupied)
    assert isinstance(execution, HousingCase.ContractExecuted)
    assert (execution.monthly_rent_sek, execution.lease_starts_on) == (
        5100,
        date(2021, 5, 1),
    )
    assert occupied.submission_id == execution.submission_id


def test_the_cases_state_is_checked_before_the_apartment(boende: Boende) -> None:
    submit(boende, "application_filed", "c-1", "2021-03-02")
    for event_type, payload in [
        ("contract_executed", {"apartment_id": "apt-404"}),
        ("converted_to_first_hand", {}),
        ("contract_terminated", {}),
    ]:
        refused = refusal(boende, event_type, "c-1", "2021-03-04", payload=payload)
        assert isinstance(refused, TransitionNotAllowed), event_type
        assert refused.message == f"{event_type} is not allowed in state filed"


def test_a_conversion_moves_the_apartment_out_of_the_stock(boende: Boende) -> None:
    executed(boende)
    submit(
        boende,
        "converted_to_first_hand",
        "c-1",
        "2022-07-01",
        payload={"landlord_consented_on": "2022-06-15"},
    )
    assert case(boende, "c-1").state.value == "converted"
    assert flat(boende, "apt-1").state.value == "transferred"
    *_, transferred, conversion = log(boende)
    assert isinstance(transferred, Apartment.Transferred)
    assert conversion.landlord_consented_on == date(2022, 6, 15)


def test_a_termination_makes_the_apartment_available(boende: Boende) -> None:
    executed(boende)
    submit(
        boende,
        "contract_terminated",
        "c-1",
        "2022-07-01",
        payload={"reason": "eviction"},
    )
    assert case(boende, "c-1").state.value == "terminated"
    assert flat(boende, "apt-1").state.value == "available"
    *_, vacated, termination = log(boende)
    assert isinstance(vacated, Apartment.Vacated)
    assert (vacated.case_id, termination.reason) == ("c-1", "eviction")


def test_a_return_passes_on_its_reason(boende: Boende) -> None:
    submit(boende, "apartment_acquired", "apt-1", "2021-03-01")
    submit(
        boende,
        "apartment_returned",
        "apt-1",
        "2021-04-01",
        payload={"reason": "renovering"},
    )
    assert flat(boende, "apt-1").state.value == "returned"
    assert log(boende)[-1].reason == "renovering"


@pytest.mark.parametrize(
    ("event_type", "payload", "field", "value"),
    [
        ("application_withdrawn", {"reason": "flyttat"}, "reason", "flyttat"),
        (
            "application_rejected",
            {"decision_id": "d-7", "reason": "inget behov"},
            "decision_id",
            "d-7",
        ),
        ("grant_cancelled", {"reason": "deceased"}, "reason", "deceased"),
    ],
)
def test_the_simple_case_facts_pass_on_their_fields(
    boende: Boende, event_type: str, payload: dict[str, Any], field: str, value: str
) -> None:
    submit(boende, "application_filed", "c-1", "2021-03-02")
    if event_type == "grant_cancelled":
        submit(boende, "application_granted", "c-1", "2021-03-03")
    submit(boende, event_type, "c-1", "2021-03-04", payload=payload)
    assert getattr(log(boende)[-1], field) == value


def test_a_grant_passes_on_its_decision(boende: Boende) -> None:
    submit(boende, "application_filed", "c-1", "2021-03-02")
    submit(
        boende,
        "application_granted",
        "c-1",
        "2021-03-04",
        payload={"decision_id": "d-1", "intervention": "boendesocial_insats"},
    )
    event = log(boende)[-1]
    assert (event.decision_id, event.intervention, event.basis) == (
        "d-1",
        "boendesocial_insats",
        "assessment",
    )


def test_notes_are_sealed_under_the_persons_key(boende: Boende) -> None:
    submit(boende, "apartment_acquired", "apt-1", "2021-03-01")
    submit(boende, "application_filed", "c-1", "2021-03-02")
    submit(boende, "application_granted", "c-1", "2021-03-03")
    submit(
        boende,
        "delay_reason_recorded",
        "c-1",
        "2021-03-10",
        payload={
            "reason": "offer_declined",
            "offered_on": "2021-03-08",
            "note": "Tackade nej",
        },
    )
    submit(boende, "delay_reason_recorded", "c-1", "2021-03-11")
    submit(
        boende,
        "contract_executed",
        "c-1",
        "2021-03-12",
        payload={"apartment_id": "apt-1"},
    )
    submit(
        boende,
        "follow_up_recorded",
        "c-1",
        "2021-03-13",
        payload={"outcome": "on_track", "note": "Bra"},
    )
    events = log(boende)
    delay, bare_delay, follow_up = events[3], events[4], events[-1]
    assert (delay.reason, delay.offered_on) == ("offer_declined", date(2021, 3, 8))
    assert (bare_delay.reason, bare_delay.note, bare_delay.offered_on) == (
        "no_apartment_available",
        None,
        None,
    )
    keys = person_keys_of(boende.app)
    assert "Tackade" not in json.dumps(delay.note)
    assert delay.note["key_id"] == keys.key_id_of(EXAMPLE_PERSONNUMMER)
    assert keys.decrypt_note(delay.note, "c-1") == "Tackade nej"
    assert follow_up.outcome == "on_track"
    assert keys.decrypt_note(follow_up.note, "c-1") == "Bra"


def test_a_refused_note_fact_seals_nothing(boende: Boende) -> None:
    """The rules come first: a refused fact makes no key and seals nothing."""
    legacy = Stamp("legacy", "IFN", "u", date(2015, 1, 5), TODAY)
    applicant = {"personnummer": EXAMPLE_PERSONNUMMER, "name": "Gammal"}
    old = HousingCase.file(legacy, "c-old", applicant, {"adults": 1}, "man", 1960)
    boende.app.save(old)
    submit(boende, "application_granted", "c-old", "2021-03-05")
    offered_early = {
        "reason": "offer_declined",
        "offered_on": "2021-03-04",
        "note": "x",
    }
    refused = refusal(
        boende, "delay_reason_recorded", "c-old", "2021-03-10", payload=offered_early
    )
    assert isinstance(refused, OfferDateInvalid)
    early = refusal(
        boende, "delay_reason_recorded", "c-old", "2021-03-04", payload={"note": "x"}
    )
    assert early.message == (
        "occurred_on 2021-03-04 is before the case's previous fact (2021-03-05)"
    )
    wrong_state = refusal(
        boende, "follow_up_recorded", "c-old", "2021-03-10", payload={"note": "x"}
    )
    assert isinstance(wrong_state, TransitionNotAllowed)
    assert person_keys_of(boende.app).table.key_ids() == set()
    submit(
        boende,
        "delay_reason_recorded",
        "c-old",
        "2021-03-10",
        payload={"reason": "offer_declined", "offered_on": "2021-03-06"},
    )
    assert log(boende)[-1].offered_on == date(2021, 3, 6)


def test_a_note_for_an_applicant_in_clear_gets_the_persons_key(
    boende: Boende,
) -> None:
    legacy = Stamp("legacy", "IFN", "u", date(2015, 1, 5), TODAY)
    applicant = {"personnummer": EXAMPLE_PERSONNUMMER, "name": "Gammal"}
    old = HousingCase.file(legacy, "c-old", applicant, {"adults": 1}, "man", 1960)
    boende.app.save(old)
    submit(boende, "application_granted", "c-old", "2021-03-05")
    submit(
        boende, "delay_reason_recorded", "c-old", "2021-03-11", payload={"note": "Hej"}
    )
    keys = person_keys_of(boende.app)
    note = log(boende)[-1].note
    assert note["key_id"] == keys.key_id_of(EXAMPLE_PERSONNUMMER)
    assert keys.decrypt_note(note, "c-old") == "Hej"


def test_no_note_once_the_person_is_erased(boende: Boende) -> None:
    submit(boende, "application_filed", "c-1", "2021-03-02")
    submit(boende, "application_granted", "c-1", "2021-03-03")
    rights.erase(boende, EXAMPLE_PERSONNUMMER, "dataskydd")
    refused = refusal(
        boende, "delay_reason_recorded", "c-1", "2026-11-30", payload={"note": "x"}
    )
    assert isinstance(refused, InvalidSubmission)
    assert refused.message == (
        "payload.note cannot be recorded: the person's personal data has been "
        "erased; send the fact without a note"
    )
    assert refused.details == {
        "details": [
            {
                "loc": "payload.note",
                "problem": "the person's data has been erased: no note can be kept",
            }
        ]
    }
    submit(boende, "delay_reason_recorded", "c-1", "2026-11-30")  # without: fine


def test_who_may_submit_is_checked_first(boende: Boende) -> None:
    refused = refusal(
        boende,
        "application_filed",
        "c-1",
        "2021-03-02",
        actor={"committee": "ALN", "user": "u"},
    )
    assert isinstance(refused, Forbidden)


def test_one_batch_sees_its_own_new_aggregates(boende: Boende) -> None:
    batch = [
        sub("apartment_acquired", "apt-1", "2021-03-01"),
        sub("application_filed", "c-1", "2021-03-02"),
        sub("application_granted", "c-1", "2021-03-03"),
        sub(
            "contract_executed",
            "c-1",
            "2021-03-04",
            payload={"apartment_id": "apt-1"},
        ),
    ]
    outcomes = boende.service.record_batch(batch)
    assert all(isinstance(o, Accepted) for o in outcomes)
    assert [type(e).__name__ for e in log(boende)] == [
        "Acquired",
        "Filed",
        "Granted",
        "Occupied",
        "ContractExecuted",
    ]


def test_a_batch_looks_up_its_applicants_keys_once(
    boende: Boende, monkeypatch: pytest.MonkeyPatch
) -> None:
    keys = person_keys_of(boende.app)
    asked: list[list[str]] = []
    made: list[Any] = []
    real = keys.batch

    def batch(numbers: Any) -> Any:
        asked.append(list(numbers))
        made.append(real(numbers))
        return made[-1]

    monkeypatch.setattr(keys, "batch", batch)
    other = "19720912-3848"
    subs = [
        sub(
            "application_filed",
            "c-3",
            "2021-03-02",
            payload={"applicant": {"personnummer": "19850317-1235"}},
        ),
        sub("application_filed", "c-1", "2021-03-02"),
        sub(
            "application_filed",
            "c-2",
            "2021-03-02",
            payload={"applicant": {"personnummer": "720912-3848"}},
        ),
        sub("apartment_acquired", "apt-1", "2021-03-01"),
    ]
    work = commands.open_workspace(boende.app, subs, TODAY)
    assert asked == [[EXAMPLE_PERSONNUMMER, other]]  # the invalid one skipped
    assert work.keys is made[0]  # the batch's own, not one made later
    asked.clear()
    empty = commands.open_workspace(boende.app, subs[3:], TODAY)
    assert asked == []
    empty.store_new_keys()  # no filing: nothing to store, no look-up
    assert asked == []
    assert empty.keys is not None  # made when first needed
    assert asked == [[]]


def executed_in_clear(boende: Boende) -> None:
    """c-old, filed before encryption (its applicant in clear), moved in."""
    legacy = Stamp("legacy", "IFN", "u", date(2015, 1, 5), TODAY)
    applicant = {"personnummer": EXAMPLE_PERSONNUMMER, "name": "Gammal"}
    old = HousingCase.file(legacy, "c-old", applicant, {"adults": 1}, "man", 1960)
    boende.app.save(old)
    submit(boende, "apartment_acquired", "apt-1", "2021-03-01")
    submit(boende, "application_granted", "c-old", "2021-03-05")
    submit(
        boende,
        "contract_executed",
        "c-old",
        "2021-03-10",
        payload={"apartment_id": "apt-1"},
    )


def test_a_follow_up_before_the_cases_last_fact_seals_nothing(boende: Boende) -> None:
    executed_in_clear(boende)
    refused = refusal(
        boende, "follow_up_recorded", "c-old", "2021-03-09", payload={"note": "x"}
    )
    assert refused.message == (
        "occurred_on 2021-03-09 is before the case's previous fact (2021-03-10)"
    )
    assert person_keys_of(boende.app).table.key_ids() == set()
    submit(boende, "follow_up_recorded", "c-old", "2021-03-11", payload={"note": "Hej"})
    keys = person_keys_of(boende.app)
    assert keys.decrypt_note(log(boende)[-1].note, "c-old") == "Hej"


def test_an_offer_day_needs_a_declined_offer(boende: Boende) -> None:
    submit(boende, "application_filed", "c-1", "2021-03-02")
    submit(boende, "application_granted", "c-1", "2021-03-03")
    refused = refusal(
        boende,
        "delay_reason_recorded",
        "c-1",
        "2021-03-10",
        payload={"reason": "other", "offered_on": "2021-03-08"},
    )
    assert isinstance(refused, OfferDateInvalid)
    assert refused.message == "payload.offered_on only with reason offer_declined"
    assert refused.details == {
        "details": [
            {"loc": "payload.offered_on", "problem": "only with reason offer_declined"}
        ]
    }


def test_a_case_command_gets_the_case_its_payload_workspace_and_stamp(
    boende: Boende,
) -> None:
    """``_on_case`` wraps a command of a case: the handler it makes loads
    the case the submission names and hands it all over."""
    submit(boende, "application_filed", "c-1", "2021-03-02")
    given: list[tuple[Any, ...]] = []
    handler = commands._on_case(lambda *args: given.append(args))
    granted = sub("application_granted", "c-1", "2021-03-03")
    work = commands.open_workspace(boende.app, [granted], TODAY)
    stamp = Stamp("s", "IFN", "u", date(2021, 3, 3), TODAY)
    loaded = handler(granted, work, stamp)
    assert isinstance(loaded, HousingCase)
    assert loaded.case_id == "c-1"
    assert given == [(loaded, granted.payload, work, stamp)]
    with pytest.raises(NotFound):
        handler(sub("application_granted", "c-404", "2021-03-03"), work, stamp)
