"""Data keys no filing was sealed under, on SQLite and PostgreSQL.

A batch stores its persons' new keys before its events; when the events
then fail to save, the key row (the keyed hash of a personnummer and a
wrapped key) is left with no ciphertext and no case. The retention purge
deletes such a key once no batch has made or used it for a day, records the
purge as a count (no key id, no person reference), and leaves every key a
case was sealed under to the cases' own retention rule. A batch that seals
under a key while the purge deletes it seals again under a new one; and a
key table from before ``used_at`` gains the column on start.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from typing import Any

import psycopg
import pytest
from eventsourcing.persistence import OperationalError
from fastapi.testclient import TestClient

from domain.case import case_id_to_uuid
from infra.person_key_table import KeyTable
from infra.person_keys import KeyBatch, person_keys_of
from infra.settings import Settings
from infra.signing import utc_timestamp
from services.bootstrap import Boende, bootstrap
from services.errors import StoreUnavailable
from services.http.app import create_app
from services.privacy import rights as gdpr
from services.submission.service import Accepted
from tests.conftest import Ids
from tests.integration.privacy.test_crypto_shredding import (
    OFFICER,
    Store,
    filing,
    valid_number,
)

OLD = valid_number("19500101", "123")  # a case that ended in 2015
RECENT = valid_number("19600202", "234")  # a case of 2024
STRANDED = valid_number("19700303", "345")  # a key whose filing never saved
LATER = datetime.now(UTC) + gdpr.ORPHAN_KEY_GRACE + timedelta(hours=1)
AFTER_LATER = utc_timestamp(LATER + timedelta(seconds=1))


def strand_a_key(boende: Boende, ids: Ids, number: str) -> str:
    """File for ``number`` while the store is down: the batch stores the
    person's key, then its events fail. The key id."""
    save = boende.app.save

    def store_outage(*args: Any, **kwargs: Any) -> Any:
        raise OperationalError("connection refused")

    boende.app.save = store_outage  # type: ignore[method-assign]
    try:
        outcome = boende.service.record_batch([filing(ids.next("c"), number)])
    finally:
        boende.app.save = save  # type: ignore[method-assign]
    assert isinstance(outcome[0], StoreUnavailable)
    key_id = person_keys_of(boende.app).key_id_of(number)
    assert key_id is not None, "the key was stored before the events"
    return key_id


def submit(boende: Boende, ids: Ids, number: str, day: str) -> str:
    case_id = ids.next("c")
    assert isinstance(boende.service.submit(filing(case_id, number, day)), Accepted)
    return case_id


@pytest.fixture
def store(boende: Boende, ids: Ids) -> Iterator[Store]:
    with TestClient(create_app(boende)) as client:
        yield Store(boende, client, ids)


def test_a_key_of_no_case_is_purged_after_a_day_and_the_purge_recorded(
    store: Store, ids: Ids
) -> None:
    boende = store.boende
    keys = person_keys_of(boende.app)
    old = submit(boende, ids, OLD, "2015-03-15")
    recent = submit(boende, ids, RECENT, "2024-03-15")
    stranded = strand_a_key(boende, ids, STRANDED)
    row = keys.table.by_key_id(stranded)
    assert row is not None

    # Today: the stranded key is inside its grace period (its batch might
    # still be saving); the 2015 case is past retention and goes as ever.
    first = gdpr.purge(boende, date(2018, 1, 1), OFFICER)
    assert (first.keys_deleted, first.cases, first.orphan_keys_deleted) == (
        1,
        [old],
        0,
    )
    assert keys.table.by_key_id(stranded) == row

    # A day on: the stranded key goes; the 2024 case's key, though just as
    # old, was sealed under and stays until its case is past retention.
    second = gdpr.purge(boende, date(2018, 1, 1), OFFICER, now=LATER)
    assert (second.keys_deleted, second.cases, second.orphan_keys_deleted) == (
        0,
        [],
        1,
    )
    assert keys.table.by_key_id(stranded) is None
    assert keys.key_id_of(STRANDED) is None
    assert gdpr.applicant_of(boende, recent) == {"personnummer": RECENT, "name": None}
    assert gdpr.applicant_of(boende, old) is None
    assert row.wrapped_key.encode() not in store.raw_bytes(), "gone from disk too"

    # Each purge is on record: cutoffs and counts, nothing of the person.
    purges = keys.table.purges()
    counted = [(p.case_keys_deleted, p.orphan_keys_deleted) for p in purges]
    assert counted == [(1, 0), (0, 1)]
    assert {(p.purged_by, p.rule, p.cases_before) for p in purges} == {
        (OFFICER, "retention", "2018-01-01")
    }
    assert purges[1].unused_before < purges[1].purged_at
    recorded = json.dumps([vars(p) for p in purges])
    for secret in (stranded, row.person_ref, row.wrapped_key, STRANDED):
        assert secret not in recorded
    with (
        pytest.raises(Exception, match="append-only"),
        keys.table.transaction(commit=True) as sql,
    ):
        sql.execute("DELETE FROM person_key_purges")

    # The person files again: a new key, readable.
    again = submit(boende, ids, STRANDED, "2025-01-01")
    assert gdpr.applicant_of(boende, again) == {"personnummer": STRANDED, "name": None}


def test_a_key_a_batch_uses_again_is_kept(boende: Boende, ids: Ids) -> None:
    """A stranded key that a later filing of the same person sealed under is
    no orphan any more, and a batch that used it marked it used."""
    keys = person_keys_of(boende.app)
    stranded = strand_a_key(boende, ids, STRANDED)
    case = submit(boende, ids, STRANDED, "2025-01-01")
    assert keys.key_id_of(STRANDED) == stranded  # the same key, reused
    assert keys.table.unused_before(AFTER_LATER) == {stranded}
    outcome = gdpr.purge(boende, date(2018, 1, 1), OFFICER, now=LATER)
    assert outcome.orphan_keys_deleted == 0
    assert gdpr.applicant_of(boende, case) == {"personnummer": STRANDED, "name": None}


def test_a_filing_racing_the_purge_of_its_key_is_sealed_again(
    boende: Boende, ids: Ids, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The person of a stranded key files again; the batch finds the key and
    seals under it, and before it stores its keys the purge deletes that
    key. Storing finds it gone, so the filing is sealed again under a new
    key: readable, never saved under a deleted key."""
    keys = person_keys_of(boende.app)
    stranded = strand_a_key(boende, ids, STRANDED)
    store_new = KeyBatch.store_new
    purged: list[int] = []

    def purge_first(batch: KeyBatch) -> None:
        if not purged:
            outcome = gdpr.purge(boende, date(2018, 1, 1), OFFICER, now=LATER)
            purged.append(outcome.orphan_keys_deleted)
        store_new(batch)

    monkeypatch.setattr(KeyBatch, "store_new", purge_first)
    case_id = submit(boende, ids, STRANDED, "2025-01-01")

    assert purged == [1]
    case = boende.app.repository.get(case_id_to_uuid(case_id))
    assert case.applicant["key_id"] != stranded
    assert case.applicant["key_id"] == keys.key_id_of(STRANDED)
    assert gdpr.applicant_of(boende, case_id) == {
        "personnummer": STRANDED,
        "name": None,
    }


def test_an_older_key_table_gains_used_at_and_its_keys_a_grace_period(
    store_settings: Settings, ids: Ids
) -> None:
    """A key table made before ``used_at`` (rows in it) is migrated on start,
    on both engines; its keys count as used at the migration, so the first
    purge a day later may delete those of no case."""
    old_table(
        store_settings,
        "CREATE TABLE person_keys (person_ref TEXT PRIMARY KEY, key_id TEXT NOT "
        "NULL UNIQUE, wrapped_key TEXT NOT NULL, master_key_id TEXT NOT NULL)",
        "INSERT INTO person_keys VALUES ('ref-1', 'key-1', 'wrapped', 'master')",
    )
    started = utc_timestamp()
    boende = bootstrap(store_settings)
    try:
        keys = person_keys_of(boende.app)
        KeyTable(store_settings).close()  # a second start changes nothing
        with keys.table.transaction(commit=False) as sql:
            rows = sql.all("SELECT key_id, used_at FROM person_keys")
        assert [row["key_id"] for row in rows] == ["key-1"]
        assert rows[0]["used_at"] >= started
        assert gdpr.purge(boende, None, OFFICER).orphan_keys_deleted == 0
        assert gdpr.purge(boende, None, OFFICER, now=LATER).orphan_keys_deleted == 1
        assert keys.table.key_ids() == set()
        submit(boende, ids, RECENT, "2025-01-01")  # new rows get used_at too
        assert keys.table.unused_before(AFTER_LATER) == set(keys.table.key_ids())
    finally:
        boende.close()


def old_table(settings: Settings, *statements: str) -> None:
    """Run ``statements`` on the key table's database, as older code did."""
    if settings.database_url is None:
        settings.data_dir.mkdir(parents=True, exist_ok=True)
        with sqlite3.connect(settings.sqlite_path("person_keys")) as conn:
            for statement in statements:
                conn.execute(statement)
        conn.close()
        return
    with psycopg.connect(settings.database_url, autocommit=True) as pg:
        for statement in statements:
            pg.execute(statement)  # type: ignore[arg-type]
