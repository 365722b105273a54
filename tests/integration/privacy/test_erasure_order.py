"""Erasure and purge against filings and crashes, on SQLite and PostgreSQL.

Keys are deleted first and the ``personal_data_erased`` facts recorded after,
for what was deleted: the retention purge passes by a key a batch made or
used since it started, so a person who files while it runs keeps their key
and their older cases stay readable and unmarked. Every run ends with a
sweep that marks each case whose key is gone, so a run that dies between
deleting keys and recording them is finished by the next, and a filing whose
save lands after its key was deleted is marked too. An erasure on request
deletes the key however recently it was used.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Any

import pytest

from domain.case import HousingCase, case_id_to_uuid
from infra.person_keys import person_keys_of
from services.bootstrap import Boende
from services.cli import main as cli
from services.privacy import rights as gdpr
from tests.conftest import Ids
from tests.integration.privacy.test_crypto_shredding import OFFICER, valid_number
from tests.integration.privacy.test_orphan_keys import OLD, submit

GONE = valid_number("19450505", "456")  # a case that ended in 2014
CUTOFF = date(2018, 1, 1)
NEW_DAY = "2025-06-01"  # inside the retention period


def erasures(boende: Boende, case_id: str) -> list[str]:
    """The rules of the case's ``personal_data_erased`` facts, in order."""
    events = boende.app.repository.event_store.get(case_id_to_uuid(case_id))
    return [e.rule for e in events if isinstance(e, HousingCase.PersonalDataErased)]


def readable(boende: Boende, case_id: str) -> bool:
    applicant = gdpr.applicant_of(boende, case_id)
    return applicant == {"personnummer": OLD, "name": None}


def test_a_person_who_files_during_the_purge_keeps_their_key(
    boende: Boende, ids: Ids, monkeypatch: pytest.MonkeyPatch
) -> None:
    """All of the person's cases are past retention when the purge reads the
    log; they file again before it deletes keys. Their key stays, the new
    case and the old are readable, neither is marked erased, and the purge
    record counts only the other person's key."""
    keys = person_keys_of(boende.app)
    old = submit(boende, ids, OLD, "2015-03-15")
    gone = submit(boende, ids, GONE, "2014-06-01")
    key = keys.key_id_of(OLD)
    scan = gdpr.scan_cases
    filed: list[str] = []

    def file_once_the_log_is_read(app: Any, *told: Any) -> list[gdpr.CaseRecord]:
        records = scan(app, *told)
        if not filed:
            filed.append(submit(boende, ids, OLD, NEW_DAY))
        return records

    monkeypatch.setattr(gdpr, "scan_cases", file_once_the_log_is_read)
    outcome = gdpr.purge(boende, CUTOFF, OFFICER)
    monkeypatch.undo()

    assert (outcome.keys_deleted, outcome.cases, outcome.earlier) == (1, [gone], 0)
    assert keys.key_id_of(OLD) == key
    for case_id in (old, filed[0]):
        assert readable(boende, case_id)
        assert erasures(boende, case_id) == []
    assert erasures(boende, gone) == ["retention"]
    assert [
        (p.case_keys_deleted, p.orphan_keys_deleted) for p in keys.table.purges()
    ] == [(1, 0)]
    # The new case is inside the retention period: later purges keep the key.
    again = gdpr.purge(boende, CUTOFF, OFFICER)
    assert (again.keys_deleted, again.cases) == (0, [])
    assert readable(boende, old)


def test_a_purge_that_dies_after_deleting_keys_is_finished_by_the_next(
    boende: Boende,
    ids: Ids,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """The key is deleted (with the purge's record, in one transaction) and
    the process dies before any fact is recorded: the case is unreadable and
    unmarked until the next purge, here through the CLI, marks it."""
    keys = person_keys_of(boende.app)
    old = submit(boende, ids, OLD, "2015-03-15")
    delete_unused = keys.table.delete_unused

    def delete_then_die(*args: Any) -> Any:
        delete_unused(*args)
        raise RuntimeError("the process died")

    monkeypatch.setattr(keys.table, "delete_unused", delete_then_die)
    with pytest.raises(RuntimeError, match="died"):
        gdpr.purge(boende, CUTOFF, OFFICER)
    monkeypatch.undo()
    assert keys.key_id_of(OLD) is None
    assert gdpr.applicant_of(boende, old) is None
    assert erasures(boende, old) == []
    assert [p.case_keys_deleted for p in keys.table.purges()] == [1]

    settings = boende.settings
    monkeypatch.setenv("BOENDE_DATA_DIR", str(settings.data_dir))
    if settings.database_url:
        monkeypatch.setenv("BOENDE_DATABASE_URL", settings.database_url)
    assert cli.main(["gdpr", "purge", "--before", "2018-01-01", "--by", OFFICER]) == 0
    printed = capsys.readouterr().out
    assert (
        "0 data key(s) deleted; personal_data_erased recorded on 1 case(s)" in printed
    )
    assert "of which 1 case(s) whose key was deleted before this run" in printed
    assert erasures(boende, old) == ["retention"]
    assert [p.case_keys_deleted for p in keys.table.purges()] == [1, 0]


def test_an_erasure_that_dies_after_deleting_the_key_is_finished_by_a_rerun(
    boende: Boende, ids: Ids, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The rerun finds no key for the person any more, and its sweep marks
    their cases all the same; two runs sweeping at once mark each case once."""
    keys = person_keys_of(boende.app)
    cases = [submit(boende, ids, OLD, day) for day in ("2015-03-15", NEW_DAY)]
    erase = keys.erase

    def erase_then_die(key_ids: Any) -> set[str]:
        erase(key_ids)
        raise RuntimeError("the process died")

    monkeypatch.setattr(keys, "erase", erase_then_die)
    with pytest.raises(RuntimeError, match="died"):
        gdpr.erase(boende, OLD, OFFICER)
    monkeypatch.undo()
    assert [erasures(boende, c) for c in cases] == [[], []]

    unmarked = gdpr._unmarked_without_key
    other: list[gdpr.Erasure] = []

    def another_run_first(app: Any, table: Any, *told: Any) -> list[gdpr.CaseRecord]:
        found = unmarked(app, table, *told)
        monkeypatch.setattr(gdpr, "_unmarked_without_key", unmarked)
        other.append(gdpr.erase(boende, OLD, "dataskydd-8"))
        return found

    monkeypatch.setattr(gdpr, "_unmarked_without_key", another_run_first)
    rerun = gdpr.erase(boende, OLD, OFFICER)
    monkeypatch.undo()

    assert (other[0].keys_deleted, other[0].cases, other[0].earlier) == (0, cases, 2)
    assert (rerun.keys_deleted, rerun.cases, rerun.earlier) == (0, [], 0)
    assert [erasures(boende, c) for c in cases] == [["request"], ["request"]]


def test_erasure_on_request_wins_over_a_filing_made_a_moment_before(
    boende: Boende, ids: Ids
) -> None:
    """The key a batch used a moment ago is deleted all the same: the request
    covers every case of the person."""
    keys = person_keys_of(boende.app)
    cases = [submit(boende, ids, OLD, day) for day in ("2015-03-15", NEW_DAY)]
    outcome = gdpr.erase(boende, OLD, OFFICER)
    assert (outcome.keys_deleted, outcome.cases, outcome.earlier) == (1, cases, 0)
    assert keys.key_id_of(OLD) is None
    for case_id in cases:
        assert gdpr.applicant_of(boende, case_id) is None
        assert erasures(boende, case_id) == ["request"]


def _erase(boende: Boende) -> gdpr.Erasure:
    return gdpr.erase(boende, OLD, OFFICER)


def _purge(boende: Boende) -> gdpr.Erasure:
    return gdpr.purge(boende, CUTOFF, OFFICER)


@pytest.mark.parametrize("run", [_erase, _purge], ids=["erase", "purge"])
def test_a_filing_saved_after_its_key_was_deleted_is_marked_by_the_next_run(
    boende: Boende,
    ids: Ids,
    monkeypatch: pytest.MonkeyPatch,
    run: Callable[[Boende], gdpr.Erasure],
) -> None:
    """A batch seals under the person's key and marks it used; before its
    events are saved, a run deletes the key and sweeps, so its sweep cannot
    see the filing. The save lands under a deleted key: the next run marks
    the case. (For the purge this is the window its ``used_at`` guard cannot
    close: the batch used the key before the purge started.)"""
    old = submit(boende, ids, OLD, "2015-03-15")
    save = boende.app.save
    runs: list[gdpr.Erasure] = []

    def run_before_the_filing_lands(*events: Any, **kwargs: Any) -> Any:
        if "receipts" in kwargs and not runs:
            runs.append(run(boende))
        return save(*events, **kwargs)

    monkeypatch.setattr(boende.app, "save", run_before_the_filing_lands)
    late = submit(boende, ids, OLD, NEW_DAY)
    monkeypatch.undo()

    rule = runs[0].rule
    assert (runs[0].keys_deleted, runs[0].cases) == (1, [old])
    assert gdpr.applicant_of(boende, late) is None
    assert erasures(boende, late) == []
    following = gdpr.purge(boende, CUTOFF, OFFICER)
    assert (following.keys_deleted, following.cases, following.earlier) == (
        0,
        [late],
        1,
    )
    assert erasures(boende, late) == ["retention"]
    assert erasures(boende, old) == [rule]
