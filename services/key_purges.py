"""``GET /v1/audit/purges`` (``auditor``): the record of every retention
purge (*gallring*) of personal-data keys.

A purge's deletions of case keys are also facts in the log
(``personal_data_erased`` on each case), but keys of no case (orphans, see
``services.gdpr``) have no case to carry one: the append-only table
``person_key_purges`` (``infra.person_key_schema``), one row per purge run,
is their only record. This endpoint is the auditors' way to read it: when,
who, the rule, both cutoffs and the counts. The table holds no key ids,
person references or personnummer, so neither does the answer.

Filtered by UTC day of ``purged_at`` and paged by id exactly as the access
log is (``services.day_pages``).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields
from typing import Any

from eventsourcing.persistence import PersistenceError
from fastapi import APIRouter

from infra.person_key_table import KeyTable
from infra.person_keys import person_keys_of
from services.api_deps import BoendeDep
from services.day_pages import PAGE_RESPONSES, DayPage, DayPageDep
from services.errors import StoreUnavailable


@dataclass(frozen=True)
class PurgeRun:
    """One recorded purge run: counts and cutoffs, nothing of any person."""

    id: int
    purged_at: str  # UTC, like 2024-05-01T12:00:00.000000Z
    purged_by: str  # who ran it (``boende gdpr purge --by``)
    rule: str  # "retention"
    cases_before: str  # ISO date: keys of cases whose last fact was earlier
    unused_before: str  # UTC: keys of no case, unused since earlier
    case_keys_deleted: int
    orphan_keys_deleted: int


_COLUMNS = ", ".join(f.name for f in fields(PurgeRun))


def purge_runs(table: KeyTable, page: DayPage) -> list[PurgeRun]:
    """The purge runs of ``page`` (up to ``page.fetch``), oldest first."""
    where, params = page.conditions("purged_at")
    with table.transaction(commit=False) as sql:
        rows = sql.all(
            f"SELECT {_COLUMNS} FROM person_key_purges WHERE {' AND '.join(where)} "
            "ORDER BY id LIMIT ?",
            [*params, page.fetch],
        )
    return [PurgeRun(**row) for row in rows]


router = APIRouter(prefix="/v1/audit", tags=["audit"])


@router.get(
    "/purges",
    summary="The retention purges of personal-data keys: when, who, how many",
    responses=PAGE_RESPONSES,
)
def purges(boende: BoendeDep, page: DayPageDep) -> dict[str, Any]:
    """Purge runs after id ``after``, oldest first, on the UTC days ``from``
    to ``to`` (of ``purged_at``). Each entry: ``id``, ``purged_at``,
    ``purged_by``, ``rule``, ``cases_before`` (keys of cases whose last fact
    was before this day were deleted), ``unused_before`` (keys of no case
    unused since before this time were deleted), ``case_keys_deleted`` and
    ``orphan_keys_deleted``. ``next_after`` is the next page's ``after``, or
    null when nothing more matches."""
    table = person_keys_of(boende.app).table
    try:
        found = purge_runs(table, page)
    except PersistenceError:
        raise StoreUnavailable("the purge record is unreachable") from None
    return page.answer([asdict(run) for run in found])
