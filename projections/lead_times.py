"""Lead times (*handläggningstider*): how long each step of a case takes.

One row per case with the effective dates of its milestones: filed, decided
(granted or rejected), granted, executed (moved in on a second-hand lease,
*verkställt*) and converted to a first-hand lease (*övertag av kontrakt*).
A grant on appeal is the case's decision: its date replaces the rejection's.

Three intervals are measured, in days between effective dates:

- ``filing_to_decision``: filed → granted or rejected;
- ``decision_to_execution``: granted → executed (the wait for an apartment);
- ``execution_to_first_hand``: executed → converted to a first-hand lease.

Each interval belongs to the period (month, quarter or year) of its *later*
date: a case decided in March counts among March's decisions, wherever it was
filed. Per period and interval the query gives the count, the median, the
90th percentile and the maximum.
"""

from __future__ import annotations

import math
import statistics
from datetime import date
from typing import Any

from domain.case import HousingCase
from infra.views import Sql
from projections.base import Recorded, handles
from projections.counts import period_of, periods
from projections.rows import Folded, FoldingProjection

#: interval name -> (column of the earlier date, column of the later date)
INTERVALS = {
    "filing_to_decision": ("filed_on", "decided_on"),
    "decision_to_execution": ("granted_on", "executed_on"),
    "execution_to_first_hand": ("executed_on", "converted_on"),
}


CASES = "lead_times_cases"


class LeadTimes(FoldingProjection):
    """Per case the effective dates of its milestones."""

    name = "lead_times"
    replay_cost = 7.0  # µs per event, make bench of 246fb0a at 1M events
    keys = {CASES: "case_id"}  # a batch's changes folded (projections.rows)
    tables = {
        CASES: (
            "CREATE TABLE IF NOT EXISTS lead_times_cases ("
            "case_id TEXT PRIMARY KEY, filed_on TEXT NOT NULL, decided_on TEXT, "
            "granted_on TEXT, executed_on TEXT, converted_on TEXT)"
        ),
    }
    # A query's (a window of later days); the handlers write by case.
    query_indexes = [
        f"CREATE INDEX IF NOT EXISTS lead_times_cases_by_{later} "
        f"ON lead_times_cases ({later})"
        for _, later in INTERVALS.values()
    ]

    @handles(HousingCase.Filed)
    def filed(self, folded: Folded, r: Recorded) -> None:
        folded[CASES].insert(r.event.case_id, filed_on=r.occurred_on)

    @handles(HousingCase.Rejected)
    def rejected(self, folded: Folded, r: Recorded) -> None:
        self._set(folded, r, "decided_on")

    @handles(HousingCase.Granted)
    def granted(self, folded: Folded, r: Recorded) -> None:
        self._set(folded, r, "decided_on", "granted_on")

    @handles(HousingCase.ContractExecuted)
    def executed(self, folded: Folded, r: Recorded) -> None:
        self._set(folded, r, "executed_on")

    @handles(HousingCase.ConvertedToFirstHand)
    def converted(self, folded: Folded, r: Recorded) -> None:
        self._set(folded, r, "converted_on")

    @staticmethod
    def _set(folded: Folded, r: Recorded, *columns: str) -> None:
        folded[CASES].update(r.event.case_id, **dict.fromkeys(columns, r.occurred_on))


# -- queries ---------------------------------------------------------------


def lead_times(sql: Sql, start: date, end: date, period: str) -> list[dict[str, Any]]:
    """Per period from ``start`` to ``end``: each interval's count, median,
    90th percentile and maximum in days (``None`` where the count is 0).

    An interval is counted when its later date lies within ``start``..``end``
    (both inclusive), in the period of that later date.
    """
    days_by_period: dict[str, dict[str, list[int]]] = {
        key: {name: [] for name in INTERVALS} for key in periods(start, end, period)
    }
    for name, (earlier, later) in INTERVALS.items():
        for row in sql.all(
            f"SELECT {earlier} AS earlier, {later} AS later FROM lead_times_cases "
            f"WHERE {later} >= ? AND {later} <= ? AND {earlier} IS NOT NULL",
            [start.isoformat(), end.isoformat()],
        ):
            later_day = date.fromisoformat(row["later"])
            days = (later_day - date.fromisoformat(row["earlier"])).days
            days_by_period[period_of(later_day, period)][name].append(days)
    return [
        {"period": key, **{name: summary(days) for name, days in intervals.items()}}
        for key, intervals in days_by_period.items()
    ]


def summary(days: list[int]) -> dict[str, Any]:
    """Count, median, 90th percentile and maximum of ``days``.

    The median is the middle value, or the mean of the two middle values when
    the count is even (so it may be a half day, e.g. 15.5). The 90th percentile is the
    *nearest-rank* one: the smallest value that at least 90% of the values are
    less than or equal to, i.e. the ``ceil(0.9 * count)``-th smallest value. It
    is always one of the observed values, never interpolated.
    """
    if not days:
        return {"count": 0, "median_days": None, "p90_days": None, "max_days": None}
    ordered = sorted(days)
    median = statistics.median(ordered)
    return {
        "count": len(ordered),
        "median_days": int(median) if median == int(median) else median,
        "p90_days": ordered[math.ceil(0.9 * len(ordered)) - 1],
        "max_days": ordered[-1],
    }
