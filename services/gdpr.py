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
"""

from __future__ import annotations

import logging
import sys
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import date
from typing import TYPE_CHECKING, Any

from eventsourcing.application import AggregateNotFoundError
from eventsourcing.persistence import IntegrityError
from eventsourcing.utils import get_topic

from domain.case import HousingCase, case_id_to_uuid
from domain.errors import NotFound
from domain.facts import Stamp
from domain.personnummer import parse_personnummer
from infra import crypto
from infra.person_keys import PersonKeys, person_keys_of
from infra.store import CaseLog
from projections.audit import CASE_FACTS

if TYPE_CHECKING:
    from services.bootstrap import Boende

log = logging.getLogger(__name__)

#: Who erases, in the audit trail: the committee that holds the cases.
ERASING_COMMITTEE = "IFN"
SAVE_ATTEMPTS = 3
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
    keys_deleted: int = 0
    cases: list[str] = field(default_factory=list)  # erasure facts recorded
    in_clear: int = 0  # cases that hold their applicant unencrypted


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
        _shred(boende, keys, {key_id}, outcome, erased_by)
    return outcome


def purge(boende: Boende, before: date | None, erased_by: str) -> Erasure:
    """Erase the personal data of every person whose cases all had their last
    fact before ``before`` (default: ``retention_years`` before today). A
    person with a newer case keeps their key. ``before`` may not be later
    than the default: data inside the retention period is never purged."""
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
    _shred(boende, person_keys_of(boende.app), expired, outcome, erased_by, records)
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
) -> None:
    """Record the erasure on the cases under ``key_ids``, delete the keys,
    then record it on any case that took one of them meanwhile."""
    key_ids = key_ids & keys.table.key_ids()
    _record_on(boende, records or scan_cases(boende.app), key_ids, outcome, erased_by)
    deleted = keys.erase(key_ids)
    outcome.keys_deleted += len(deleted)
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


# -- ``boende gdpr erase|purge`` ---------------------------------------------------


def add_gdpr_commands(commands: Any) -> None:
    """Add ``gdpr erase`` and ``gdpr purge`` to ``boende``'s parser."""
    gdpr = commands.add_parser("gdpr", help="personal data: erase, purge")
    actions = gdpr.add_subparsers(dest="action", required=True)
    erasing = actions.add_parser("erase", help="erase one person's data on request")
    erasing.add_argument(
        "--personnummer",
        required=True,
        help="the person's number; '-' reads it from stdin (keeps it out of "
        "the shell history and the process list)",
    )
    erasing.add_argument("--by", required=True, help="who erases (user id)")
    erasing.set_defaults(run=_erase_command)
    purging = actions.add_parser("purge", help="erase data past the retention period")
    purging.add_argument(
        "--before",
        type=date.fromisoformat,
        help="cases whose last fact is before this date (default: "
        "BOENDE_RETENTION_YEARS before today; never later)",
    )
    purging.add_argument("--by", required=True, help="who purges (user id)")
    purging.set_defaults(run=_purge_command)


def _erase_command(args: Any) -> int:
    number = sys.stdin.readline().strip() if args.personnummer == "-" else None
    return _run(lambda b: erase(b, number or args.personnummer, args.by))


def _purge_command(args: Any) -> int:
    return _run(lambda b: purge(b, args.before, args.by))


def _run(act: Callable[[Boende], Erasure]) -> int:
    from infra.settings import Settings
    from services.bootstrap import bootstrap

    boende = bootstrap(Settings())
    try:
        outcome = act(boende)
    except ValueError as error:
        print(f"refused: {error}", file=sys.stderr)
        return 2
    finally:
        boende.close()
    print(
        f"erased ({outcome.rule}): {outcome.keys_deleted} data key(s) deleted; "
        f"personal_data_erased recorded on {len(outcome.cases)} case(s)"
    )
    if outcome.in_clear:
        print(f"warning: {outcome.in_clear} case(s) hold their applicant in clear")
    return 0
