"""The council's statistical report (*kommunfullmäktiges statistikrapport*):
counts of granted decisions by intervention, gender and time waited, read
from the three-month rule's read model (``projections.unexecuted``; this
module only reads its ``unexecuted_cases`` table).

Two measures for a quarter, counted on its **counting day** (the quarter's
last day; for a quarter still running, today):

- ``unexecuted``: decisions unexecuted past three months on the counting day
  (``projections.unexecuted.is_unexecuted_on``: past the deadline, neither
  executed nor ended on or before that day);
- ``executed_late``: decisions executed during the quarter (from its first
  day to the counting day) after their deadline.

**Months waited** are whole calendar months from the decision day: the
largest *m* such that the decision day moved *m* months on (a day the month
lacks becomes its last day, as for the deadline) is on or before the counted
day — the counting day for ``unexecuted``, the execution day for
``executed_late``. Decided 15 March: 14 June is 2 months, 15 June 3; decided
31 January: 30 April is 3 months. A decision past its deadline has waited at
least 3 months (the deadline is the decision day moved 3 months on).

**Waiting bands** are IVO's: ``3_6`` (3 to 6 whole months: from three months
up to the day before seven), ``7_9``, ``10_12``, ``13_17`` and ``18_plus``.

Nothing here names a case or a person: the answer is counts only.
"""

from __future__ import annotations

import calendar
from collections import Counter
from datetime import date

from infra.views import Sql
from projections.base import END_OF_TIME
from projections.unexecuted import is_unexecuted_on, three_month_deadline

MEASURES = ("unexecuted", "executed_late")
INTERVENTIONS = ("socialt_kontrakt", "boendesocial_insats")
GENDERS = ("woman", "man", "other", "unknown")
#: IVO's waiting bands: code -> (first, last) whole months; ``None``: no end.
BANDS: dict[str, tuple[int, int | None]] = {
    "3_6": (3, 6),
    "7_9": (7, 9),
    "10_12": (10, 12),
    "13_17": (13, 17),
    "18_plus": (18, None),
}

#: (measure, intervention, gender, band) -> decisions.
Cells = Counter[tuple[str, str, str, str]]


def months_later(day: date, months: int) -> date:
    """``day`` moved ``months`` calendar months on; a day the month lacks
    becomes its last day."""
    index = day.year * 12 + day.month - 1 + months
    year, month = divmod(index, 12)
    last = calendar.monthrange(year, month + 1)[1]
    return date(year, month + 1, min(day.day, last))


def months_waited(decided_on: date, day: date) -> int:
    """Whole calendar months from ``decided_on`` to ``day`` (see the module
    docstring); 0 before the first whole month."""
    months = (day.year - decided_on.year) * 12 + day.month - decided_on.month
    if months > 0 and months_later(decided_on, months) > day:
        months -= 1
    return max(months, 0)


def band_of(months: int) -> str | None:
    """The waiting band of ``months`` whole months; ``None`` under three."""
    for code, (first, last) in BANDS.items():
        if first <= months and (last is None or months <= last):
            return code
    return None


def council_cells(
    sql: Sql, start: date, counted_to: date, known_at: str | None = None
) -> Cells:
    """The report's counts for the quarter from ``start``, counted on
    ``counted_to``; with ``known_at``, facts recorded after it are left out."""
    known = known_at or END_OF_TIME
    rows = sql.all(
        "SELECT gender, intervention, decided_on, executed_on, "
        "executed_recorded_at, ended_on, ended_recorded_at "
        "FROM unexecuted_cases WHERE decided_on IS NOT NULL AND decided_on <= ? "
        "AND decided_recorded_at <= ?",
        [counted_to.isoformat(), known],
    )
    cells: Cells = Counter()
    for row in rows:
        decided_on = date.fromisoformat(row["decided_on"])
        executed_on = _known(row["executed_on"], row["executed_recorded_at"], known)
        ended_on = _known(row["ended_on"], row["ended_recorded_at"], known)
        key = (row["intervention"], row["gender"])
        if is_unexecuted_on(counted_to, decided_on, executed_on or ended_on):
            waited = months_waited(decided_on, counted_to)
            cells[("unexecuted", *key, _band(waited))] += 1
        if (
            executed_on is not None
            and start <= executed_on <= counted_to
            and executed_on > three_month_deadline(decided_on)
        ):
            waited = months_waited(decided_on, executed_on)
            cells[("executed_late", *key, _band(waited))] += 1
    return cells


def _band(months: int) -> str:
    band = band_of(months)
    if band is None:  # past the deadline is at least three months
        raise AssertionError(f"{months} months is under the first band")
    return band


def _known(day: str | None, recorded_at: str | None, known: str) -> date | None:
    """``day``, unless it was recorded after ``known`` (then not yet known)."""
    if day is None or recorded_at is None or recorded_at > known:
        return None
    return date.fromisoformat(day)
