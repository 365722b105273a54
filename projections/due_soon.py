"""Decisions due soon: granted, not yet executed or ended, and still within
their three months, but with the deadline within the next N days — so that
officers act before an IVO report is due (``projections.unexecuted`` has
the rule and the read model).

On day D, a decision is **due within N days** when it is neither executed
nor ended on or before D, its deadline is on or after D (it is not yet
unexecuted past three months: that list is ``unexecuted``), and the deadline
is no later than D + N. ``days_left`` is the deadline minus D: 0 means the
deadline is today, the last day on which executing is in time.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from infra.views import Sql
from projections.base import END_OF_TIME
from projections.unexecuted import ONE_DAY, Reference, _grants

#: The most and the fewest days a deadline lies after its decision: three
#: calendar months are 89 to 92 days (``three_month_deadline``; checked by
#: a test).
DEADLINE_AFTER_AT_MOST = 92
DEADLINE_AFTER_AT_LEAST = 89


def due_soon(
    sql: Sql,
    as_of: date,
    within_days: int,
    reference: Reference,
    known_at: str | None = None,
) -> list[dict[str, Any]]:
    """The decisions due within ``within_days`` of ``as_of``, the nearest
    deadline first."""
    # A deadline is 89 to 92 days after its decision (three calendar
    # months): decisions before ``since`` cannot still be within theirs, and
    # those after ``until`` have theirs after ``last``.
    last = as_of + timedelta(days=within_days)
    since = as_of - timedelta(days=DEADLINE_AFTER_AT_MOST)
    until = min(as_of, last - timedelta(days=DEADLINE_AFTER_AT_LEAST))
    grants = _grants(sql, until, as_of + ONE_DAY, known_at, since)
    due = [
        g
        for g in grants
        if g.resolved_on is None or g.resolved_on > as_of
        if as_of <= g.deadline <= last
    ]
    reasons = _delay_reasons(sql, as_of, known_at, [g.case_id for g in due])
    return [
        {
            "reference": reference(g.case_id),
            "decided_on": g.decided_on.isoformat(),
            "deadline": g.deadline.isoformat(),
            "days_left": (g.deadline - as_of).days,
            "days_waiting": (as_of - g.decided_on).days,
            "intervention": g.intervention,
            "gender": g.gender,
            "delay_reason": reasons.get(g.case_id),
        }
        for g in sorted(due, key=lambda g: (g.deadline, g.decided_on, g.case_id))
    ]


def _delay_reasons(
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
