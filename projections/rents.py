"""Differentiated rents and what empty apartments cost (*hyror*,
*vakanskostnad*), from the tenancies read model (``projections.tenancies``).

ALN holds the first-hand lease and pays the landlord its rent (recorded at
acquisition); the household pays ALN its own rent (recorded at execution).

- **Rents on a day**: over the apartments in stock that day (acquired, not
  yet returned or transferred), the rent ALN pays — median, lowest, highest
  and the sum per month; over those lived in that day, the rent households
  pay, and the difference household minus ALN per month, in total and per
  apartment: negative is the municipality's subsidy, positive its surcharge.
- **Vacancy in a period**: the days apartments stood available (a vacancy
  from the day it became available to the day it stopped, that day not
  counted) that fall in the period, and their cost: each vacant day costs
  the apartment's monthly rent divided by the days of its month.

Both can be answered as known at a past moment (``known_at``, a UTC text
as the read models store it): only what was recorded by then counts — an
apartment acquired, returned or transferred, a contract executed or ended,
a vacancy begun or ended — so an earlier answer is reproduced exactly.

Grouped by landlord (its organisation number when the acquisition named
one, else its name trimmed, spaces collapsed, case folded), district or the
number of rooms, or not at all. A landlord or district is named by the
spelling of its first acquisition in the log (``projections.spellings``),
the same in both figures whatever day or period is asked.
Amounts are whole kronor (SEK), rounded half to even at the end.
"""

from __future__ import annotations

import calendar
from collections import Counter, defaultdict
from collections.abc import Iterable
from datetime import date, timedelta
from typing import Any

from infra.views import Sql
from projections.base import END_OF_TIME
from projections.counts import period_of, periods
from projections.landlords import org_no_of
from projections.spellings import (
    SPELLED,
    first_spellings,
    in_shown_order,
    spelled_key,
)
from projections.tenancies import APARTMENTS_IN_STOCK, CONTRACTS_LIVED

GROUPINGS = ("none", "landlord", "district", "rooms")


def group_key(row: dict[str, Any], by: str) -> str:
    """The key ``row`` is grouped by under ``by`` (in the order shown)."""
    if by == "none":
        return ""
    if by == "rooms":
        return f"{row['rooms']:04d}"
    return spelled_key(row, by)


#: The columns a grouping needs from an apartment's row, besides the rent.
_GROUP_COLUMNS = {
    "none": (),
    "landlord": ("landlord", "landlord_org_no"),
    "district": ("district",),
    "rooms": ("rooms",),
}


#: In stock on a day as known at a moment: acquired and not yet left.
_IN_STOCK = (
    "a.acquired_on <= ? AND a.acquired_recorded_at <= ? AND NOT ("
    "a.left_on IS NOT NULL AND a.left_on <= ? AND a.left_recorded_at <= ?)"
)


def rents(
    sql: Sql, day: date, by: str, known_at: str = END_OF_TIME
) -> list[dict[str, Any]]:
    """The rents on ``day`` as known at ``known_at``, per group (one group
    without ``by``). Summed in SQL as histograms of rents (a million-event
    log holds tens of thousands of apartments), the medians read off them."""
    columns = _GROUP_COLUMNS[by]
    if known_at == END_OF_TIME:  # the month-end snapshots: a month's rows
        stock = APARTMENTS_IN_STOCK.counted(sql, day, day, (*columns, "rent"))
        lived = CONTRACTS_LIVED.counted(sql, day, day, (*columns, "rent", "charged"))
    else:
        stock, lived = _scanned(sql, day, columns, known_at)
    groups: dict[str, dict[str, list[dict[str, Any]]]] = defaultdict(
        lambda: {"stock": [], "lived": []}
    )
    for part, rows in (("stock", stock), ("lived", lived)):
        for row in rows:
            groups[group_key(row, by)][part].append(row)
    if by == "none":
        groups[""]  # the one group, also when the stock is empty
    names = _names(sql, by, known_at)
    return [
        {**_named(by, key, names), **_rents(**groups[key])}
        for key in in_shown_order(groups, names)  # rooms: no names, by number
    ]


def _scanned(
    sql: Sql, day: date, columns: tuple[str, ...], known_at: str
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """The stock's and the lived-in contracts' histograms on ``day`` as
    known at ``known_at``, from every apartment and contract."""
    text = day.isoformat()
    in_stock = [text, known_at, text, known_at]
    chosen = "".join(f"a.{column}, " for column in columns)
    grouping = "".join(f", a.{column}" for column in columns)
    stock = sql.all(
        f"SELECT {chosen}a.landlord_rent_sek AS rent, COUNT(*) AS n "
        f"FROM tenancy_apartments a WHERE {_IN_STOCK} "
        f"GROUP BY a.landlord_rent_sek{grouping}",
        in_stock,
    )
    lived = sql.all(
        f"SELECT {chosen}a.landlord_rent_sek AS rent, "
        "t.household_rent_sek AS charged, COUNT(*) AS n FROM tenancies t "
        "JOIN tenancy_apartments a ON a.apartment_id = t.apartment_id "
        "WHERE t.executed_on <= ? AND t.executed_recorded_at <= ? "
        "AND NOT (t.ended_on IS NOT NULL AND t.ended_on <= ? "
        f"AND t.ended_recorded_at <= ?) AND {_IN_STOCK} "
        f"GROUP BY a.landlord_rent_sek, t.household_rent_sek{grouping}",
        [text, known_at, text, known_at, *in_stock],
    )
    return stock, lived


def _names(sql: Sql, by: str, known_at: str) -> dict[str, str]:
    """The landlords' or districts' names (``projections.spellings``)."""
    return first_spellings(sql, by, known_at) if by in SPELLED else {}


def _named(by: str, key: str, names: dict[str, str]) -> dict[str, Any]:
    """A group's name under ``by`` (and a landlord's number, if it has one)."""
    if by == "none":
        return {}
    if by == "rooms":
        return {by: str(int(key))}
    if by == "landlord":
        return {by: names[key], "landlord_org_no": org_no_of(key)}
    return {by: names[key]}


def _rents(stock: list[dict[str, Any]], lived: list[dict[str, Any]]) -> dict[str, Any]:
    paid = Counter[int]()
    for row in stock:
        paid[int(row["rent"])] += int(row["n"])
    charged = Counter[int]()
    difference = occupied = 0
    for row in lived:
        n = int(row["n"])
        charged[int(row["charged"])] += n
        difference += n * (int(row["charged"]) - int(row["rent"]))
        occupied += n
    return {
        "apartments": paid.total(),
        "occupied": occupied,
        "aln_pays": _spread(paid),
        "households_pay": _spread(charged),
        "difference_per_month": difference,
        "difference_per_occupied_apartment": (
            round(difference / occupied) if occupied else None
        ),
    }


def _spread(amounts: Counter[int]) -> dict[str, Any]:
    """Median, lowest, highest and sum of a histogram of amounts."""
    count = amounts.total()
    if not count:
        return {"median": None, "lowest": None, "highest": None, "per_month": 0}
    ordered = sorted(amounts.items())
    middle = [_nth(ordered, (count - 1) // 2), _nth(ordered, count // 2)]
    median = sum(middle) / 2
    return {
        "median": int(median) if median == int(median) else median,
        "lowest": ordered[0][0],
        "highest": ordered[-1][0],
        "per_month": sum(value * n for value, n in ordered),
    }


def _nth(ordered: list[tuple[int, int]], index: int) -> int:
    """The ``index``-th (from 0) amount of a sorted histogram."""
    for value, n in ordered:
        if index < n:
            return value
        index -= n
    raise IndexError(index)


def vacancy(
    sql: Sql,
    start: date,
    end: date,
    period: str,
    by: str,
    today: date,
    known_at: str = END_OF_TIME,
) -> list[dict[str, Any]]:
    """Vacant apartment-days and their cost per period from ``start`` to
    ``end`` (a vacancy still open runs to ``today``), per group; as known at
    ``known_at``: a vacancy begun later is left out, one ended later is open."""
    rows = sql.all(
        "SELECT v.apartment_id, v.started_on, v.ended_on, a.landlord, "
        "a.landlord_org_no, a.district, a.rooms, a.landlord_rent_sek, "
        "CASE WHEN v.ended_recorded_at <= ? THEN v.ended_on END AS known_end "
        "FROM tenancy_vacancies v "
        "JOIN tenancy_apartments a ON a.apartment_id = v.apartment_id "
        "WHERE v.started_on <= ? AND v.started_recorded_at <= ? "
        "AND (v.ended_on IS NULL OR v.ended_on > ? OR v.ended_recorded_at > ?)",
        [known_at, end.isoformat(), known_at, start.isoformat(), known_at],
    )
    last = min(end, today)
    # [days, cost in 1/_DAY_PARTS of a krona]: exact whatever order the rows
    # come in (a float sum of day shares could round either way at .5).
    days: dict[tuple[str, str], list[int]] = defaultdict(lambda: [0, 0])
    seen: set[str] = set()
    for row in rows:
        key = group_key(row, by)
        seen.add(key)
        first = max(start, date.fromisoformat(row["started_on"]))
        ended = date.fromisoformat(row["known_end"]) if row["known_end"] else None
        stop = min(last, ended - timedelta(days=1)) if ended else last
        for month_start, month_days in _months(first, stop):
            tally = days[(period_of(month_start, period), key)]
            tally[0] += month_days
            length = calendar.monthrange(month_start.year, month_start.month)[1]
            tally[1] += row["landlord_rent_sek"] * month_days * (_DAY_PARTS // length)
    names = _names(sql, by, known_at)
    keys = in_shown_order(seen, names) if by != "none" else [""]
    return [
        {
            "period": key,
            **_named(by, group, names),
            "vacant_days": int(days[(key, group)][0]) if (key, group) in days else 0,
            "cost_sek": _kronor(days[(key, group)][1]) if (key, group) in days else 0,
        }
        for key in periods(start, end, period)
        for group in keys
    ]


#: A day's share of a month's rent in whole parts for every month's length
#: (the least common multiple of 28, 29, 30 and 31).
_DAY_PARTS = 377_580


def _kronor(parts: int) -> int:
    """``parts`` (1/_DAY_PARTS of a krona) in whole kronor, half to even."""
    whole, rest = divmod(parts, _DAY_PARTS)
    if 2 * rest > _DAY_PARTS or (2 * rest == _DAY_PARTS and whole % 2):
        return whole + 1
    return whole


def _months(first: date, last: date) -> Iterable[tuple[date, int]]:
    """(first day of the month, days from ``first`` to ``last`` in it) for
    every month the range touches; nothing when ``last`` is before ``first``."""
    day = first
    while day <= last:
        month_end = date(
            day.year, day.month, calendar.monthrange(day.year, day.month)[1]
        )
        stop = min(month_end, last)
        yield date(day.year, day.month, 1), (stop - day).days + 1
        day = stop + timedelta(days=1)
