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
from projections.unexecuted import (
    DEADLINE_AFTER_AT_LEAST,
    DEADLINE_AFTER_AT_MOST,
    ONE_DAY,
    Reference,
    _grants,
    delay_reasons_of,
)


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
    reasons = delay_reasons_of(sql, as_of, known_at, [g.case_id for g in due])
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
