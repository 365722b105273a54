"""Crypto-shredding end to end, on SQLite and PostgreSQL.

Cases of five people go in through the HTTP API. Then the raw bytes of the
store are searched for each personnummer (twelve digits with and without the
dash, ten digits with and without) and each name: on SQLite every file under
the data dir (the ``-wal`` files included), on PostgreSQL every row of every
table (``bytea`` columns decoded). Nothing is found, neither before an
erasure (everything is sealed) nor after (the keys are gone too). Officers
can read an applicant until their key is erased; afterwards the case still
loads, its facts and every count and report are as before, and the erasure
is a fact of its own in the audit trail.
"""

from __future__ import annotations

import json
import stat
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import psycopg
import pytest
from fastapi.testclient import TestClient

from domain.case import HousingCase, case_id_to_uuid
from domain.facts import Stamp
from domain.personnummer import luhn_check_digit
from infra import crypto
from infra.person_keys import (
    DevelopmentKeyRefused,
    KeyBatch,
    PersonKeyError,
    PersonKeys,
    load_or_create_key,
    person_keys_of,
    read_key_file,
)
from infra.settings import Settings
from services.bootstrap import Boende, bootstrap
from services.cli import main as cli
from services.http.app import create_app
from services.privacy import rights as gdpr
from services.submission.envelope import Envelope
from services.submission.examples import EXAMPLE_PERSONNUMMER
from services.submission.service import Accepted, parse
from tests.conftest import Ids, envelope

OFFICER = "dataskydd-7"


def valid_number(birth: str, serial: str) -> str:
    """``YYYYMMDD-NNNC`` with the Luhn digit C that makes it valid."""
    return f"{birth}-{serial}{luhn_check_digit(birth[2:] + serial)}"


@dataclass(frozen=True)
class Person:
    personnummer: str  # canonical, YYYYMMDD-NNNN
    name: str | None

    def needles(self) -> list[bytes]:
        """Every form the number or name could be stored in."""
        long = self.personnummer
        forms = [long, long.replace("-", ""), long[2:], long[2:].replace("-", "")]
        return [f.encode() for f in [*forms, *([self.name] if self.name else [])]]


ANNA = Person(EXAMPLE_PERSONNUMMER, "Quentin Quokkasson")
BERIT = Person(valid_number("19720912", "384"), "Beatrix Bandicootsdottir")
CARL = Person(valid_number("19901224", "571"), "Cornelius Capybarasson")
DORA = Person(valid_number("20010630", "012"), None)  # no name given
ERIK = Person(valid_number("19790371", "238"), "Ebbe Echidnasson")  # samordningsnr
PEOPLE = [ANNA, BERIT, CARL, DORA, ERIK]


class Store:
    """The cases of ``PEOPLE``, recorded over HTTP, and the store's raw bytes."""

    def __init__(self, boende: Boende, client: TestClient, ids: Ids) -> None:
        self.boende, self.client, self.ids = boende, client, ids
        self.cases: dict[str, str] = {}  # label -> case id
        self.person_of: dict[str, Person] = {}  # case id -> person

    def post(self, event_type: str, key: str, day: str, **payload: Any) -> None:
        body = envelope(event_type, key, day, payload=payload)
        response = self.client.post("/v1/submissions", json=body)
        assert response.status_code == 201, response.text

    def file(self, label: str, person: Person, day: str) -> str:
        case_id = self.cases[label] = self.ids.next("c")
        self.person_of[case_id] = person
        applicant: dict[str, Any] = {"personnummer": person.personnummer}
        if person.name:
            applicant["name"] = person.name
        self.post("application_filed", case_id, day, applicant=applicant)
        return case_id

    def record_history(self) -> None:
        """Old and new cases: filed, granted (some never executed), executed,
        rejected, withdrawn; so counts and reports have something to say."""
        flat = self.ids.next("apt")
        self.post("apartment_acquired", flat, "2016-03-01")
        a1 = self.file("a1", ANNA, "2016-02-01")
        self.post("application_granted", a1, "2016-03-01")
        a2 = self.file("a2", ANNA, "2019-05-01")  # the same person again
        self.post("application_rejected", a2, "2019-05-20")
        b1 = self.file("b1", BERIT, "2016-04-04")
        self.post("application_granted", b1, "2016-04-20")
        self.post("contract_executed", b1, "2016-05-01", apartment_id=flat)
        self.file("b2", BERIT, "2024-01-10")  # Berit's newer case
        c1 = self.file("c1", CARL, "2018-05-02")
        self.post("application_granted", c1, "2018-06-01")
        self.file("d1", DORA, "2023-03-03")
        e1 = self.file("e1", ERIK, "2017-01-10")
        self.post("application_withdrawn", e1, "2017-02-01")

    def raw_bytes(self) -> bytes:
        """Everything the store holds, as bytes."""
        settings = self.boende.settings
        if settings.database_url is None:
            files = sorted(p for p in settings.data_dir.rglob("*") if p.is_file())
            assert any(p.name.endswith(".sqlite-wal") for p in files)
            return b"\n".join(p.read_bytes() for p in files)
        return postgres_contents(settings.database_url)

    def found(self, people: list[Person]) -> list[bytes]:
        raw = self.raw_bytes()
        # The scan does see the store: every case id is there in clear.
        assert all(case_id.encode() in raw for case_id in self.cases.values())
        return [n for person in people for n in person.needles() if n in raw]

    def applicant(self, label: str) -> dict[str, Any] | None:
        return gdpr.applicant_of(self.boende, self.cases[label])

    def readable(self) -> set[str]:
        """The labels whose applicant can still be read, checked against who
        filed them."""
        readable = set()
        for label, case_id in self.cases.items():
            applicant = self.applicant(label)
            if applicant is not None:
                person = self.person_of[case_id]
                assert applicant == {
                    "personnummer": person.personnummer,
                    "name": person.name,
                }
                readable.add(label)
        return readable

    def answers(self) -> dict[str, Any]:
        """Counts and reports, with the read models caught up; the position
        they reflect and the log they came from left out (the erasure facts
        move both on)."""
        for runner in self.boende.runners:
            runner.catch_up()
        urls = [
            "/v1/oversight/counts?as_of=2025-12-31",
            "/v1/oversight/counts?as_of=2017-01-01",
            "/v1/oversight/flows?from=2016-01-01&to=2025-12-31&period=year",
            "/v1/oversight/unexecuted?as_of=2018-12-31",
            "/v1/reports/unexecuted?quarter=2016Q3",
            "/v1/reports/unexecuted?quarter=2018Q4",
        ]
        answers = {}
        for url in urls:
            response = self.client.get(url)
            assert response.status_code == 200, response.text
            answers[url] = {
                k: v
                for k, v in response.json().items()
                if k not in ("as_of_position", "tree_size", "root_hash")
            }
        assert all(answers[url]["rows"] for url in urls if "/reports/" in url)
        return answers

    def trail(self, label: str) -> list[dict[str, Any]]:
        for runner in self.boende.runners:
            runner.catch_up()
        response = self.client.get(f"/v1/audit/cases/{self.cases[label]}")
        assert response.status_code == 200, response.text
        events: list[dict[str, Any]] = response.json()["events"]
        return events


def postgres_contents(url: str) -> bytes:
    """Every row of every table of the database as text, and every ``bytea``
    value as its bytes."""
    chunks: list[bytes] = []
    with psycopg.connect(url, autocommit=True) as conn:
        tables = conn.execute(
            "SELECT table_schema, table_name FROM information_schema.tables "
            "WHERE table_type = 'BASE TABLE' "
            "AND table_schema NOT IN ('pg_catalog', 'information_schema')"
        ).fetchall()
        assert any(name == "person_keys" for _, name in tables)
        for schema, table in tables:
            name = f'"{schema}"."{table}"'
            for (row,) in conn.execute(f"SELECT t::text FROM {name} t"):  # type: ignore[arg-type]
                chunks.append(row.encode())
            columns = conn.execute(
                "SELECT column_name FROM information_schema.columns WHERE "
                "table_schema = %s AND table_name = %s AND data_type = 'bytea'",
                [schema, table],
            ).fetchall()
            for (column,) in columns:
                query = f'SELECT "{column}" FROM {name}'
                chunks += [bytes(v) for (v,) in conn.execute(query) if v]  # type: ignore[arg-type]
    return b"\n".join(chunks)


@pytest.fixture
def store(boende: Boende, ids: Ids) -> Iterator[Store]:
    with TestClient(create_app(boende)) as client:
        recorded = Store(boende, client, ids)
        recorded.record_history()
        yield recorded


def test_applicants_are_sealed_and_readable_while_their_key_exists(
    store: Store,
) -> None:
    assert store.found(PEOPLE) == []
    assert store.readable() == set(store.cases)
    case = store.boende.app.repository.get(case_id_to_uuid(store.cases["a1"]))
    assert set(case.applicant) == {"v", "alg", "key_id", "nonce", "ciphertext"}
    assert case.applicant["alg"] == "AES-256-GCM"
    # One key per person: Anna's two cases share it, Berit's is another.
    a2 = store.boende.app.repository.get(case_id_to_uuid(store.cases["a2"]))
    b1 = store.boende.app.repository.get(case_id_to_uuid(store.cases["b1"]))
    assert a2.applicant["key_id"] == case.applicant["key_id"]
    assert b1.applicant["key_id"] != case.applicant["key_id"]


def test_officers_find_a_persons_cases_by_any_form_of_the_number(
    store: Store,
) -> None:
    anna = [store.cases["a1"], store.cases["a2"]]
    for form in ANNA.needles()[:3]:  # YYYYMMDD-NNNN, YYYYMMDDNNNN, YYMMDD-NNNN
        assert gdpr.cases_of(store.boende, form.decode()) == anna
    assert gdpr.cases_of(store.boende, ERIK.personnummer) == [store.cases["e1"]]
    unknown = valid_number("19660101", "123")
    assert gdpr.cases_of(store.boende, unknown) == []
    with pytest.raises(ValueError, match="check digit"):
        gdpr.cases_of(store.boende, "19850317-1234")


def test_a_moved_or_tampered_applicant_does_not_open(store: Store) -> None:
    keys = person_keys_of(store.boende.app)
    app = store.boende.app
    stored = app.repository.get(case_id_to_uuid(store.cases["a1"])).applicant
    with pytest.raises(crypto.DecryptionFailed):
        keys.decrypt_applicant(stored, store.cases["a2"])  # Anna's key, other case
    tampered = stored | {"nonce": "AAAAAAAAAAAAAAAA"}
    with pytest.raises(crypto.DecryptionFailed):
        keys.decrypt_applicant(tampered, store.cases["a1"])


def test_erasure_on_request_shreds_one_person_and_records_it(store: Store) -> None:
    keys = person_keys_of(store.boende.app)
    wrapped = keys.table.by_person(keys.person_ref(ANNA.personnummer))
    assert wrapped is not None
    assert wrapped.wrapped_key.encode() in store.raw_bytes()
    before = store.answers()

    outcome = gdpr.erase(store.boende, "850317-1236", OFFICER)

    assert outcome.rule == "request"
    assert outcome.keys_deleted == 1
    assert sorted(outcome.cases) == sorted([store.cases["a1"], store.cases["a2"]])
    assert store.readable() == set(store.cases) - {"a1", "a2"}
    assert gdpr.cases_of(store.boende, ANNA.personnummer) == []
    raw = store.raw_bytes()
    assert wrapped.wrapped_key.encode() not in raw, "the key is gone from disk"
    assert store.found(PEOPLE) == []
    assert store.answers() == before
    erasures = [e for e in store.trail("a1") if e["type"] == "personal_data_erased"]
    assert [(e["committee"], e["user"]) for e in erasures] == [("IFN", OFFICER)]
    # The case still loads, in the state it was in, its facts intact.
    view = store.client.get(f"/v1/cases/{store.cases['a1']}").json()
    assert view["state"] == "granted"
    assert [h["type"] for h in view["history"]] == [
        "application_filed",
        "application_granted",
        "personal_data_erased",
    ]
    # Erasing again finds nothing more to do and records nothing more.
    again = gdpr.erase(store.boende, ANNA.personnummer, OFFICER)
    assert (again.keys_deleted, again.cases) == (0, [])


def test_an_erased_case_goes_on_and_a_new_filing_gets_a_new_key(
    store: Store,
) -> None:
    gdpr.erase(store.boende, ANNA.personnummer, OFFICER)
    # Facts dated before the erasure may still follow: it moved no date on.
    store.post("delay_reason_recorded", store.cases["a1"], "2016-06-01")
    a3 = store.file("a3", ANNA, "2025-02-02")
    assert store.applicant("a3") == {
        "personnummer": ANNA.personnummer,
        "name": ANNA.name,
    }
    assert store.applicant("a1") is None
    assert gdpr.cases_of(store.boende, ANNA.personnummer) == [a3]


def test_purge_respects_the_retention_date(store: Store) -> None:
    before = store.answers()

    # Only Erik's case ended before 2018; Anna's and Carl's are newer still.
    first = gdpr.purge(store.boende, date(2018, 1, 1), OFFICER)
    assert (first.keys_deleted, first.cases) == (1, [store.cases["e1"]])
    assert store.readable() == set(store.cases) - {"e1"}

    # Before 2020: Anna (last fact 2019-05-20) and Carl (2018-06-01) go;
    # Berit keeps her key for her 2024 case, though her 2016 case is old.
    second = gdpr.purge(store.boende, date(2020, 1, 1), OFFICER)
    assert second.rule == "retention"
    assert second.keys_deleted == 2
    assert set(second.cases) == {store.cases[k] for k in ("a1", "a2", "c1")}
    assert store.readable() == {"b1", "b2", "d1"}

    # The default cutoff (five years before today) finds nothing more.
    third = gdpr.purge(store.boende, None, OFFICER)
    assert (third.keys_deleted, third.cases, third.in_clear) == (0, [], 0)

    assert store.found(PEOPLE) == []
    assert store.answers() == before
    trail = store.trail("c1")
    assert trail[-1]["type"] == "personal_data_erased"
    assert trail[-1]["user"] == OFFICER


def test_purge_refuses_a_date_inside_the_retention_period(store: Store) -> None:
    today = store.boende.service.today()
    with pytest.raises(ValueError, match="retention period"):
        gdpr.purge(store.boende, date(today.year - 1, 1, 1), OFFICER)
    assert store.readable() == set(store.cases)


def test_the_cli_erases_and_purges(
    store: Store, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    settings = store.boende.settings
    monkeypatch.setenv("BOENDE_DATA_DIR", str(settings.data_dir))
    if settings.database_url:
        monkeypatch.setenv("BOENDE_DATABASE_URL", settings.database_url)
    argv = ["gdpr", "erase", "--personnummer", CARL.personnummer, "--by", OFFICER]
    assert cli.main(argv) == 0
    assert "1 data key(s) deleted" in capsys.readouterr().out
    assert cli.main(["gdpr", "purge", "--before", "2018-01-01", "--by", OFFICER]) == 0
    assert "recorded on 1 case(s)" in capsys.readouterr().out
    assert cli.main(["gdpr", "purge", "--before", "2026-01-01", "--by", OFFICER]) == 2
    assert "retention period" in capsys.readouterr().err
    assert store.readable() == set(store.cases) - {"c1", "e1"}


def test_an_applicant_recorded_in_clear_is_read_but_reported(store: Store) -> None:
    """A filing from before encryption cannot be shredded: the read path
    returns it as it is, and erasure and purge say how many there are."""
    legacy = Stamp("legacy-1", "IFN", "u", date(2015, 1, 5), date(2026, 1, 1))
    old = store.ids.next("c")
    applicant = {"personnummer": ANNA.personnummer, "name": ANNA.name}
    household = {"adults": 1, "children": 0}
    case = HousingCase.file(legacy, old, applicant, household, "woman", 1985)
    store.boende.app.save(case)
    assert gdpr.applicant_of(store.boende, old) == applicant
    assert gdpr.purge(store.boende, date(2016, 1, 1), OFFICER).in_clear == 1
    outcome = gdpr.erase(store.boende, ANNA.personnummer, OFFICER)
    assert outcome.in_clear == 1
    assert old not in outcome.cases
    assert sorted(outcome.cases) == sorted([store.cases["a1"], store.cases["a2"]])


# -- a batch's keys -----------------------------------------------------------------


def filing(case_id: str, personnummer: str, day: str = "2021-03-15") -> Envelope:
    body = envelope(
        "application_filed",
        case_id,
        day,
        payload={"applicant": {"personnummer": personnummer}},
    )
    return parse(json.dumps(body).encode(), 1 << 20)


def test_a_batch_looks_up_its_keys_in_one_query_and_stores_new_ones_together(
    boende: Boende, ids: Ids, monkeypatch: pytest.MonkeyPatch
) -> None:
    """However many filings a batch holds: one query for the keys its persons
    have, one transaction for the keys of those who have none, and none for
    a refused filing."""
    keys = person_keys_of(boende.app)
    boende.service.submit(filing(ids.next("c"), ANNA.personnummer))
    calls: list[str] = []
    for name in ("by_person", "by_persons", "insert_new"):
        method = getattr(keys.table, name)
        monkeypatch.setattr(
            keys.table, name, lambda *a, _n=name, _m=method: calls.append(_n) or _m(*a)
        )
    newcomers = [valid_number(f"1960{m:02d}01", "123") for m in range(1, 13)]
    refused = valid_number("19591231", "456")
    batch = [filing(ids.next("c"), n) for n in newcomers]
    batch += [filing(ids.next("c"), ANNA.personnummer) for _ in range(3)]
    batch += [filing(ids.next("c"), newcomers[0])]  # twice in one batch: one key
    batch += [filing(ids.next("c"), refused, "2999-01-01")]  # a future date

    outcomes = boende.service.record_batch(batch)

    assert calls == ["by_persons", "insert_new"]
    assert [type(o).__name__ for o in outcomes] == ["Accepted"] * 16 + ["FutureDate"]
    assert keys.key_id_of(refused) is None
    assert len(keys.table.key_ids()) == 1 + len(newcomers)
    for sub in batch[:-1]:
        applicant = gdpr.applicant_of(boende, sub.case_id)  # type: ignore[attr-defined]
        assert applicant is not None
        assert applicant["personnummer"] == sub.payload.applicant.personnummer  # type: ignore[attr-defined]


def test_racing_processes_agree_on_one_key_per_person(
    boende: Boende, ids: Ids, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Another process stores a key for a person of this batch between the
    batch's look-up and its store: its key is kept, and the batch is sealed
    again under it."""
    contested, uncontested = BERIT.personnummer, CARL.personnummer
    other = PersonKeys.open(boende.settings)  # a second process: same files
    store_new = KeyBatch.store_new
    raced: list[str] = []

    def after_the_other_process(batch: KeyBatch) -> None:
        if not raced:
            theirs = other.batch([contested])
            theirs.seal_applicant("c-elsewhere", contested, None)
            store_new(theirs)  # the original, unpatched
            raced.append(other.key_id_of(contested) or "")
        store_new(batch)

    monkeypatch.setattr(KeyBatch, "store_new", after_the_other_process)
    subs = [filing(ids.next("c"), contested), filing(ids.next("c"), uncontested)]
    outcomes = boende.service.record_batch(subs)
    other.close()

    assert all(isinstance(o, Accepted) for o in outcomes), outcomes
    keys = person_keys_of(boende.app)
    assert len(keys.table.key_ids()) == 2
    case = boende.app.repository.get(case_id_to_uuid(subs[0].case_id))  # type: ignore[attr-defined]
    assert case.applicant["key_id"] == raced[0] == keys.key_id_of(contested)
    assert gdpr.applicant_of(boende, subs[0].case_id)["personnummer"] == contested  # type: ignore[attr-defined,index]


# -- the key files -----------------------------------------------------------------


def test_key_files_are_private_and_made_once(tmp_path: Path) -> None:
    path = tmp_path / "keys" / "master.key"
    key = load_or_create_key(path, "development", "master key")
    assert load_or_create_key(path, "development", "master key") == key
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    assert read_key_file(path) == ("development", key)


def test_production_refuses_a_development_key(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path / "var")
    PersonKeys.open(settings).close()  # a development process makes its keys
    production = Settings(data_dir=tmp_path / "var", environment="production")
    with pytest.raises(DevelopmentKeyRefused, match="development process"):
        bootstrap(production)


def test_production_accepts_a_provisioned_or_its_own_key(tmp_path: Path) -> None:
    provisioned = tmp_path / "secrets" / "master.key"
    provisioned.parent.mkdir()
    provisioned.write_text("q" * 43 + "=\n")  # base64 of 32 bytes, no comment
    production = Settings(
        data_dir=tmp_path / "var", environment="production", master_key_path=provisioned
    )
    keys = PersonKeys.open(production)  # the index key is made beside it
    keys.close()
    assert read_key_file(provisioned.with_name("person_index.key"))[0] == "production"


def test_a_damaged_key_file_is_never_replaced(tmp_path: Path) -> None:
    path = tmp_path / "master.key"
    path.write_text("# generated-by: development\nnot a key\n")
    with pytest.raises(PersonKeyError, match="no base64 32-byte key"):
        load_or_create_key(path, "development", "master key")
    assert "not a key" in path.read_text()
