"""Month-end snapshots of who lives in a social contract, so that a
households answer (``projections.households``) reads one month's rows and
a month of changes however long the log is, instead of every tenancy ever
executed.

``tenancy_household_months`` holds, per month and household group (the
applicant's gender and birth year, adults, children), how many households
lived in an executed contract on the month's last day: moved in on or
before it and the contract not ended on or before it (a tenancy is the
half-open ``[executed_on, ended_on)``, ``projections.tenancies``). It is
dense: a group has a row for every month from the first month it changed
to the horizon (``tenancy_months`` lists every month from the earliest
fact's to the latest's); after the horizon nothing changes, so the
horizon's rows hold for every later month.

A tenancy adds one from the month it began, and takes it away again from
the month its end reaches (its end, or its beginning if the end was dated
earlier: such a contract is never lived in, as the scan says). Rebuilds and
live runs apply the same changes, batched per group and month, so they
build identical rows.

Only for what is recorded now: an answer as known at a past moment reads
the tenancies themselves (``projections.households``).
"""

from __future__ import annotations

from collections import Counter
from datetime import date, timedelta
from typing import Any

from infra.views import Sql

#: A household group: (gender, birth_year, adults, children).
Group = tuple[str, int, int, int]
GROUP_COLUMNS = ("gender", "birth_year", "adults", "children")
_GROUP = ", ".join(GROUP_COLUMNS)
_SAME_GROUP = " AND ".join(f"{column} = ?" for column in GROUP_COLUMNS)

TABLES = {
    "tenancy_household_months": (
        "CREATE TABLE IF NOT EXISTS tenancy_household_months ("
        "gender TEXT NOT NULL, birth_year INTEGER NOT NULL, "
        "adults INTEGER NOT NULL, children INTEGER NOT NULL, "
        "month TEXT NOT NULL, n BIGINT NOT NULL, "
        f"PRIMARY KEY ({_GROUP}, month))"
    ),
    "tenancy_months": (
        "CREATE TABLE IF NOT EXISTS tenancy_months (month TEXT PRIMARY KEY)"
    ),
}
INDEXES = [
    # Covers the answer's read of a month: no row looked up.
    "CREATE INDEX IF NOT EXISTS tenancy_household_months_by_month "
    f"ON tenancy_household_months (month, {_GROUP}, n)",
    # The tenancies whose end falls in a month: the answer's correction.
    "CREATE INDEX IF NOT EXISTS tenancies_ending ON tenancies (ended_on, "
    "executed_on, gender, birth_year, adults, children)",
]


def month_of(day: str) -> str:
    """``2025-04`` of an ISO day."""
    return day[:7]


def change(
    shifts: Counter[tuple[Group, str]],
    group: Group,
    executed_on: str,
    ended_on: str | None,
    sign: int,
) -> None:
    """Count a tenancy (``sign`` 1) or take it back (-1) in ``shifts``:
    one from its beginning's month on, minus one from its end's."""
    shifts[group, month_of(executed_on)] += sign
    if ended_on is not None:
        shifts[group, month_of(max(executed_on, ended_on))] -= sign


def apply(sql: Sql, shifts: Counter[tuple[Group, str]]) -> None:
    """Add each (group, month) change to that month and every later one."""
    changed = [(key, n) for key, n in sorted(shifts.items()) if n]
    if not changed:
        return
    _cover(sql, min(m for (_, m), _ in changed), max(m for (_, m), _ in changed))
    for (group, month), n in changed:
        sql.execute(
            f"INSERT INTO tenancy_household_months ({_GROUP}, month, n) "
            "SELECT ?, ?, ?, ?, month, 0 FROM tenancy_months WHERE month >= ? "
            "ON CONFLICT DO NOTHING",
            [*group, month],
        )
        sql.execute(
            f"UPDATE tenancy_household_months SET n = n + ? "
            f"WHERE {_SAME_GROUP} AND month >= ?",
            [n, *group, month],
        )


def _cover(sql: Sql, first: str, last: str) -> None:
    """Extend the months listed to ``first`` .. ``last``; a month after the
    horizon starts as a copy of the horizon's rows."""
    row = sql.one("SELECT MIN(month) AS low, MAX(month) AS high FROM tenancy_months")
    if row is None or row["high"] is None:
        for month in _months(first, last):
            sql.execute("INSERT INTO tenancy_months VALUES (?)", [month])
        return
    low: str = row["low"]
    high: str = row["high"]
    for month in _months(first, low):
        if month < low:
            sql.execute("INSERT INTO tenancy_months VALUES (?)", [month])
    for month in _months(high, last):
        if month > high:
            sql.execute("INSERT INTO tenancy_months VALUES (?)", [month])
            sql.execute(
                f"INSERT INTO tenancy_household_months ({_GROUP}, month, n) "
                f"SELECT {_GROUP}, ?, n FROM tenancy_household_months "
                "WHERE month = ?",
                [month, high],
            )


def _months(first: str, last: str) -> list[str]:
    """Every month from ``first`` to ``last`` (``YYYY-MM``), both included."""
    year, month = int(first[:4]), int(first[5:7])
    out = []
    while f"{year:04d}-{month:02d}" <= last:
        out.append(f"{year:04d}-{month:02d}")
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return out


def living(sql: Sql, first: date, last: date) -> list[dict[str, Any]]:
    """Households per group living on at least one day from ``first`` to
    ``last`` (``n``), as everything recorded says: the snapshot at the end
    of the month before ``first``'s, less those that left by ``first``,
    plus those that moved in after it until ``last`` (summed by the engine,
    in one statement)."""
    before = first.replace(day=1) - timedelta(days=1)  # that month's last day
    row = sql.one("SELECT MIN(month) AS low, MAX(month) AS high FROM tenancy_months")
    month = month_of(before.isoformat())
    if row is None or row["low"] is None or month < row["low"]:
        month = ""  # before every fact: nobody lived anywhere yet
    elif month > row["high"]:
        month = row["high"]  # nothing changed after the horizon
    cut, day, end = before.isoformat(), first.isoformat(), last.isoformat()
    return sql.all(
        f"SELECT {_GROUP}, SUM(n) AS n FROM ("
        f"SELECT {_GROUP}, n FROM tenancy_household_months WHERE month = ? "
        # lived there at the cut, left by ``first``
        f"UNION ALL SELECT {_GROUP}, -1 AS n FROM tenancies "
        "WHERE ended_on > ? AND ended_on <= ? AND executed_on <= ? "
        # moved in after the cut, by ``last``, still there on ``first``
        f"UNION ALL SELECT {_GROUP}, 1 AS n FROM tenancies "
        "WHERE executed_on > ? AND executed_on <= ? "
        "AND NOT (ended_on IS NOT NULL AND ended_on <= ?)"
        f") changes GROUP BY {_GROUP} HAVING SUM(n) <> 0",
        [month, cut, day, cut, cut, end, day],
    )


def group_of(row: dict[str, Any]) -> Group:
    """A row's household group."""
    return (
        row["gender"],
        int(row["birth_year"]),
        int(row["adults"]),
        int(row["children"]),
    )
