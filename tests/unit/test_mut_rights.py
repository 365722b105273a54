"""Personal data rights (``services/privacy/rights.py``) on a small SQLite
store: finding a person's cases, reading an applicant, erasure on request
and the retention purge with its sweep, orphan keys, the purge's record and
its progress, as the module docstring promises them. (The same rules on
PostgreSQL, over HTTP, with the store's bytes searched: the integration
tests in ``tests/integration/privacy/``.)"""

from __future__ import annotations

import json
import logging
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from eventsourcing.persistence import IntegrityError

from domain.case import HousingCase, case_id_to_uuid
from domain.errors import NotFound
from domain.facts import Stamp
from domain.personnummer import luhn_check_digit
from infra.person_keys import person_keys_of
from infra.settings import Settings
from infra.signing import utc_timestamp
from services.bootstrap import Boende, bootstrap
from services.privacy import rights
from services.privacy.rights import (
    STEPS,
    CaseRecord,
    Erasure,
    retention_cutoff,
    scan_cases,
)
from services.submission.service import parse
from tests.conftest import envelope

TODAY = date(2026, 11, 30)
OFFICER = "dataskydd-7"


def number(birth: str, serial: str) -> str:
    """``YYYYMMDD-NNNC`` with the Luhn digit that makes it valid."""
    return f"{birth}-{serial}{luhn_check_digit(birth[2:] + serial)}"


ANNA = number("19850317", "123")
BERIT = number("19720912", "384")
CARL = number("19901224", "571")


@pytest.fixture
def boende(tmp_path: Path) -> Iterator[Boende]:
    running = bootstrap(Settings(data_dir=tmp_path / "var", today=TODAY))
    yield running
    running.close()


def post(boende: Boende, event_type: str, key: str, day: str, **payload: Any) -> None:
    body = envelope(event_type, key, day, payload=payload)
    boende.service.submit(parse(json.dumps(body).encode(), 1 << 20))


def file(boende: Boende, case_id: str, personnummer: str, day: str) -> str:
    applicant = {"personnummer": personnummer, "name": f"Namn {case_id}"}
    post(boende, "application_filed", case_id, day, applicant=applicant)
    return case_id


def history(boende: Boende) -> None:
    """Anna: two old cases (last facts 2016-03-01, 2019-05-20). Berit: an old
    and a new case. Carl: one case, last fact 2018-06-01."""
    file(boende, "c-a1", ANNA, "2016-02-01")
    post(boende, "application_granted", "c-a1", "2016-03-01")
    file(boende, "c-b1", BERIT, "2016-04-04")
    file(boende, "c-a2", ANNA, "2019-05-01")
    post(boende, "application_rejected", "c-a2", "2019-05-20")
    file(boende, "c-c1", CARL, "2018-05-02")
    post(boende, "application_granted", "c-c1", "2018-06-01")
    file(boende, "c-b2", BERIT, "2024-01-10")


def in_clear(boende: Boende, case_id: str, personnummer: str) -> None:
    """A filing from before encryption: the applicant stored as it came."""
    legacy = Stamp(f"legacy-{case_id}", "IFN", "u", date(2015, 1, 5), TODAY)
    applicant = {"personnummer": personnummer, "name": "Gammal"}
    case = HousingCase.file(legacy, case_id, applicant, {"adults": 1}, "man", 1960)
    boende.app.save(case)


def last_fact(boende: Boende, case_id: str) -> Any:
    case: Any = boende.app.repository.get(case_id_to_uuid(case_id))
    return case.history[-1], case


def last_event(boende: Boende) -> Any:
    """The latest event of the log, as the domain event it records."""
    notification = boende.app.recorder.select_notifications(1, 1000)[-1]
    return boende.app.mapper.to_domain_event(notification)


def log_events(boende: Boende) -> list[Any]:
    notifications = boende.app.recorder.select_notifications(1, 1000)
    return [boende.app.mapper.to_domain_event(n) for n in notifications]


def readable(boende: Boende, *case_ids: str) -> list[bool]:
    return [rights.applicant_of(boende, c) is not None for c in case_ids]


# -- finding and reading ------------------------------------------------------------


def test_a_persons_cases_in_filing_order_by_any_form_of_the_number(
    boende: Boende,
) -> None:
    history(boende)
    for form in (ANNA, ANNA.replace("-", ""), ANNA[2:]):
        assert rights.cases_of(boende, form) == ["c-a1", "c-a2"]
    assert rights.cases_of(boende, BERIT) == ["c-b1", "c-b2"]
    assert rights.cases_of(boende, number("20010630", "012")) == []


def test_a_case_in_clear_is_not_found_by_the_keyed_look_up(boende: Boende) -> None:
    history(boende)
    in_clear(boende, "c-old", ANNA)
    assert rights.cases_of(boende, ANNA) == ["c-a1", "c-a2"]


def test_an_invalid_number_is_refused_without_repeating_it(boende: Boende) -> None:
    with pytest.raises(ValueError) as refusal:
        rights.cases_of(boende, "19850317-1235")
    assert "1235" not in str(refusal.value)


def test_the_applicant_until_erased(boende: Boende) -> None:
    history(boende)
    assert rights.applicant_of(boende, "c-b1") == {
        "personnummer": BERIT,
        "name": "Namn c-b1",
    }
    in_clear(boende, "c-old", CARL)
    assert rights.applicant_of(boende, "c-old") == {
        "personnummer": CARL,
        "name": "Gammal",
    }
    with pytest.raises(NotFound) as refusal:
        rights.applicant_of(boende, "c-404")
    assert refusal.value.message == "no case c-404"
    assert refusal.value.details == {"case_id": "c-404"}


# -- erasure on request -------------------------------------------------------------


def test_erasure_shreds_one_person_and_records_it_on_each_case(
    boende: Boende,
) -> None:
    history(boende)
    outcome = rights.erase(boende, ANNA[2:], OFFICER)
    assert outcome == Erasure(
        "request", keys_deleted=1, cases=["c-a1", "c-a2"], in_clear=0
    )
    assert readable(boende, "c-a1", "c-a2", "c-b1", "c-c1") == [
        False,
        False,
        True,
        True,
    ]
    assert rights.cases_of(boende, ANNA) == []
    fact, case = last_fact(boende, "c-a2")
    assert (fact["type"], fact["occurred_on"]) == ("personal_data_erased", TODAY)
    assert case.state.value == "rejected"  # the case's course is kept
    erased = last_event(boende)
    assert (erased.committee, erased.user, erased.erased_by) == (
        "IFN",
        OFFICER,
        OFFICER,
    )
    assert (erased.rule, erased.occurred_on) == ("request", TODAY)


def test_erasing_again_or_a_stranger_changes_nothing(boende: Boende) -> None:
    history(boende)
    rights.erase(boende, ANNA, OFFICER)
    again = rights.erase(boende, ANNA, OFFICER)
    assert again == Erasure("request")
    stranger = rights.erase(boende, number("20010630", "012"), OFFICER)
    assert stranger == Erasure("request")
    facts = [h["type"] for h in last_fact(boende, "c-a1")[1].history]
    assert facts.count("personal_data_erased") == 1


def test_cases_in_clear_are_counted_for_a_manual_decision(boende: Boende) -> None:
    history(boende)
    in_clear(boende, "c-old", ANNA)
    in_clear(boende, "c-old2", BERIT)
    in_clear(boende, "c-old3", ANNA)
    outcome = rights.erase(boende, ANNA, OFFICER)
    assert outcome.in_clear == 2
    assert outcome.cases == ["c-a1", "c-a2"]
    assert rights.applicant_of(boende, "c-old") is not None


def test_the_sweep_finishes_an_earlier_run_under_this_runs_rule(
    boende: Boende,
) -> None:
    """A run that deleted Berit's and Carl's keys and stopped before
    recording: the next run, for Anna, records their erasures too, as
    earlier ones."""
    history(boende)
    keys = person_keys_of(boende.app)
    earlier_keys = {keys.key_id_of(CARL), keys.key_id_of(BERIT)}
    assert None not in earlier_keys
    keys.erase(earlier_keys)  # type: ignore[arg-type]
    outcome = rights.erase(boende, ANNA, "another-officer")
    assert outcome.cases == ["c-a1", "c-b1", "c-a2", "c-c1", "c-b2"]
    assert (outcome.keys_deleted, outcome.earlier) == (1, 3)
    erased = last_event(boende)
    assert (erased.case_id, erased.rule, erased.user) == (
        "c-b2",
        "request",
        "another-officer",
    )


# -- the retention purge ------------------------------------------------------------


@pytest.mark.parametrize(
    ("today", "cutoff"),
    [
        (date(2026, 11, 30), date(2021, 11, 30)),
        (date(2024, 2, 29), date(2019, 2, 28)),
        (date(2024, 3, 1), date(2019, 3, 1)),
    ],
)
def test_the_retention_cutoff(today: date, cutoff: date) -> None:
    assert retention_cutoff(today, 5) == cutoff
    assert retention_cutoff(date(2024, 2, 29), 4) == date(2020, 2, 29)


def test_purge_keeps_anyone_with_a_case_at_or_after_the_cutoff(
    boende: Boende,
) -> None:
    history(boende)
    # Carl's last fact is 2018-06-01: on the cutoff day, it is kept.
    first = rights.purge(boende, date(2018, 6, 1), OFFICER)
    assert first == Erasure("retention")
    second = rights.purge(boende, date(2018, 6, 2), OFFICER)
    assert second == Erasure("retention", keys_deleted=1, cases=["c-c1"])
    # Anna's last fact is 2019-05-20; Berit keeps her key for her 2024 case.
    third = rights.purge(boende, date(2020, 1, 1), OFFICER)
    assert third == Erasure("retention", keys_deleted=1, cases=["c-a1", "c-a2"])
    assert readable(boende, "c-b1", "c-b2") == [True, True]
    fourth = rights.purge(boende, None, OFFICER)  # 2021-11-30: nothing more
    assert fourth == Erasure("retention")
    erased = last_fact(boende, "c-c1")[1]
    assert erased.history[-1]["type"] == "personal_data_erased"
    purged = [e for e in log_events(boende) if e.type_name == "personal_data_erased"]
    assert {(e.rule, e.user, e.erased_by) for e in purged} == {
        ("retention", OFFICER, OFFICER)
    }


def test_purge_counts_every_case_in_clear(boende: Boende) -> None:
    history(boende)
    in_clear(boende, "c-old", ANNA)
    in_clear(boende, "c-old2", BERIT)
    assert rights.purge(boende, date(2010, 1, 1), OFFICER).in_clear == 2


def test_purge_refuses_a_day_inside_the_retention_period(boende: Boende) -> None:
    history(boende)
    inside = date(2021, 12, 1)
    with pytest.raises(ValueError) as refusal:
        rights.purge(boende, inside, OFFICER)
    assert str(refusal.value) == (
        "--before 2021-12-01 is inside the retention period of 5 years; "
        "the latest allowed is 2021-11-30"
    )
    assert readable(boende, "c-a1", "c-b2") == [True, True]
    assert rights.purge(boende, date(2021, 11, 30), OFFICER).keys_deleted == 2


def test_purge_deletes_orphan_keys_after_their_grace_and_records_itself(
    boende: Boende,
) -> None:
    history(boende)
    keys = person_keys_of(boende.app)
    keys.table.insert_new([keys.new_key_row(keys.person_ref(CARL + "x"))])
    orphan_ids = keys.table.key_ids() - {keys.key_id_of(p) for p in (ANNA, BERIT, CARL)}
    assert len(orphan_ids) == 1
    now = datetime.now(UTC)
    # Within the grace (a day since a batch made it): the orphan stays.
    early = rights.purge(boende, date(2010, 1, 1), OFFICER, now=now)
    assert early.orphan_keys_deleted == 0
    later = now + timedelta(days=1, minutes=1)
    outcome = rights.purge(boende, date(2018, 6, 2), "gallring", now=later)
    assert outcome == Erasure(
        "retention", keys_deleted=1, cases=["c-c1"], orphan_keys_deleted=1
    )
    assert not orphan_ids & keys.table.key_ids()
    records = keys.table.purges()
    assert [(r.case_keys_deleted, r.orphan_keys_deleted) for r in records] == [
        (0, 0),
        (1, 1),
    ]
    last = records[-1]
    assert (last.purged_at, last.purged_by, last.rule, last.cases_before) == (
        utc_timestamp(later),
        "gallring",
        "retention",
        "2018-06-02",
    )
    assert last.unused_before == utc_timestamp(later - timedelta(days=1))
    assert records[0].purged_at == utc_timestamp(now)


def test_purge_without_now_records_the_moment_it_started(boende: Boende) -> None:
    history(boende)
    started = utc_timestamp(datetime.now(UTC))
    rights.purge(boende, date(2010, 1, 1), OFFICER)
    (record,) = person_keys_of(boende.app).table.purges()
    assert started <= record.purged_at <= utc_timestamp(datetime.now(UTC))


class SummerTimeBegins(datetime):
    """The clock at 12:00 UTC on 29 March 2026, the day Sweden's summer time
    began (at 01:00 UTC): 14:00 in Stockholm, a day earlier 13:00."""

    @classmethod
    def now(cls, tz: Any = None) -> Any:
        moment = datetime(2026, 3, 29, 12, tzinfo=UTC)
        return moment.astimezone(tz) if tz else moment.astimezone().replace(tzinfo=None)


def test_purge_times_are_utc_on_a_server_on_swedish_time(
    boende: Boende, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Without ``now`` the purge starts at the clock's moment in UTC: its
    record and the orphans' limit a day (24 hours, not 23) before it, also
    on the day summer time begins on a server on local time."""
    monkeypatch.setattr(rights, "datetime", SummerTimeBegins)
    monkeypatch.setenv("TZ", "Europe/Stockholm")
    time.tzset()
    try:
        rights.purge(boende, date(2010, 1, 1), OFFICER)
    finally:
        monkeypatch.undo()
        time.tzset()
    (record,) = person_keys_of(boende.app).table.purges()
    assert record.purged_at == "2026-03-29T12:00:00.000000Z"
    assert record.unused_before == "2026-03-28T12:00:00.000000Z"


def test_a_key_used_since_the_purge_started_stays(
    boende: Boende, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Carl files again while the purge runs: his key is used after the
    purge started, so his old case stays readable under it."""
    history(boende)
    real_scan = rights.scan_cases

    def scan_while_carl_files(app: Any, on_progress: Any = None) -> Any:
        records = real_scan(app, on_progress)
        if not any(r.case_id == "c-c2" for r in records):
            file(boende, "c-c2", CARL, "2026-11-29")
        return records

    monkeypatch.setattr(rights, "scan_cases", scan_while_carl_files)
    outcome = rights.purge(boende, date(2018, 6, 2), OFFICER)
    assert outcome == Erasure("retention")
    assert readable(boende, "c-c1", "c-c2") == [True, True]


def test_the_purge_tells_how_each_step_goes(
    boende: Boende, monkeypatch: pytest.MonkeyPatch
) -> None:
    history(boende)
    told: list[tuple[str, int, int | None]] = []
    end = boende.app.recorder.max_notification_id()
    rights.purge(
        boende, date(2020, 1, 1), OFFICER, on_progress=lambda *a: told.append(a)
    )
    assert told == [
        (STEPS[0], end, end),
        (STEPS[1], end, end),
        (STEPS[2], 1, 3),
        (STEPS[2], 1, 3),
        (STEPS[2], 1, 3),
    ]
    assert STEPS == (
        "reading the case log",
        "reading the case log again",
        "recording erasures",
    )
    assert rights.STEP_UNITS == {
        "reading the case log": "positions",
        "reading the case log again": "positions",
        "recording erasures": "cases",
    }
    # Page by page: each page tells how far past its start it took the scan.
    monkeypatch.setattr(rights, "_PAGE", 2)
    told.clear()
    now = boende.app.recorder.max_notification_id()
    rights.purge(
        boende, date(2010, 1, 1), OFFICER, on_progress=lambda *a: told.append(a)
    )
    reads = [n for step, n, total in told if step == STEPS[0]]
    assert sum(reads) == now
    assert len(reads) > 2
    assert all(total == now for step, _, total in told if step != STEPS[2])


def test_the_scan_of_the_cases(boende: Boende, monkeypatch: pytest.MonkeyPatch) -> None:
    history(boende)
    in_clear(boende, "c-old", ANNA)
    rights.erase(boende, CARL, OFFICER)
    # Apartment facts are no case's: the scan reads past them, and its
    # progress reaches the end of the log even when they come last.
    post(boende, "apartment_acquired", "apt-1", "2021-01-01")
    post(boende, "apartment_acquired", "apt-2", "2021-01-01")
    monkeypatch.setattr(rights, "_PAGE", 3)
    records = {r.case_id: r for r in scan_cases(boende.app)}
    assert list(records) == ["c-a1", "c-b1", "c-a2", "c-c1", "c-b2", "c-old"]
    keys = person_keys_of(boende.app)
    assert records["c-a1"] == CaseRecord(
        "c-a1", keys.key_id_of(ANNA), date(2016, 3, 1), erased=False
    )
    assert records["c-a2"].last_fact_on == date(2019, 5, 20)
    # An erasure is not a fact of the case's course: the last stays 2018.
    assert records["c-c1"].last_fact_on == date(2018, 6, 1)
    assert records["c-c1"].erased
    assert records["c-c1"].key_id is not None
    assert records["c-old"].key_id is None
    told: list[int] = []
    scan_cases(boende.app, told.append)
    assert sum(told) == boende.app.recorder.max_notification_id()


def test_recording_an_erasure_retries_a_lost_race(
    boende: Boende, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    calls: list[tuple[Any, ...]] = []

    def lose(times: int) -> Any:
        def save(boende: Boende, case_id: str, rule: str, erased_by: str) -> bool:
            calls.append((boende, case_id, rule, erased_by))
            if len(calls) <= times:
                raise IntegrityError("a submission got there first")
            return True

        return save

    monkeypatch.setattr(rights, "_save_erasure", lose(2))
    with caplog.at_level(logging.INFO, logger=rights.__name__):
        assert rights._record_erasure(boende, "c-1", "retention", OFFICER)
    assert calls == [(boende, "c-1", "retention", OFFICER)] * 3
    assert [r.getMessage() for r in caplog.records] == [
        "case changed while recording its erasure; retrying"
    ] * 2
    calls.clear()
    monkeypatch.setattr(rights, "_save_erasure", lose(3))
    with pytest.raises(IntegrityError):
        rights._record_erasure(boende, "c-1", "request", OFFICER)
    assert len(calls) == 3


def test_an_erasure_recorded_meanwhile_is_not_recorded_again(boende: Boende) -> None:
    """Another run may record the erasure between this run's scan and its
    save: the save then sees it and records nothing."""
    history(boende)
    rights.erase(boende, CARL, OFFICER)
    assert rights._save_erasure(boende, "c-c1", "request", OFFICER) is False
    facts = [h["type"] for h in last_fact(boende, "c-c1")[1].history]
    assert facts.count("personal_data_erased") == 1


def test_each_erasure_is_a_submission_of_its_own(boende: Boende) -> None:
    history(boende)
    outcome = rights.erase(boende, ANNA, OFFICER)
    ids = [
        e.submission_id
        for e in log_events(boende)
        if isinstance(e, HousingCase.PersonalDataErased)
    ]
    assert len(ids) == len(set(ids)) == len(outcome.cases) == 2
    assert all(str(uuid.UUID(i)) == i for i in ids)


def test_a_persons_newest_case_decides_whatever_the_filing_order(
    boende: Boende,
) -> None:
    """Carl's first case goes on until 2020; his second ended in 2017."""
    file(boende, "c-1", CARL, "2016-01-10")
    file(boende, "c-2", CARL, "2017-01-10")
    post(boende, "application_rejected", "c-2", "2017-02-01")
    post(boende, "application_granted", "c-1", "2020-05-01")
    assert rights.purge(boende, date(2019, 1, 1), OFFICER) == Erasure("retention")
    assert readable(boende, "c-1", "c-2") == [True, True]


def test_a_purge_of_an_empty_log(boende: Boende) -> None:
    told: list[tuple[str, int, int | None]] = []
    outcome = rights.purge(boende, None, OFFICER, on_progress=lambda *a: told.append(a))
    assert outcome == Erasure("retention")
    assert told == [(STEPS[0], 0, 0), (STEPS[1], 0, 0)]


def test_a_case_filed_in_clear_and_noted_since_is_erased_with_its_note(
    boende: Boende,
) -> None:
    """A note on a case filed in clear is sealed under its person's key: the
    scan takes that key for the case, and the person's erasure marks it."""
    history(boende)
    in_clear(boende, "c-old", ANNA)
    post(boende, "application_granted", "c-old", "2021-03-01")
    post(boende, "delay_reason_recorded", "c-old", "2021-03-02", note="Ringde")
    in_clear(boende, "c-old2", CARL)
    post(boende, "application_granted", "c-old2", "2021-03-01")  # no note
    records = {r.case_id: r for r in scan_cases(boende.app)}
    keys = person_keys_of(boende.app)
    assert records["c-old"].key_id == keys.key_id_of(ANNA)
    assert records["c-old"].last_fact_on == date(2021, 3, 2)
    assert records["c-old2"].key_id is None
    outcome = rights.erase(boende, ANNA, OFFICER)
    assert outcome.cases == ["c-a1", "c-a2", "c-old"]
    assert outcome.in_clear == 1
    assert rights.applicant_of(boende, "c-old") is not None  # in clear: stays
