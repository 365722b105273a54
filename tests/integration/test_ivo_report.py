"""IVO's individual report, end to end on SQLite and PostgreSQL.

Facts go in through the HTTP API; the read models are caught up explicitly.
The expected rows below were worked out by hand from the script in
``History``: the deadline is the decision day plus three calendar months, a
decision is new in the quarter of its first day past the deadline, reported
again each quarter while unexecuted, and reported once more (executed or
ended) in the quarter it is resolved; days waited run from the decision day
to the quarter's last day, or to the day it was resolved.

Anna (woman) has two decisions, A and A2; Bo (man) one, B, with a declined
offer; Ci (gender other) one, C, and her data is erased in the middle.
"""

from __future__ import annotations

import csv
import hashlib
import hmac
import io
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient

from domain.case import HousingCase, case_id_to_uuid
from domain.facts import Stamp
from domain.personnummer import luhn_check_digit
from infra.auth import mint_dev_token
from infra.keys import ivo_key
from infra.person_keys import person_keys_of
from infra.settings import Settings
from services.bootstrap import Boende, bootstrap
from services.http.app import create_app
from services.privacy import rights as gdpr
from services.reporting.tables import read_table
from tests.conftest import TODAY, Ids, envelope
from tests.integration.privacy.test_crypto_shredding import postgres_contents

PURPOSE = "ivo_rapportering"
ENDPOINT = "GET /v1/reports/ivo"
OFFICER = "handlaggare-17"


def valid_number(birth: str, serial: str) -> str:
    return f"{birth}-{serial}{luhn_check_digit(birth[2:] + serial)}"


ANNA = valid_number("19850317", "123")
BO = valid_number("19720912", "384")
CI = valid_number("19901224", "571")
NOTES = {
    "A-may": "Inga lediga lägenheter i Norrby just nu",
    "A-aug": "Tackade nej till 2 rok på Storgatan 5",
    "B-jun": "Avböjde visning, vill bo nära skolan",
    "C-apr": "Har inte svarat på brev eller telefon",
}


@pytest.fixture
def running(store_settings: Settings) -> Iterator[Boende]:
    boende = bootstrap(store_settings.model_copy(update={"auth": "jwt"}))
    yield boende
    boende.close()


class History:
    """The scripted cases, recorded over HTTP with an officer's token."""

    def __init__(self, boende: Boende) -> None:
        self.boende = boende
        self.client = TestClient(create_app(boende))
        self.ids = Ids()
        self.cases: dict[str, str] = {}

    def headers(self, *roles: str, sub: str = "ivo-rapportor-1") -> dict[str, str]:
        minted = mint_dev_token(self.boende.settings, sub, roles, timedelta(hours=1))
        return {"Authorization": f"Bearer {minted}"}

    def post(self, kind: str, key: str, day: str, **payload: Any) -> Any:
        body = envelope(kind, key, day, payload=payload)
        body["actor"]["user"] = OFFICER
        roles = ("ifn_officer", "aln_officer")
        return self.client.post(
            "/v1/submissions", json=body, headers=self.headers(*roles, sub=OFFICER)
        )

    def ok(self, kind: str, key: str, day: str, **payload: Any) -> None:
        response = self.post(kind, key, day, **payload)
        assert response.status_code == 201, response.text

    def file(self, label: str, number: str, day: str, gender: str) -> None:
        self.cases[label] = case_id = self.ids.next("c")
        applicant = {"personnummer": number, "name": f"Person {label}"}
        self.ok("application_filed", case_id, day, applicant=applicant, gender=gender)

    def grant(self, label: str, day: str) -> None:
        self.ok(
            "application_granted", self.cases[label], day, decision_id=f"IFN-{label}"
        )

    def delay(self, label: str, day: str, reason: str, **payload: Any) -> None:
        self.ok(
            "delay_reason_recorded", self.cases[label], day, reason=reason, **payload
        )

    def execute(self, label: str, day: str) -> None:
        flat = self.ids.next("apt")
        self.ok("apartment_acquired", flat, day)
        self.ok(
            "contract_executed", self.cases[label], day, apartment_id=flat,
            lease_starts_on=day,
        )  # fmt: skip

    def record(self) -> None:
        self.file("A", ANNA, "2025-03-01", "woman")
        self.grant("A", "2025-03-20")  # deadline 2025-06-20: new in 2025Q2
        self.delay("A", "2025-05-10", "no_apartment_available", note=NOTES["A-may"])
        self.file("C", CI, "2025-01-10", "other")
        self.grant("C", "2025-02-01")  # deadline 2025-05-01: new in 2025Q2
        self.delay("C", "2025-04-02", "client_unreachable", note=NOTES["C-apr"])
        self.file("B", BO, "2025-04-01", "man")
        self.grant("B", "2025-04-10")  # deadline 2025-07-10: new in 2025Q3
        self.delay(
            "B", "2025-06-15", "offer_declined", offered_on="2025-06-12",
            note=NOTES["B-jun"],
        )  # fmt: skip
        self.file("A2", ANNA, "2025-04-01", "woman")  # Anna's second decision
        self.grant("A2", "2025-04-15")  # deadline 2025-07-15: new in 2025Q3
        self.file("E", BO, "2025-05-01", "man")
        self.grant("E", "2025-05-05")
        self.execute("E", "2025-08-05")  # on its deadline: in time, never reported
        self.delay(
            "A", "2025-08-01", "offer_declined", offered_on="2025-07-25",
            note=NOTES["A-aug"],
        )  # fmt: skip
        self.execute("A", "2025-10-15")  # executed in 2025Q4
        self.ok(
            "grant_cancelled", self.cases["B"], "2025-11-03", reason="own_housing_found"
        )
        self.catch_up()

    def catch_up(self) -> None:
        for runner in self.boende.runners:
            runner.catch_up()

    def report(self, quarter: str, **params: Any) -> Any:
        headers = self.headers("ifn_officer") | {"X-Purpose": PURPOSE}
        response = self.client.get(
            "/v1/reports/ivo", params={"quarter": quarter, **params}, headers=headers
        )
        assert response.status_code == 200, response.text
        return response

    def rows(self, quarter: str) -> dict[str, dict[str, Any]]:
        labels = {case_id: label for label, case_id in self.cases.items()}
        body = self.report(quarter).json()
        return {labels[row["case_id"]]: row for row in body["rows"]}

    def access_log(self) -> list[dict[str, Any]]:
        response = self.client.get(
            "/v1/audit/access", headers=self.headers("auditor", sub="revisor-1")
        )
        assert response.status_code == 200, response.text
        return response.json()["entries"]  # type: ignore[no-any-return]


@pytest.fixture
def history(running: Boende) -> History:
    recorded = History(running)
    recorded.record()
    return recorded


#: quarter -> label -> (report kind, its day, days waited, delay reasons:
#: (day, reason, offered on))
EXPECTED: dict[str, dict[str, tuple[str, str | None, int, list[tuple[Any, ...]]]]] = {
    "2025Q1": {},
    "2025Q2": {
        "A": ("new", None, 102, [("2025-05-10", "no_apartment_available", None)]),
        "C": ("new", None, 149, [("2025-04-02", "client_unreachable", None)]),
    },
    "2025Q3": {
        "A": (
            "re_report", None, 194,
            [
                ("2025-05-10", "no_apartment_available", None),
                ("2025-08-01", "offer_declined", "2025-07-25"),
            ],
        ),
        "C": ("re_report", None, 241, [("2025-04-02", "client_unreachable", None)]),
        # The declined offer did not end B's decision: it is reported.
        "B": ("new", None, 173, [("2025-06-15", "offer_declined", "2025-06-12")]),
        "A2": ("new", None, 168, []),
    },
    "2025Q4": {
        "A": (
            "executed", "2025-10-15", 209,
            [
                ("2025-05-10", "no_apartment_available", None),
                ("2025-08-01", "offer_declined", "2025-07-25"),
            ],
        ),
        "C": ("re_report", None, 333, [("2025-04-02", "client_unreachable", None)]),
        "B": (
            "ended", "2025-11-03", 207,
            [("2025-06-15", "offer_declined", "2025-06-12")],
        ),
        "A2": ("re_report", None, 260, []),
    },
    "2026Q1": {
        "C": ("re_report", None, 423, [("2025-04-02", "client_unreachable", None)]),
        "A2": ("re_report", None, 350, []),
    },
}  # fmt: skip


def summary(row: dict[str, Any]) -> tuple[Any, ...]:
    reasons = [
        (r["occurred_on"], r["reason"], r["offered_on"]) for r in row["delay_reasons"]
    ]
    return (row["report_kind"], row["report_kind_on"], row["days_waited"], reasons)


def test_new_then_re_reported_then_executed_or_ended(history: History) -> None:
    for quarter, expected in EXPECTED.items():
        rows = history.rows(quarter)
        assert {label: summary(row) for label, row in rows.items()} == expected, quarter
    b = history.rows("2025Q4")["B"]
    assert (b["end_reason"], b["decision_id"], b["decided_on"]) == (
        "own_housing_found", "IFN-B", "2025-04-10",
    )  # fmt: skip
    assert history.rows("2025Q3")["A"]["intervention"] == "socialt_kontrakt"


def expected_digits(boende: Boende, number: str, gender: str) -> str:
    """The documented rule, worked independently: HMAC-SHA-256 under the IVO
    key of the person's data key id; a woman 2*(n mod 500), a man one more."""
    key = ivo_key(boende.settings.data_dir)
    key_id = person_keys_of(boende.app).key_id_of(number)
    assert key_id is not None
    digest = hmac.new(key, f"key:{key_id}".encode(), hashlib.sha256).hexdigest()
    n = int(digest[:16], 16)
    if gender == "other":
        return f"{n % 1000:03d}"
    return f"{(n % 500) * 2 + (gender == 'man'):03d}"


def test_the_ivo_id_is_stable_for_a_person_with_the_right_parity(
    history: History,
) -> None:
    boende = history.boende
    anna_digits = expected_digits(boende, ANNA, "woman")
    bo_digits = expected_digits(boende, BO, "man")
    assert int(anna_digits) % 2 == 0 and int(bo_digits) % 2 == 1
    seen: dict[str, set[str]] = {}
    for quarter in EXPECTED:
        for label, row in history.rows(quarter).items():
            seen.setdefault(label.rstrip("2"), set()).add(row["ivo_id"])
    # The same id in every quarter, and for both of Anna's decisions.
    assert seen["A"] == {f"19850317-T{anna_digits}"}
    assert seen["B"] == {f"19720912-T{bo_digits}"}
    row = history.rows("2025Q3")["C"]
    assert row["ivo_id"] == f"19901224-T{expected_digits(boende, CI, 'other')}"
    assert row["gender_coded"] is False
    assert history.rows("2025Q3")["A"]["gender_coded"] is True
    assert history.rows("2025Q3")["A"]["birth_date"] == "1985-03-17"


def test_notes_are_decrypted_for_the_report(history: History) -> None:
    q3 = history.rows("2025Q3")
    assert [r["note"] for r in q3["A"]["delay_reasons"]] == [
        NOTES["A-may"], NOTES["A-aug"],
    ]  # fmt: skip
    assert [r["note"] for r in q3["B"]["delay_reasons"]] == [NOTES["B-jun"]]


def test_an_erased_person_keeps_the_row_without_birth_date_or_notes(
    history: History,
) -> None:
    before = history.rows("2025Q3")["C"]
    assert before["personal_data"] == "readable"
    gdpr.erase(history.boende, CI, "dataskydd-1")
    history.catch_up()
    after = history.rows("2025Q3")["C"]
    assert after["personal_data"] == "erased"
    assert (after["ivo_id"], after["birth_date"]) == (None, None)
    assert after["ivo_digits"] == before["ivo_digits"]
    assert [r["note"] for r in after["delay_reasons"]] == [None]
    unchanged = ("decision_id", "decided_on", "report_kind", "days_waited", "case_id")
    assert {k: after[k] for k in unchanged} == {k: before[k] for k in unchanged}
    assert summary(history.rows("2025Q4")["C"]) == EXPECTED["2025Q4"]["C"]
    # The others are untouched.
    assert history.rows("2025Q3")["A"]["personal_data"] == "readable"


def raw_store(boende: Boende) -> bytes:
    settings = boende.settings
    if settings.database_url is None:
        files = sorted(p for p in settings.data_dir.rglob("*") if p.is_file())
        return b"\n".join(p.read_bytes() for p in files)
    return postgres_contents(settings.database_url)


def test_notes_are_sealed_in_the_store_and_gone_after_erasure(
    history: History,
) -> None:
    raw = raw_store(history.boende)
    assert history.cases["A"].encode() in raw  # the scan does see the store
    for note in NOTES.values():
        assert note.encode() not in raw
        assert note.encode("utf-16-le") not in raw
    case: Any = history.boende.app.repository.get(case_id_to_uuid(history.cases["C"]))
    [sealed] = [r["note"] for r in case.delay_reasons]
    assert set(sealed) == {"v", "alg", "key_id", "nonce", "ciphertext"}
    keys = person_keys_of(history.boende.app)
    assert keys.decrypt_note(sealed, history.cases["C"]) == NOTES["C-apr"]
    gdpr.erase(history.boende, CI, "dataskydd-1")
    assert keys.decrypt_note(sealed, history.cases["C"]) is None


def test_every_reading_is_in_the_access_log_with_its_purpose(
    history: History,
) -> None:
    history.report("2025Q3")
    entries = history.access_log()
    assert sorted(e["case_id"] for e in entries) == sorted(
        history.cases[label] for label in ("A", "A2", "B", "C")
    )
    assert {(e["endpoint"], e["purpose"], e["sub"]) for e in entries} == {
        (ENDPOINT, PURPOSE, "ivo-rapportor-1")
    }
    history.report("2025Q3", format="csv")
    assert len(history.access_log()) == 8  # a CSV is a reading too
    history.report("2025Q1")  # no decisions: nobody's data read
    assert len(history.access_log()) == 8


def test_without_a_purpose_or_as_oversight_nothing_is_read(history: History) -> None:
    officer = history.headers("ifn_officer")
    no_purpose = history.client.get(
        "/v1/reports/ivo", params={"quarter": "2025Q3"}, headers=officer
    )
    assert no_purpose.status_code == 422
    assert no_purpose.json()["error"] == "purpose_required"
    oversight = history.headers("oversight") | {"X-Purpose": PURPOSE}
    refused = history.client.get(
        "/v1/reports/ivo", params={"quarter": "2025Q3"}, headers=oversight
    )
    assert refused.status_code == 403
    assert refused.json()["error"] == "forbidden"
    # Anna's personnummer or birth date in no form (not "1985" alone: a
    # request's random hex id may hold those digits).
    for text in (refused.text, no_purpose.text):
        for leak in ("19850317", "850317", "1985-03-17", "Person A"):
            assert leak not in text
    future = history.client.get(
        "/v1/reports/ivo",
        params={"quarter": f"{TODAY.year + 1}Q1"},
        headers=officer | {"X-Purpose": PURPOSE},
    )
    assert future.status_code == 422
    assert history.access_log() == []


def test_the_csv_round_trips_with_swedish_headers(history: History) -> None:
    rows = history.rows("2025Q3")
    data = history.report("2025Q3", format="csv").content
    assert data.startswith(b"\xef\xbb\xbf")
    text = data.decode("utf-8-sig")
    lines = [
        line for line in text.splitlines(keepends=True) if not line.startswith("#")
    ]
    header, *_ = list(csv.reader(io.StringIO("".join(lines)), delimiter=";"))
    assert "Beslutsdatum" in header and "IVO-id" in header
    table = read_table(data, "sv")
    assert table.headers == header and len(table.rows) == len(rows)
    by_case = {r[header.index("Ärende-id")]: r for r in table.rows}
    for row in rows.values():
        line = by_case[row["case_id"]]
        assert line[header.index("IVO-id")] == row["ivo_id"]
        assert line[header.index("Beslutsdatum")] == row["decided_on"]
        assert line[header.index("Väntetid (dagar)")] == str(row["days_waited"])
        notes = line[header.index("Anteckningar")]
        for reason in row["delay_reasons"]:
            assert f"{reason['occurred_on']}: {reason['note']}" in notes
    b_reasons = by_case[history.cases["B"]][header.index("Orsaker till dröjsmål")]
    assert b_reasons == "2025-06-15 Erbjudande avböjt (erbjudet 2025-06-12)"
    assert table.provenance["report"] == "IVO:s individrapport"
    assert table.provenance["quarter"] == "2025Q3"
    english = history.report("2025Q3", format="csv", lang="en")
    assert english.headers["Cache-Control"] == "no-store"
    en = read_table(english.content, "en")
    assert en.headers[0] == "ivo_id" and "report_kind" in en.headers
    kinds = {r[en.headers.index("report_kind")] for r in en.rows}
    assert kinds == {"new", "re_report"}


# -- offers and notes as facts ---------------------------------------------------


def test_an_offer_date_only_with_a_declined_offer_inside_the_decision(
    history: History,
) -> None:
    case_id = history.cases["A2"]
    cases = [
        ("no_apartment_available", "2025-06-01", "2025-06-02"),  # not an offer
        ("offer_declined", "2025-04-14", "2025-06-02"),  # before the decision
        ("offer_declined", "2025-06-03", "2025-06-02"),  # after the decline
    ]
    for reason, offered_on, day in cases:
        response = history.post(
            "delay_reason_recorded", case_id, day, reason=reason, offered_on=offered_on
        )
        assert response.status_code == 422, response.text
        [detail] = response.json()["details"]
        assert detail["loc"] == "payload.offered_on"
    declined_without_day = history.post(
        "delay_reason_recorded", case_id, "2025-06-02", reason="offer_declined"
    )
    assert declined_without_day.status_code == 201


def test_a_note_for_an_erased_person_is_refused_the_fact_without_it_kept(
    history: History,
) -> None:
    gdpr.erase(history.boende, CI, "dataskydd-1")
    case_id = history.cases["C"]
    day = (TODAY - timedelta(days=1)).isoformat()
    refused = history.post(
        "delay_reason_recorded", case_id, day, reason="other", note="ny anteckning"
    )
    assert refused.status_code == 422
    assert refused.json()["details"][0]["loc"] == "payload.note"
    assert "ny anteckning" not in refused.text
    history.ok("delay_reason_recorded", case_id, day, reason="other")


def test_a_note_recorded_in_clear_before_sealing_is_still_read(
    history: History,
) -> None:
    """Recorded as the domain did before notes were sealed: plain text."""
    app = history.boende.app
    case: HousingCase = app.repository.get(case_id_to_uuid(history.cases["A2"]))
    stamp = Stamp(Ids().next("s"), "IFN", "ifn-1", date(2025, 9, 1), TODAY)
    case.record_delay_reason(stamp, "other", "gammal anteckning i klartext")
    app.save(case)
    history.catch_up()
    [reason] = history.rows("2025Q3")["A2"]["delay_reasons"]
    assert (reason["occurred_on"], reason["note"]) == (
        "2025-09-01", "gammal anteckning i klartext",
    )  # fmt: skip


def test_the_case_view_shows_notes_only_with_a_purpose_and_logs_it(
    history: History,
) -> None:
    url = f"/v1/cases/{history.cases['A']}"
    officer = history.headers("ifn_officer")
    plain = history.client.get(url, headers=officer).json()
    assert plain["delay_reasons"] == [
        {"reason": "no_apartment_available", "occurred_on": "2025-05-10",
         "has_note": True, "offered_on": None},
        {"reason": "offer_declined", "occurred_on": "2025-08-01",
         "has_note": True, "offered_on": "2025-07-25"},
    ]  # fmt: skip
    assert NOTES["A-may"] not in str(plain) and history.access_log() == []
    with_purpose = history.client.get(
        url, headers=officer | {"X-Purpose": "rättelse".encode()}
    )
    assert with_purpose.status_code == 200, with_purpose.text
    body = with_purpose.json()
    assert [r["note"] for r in body["delay_reasons"]] == [
        NOTES["A-may"], NOTES["A-aug"],
    ]  # fmt: skip
    [entry] = history.access_log()
    assert entry["id"] == body["notes_access_id"]
    assert (entry["endpoint"], entry["case_id"]) == (
        "GET /v1/cases/{case_id}", history.cases["A"],
    )  # fmt: skip


def test_a_note_on_a_case_filed_in_clear_is_sealed_under_a_key_of_its_own(
    history: History,
) -> None:
    """A case filed before encryption holds its applicant in clear; a note on
    it is sealed under a key made for that person, which erasure deletes."""
    app = history.boende.app
    number = valid_number("19600229", "482")  # a leap day
    case_id = history.ids.next("old")
    stamp = Stamp(Ids().next("s"), "IFN", OFFICER, date(2025, 1, 2), TODAY)
    case = HousingCase.file(
        stamp, case_id, {"personnummer": number, "name": "Gammal Person"},
        {"adults": 1, "children": 0}, "man", 1960,
    )  # fmt: skip
    grant = Stamp(Ids().next("s"), "IFN", OFFICER, date(2025, 2, 3), TODAY)
    case.grant(grant, "IFN-old", "socialt_kontrakt", "assessment")
    app.save(case)
    keys = person_keys_of(app)
    assert keys.key_id_of(number) is None
    history.ok(
        "delay_reason_recorded", case_id, "2025-06-01", reason="other",
        note="anteckning om ett gammalt ärende",
    )  # fmt: skip
    assert keys.key_id_of(number) is not None
    assert b"gammalt \xc3\xa4rende" not in raw_store(history.boende)
    history.catch_up()
    labels = {case_id: "old"}
    body = history.report("2025Q2").json()
    [row] = [r for r in body["rows"] if r["case_id"] in labels]
    assert row["ivo_id"].startswith("19600229-T") and int(row["ivo_digits"]) % 2
    assert [r["note"] for r in row["delay_reasons"]] == [
        "anteckning om ett gammalt ärende"
    ]
    # No filing was sealed under the key, yet it is no orphan: a purge days
    # later (past the orphan grace) keeps it, the case being within retention.
    later = datetime.now(UTC) + timedelta(days=3)
    purged = gdpr.purge(history.boende, None, "gallring-1", now=later)
    assert purged.orphan_keys_deleted == 0 and keys.key_id_of(number) is not None
    erased = gdpr.erase(history.boende, number, "dataskydd-1")
    assert erased.cases == [case_id]  # the erasure is recorded on the case
    body = history.report("2025Q2").json()
    [row] = [r for r in body["rows"] if r["case_id"] in labels]
    # The number is in clear in the log and cannot be shredded; the note can.
    assert row["birth_date"] == "1960-02-29"
    assert [r["note"] for r in row["delay_reasons"]] == [None]
