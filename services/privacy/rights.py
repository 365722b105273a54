"""Personal data rights over the case log: find a person's cases, read an
applicant, erase on request (GDPR art. 17) and purge after the retention
period (*gallring*).

Erasing deletes the person's data key (``infra.person_keys``): their
personnummer and name, sealed in every filing, become unreadable, while every
fact, count and audit proof stays as it was. Each erasure is itself recorded,
as ``personal_data_erased`` on every affected case (who, when, which rule).

Keys are deleted first, and the facts recorded after, for what was actually
deleted: every run, erase or purge, ends with a *sweep* that records the
fact on each case whose key no longer exists and that has none yet. So the
next run finishes one that stopped between deleting keys and recording them,
and a filing sealed under a key that was deleted before its save landed gets
its fact too, from this run or the next. The sweep records under its own
run's rule and user, whichever run deleted the key. Cases recorded before
encryption have no key: they are counted (``in_clear``), never marked.

The retention purge deletes the key of a person whose cases all ended before
its cutoff only if no batch has made or used it since the purge started: a
person who files while it runs keeps their key, and their older cases stay
readable under it. (A batch that sealed under the key just before the purge
started, and whose events are saved only after the purge read the log, is
not seen: its key goes with the rest, and the sweep records the erasure on
its case.)

The purge also deletes *orphan* keys: keys no filing in the log was sealed
under (a batch stores its keys before its events, and the events may then
fail to save, or a retried filing be refused), and that no batch has made or
used for ``ORPHAN_KEY_GRACE``, so a batch in flight keeps its key. An orphan
has no case to carry a ``personal_data_erased`` fact and no ciphertext that
its deletion changes, so it is recorded as a count: each purge appends one
row to ``person_key_purges`` (when, who, both cutoffs, how many keys of
expired cases and how many orphans it deleted), in the transaction that
deletes both kinds (``infra.person_key_table``).
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any, Protocol

from eventsourcing.application import AggregateNotFoundError
from eventsourcing.persistence import IntegrityError
from eventsourcing.utils import get_topic

from domain.case import HousingCase, case_id_to_uuid
from domain.errors import NotFound
from domain.facts import Stamp
from domain.personnummer import parse_personnummer
from infra import crypto
from infra.person_key_table import KeyPurge, UnusedKeys
from infra.person_keys import PersonKeys, person_keys_of
from infra.settings import Settings
from infra.signing import utc_timestamp
from infra.store import CaseLog
from projections.audit import CASE_FACTS


class _Clock(Protocol):
    def today(self) -> date: ...


class Boende(Protocol):
    """What the rights need of a running Boende (``services.bootstrap``): the
    case log, the settings and the municipality's today. A protocol, so this
    capability does not import the composition root that builds it."""

    @property
    def settings(self) -> Settings: ...

    @property
    def app(self) -> CaseLog: ...

    @property
    def service(self) -> _Clock: ...


log = logging.getLogger(__name__)

#: Who erases, in the audit trail: the committee that holds the cases.
ERASING_COMMITTEE = "IFN"
SAVE_ATTEMPTS = 3
#: How long a key no filing was sealed under is kept after a batch last made
#: or used it: far longer than any batch takes from storing keys to saving.
ORPHAN_KEY_GRACE = timedelta(days=1)
_PAGE = 1000
_FILED = get_topic(HousingCase.Filed)
_ERASED = HousingCase.PersonalDataErased.type_name

#: Told how a purge goes: the step it is on, how many more of the step's
#: items are done, and how many the step has in all.
Steps = Callable[[str, int, int | None], None]
Told = Callable[[int], None] | None
#: A purge's steps, and what each counts: log positions (which may have gaps
#: on PostgreSQL), then cases.
STEPS = ("reading the case log", "reading the case log again", "recording erasures")
STEP_UNITS = dict(zip(STEPS, ("positions", "positions", "cases"), strict=True))


@dataclass
class CaseRecord:
    """What erasure needs to know of one case, from its facts."""

    case_id: str
    #: None: applicant recorded in clear, before encryption, and no note
    #: sealed since (a note on such a case is sealed under a key of its own)
    key_id: str | None
    last_fact_on: date  # the latest effective date of its facts (not erasures)
    erased: bool = False


@dataclass
class Erasure:
    """The outcome of one erasure or purge."""

    rule: str
    keys_deleted: int = 0  # keys of cases: their erasure is on each case
    cases: list[str] = field(default_factory=list)  # erasure facts recorded
    in_clear: int = 0  # cases that hold their applicant unencrypted
    orphan_keys_deleted: int = 0  # keys of no case (purge only)
    #: Of ``cases``, those whose key was gone before this run: a run that
    #: stopped before recording, or a filing saved after its key's erasure.
    earlier: int = 0


def cases_of(boende: Boende, personnummer: str) -> list[str]:
    """The case ids of ``personnummer`` (any accepted form) whose personal
    data is still held, in filing order: the officers' look-up, through the
    keyed hash of the number, never the number itself."""
    keys = person_keys_of(boende.app)
    key_id = keys.key_id_of(_canonical(boende, personnummer))
    if key_id is None:
        return []
    return [
        event.case_id
        for event in _events(boende.app, [_FILED])
        if crypto.is_sealed(event.applicant) and event.applicant["key_id"] == key_id
    ]


def applicant_of(boende: Boende, case_id: str) -> dict[str, Any] | None:
    """The applicant of ``case_id`` (``personnummer``, ``name``), or ``None``
    once erased. The read path for officers; who may call it, and the access
    log, belong to the callers."""
    case = _load(boende.app, case_id)
    return person_keys_of(boende.app).decrypt_applicant(case.applicant, case_id)


def erase(boende: Boende, personnummer: str, erased_by: str) -> Erasure:
    """Erase one person's data on their request: every case of theirs, one
    filed a moment ago too (their key is deleted however recently a batch
    used it). Cases recorded before encryption hold the number in clear and
    cannot be shredded: they are counted in ``in_clear`` for a manual
    decision."""
    keys = person_keys_of(boende.app)
    canonical = _canonical(boende, personnummer)
    key_id = keys.key_id_of(canonical)
    outcome = Erasure("request", in_clear=_in_clear(boende.app, canonical))
    deleted = keys.erase({key_id}) if key_id is not None else set()
    outcome.keys_deleted = len(deleted)
    _sweep(boende, keys, deleted, outcome, erased_by)
    return outcome


def purge(
    boende: Boende,
    before: date | None,
    erased_by: str,
    now: datetime | None = None,
    on_progress: Steps | None = None,
) -> Erasure:
    """Erase the personal data of every person whose cases all had their last
    fact before ``before`` (default: ``retention_years`` before today). A
    person with a newer case keeps their key, and so does one who files
    while the purge runs. ``before`` may not be later than the default: data
    inside the retention period is never purged. Keys of no case, unused for
    ``ORPHAN_KEY_GRACE`` before ``now`` (default: the clock), are deleted
    too, and the purge is recorded in ``person_key_purges`` at ``now``
    (module docstring). ``on_progress`` is told how each step goes."""
    started = datetime.now(UTC)  # before the log is read: keys used since stay
    before = _purge_cutoff(boende, before)
    end = boende.app.recorder.max_notification_id() or 0
    records = scan_cases(boende.app, _step(on_progress, STEPS[0], end))
    entry = _purge_entry(before, erased_by, now or started)
    outcome = Erasure(entry.rule, in_clear=sum(not r.key_id for r in records))
    keys = person_keys_of(boende.app)
    case_keys = UnusedKeys(_expired(records, before), utc_timestamp(started))
    deleted = _delete_keys(keys, records, case_keys, entry, outcome)
    _sweep(boende, keys, deleted, outcome, erased_by, on_progress)
    return outcome


def _step(on_progress: Steps | None, step: str, total: int | None) -> Told:
    """``on_progress`` for one step of ``total`` items."""
    if on_progress is None:
        return None

    def told(n: int) -> None:
        on_progress(step, n, total)

    return told


def retention_cutoff(today: date, years: int) -> date:
    """``years`` before ``today`` (28 February for a 29 February)."""
    try:
        return today.replace(year=today.year - years)
    except ValueError:
        return today.replace(year=today.year - years, day=28)


def scan_cases(app: CaseLog, on_progress: Told = None) -> list[CaseRecord]:
    """Every case, from its facts in the log, in filing order; ``on_progress``
    is told how many more log positions were read."""
    cases: dict[str, CaseRecord] = {}
    for event in _events(app, [get_topic(c) for c in CASE_FACTS], on_progress):
        if isinstance(event, HousingCase.Filed):
            key_id = event.applicant.get("key_id")
            cases[event.case_id] = CaseRecord(event.case_id, key_id, event.occurred_on)
        elif isinstance(event, HousingCase.PersonalDataErased):
            cases[event.case_id].erased = True
        else:
            record = cases[event.case_id]
            record.last_fact_on = max(record.last_fact_on, event.occurred_on)
            note: Any = getattr(event, "note", None)
            if record.key_id is None and crypto.is_sealed(note):
                record.key_id = note["key_id"]  # a case filed in clear, noted since
    return list(cases.values())


# -- the steps -------------------------------------------------------------------


def _purge_cutoff(boende: Boende, before: date | None) -> date:
    """``before``, or the retention cutoff; refused if inside the period."""
    cutoff = retention_cutoff(boende.service.today(), boende.settings.retention_years)
    if before is not None and before > cutoff:
        raise ValueError(
            f"--before {before} is inside the retention period of "
            f"{boende.settings.retention_years} years; the latest allowed is {cutoff}"
        )
    return before or cutoff


def _expired(records: list[CaseRecord], before: date) -> frozenset[str]:
    """The keys whose cases all had their last fact before ``before``."""
    newest: dict[str, date] = {}
    for record in records:
        if record.key_id:
            last = newest.get(record.key_id, record.last_fact_on)
            newest[record.key_id] = max(last, record.last_fact_on)
    return frozenset(key_id for key_id, last in newest.items() if last < before)


def _purge_entry(before: date, erased_by: str, now: datetime) -> KeyPurge:
    """The record of a purge at ``now``, its counts still to come."""
    return KeyPurge(
        purged_at=utc_timestamp(now),
        purged_by=erased_by,
        rule="retention",
        cases_before=before.isoformat(),
        unused_before=utc_timestamp(now - ORPHAN_KEY_GRACE),
    )


def _delete_keys(
    keys: PersonKeys,
    records: list[CaseRecord],
    case_keys: UnusedKeys,
    entry: KeyPurge,
    outcome: Erasure,
) -> set[str]:
    """Delete the expired cases' keys no batch has made or used since the
    purge started (``case_keys``), and the keys no filing was sealed under
    that no batch has made or used for ``ORPHAN_KEY_GRACE``, recording the
    purge (``entry``) with them; all the keys deleted."""
    sealed_under = {record.key_id for record in records}
    orphans = keys.table.unused_before(entry.unused_before) - sealed_under
    unused = UnusedKeys(frozenset(orphans), entry.unused_before)
    of_cases, orphaned = keys.table.delete_unused(case_keys, unused, entry)
    outcome.keys_deleted, outcome.orphan_keys_deleted = len(of_cases), len(orphaned)
    return of_cases | orphaned


def _sweep(
    boende: Boende,
    keys: PersonKeys,
    deleted: set[str],
    outcome: Erasure,
    erased_by: str,
    on_progress: Steps | None = None,
) -> None:
    """Record the erasure on every case whose key is gone and that has no
    erasure yet: those of the keys this run ``deleted``, and any left over
    (module docstring)."""
    end = boende.app.recorder.max_notification_id() or 0
    reading = _step(on_progress, STEPS[1], end)
    unmarked = _unmarked_without_key(boende.app, keys, reading)
    recording = _step(on_progress, STEPS[2], len(unmarked))
    for record in unmarked:
        if _record_erasure(boende, record.case_id, outcome.rule, erased_by):
            outcome.cases.append(record.case_id)
            if record.key_id not in deleted:
                outcome.earlier += 1
        if recording is not None:
            recording(1)


def _unmarked_without_key(
    app: CaseLog, keys: PersonKeys, on_progress: Told = None
) -> list[CaseRecord]:
    """The sealed cases whose key no longer exists and that have no erasure.
    The log is read before the key table: a key is stored before any filing
    under it, so a case found whose key the table then lacks has lost it
    (the other way round, a case filed between the two reads under a new
    key would be taken for erased)."""
    records = scan_cases(app, on_progress)
    present = keys.table.key_ids()
    return [
        record
        for record in records
        if record.key_id and record.key_id not in present and not record.erased
    ]


def _record_erasure(boende: Boende, case_id: str, rule: str, erased_by: str) -> bool:
    """Append ``personal_data_erased`` to the case through the store, unless
    another run has meanwhile; a lost race with a submission for the same
    case is retried. Whether it was appended."""
    for _ in range(SAVE_ATTEMPTS - 1):
        try:
            return _save_erasure(boende, case_id, rule, erased_by)
        except IntegrityError:
            log.info("case changed while recording its erasure; retrying")
    return _save_erasure(boende, case_id, rule, erased_by)


def _save_erasure(boende: Boende, case_id: str, rule: str, erased_by: str) -> bool:
    case = _load(boende.app, case_id)
    if any(fact["type"] == _ERASED for fact in case.history):
        return False
    today = boende.service.today()
    stamp = Stamp(str(uuid.uuid4()), ERASING_COMMITTEE, erased_by, today, today)
    case.record_personal_data_erased(stamp, rule, erased_by)
    boende.app.save(case)
    return True


def _load(app: CaseLog, case_id: str) -> HousingCase:
    try:
        case: Any = app.repository.get(case_id_to_uuid(case_id))
    except AggregateNotFoundError:
        raise NotFound(f"no case {case_id}", case_id=case_id) from None
    assert isinstance(case, HousingCase)
    return case


def _in_clear(app: CaseLog, personnummer: str) -> int:
    return sum(
        not crypto.is_sealed(event.applicant)
        and event.applicant.get("personnummer") == personnummer
        for event in _events(app, [_FILED])
    )


def _canonical(boende: Boende, personnummer: str) -> str:
    """The canonical form; a ``ValueError`` (never repeating the number) if
    it is not a valid personnummer."""
    return parse_personnummer(personnummer, boende.service.today()).canonical


def _events(app: CaseLog, topics: list[str], on_progress: Told = None) -> Iterator[Any]:
    """The domain events of ``topics``, in log order; ``on_progress`` is told
    how many more log positions each page took it past (the last: to the end)."""
    start = 1
    while True:
        page = app.recorder.select_notifications(start, _PAGE, topics=topics)
        for notification in page:
            yield app.mapper.to_domain_event(notification)
        last = len(page) < _PAGE
        if on_progress is not None:
            reached = app.recorder.max_notification_id() if last else page[-1].id
            on_progress(max((reached or 0) + 1 - start, 0))
        if last:
            return
        start = page[-1].id + 1
