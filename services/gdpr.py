"""Personal data rights over the case log: find a person's cases, read an
applicant, erase on request (GDPR art. 17) and purge after the retention
period (*gallring*).

Erasing deletes the person's data key (``infra.person_keys``): their
personnummer and name, sealed in every filing, become unreadable, while every
fact, count and audit proof stays as it was. Each erasure is itself recorded,
as ``personal_data_erased`` on every affected case (who, when, which rule).

The order makes a rerun finish an interrupted one: the erasure facts are
recorded first, then the key is deleted, then any case that took the same key
meanwhile (a filing racing the erasure) gets its fact too.

The retention purge also deletes *orphan* keys: keys no filing in the log
was sealed under (a batch stores its keys before its events, and the events
may then fail to save, or a retried filing be refused), and that no batch
has made or used for ``ORPHAN_KEY_GRACE``, so a batch in flight keeps its
key. An orphan has no case to carry a ``personal_data_erased`` fact and no
ciphertext that its deletion changes, so it is recorded as a count: each
purge appends one row to ``person_key_purges`` (when, who, both cutoffs, how
many keys of expired cases and how many orphans), in the same transaction
as the orphans' deletion (``infra.person_key_table``).
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import TYPE_CHECKING, Any

from eventsourcing.application import AggregateNotFoundError
from eventsourcing.persistence import IntegrityError
from eventsourcing.utils import get_topic

from domain.case import HousingCase, case_id_to_uuid
from domain.errors import NotFound
from domain.facts import Stamp
from domain.personnummer import parse_personnummer
from infra import crypto
from infra.person_key_table import KeyPurge
from infra.person_keys import PersonKeys, person_keys_of
from infra.signing import utc_timestamp
from infra.store import CaseLog
from projections.audit import CASE_FACTS

if TYPE_CHECKING:
    from services.bootstrap import Boende

log = logging.getLogger(__name__)

#: Who erases, in the audit trail: the committee that holds the cases.
ERASING_COMMITTEE = "IFN"
SAVE_ATTEMPTS = 3
#: How long a key no filing was sealed under is kept after a batch last made
#: or used it: far longer than any batch takes from storing keys to saving.
ORPHAN_KEY_GRACE = timedelta(days=1)
_PAGE = 1000
_FILED = get_topic(HousingCase.Filed)


@dataclass
class CaseRecord:
    """What erasure needs to know of one case, from its facts."""

    case_id: str
    key_id: str | None  # None: applicant recorded in clear, before encryption
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
    """Erase one person's data on their request: every case of theirs. Cases
    recorded before encryption hold the number in clear and cannot be
    shredded: they are counted in ``in_clear`` for a manual decision."""
    keys = person_keys_of(boende.app)
    canonical = _canonical(boende, personnummer)
    key_id = keys.key_id_of(canonical)
    outcome = Erasure("request", in_clear=_in_clear(boende.app, canonical))
    if key_id is not None:
        deleted = _shred(boende, keys, {key_id}, outcome, erased_by)
        _record_late(boende, deleted, outcome, erased_by)
    return outcome


def purge(
    boende: Boende,
    before: date | None,
    erased_by: str,
    now: datetime | None = None,
) -> Erasure:
    """Erase the personal data of every person whose cases all had their last
    fact before ``before`` (default: ``retention_years`` before today). A
    person with a newer case keeps their key. ``before`` may not be later
    than the default: data inside the retention period is never purged.
    Keys of no case, unused for ``ORPHAN_KEY_GRACE`` before ``now``
    (default: the clock), are deleted too, and the purge is recorded in
    ``person_key_purges`` (module docstring)."""
    cutoff = retention_cutoff(boende.service.today(), boende.settings.retention_years)
    before = before or cutoff
    if before > cutoff:
        raise ValueError(
            f"--before {before} is inside the retention period of "
            f"{boende.settings.retention_years} years; the latest allowed is {cutoff}"
        )
    records = scan_cases(boende.app)
    outcome = Erasure("retention", in_clear=sum(not r.key_id for r in records))
    newest: dict[str, date] = {}
    for record in records:
        if record.key_id:
            newest[record.key_id] = max(
                newest.get(record.key_id, record.last_fact_on), record.last_fact_on
            )
    expired = {key_id for key_id, last in newest.items() if last < before}
    keys = person_keys_of(boende.app)
    deleted = _shred(boende, keys, expired, outcome, erased_by, records)
    deleted |= _purge_orphans(keys, records, outcome, erased_by, before, now)
    _record_late(boende, deleted, outcome, erased_by)
    return outcome


def retention_cutoff(today: date, years: int) -> date:
    """``years`` before ``today`` (28 February for a 29 February)."""
    try:
        return today.replace(year=today.year - years)
    except ValueError:
        return today.replace(year=today.year - years, day=28)


def scan_cases(app: CaseLog) -> list[CaseRecord]:
    """Every case, from its facts in the log, in filing order."""
    cases: dict[str, CaseRecord] = {}
    for event in _events(app, [get_topic(c) for c in CASE_FACTS]):
        if isinstance(event, HousingCase.Filed):
            key_id = event.applicant.get("key_id")
            cases[event.case_id] = CaseRecord(event.case_id, key_id, event.occurred_on)
        elif isinstance(event, HousingCase.PersonalDataErased):
            cases[event.case_id].erased = True
        else:
            record = cases[event.case_id]
            record.last_fact_on = max(record.last_fact_on, event.occurred_on)
    return list(cases.values())


# -- the steps -------------------------------------------------------------------


def _shred(
    boende: Boende,
    keys: PersonKeys,
    key_ids: set[str],
    outcome: Erasure,
    erased_by: str,
    records: list[CaseRecord] | None = None,
) -> set[str]:
    """Record the erasure on the cases under ``key_ids``, then delete the
    keys; the keys deleted."""
    key_ids = key_ids & keys.table.key_ids()
    _record_on(boende, records or scan_cases(boende.app), key_ids, outcome, erased_by)
    deleted = keys.erase(key_ids)
    outcome.keys_deleted += len(deleted)
    return deleted


def _purge_orphans(
    keys: PersonKeys,
    records: list[CaseRecord],
    outcome: Erasure,
    erased_by: str,
    before: date,
    now: datetime | None,
) -> set[str]:
    """Delete the keys no filing was sealed under and no batch has made or
    used for ``ORPHAN_KEY_GRACE``, and record this purge; the keys deleted."""
    now = now or datetime.now(UTC)
    unused_before = utc_timestamp(now - ORPHAN_KEY_GRACE)
    sealed_under = {record.key_id for record in records}
    orphans = keys.table.unused_before(unused_before) - sealed_under
    entry = KeyPurge(
        purged_at=utc_timestamp(now),
        purged_by=erased_by,
        rule=outcome.rule,
        cases_before=before.isoformat(),
        unused_before=unused_before,
        case_keys_deleted=outcome.keys_deleted,
    )
    deleted = keys.table.delete_unused(orphans, unused_before, entry)
    outcome.orphan_keys_deleted = len(deleted)
    return deleted


def _record_late(
    boende: Boende, deleted: set[str], outcome: Erasure, erased_by: str
) -> None:
    """Record the erasure on any case that took one of the ``deleted`` keys
    while they were being deleted (a filing racing the erasure)."""
    if deleted:
        _record_on(boende, scan_cases(boende.app), deleted, outcome, erased_by)


def _record_on(
    boende: Boende,
    records: list[CaseRecord],
    key_ids: set[str],
    outcome: Erasure,
    erased_by: str,
) -> None:
    for record in records:
        if record.key_id in key_ids and not record.erased:
            _record_erasure(boende, record.case_id, outcome.rule, erased_by)
            record.erased = True
            outcome.cases.append(record.case_id)


def _record_erasure(boende: Boende, case_id: str, rule: str, erased_by: str) -> None:
    """Append ``personal_data_erased`` to the case through the store; a lost
    race with a submission for the same case is retried."""
    today = boende.service.today()
    for attempt in range(1, SAVE_ATTEMPTS + 1):
        stamp = Stamp(str(uuid.uuid4()), ERASING_COMMITTEE, erased_by, today, today)
        case = _load(boende.app, case_id)
        case.record_personal_data_erased(stamp, rule, erased_by)
        try:
            boende.app.save(case)
            return
        except IntegrityError:
            if attempt == SAVE_ATTEMPTS:
                raise
            log.info("case changed while recording its erasure; retrying")


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


def _events(app: CaseLog, topics: list[str]) -> Iterator[Any]:
    """The domain events of ``topics``, in log order."""
    start = 1
    while True:
        page = app.recorder.select_notifications(start, _PAGE, topics=topics)
        for notification in page:
            yield app.mapper.to_domain_event(notification)
        if len(page) < _PAGE:
            return
        start = page[-1].id + 1
