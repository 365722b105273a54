"""The three-month rule: granted decisions not executed in time.

*Ej verkställda beslut* (the Social Services Act, *socialtjänstlagen*; 16
kap. 6 f-6 h §§ in the 2001 act): when a granted decision has not been
executed within three months of the decision day, the municipality must
report it to IVO (the Health and Social Care Inspectorate) and to the
council, every quarter, and report again when it is executed or ends.

How Boende applies the rule:

- The **decision day** is the effective date of the grant; a grant on appeal
  has its own decision day.
- The **deadline** is the decision day plus three *calendar* months; a day
  that month lacks becomes its last day (31 January → 30 April, 30 November →
  28 or 29 February, 29 February 2024 → 29 May 2024). See
  ``three_month_deadline``.
- A decision is **unexecuted past three months on day D** when D is after the
  deadline and the decision was neither executed (the client moved in) nor
  ended without execution (the grant was cancelled) on or before D. Executed
  on the deadline day itself is in time. See ``is_unexecuted_on``.
- A decision goes into the **quarterly report** of the quarter in which its
  first day past the deadline falls, unless it was executed or ended on or
  before the deadline (``is_resolved_in_time``): executed one day late is
  late. It stays in each later quarter's report until the quarter in which
  it is executed or ends. See ``report_section``.

The read model keeps one row per case (gender from the filing; decision id,
day and intervention from the grant; the execution or the end with its
reason; the recorded time of each) and every delay reason with its dates
(and, for a declined offer, the offer's day; the IVO report's reading of
them is ``projections.ivo``). Each case also holds the month it was
executed or ended in (``9999-12`` while neither), so the list for a day
reads, month by month from the day's on, only the decisions still open on
it, not every decision ever made.
It holds the case id, for internal use only: the queries hand out a
pseudonymous reference instead (``infra.keys.pseudonym``), through the
``reference`` function their caller passes.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, timedelta
from typing import Any

from domain.case import HousingCase
from infra.views import Sql
from projections.base import END_OF_TIME, Projection, Recorded, handles
from projections.month_ends import months_between
from projections.three_months import (
    DEADLINE_AFTER_AT_LEAST as DEADLINE_AFTER_AT_LEAST,
)
from projections.three_months import (
    DEADLINE_AFTER_AT_MOST as DEADLINE_AFTER_AT_MOST,
)
from projections.three_months import ONE_DAY as ONE_DAY
from projections.three_months import Grant as Grant
from projections.three_months import is_resolved_in_time as is_resolved_in_time
from projections.three_months import is_unexecuted_on as is_unexecuted_on
from projections.three_months import (
    quarter_bounds as quarter_bounds,
)
from projections.three_months import (
    report_section as report_section,
)
from projections.three_months import three_month_deadline as three_month_deadline

#: The month of a decision neither executed nor ended yet.
OPEN_MONTH = "9999-12"
#: The quarterly report's sections, in the order rows are listed.
SECTIONS = ("new", "earlier_resolved", "earlier_standing")
#: The quarterly report's columns, in order (the CSV header).
REPORT_COLUMNS = (
    "section",
    "reference",
    "decided_on",
    "deadline",
    "intervention",
    "gender",
    "delay_reason",
    "status_at_quarter_end",
    "executed_or_ended_on",
    "end_reason",
    "days_waiting",
)

Reference = Callable[[str], str]  # case id -> pseudonymous reference


class Unexecuted(Projection):
    """Per case the grant, its execution or end, and every delay reason."""

    name = "unexecuted"
    # 2: a delay reason's offered_on and event version (IVO report); 3: the
    # month a decision was executed or ended in (``resolved_month``)
    version = 3
    replay_cost = 13.0  # µs per event, make bench of 246fb0a at 1M events
    tables = {
        "unexecuted_cases": (
            "CREATE TABLE IF NOT EXISTS unexecuted_cases ("
            "case_id TEXT PRIMARY KEY, gender TEXT NOT NULL, decision_id TEXT, "
            "decided_on TEXT, intervention TEXT, decided_recorded_at TEXT, "
            "executed_on TEXT, executed_recorded_at TEXT, ended_on TEXT, "
            "end_kind TEXT, end_reason TEXT, ended_recorded_at TEXT, "
            f"resolved_month TEXT NOT NULL DEFAULT '{OPEN_MONTH}')"
        ),
        "unexecuted_delay_reasons": (
            "CREATE TABLE IF NOT EXISTS unexecuted_delay_reasons ("
            "position BIGINT PRIMARY KEY, case_id TEXT NOT NULL, "
            "reason TEXT NOT NULL, occurred_on TEXT NOT NULL, "
            "recorded_at TEXT NOT NULL, offered_on TEXT, version INTEGER)"
        ),
    }
    # Every index is a query's: the handlers write by case (primary key).
    query_indexes = [
        "CREATE INDEX IF NOT EXISTS unexecuted_cases_by_decision "
        "ON unexecuted_cases (decided_on)",
        "CREATE INDEX IF NOT EXISTS unexecuted_delay_reasons_by_case "
        "ON unexecuted_delay_reasons (case_id, position)",
        # The decisions open on a day: a range of decision days per month of
        # execution or end, from the day's month on (``unexecuted``).
        "CREATE INDEX IF NOT EXISTS unexecuted_cases_by_resolution "
        "ON unexecuted_cases (resolved_month, decided_on)",
    ]

    @handles(HousingCase.Filed)
    def filed(self, sql: Sql, r: Recorded) -> None:
        sql.execute(
            "INSERT INTO unexecuted_cases (case_id, gender) VALUES (?, ?)",
            [r.event.case_id, r.event.gender],
        )

    @handles(HousingCase.Granted)
    def granted(self, sql: Sql, r: Recorded) -> None:
        sql.execute(
            "UPDATE unexecuted_cases SET decision_id = ?, decided_on = ?, "
            "intervention = ?, decided_recorded_at = ? WHERE case_id = ?",
            [
                r.event.decision_id,
                r.occurred_on,
                r.event.intervention,
                r.recorded_at,
                r.event.case_id,
            ],
        )

    @handles(HousingCase.DelayReasonRecorded)
    def delay_reason(self, sql: Sql, r: Recorded) -> None:
        sql.execute(
            "INSERT INTO unexecuted_delay_reasons VALUES (?, ?, ?, ?, ?, ?, ?)",
            [
                *(r.position, r.event.case_id, r.event.reason),
                *(r.occurred_on, r.recorded_at, _iso(r.event)),
                r.event.originator_version,
            ],
        )

    @handles(HousingCase.ContractExecuted)
    def executed(self, sql: Sql, r: Recorded) -> None:
        sql.execute(
            "UPDATE unexecuted_cases SET executed_on = ?, executed_recorded_at = ?, "
            "resolved_month = ? WHERE case_id = ?",
            [r.occurred_on, r.recorded_at, r.occurred_on[:7], r.event.case_id],
        )

    @handles(HousingCase.GrantCancelled)
    def cancelled(self, sql: Sql, r: Recorded) -> None:
        sql.execute(
            "UPDATE unexecuted_cases SET ended_on = ?, end_kind = 'cancelled', "
            "end_reason = ?, ended_recorded_at = ?, resolved_month = CASE "
            "WHEN executed_on IS NULL THEN ? ELSE resolved_month END "
            "WHERE case_id = ?",
            [
                *(r.occurred_on, r.event.reason, r.recorded_at),
                *(r.occurred_on[:7], r.event.case_id),
            ],
        )


# -- queries ---------------------------------------------------------------


def unexecuted(
    sql: Sql, as_of: date, reference: Reference, known_at: str | None = None
) -> list[dict[str, Any]]:
    """The decisions unexecuted past three months on ``as_of``, oldest first.

    ``days_waiting`` counts from the decision day to ``as_of``; the delay
    reason is the latest recorded with an effective date on or before
    ``as_of``. With ``known_at``, facts recorded after it are left out.
    """
    # Past its deadline on the day: decided at least 90 days before it.
    decided_by = as_of - timedelta(days=DEADLINE_AFTER_AT_LEAST + 1)
    grants = (
        _grants(sql, decided_by, as_of + ONE_DAY, known_at)
        if known_at is not None
        else _open_grants(sql, decided_by, as_of)
    )
    grants = [g for g in grants if g.unexecuted_on(as_of)]
    reasons = delay_reasons_of(sql, as_of, known_at, [g.case_id for g in grants])
    return [
        {
            "reference": reference(g.case_id),
            "decided_on": g.decided_on.isoformat(),
            "deadline": g.deadline.isoformat(),
            "days_waiting": (as_of - g.decided_on).days,
            "intervention": g.intervention,
            "gender": g.gender,
            "delay_reason": reasons.get(g.case_id),
        }
        for g in grants
    ]


def quarterly_report(
    sql: Sql,
    quarter: str,
    reference: Reference,
    known_at: str | None = None,
    counted_to: date | None = None,
) -> list[dict[str, Any]]:
    """The quarter's report to IVO and the council, one row per decision with
    the columns of ``REPORT_COLUMNS``, by section, then decision day.

    Status, delay reason and ``days_waiting`` are as at quarter end:
    ``status_at_quarter_end`` is ``unexecuted``, ``executed`` or
    ``cancelled``; ``executed_or_ended_on`` and (for an end) ``end_reason``
    say when and why; ``days_waiting`` runs from the decision day to that
    date, or to the quarter's last day while still unexecuted.

    A quarter that has not ended is counted to ``counted_to`` (today) instead
    of its last day: as if the quarter ended then, so a decision whose first
    day past the deadline has not come is not in it, and status and
    ``days_waiting`` are as at ``counted_to``, never at a day to come.
    """
    start, end = quarter_bounds(quarter)
    if counted_to is not None and counted_to < end:
        if counted_to < start:
            raise ValueError(f"{quarter} has not begun on {counted_to}")
        end = counted_to
    reasons = _delay_reasons(sql, end, known_at)
    placed = [
        (SECTIONS.index(section), g)
        for g in _grants(sql, end, start, known_at)
        if (section := report_section(g, start, end)) is not None
    ]
    placed.sort(key=lambda item: item[0])  # stable: by decision day within
    return [
        _report_row(SECTIONS[index], g, end, reasons.get(g.case_id), reference)
        for index, g in placed
    ]


def _report_row(
    section: str, g: Grant, end: date, reason: str | None, reference: Reference
) -> dict[str, Any]:
    status = g.status_on(end)
    resolved_on = g.resolved_on if status != "unexecuted" else None
    return {
        "section": section,
        "reference": reference(g.case_id),
        "decided_on": g.decided_on.isoformat(),
        "deadline": g.deadline.isoformat(),
        "intervention": g.intervention,
        "gender": g.gender,
        "delay_reason": reason,
        "status_at_quarter_end": status,
        "executed_or_ended_on": resolved_on.isoformat() if resolved_on else None,
        "end_reason": g.end_reason if g.ended_on and g.ended_on <= end else None,
        "days_waiting": ((resolved_on or end) - g.decided_on).days,
    }


def _grants(
    sql: Sql,
    decided_by: date,
    resolved_from: date,
    known_at: str | None,
    decided_from: date | None = None,
) -> list[Grant]:
    """Grants decided by ``decided_by`` (and from ``decided_from``, if given)
    and not known to be executed or ended before ``resolved_from``, with
    facts recorded after ``known_at`` left out."""
    known = known_at or END_OF_TIME
    since = [] if decided_from is None else [decided_from.isoformat()]
    from_clause = "AND decided_on >= ? " if since else ""
    rows = sql.all(
        "SELECT * FROM unexecuted_cases WHERE decided_on <= ? "
        f"{from_clause}AND decided_recorded_at <= ? "
        "AND (executed_on IS NULL OR executed_on >= ? OR executed_recorded_at > ?) "
        "AND (ended_on IS NULL OR ended_on >= ? OR ended_recorded_at > ?)",
        [
            decided_by.isoformat(),
            *since,
            known,
            *[resolved_from.isoformat(), known] * 2,
        ],
    )
    grants = [_grant(row, known) for row in rows]
    # Sorted here, not in SQL: both engines must give the same order, and
    # PostgreSQL's text collation differs from SQLite's.
    return sorted(grants, key=lambda g: (g.decided_on, g.case_id))


def _open_grants(sql: Sql, decided_by: date, day: date) -> list[Grant]:
    """As :func:`_grants` with everything recorded: the grants decided by
    ``decided_by`` and neither executed nor ended on or before ``day``,
    read month of execution or end by month from ``day``'s (those still
    open included), each month's a range of decision days."""
    last = sql.one(
        "SELECT MAX(resolved_month) AS month FROM unexecuted_cases "
        "WHERE resolved_month < ?",
        [OPEN_MONTH],
    )
    first = day.isoformat()[:7]
    months = [
        *months_between(first, last["month"] if last and last["month"] else first),
        OPEN_MONTH,
    ]  # a century of months is 1,200 parameters: within both engines' limits
    after = (day + ONE_DAY).isoformat()
    rows = sql.all(
        "SELECT * FROM unexecuted_cases WHERE resolved_month IN "
        f"({', '.join('?' * len(months))}) AND decided_on <= ? "
        "AND (executed_on IS NULL OR executed_on >= ?) "
        "AND (ended_on IS NULL OR ended_on >= ?)",
        [*months, decided_by.isoformat(), after, after],
    )
    grants = [_grant(row, END_OF_TIME) for row in rows]
    return sorted(grants, key=lambda g: (g.decided_on, g.case_id))


def _grant(row: dict[str, Any], known: str) -> Grant:
    executed_on = _known_day(row["executed_on"], row["executed_recorded_at"], known)
    ended_on = _known_day(row["ended_on"], row["ended_recorded_at"], known)
    return Grant(
        case_id=row["case_id"],
        decided_on=date.fromisoformat(row["decided_on"]),
        intervention=row["intervention"],
        gender=row["gender"],
        executed_on=executed_on,
        ended_on=ended_on,
        end_kind=row["end_kind"] if ended_on else None,
        end_reason=row["end_reason"] if ended_on else None,
    )


def _iso(event: Any) -> str | None:
    """A delay reason's offer day (older messages on Kafka have none)."""
    offered_on = getattr(event, "offered_on", None)
    return offered_on.isoformat() if offered_on else None


def _known_day(day: str | None, recorded_at: str | None, known: str) -> date | None:
    """``day``, unless it was recorded after ``known`` (then not yet known)."""
    if day is None or recorded_at is None or recorded_at > known:
        return None
    return date.fromisoformat(day)


def delay_reasons_of(
    sql: Sql, on: date, known_at: str | None, cases: list[str]
) -> dict[str, str]:
    """Each of ``cases``' latest delay reason dated on or before ``on``, read
    by case (500 at a time), not over every case's reasons."""
    found: dict[str, str] = {}
    for start in range(0, len(cases), 500):
        chunk = cases[start : start + 500]
        rows = sql.all(
            "SELECT d.case_id, d.reason FROM unexecuted_delay_reasons d JOIN ("
            "SELECT case_id, MAX(position) AS last FROM unexecuted_delay_reasons "
            "WHERE occurred_on <= ? AND recorded_at <= ? "
            f"AND case_id IN ({', '.join('?' * len(chunk))}) GROUP BY case_id"
            ") latest ON d.position = latest.last",
            [on.isoformat(), known_at or END_OF_TIME, *chunk],
        )
        found |= {row["case_id"]: row["reason"] for row in rows}
    return found


def _delay_reasons(sql: Sql, on: date, known_at: str | None) -> dict[str, str]:
    """Each case's latest delay reason dated on or before ``on``."""
    rows = sql.all(
        "SELECT d.case_id, d.reason FROM unexecuted_delay_reasons d JOIN ("
        "SELECT case_id, MAX(position) AS last FROM unexecuted_delay_reasons "
        "WHERE occurred_on <= ? AND recorded_at <= ? GROUP BY case_id"
        ") latest ON d.position = latest.last",
        [on.isoformat(), known_at or END_OF_TIME],
    )
    return {row["case_id"]: row["reason"] for row in rows}
