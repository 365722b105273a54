"""The three-month rule's days (``projections.unexecuted`` says how
Boende applies it): the deadline of a decision, whether it is unexecuted
on a day or was resolved in time, and a granted decision as a query knows
it (``Grant``)."""

from __future__ import annotations

import calendar
import functools
import re
from dataclasses import dataclass
from datetime import date, timedelta

ONE_DAY = timedelta(days=1)
#: The most and the fewest days a deadline lies after its decision: three
#: calendar months are 89 to 92 days (``three_month_deadline``; checked by
#: a test).
DEADLINE_AFTER_AT_MOST = 92
DEADLINE_AFTER_AT_LEAST = 89


@functools.lru_cache(maxsize=8192)  # a list asks it thousands of times a call
def three_month_deadline(decided_on: date) -> date:
    """The last day on which executing the decision is still in time: the
    decision day three calendar months later, or that month's last day when
    it is shorter (31 January → 30 April; 30 November → 28/29 February)."""
    months = decided_on.year * 12 + decided_on.month - 1 + 3
    year, month = divmod(months, 12)
    last_day = calendar.monthrange(year, month + 1)[1]
    return date(year, month + 1, min(decided_on.day, last_day))


def is_unexecuted_on(day: date, decided_on: date, resolved_on: date | None) -> bool:
    """Whether the decision counts as unexecuted past three months on ``day``:
    ``day`` is after the deadline and the decision was not executed or ended
    (``resolved_on``) on or before ``day``."""
    if day <= three_month_deadline(decided_on):
        return False
    return resolved_on is None or resolved_on > day


def is_resolved_in_time(decided_on: date, resolved_on: date | None) -> bool:
    """Whether the decision was executed or ended (``resolved_on``) on or
    before its deadline: then it is never reported."""
    return resolved_on is not None and resolved_on <= three_month_deadline(decided_on)


@dataclass(frozen=True)
class Grant:
    """One granted decision, as far as it was known at the query's time."""

    case_id: str
    decided_on: date
    intervention: str
    gender: str
    executed_on: date | None
    ended_on: date | None
    end_kind: str | None
    end_reason: str | None

    @property
    def deadline(self) -> date:
        return three_month_deadline(self.decided_on)

    @property
    def resolved_on(self) -> date | None:
        return self.executed_on or self.ended_on

    def resolved_in_time(self) -> bool:
        return is_resolved_in_time(self.decided_on, self.resolved_on)

    def unexecuted_on(self, day: date) -> bool:
        return is_unexecuted_on(day, self.decided_on, self.resolved_on)

    def status_on(self, day: date) -> str:
        """``executed``, how it ended (``cancelled``), or ``unexecuted``."""
        if self.executed_on is not None and self.executed_on <= day:
            return "executed"
        if self.ended_on is not None and self.ended_on <= day:
            return self.end_kind or "ended"
        return "unexecuted"


def quarter_bounds(quarter: str) -> tuple[date, date]:
    """First and last day of a quarter written ``2021Q3``; ``ValueError``
    for anything else."""
    match = re.fullmatch(r"(\d{4})Q([1-4])", quarter)
    if match is None:
        raise ValueError(f"{quarter!r} is not a quarter like 2021Q3")
    year, number = int(match[1]), int(match[2])
    last_month = number * 3
    last_day = calendar.monthrange(year, last_month)[1]
    return date(year, last_month - 2, 1), date(year, last_month, last_day)


def report_section(grant: Grant, start: date, end: date) -> str | None:
    """Where a decision belongs in the report of the quarter ``start`` to ``end``:

    - ``new``: its first day past the deadline falls in the quarter and it was
      not executed or ended on or before the deadline;
    - ``earlier_resolved``: it was past its deadline and unexecuted before the
      quarter began (so reported in an earlier quarter) and was executed or
      ended during the quarter;
    - ``earlier_standing``: the same, but still unexecuted at quarter end;
    - ``None``: not in this quarter's report.
    """
    first_late_day = grant.deadline + ONE_DAY
    if first_late_day > end or grant.resolved_in_time():
        return None
    if first_late_day >= start:
        return "new"
    if not grant.unexecuted_on(start - ONE_DAY):
        return None  # resolved in an earlier quarter, already reported then
    return "earlier_standing" if grant.unexecuted_on(end) else "earlier_resolved"
