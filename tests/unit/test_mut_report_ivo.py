"""IVO's individual report as the route answers it
(``services.http.reports.ivo``), its functions called directly: a row per
decision with the person as IVO names them (read from a small SQLite store:
the three digits even for a woman, odd for a man, the same for a person in
each of their cases and each reading), the CSV table in Swedish and English,
an access-log entry per case before anything is read, and the refusals when
the log or the store fails."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from eventsourcing.persistence import PersistenceError

from domain.personnummer import luhn_check_digit
from infra.settings import Settings
from projections.ivo import DelayReason, IvoDecision
from services.bootstrap import Boende, bootstrap
from services.errors import StoreUnavailable
from services.http.access import Purpose
from services.http.reports import ivo
from services.http.reports.ivo import ivo_row, ivo_table
from services.privacy import rights
from services.privacy.ivo import IvoCase, IvoPerson
from services.submission.service import parse
from tests.conftest import envelope

TODAY = date(2026, 11, 30)


def number(birth: str, serial: str) -> str:
    return f"{birth}-{serial}{luhn_check_digit(birth[2:] + serial)}"


ANNA, BO, KIM = (
    number("19850317", "123"),
    number("19720912", "384"),
    number("19901224", "571"),
)
NOTE = "Tackade nej till Storgatan 3"


def decision(case_id: str, **changes: Any) -> IvoDecision:
    fields: dict[str, Any] = {
        "case_id": case_id,
        "decision_id": "IFN-2021-311",
        "decided_on": "2021-03-31",
        "deadline": "2021-06-30",
        "intervention": "socialt_kontrakt",
        "gender": "woman",
        "kind": "re_report",
        "kind_on": None,
        "end_reason": None,
        "days_waited": 275,
        "delay_reasons": [
            DelayReason("no_apartment_available", "2021-05-10", None, 3),
            DelayReason("offer_declined", "2021-08-02", "2021-07-20", 4),
        ],
    }
    return IvoDecision(**(fields | changes))


PERSON = IvoPerson(date(1985, 3, 17), "482", True, "readable")


def test_a_row_of_the_report() -> None:
    row = ivo_row(decision("c-1"), IvoCase(PERSON, {4: NOTE}))
    assert row == {
        "ivo_id": "19850317-T482",
        "birth_date": "1985-03-17",
        "ivo_digits": "482",
        "gender_coded": True,
        "personal_data": "readable",
        "decision_id": "IFN-2021-311",
        "decided_on": "2021-03-31",
        "deadline": "2021-06-30",
        "intervention": "socialt_kontrakt",
        "gender": "woman",
        "report_kind": "re_report",
        "report_kind_on": None,
        "end_reason": None,
        "days_waited": 275,
        "delay_reasons": [
            {
                "reason": "no_apartment_available",
                "occurred_on": "2021-05-10",
                "offered_on": None,
                "note": None,
            },
            {
                "reason": "offer_declined",
                "occurred_on": "2021-08-02",
                "offered_on": "2021-07-20",
                "note": NOTE,
            },
        ],
        "case_id": "c-1",
    }
    assert list(row) == [
        "ivo_id", "birth_date", "ivo_digits", "gender_coded", "personal_data",
        "decision_id", "decided_on", "deadline", "intervention", "gender",
        "report_kind", "report_kind_on", "end_reason", "days_waited",
        "delay_reasons", "case_id",
    ]  # fmt: skip


def test_a_row_of_an_erased_person_that_ended() -> None:
    erased = IvoCase(IvoPerson(None, "483", True, "erased"))
    ended = decision(
        "c-2",
        gender="man",
        kind="ended",
        kind_on="2021-10-01",
        end_reason="own_housing_found",
        days_waited=228,
        delay_reasons=[],
    )
    row = ivo_row(ended, erased)
    assert (row["ivo_id"], row["birth_date"], row["ivo_digits"]) == (None, None, "483")
    assert (row["personal_data"], row["report_kind"], row["report_kind_on"]) == (
        "erased",
        "ended",
        "2021-10-01",
    )
    assert (row["end_reason"], row["days_waited"], row["delay_reasons"]) == (
        "own_housing_found",
        228,
        [],
    )


def rows() -> list[dict[str, Any]]:
    return [
        ivo_row(decision("c-1"), IvoCase(PERSON, {4: NOTE})),
        ivo_row(
            decision("c-2", delay_reasons=[], kind="executed", kind_on="2021-08-15"),
            IvoCase(IvoPerson(None, "007", False, "erased")),
        ),
    ]


def test_the_table_in_swedish() -> None:
    table = ivo_table(rows(), "sv")
    assert [column.name for column in table.columns] == [
        "ivo_id", "birth_date", "ivo_digits", "gender", "gender_coded",
        "personal_data", "decision_id", "decided_on", "deadline",
        "intervention", "report_kind", "report_kind_on", "end_reason",
        "days_waited", "delay_reasons", "notes", "case_id",
    ]  # fmt: skip
    first, second = table.rows
    assert first[14] == (
        "2021-05-10 Ingen lägenhet tillgänglig\n"
        "2021-08-02 Erbjudande avböjt (erbjudet 2021-07-20)"
    )
    assert first[15] == f"2021-08-02: {NOTE}"
    assert first[:3] == ("19850317-T482", "1985-03-17", "482")
    assert (first[10], first[16]) == ("re_report", "c-1")
    assert (second[14], second[15]) == (None, None)
    assert (second[0], second[2], second[4]) == (None, "007", False)


def test_the_table_in_english() -> None:
    table = ivo_table(rows(), "en")
    first = table.rows[0]
    assert first[14] == (
        "2021-05-10 no_apartment_available\n"
        "2021-08-02 offer_declined (offered 2021-07-20)"
    )
    assert first[15] == f"2021-08-02: {NOTE}"


def test_a_reason_without_an_offer_day_and_a_note_on_each() -> None:
    row = ivo_row(
        decision("c-1", delay_reasons=[DelayReason("other", "2021-05-10", None, 3)]),
        IvoCase(PERSON, {3: "Sjuk"}),
    )
    (line,) = ivo_table([row], "sv").rows
    assert (line[14], line[15]) == ("2021-05-10 Annan orsak", "2021-05-10: Sjuk")


# -- the access log and the store --------------------------------------------


def test_one_access_log_entry_per_case_in_order(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    logged: list[tuple[Any, ...]] = []

    def log_read(request: Any, sub: str, case_id: str, purpose: Purpose) -> Any:
        logged.append((request, sub, case_id, purpose))
        return SimpleNamespace(id=100 + len(logged))

    monkeypatch.setattr(ivo, "log_read", log_read)
    request, purpose = object(), Purpose("tillsyn", "kvartalsrapport")
    decisions = [decision("c-1"), decision("c-2")]
    assert ivo._log_reads(request, "officer-1", decisions, purpose) == [101, 102]  # type: ignore[arg-type]
    assert logged == [
        (request, "officer-1", "c-1", purpose),
        (request, "officer-1", "c-2", purpose),
    ]
    assert ivo._log_reads(request, "officer-1", [], purpose) == []  # type: ignore[arg-type]


def test_an_access_log_that_fails_reads_nothing(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def log_read(*args: Any) -> Any:
        raise PersistenceError("down")

    monkeypatch.setattr(ivo, "log_read", log_read)
    with pytest.raises(StoreUnavailable) as refused:
        ivo._log_reads(object(), "o", [decision("c-1")], Purpose("tillsyn"))  # type: ignore[arg-type]
    assert refused.value.message == (
        "the access log is unreachable, so nothing was read; retry later"
    )
    assert refused.value.__suppress_context__  # raised "from None"


@pytest.fixture
def boende(tmp_path: Path) -> Iterator[Boende]:
    running = bootstrap(Settings(data_dir=tmp_path / "var", today=TODAY))
    yield running
    running.close()


def post(boende: Boende, event_type: str, key: str, day: str, **payload: Any) -> None:
    body = envelope(event_type, key, day, payload=payload)
    boende.service.submit(parse(json.dumps(body).encode(), 1 << 20))


def granted(boende: Boende, case_id: str, personnummer: str, gender: str) -> None:
    applicant = {"personnummer": personnummer, "name": f"Namn {case_id}"}
    post(boende, "application_filed", case_id, "2021-03-01", applicant=applicant,
         gender=gender)  # fmt: skip
    post(boende, "application_granted", case_id, "2021-03-31")


def test_the_person_of_each_case_as_ivo_names_them(boende: Boende) -> None:
    granted(boende, "c-a1", ANNA, "woman")
    granted(boende, "c-b1", BO, "man")
    granted(boende, "c-a2", ANNA, "woman")
    granted(boende, "c-k1", KIM, "other")
    post(boende, "delay_reason_recorded", "c-a1", "2021-05-10",
         reason="no_apartment_available")  # fmt: skip
    post(boende, "delay_reason_recorded", "c-a1", "2021-08-02",
         reason="offer_declined", offered_on="2021-07-20", note=NOTE)  # fmt: skip
    asked = [decision(c) for c in ("c-b1", "c-a1", "c-k1", "c-a2")]
    cases = ivo._read_cases(boende, asked)
    assert list(cases) == ["c-b1", "c-a1", "c-k1", "c-a2"]
    anna, bo, kim = cases["c-a1"].person, cases["c-b1"].person, cases["c-k1"].person
    assert cases["c-a2"].person == anna  # the same person, the same digits
    assert ivo._read_cases(boende, asked) == cases  # and on every reading
    assert len(anna.digits) == len(bo.digits) == len(kim.digits) == 3
    assert int(anna.digits) % 2 == 0 and int(bo.digits) % 2 == 1
    assert (anna.birth_date, anna.ivo_id) == (
        date(1985, 3, 17),
        f"19850317-T{anna.digits}",
    )
    assert bo.ivo_id == f"19720912-T{bo.digits}"
    assert (anna.gender_coded, bo.gender_coded, kim.gender_coded) == (True, True, False)
    assert {anna.personal_data, bo.personal_data, kim.personal_data} == {"readable"}
    assert cases["c-a1"].notes == {4: NOTE}
    assert cases["c-b1"].notes == {}
    row = ivo_row(decision("c-a1"), cases["c-a1"])
    assert row["delay_reasons"][1]["note"] == NOTE
    assert row["ivo_id"] == f"19850317-T{anna.digits}"


def test_an_erased_person_keeps_their_digits(boende: Boende) -> None:
    """After Anna's key is erased on her request: the same three digits, no
    birth date and so no IVO id, her note gone; Bo is untouched."""
    granted(boende, "c-a1", ANNA, "woman")
    granted(boende, "c-b1", BO, "man")
    post(boende, "delay_reason_recorded", "c-a1", "2021-08-02",
         reason="offer_declined", offered_on="2021-07-20", note=NOTE)  # fmt: skip
    asked = [decision("c-a1"), decision("c-b1")]
    before = ivo._read_cases(boende, asked)
    rights.erase(boende, ANNA, "dataskydd-7")
    after = ivo._read_cases(boende, asked)
    anna = after["c-a1"].person
    assert anna == IvoPerson(None, before["c-a1"].person.digits, True, "erased")
    assert after["c-a1"].notes == {3: None}
    assert after["c-b1"] == before["c-b1"]
    row = ivo_row(decision("c-a1"), after["c-a1"])
    assert (row["ivo_id"], row["birth_date"], row["personal_data"]) == (
        None,
        None,
        "erased",
    )
    assert row["ivo_digits"] == anna.digits
    assert [reason["note"] for reason in row["delay_reasons"]] == [None, None]


def test_a_case_the_store_does_not_hold(boende: Boende) -> None:
    granted(boende, "c-a1", ANNA, "woman")
    with pytest.raises(StoreUnavailable) as refused:
        ivo._read_cases(boende, [decision("c-a1"), decision("c-elsewhere")])
    assert refused.value.message == (
        "the three-month read model and the event store disagree; "
        "rebuild the read model (boende projections rebuild unexecuted)"
    )
    assert refused.value.__suppress_context__  # raised "from None"
    assert ivo._read_cases(boende, []) == {}


def test_a_store_that_fails(monkeypatch: pytest.MonkeyPatch) -> None:
    class Unreachable:
        def __init__(self, boende: Any) -> None:
            self.boende = boende

        def read(self, case_id: str) -> IvoCase:
            raise PersistenceError("down")

    monkeypatch.setattr(ivo, "IvoReader", Unreachable)
    with pytest.raises(StoreUnavailable) as refused:
        ivo._read_cases(object(), [decision("c-1")])
    assert refused.value.message == "the event store is unreachable; retry later"
