"""The record of every retention purge (*gallring*) of personal-data keys,
as the auditors read it (``GET /v1/audit/purges``, ``services.http.access``).

A purge's deletions of case keys are also facts in the log
(``personal_data_erased`` on each case), but keys of no case (orphans, see
``services.privacy.rights``) have no case to carry one: the append-only table
``person_key_purges`` (``infra.person_key_schema``), one row per purge run,
is their only record. The endpoint is the auditors' way to read it: when,
who, the rule, both cutoffs and the counts. The table holds no key ids,
person references or personnummer, so neither does the answer.

Filtered by UTC day of ``purged_at`` and paged by id exactly as the access
log is (``services.audit.pages``).
"""

from __future__ import annotations

from dataclasses import dataclass, fields

from infra.person_key_table import KeyTable
from services.audit.pages import DayPage


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
