"""Monthly running totals of the counts rollup, so that an ``as_of`` answer
reads a few dozen rows however long the log is (``projections.counts``).

``counts_monthly`` keeps, per rollup key (``counts_keys``: kind, type,
reason, state, prev_state), the number of facts in that month and all months
before it. It is dense: a key has a row for every month from its first
fact's month to the horizon (the latest month of any fact,
``counts_horizon``), so the answer for day D is the totals of the month
before D's plus the daily rows of D's own month (``counts_daily``, by key
id). A fact in month m adds to its key's totals from m on; a month after
the horizon copies the horizon's totals forward. Facts never lie after today (the domain
refuses them), so the horizon never passes the current month.

A key's id comes from its text, so every replay of the log, however batched,
builds identical rows.
"""

from __future__ import annotations

import hashlib
from collections import Counter
from datetime import date
from typing import Any

from infra.views import Sql

#: The rollup key: what a fact is, and the case it moves (gender,
#: intervention and basis; empty for apartments and before a grant).
KEY_COLUMNS = (
    "kind",
    "type",
    "reason",
    "state",
    "prev_state",
    "gender",
    "intervention",
    "basis",
)
KEY = ", ".join(KEY_COLUMNS)
Key = tuple[str, ...]

TABLES = {
    "counts_keys": (
        "CREATE TABLE IF NOT EXISTS counts_keys ("
        "key_id BIGINT PRIMARY KEY, "
        + "".join(f"{column} TEXT NOT NULL, " for column in KEY_COLUMNS)
        + f"first_month TEXT NOT NULL, UNIQUE ({KEY}))"
    ),
    "counts_monthly": (
        "CREATE TABLE IF NOT EXISTS counts_monthly ("
        "month TEXT NOT NULL, key_id BIGINT NOT NULL, n BIGINT NOT NULL, "
        "PRIMARY KEY (month, key_id))"
    ),
    "counts_horizon": (
        "CREATE TABLE IF NOT EXISTS counts_horizon ("
        "id INTEGER PRIMARY KEY CHECK (id = 1), month TEXT NOT NULL)"
    ),
}


def add(sql: Sql, added: Counter[tuple[Key, str]]) -> None:
    """Add ``added`` (key, month -> facts) to the monthly running totals,
    keeping them dense from each key's first month to the horizon.

    A batch's facts are folded per key first, so each (key, month) row is
    written once per batch, found by its primary key: a fact in month m
    adds to every month from m on, and a batch has many keys and months."""
    horizon = _advance_horizon(sql, max(month for _, month in added))
    keys = {
        tuple(r[column] for column in KEY_COLUMNS): (
            int(r["key_id"]),
            r["first_month"],
        )
        for r in sql.all(f"SELECT key_id, first_month, {KEY} FROM counts_keys")
    }
    by_key: dict[int, Counter[str]] = {}
    for (key, month), n in sorted(added.items()):
        key_id, first = keys.get(key, (id_of(key), None))
        if first is None:
            sql.execute(
                f"INSERT INTO counts_keys (key_id, {KEY}, first_month) "
                f"VALUES (?, {', '.join('?' for _ in KEY_COLUMNS)}, ?)",
                [key_id, *key, month],
            )
            _zero_rows(sql, key_id, month, _months_after(month, horizon))
        elif month < first:
            sql.execute(
                "UPDATE counts_keys SET first_month = ? WHERE key_id = ?",
                [month, key_id],
            )
            _zero_rows(sql, key_id, month, _months_after(month, first)[:-1])
        keys[key] = (key_id, min(month, first or month))
        by_key.setdefault(key_id, Counter())[month] += n
    earliest = min(month for _, month in added)
    span = [earliest, *_months_after(earliest, horizon)]
    sql.executemany(
        "UPDATE counts_monthly SET n = n + ? WHERE month = ? AND key_id = ?",
        [
            (total, month, key_id)
            for key_id, months in sorted(by_key.items())
            for month, total in _running(months, span)
        ],
    )


def _advance_horizon(sql: Sql, latest: str) -> str:
    """The horizon moved on to ``latest`` if that is later, every key's
    totals copied forward into the months between; the horizon after."""
    row = sql.one("SELECT month FROM counts_horizon WHERE id = 1")
    horizon = row["month"] if row else None
    if horizon is not None and latest <= horizon:
        return str(horizon)
    if horizon is not None:
        for month in _months_after(horizon, latest):
            sql.execute(
                "INSERT INTO counts_monthly (month, key_id, n) "
                "SELECT ?, key_id, n FROM counts_monthly WHERE month = ?",
                [month, horizon],
            )
    sql.execute(
        "INSERT INTO counts_horizon VALUES (1, ?) ON CONFLICT (id) "
        "DO UPDATE SET month = excluded.month",
        [latest],
    )
    return latest


def _running(added: Counter[str], span: list[str]) -> list[tuple[str, int]]:
    """What each month's running total gains from ``added`` (month -> facts):
    the facts of that month and all before it, for each month of ``span``
    (consecutive months up to the horizon) from the earliest of ``added``."""
    total = 0
    gains: list[tuple[str, int]] = []
    for month in span[span.index(min(added)) :]:
        total += added.get(month, 0)
        gains.append((month, total))
    return gains


def id_of(key: Key) -> int:
    """A rollup key's id: from its text, so that every replay of the log,
    however batched, builds identical rows."""
    digest = hashlib.sha256("|".join(key).encode()).digest()
    return int.from_bytes(digest[:7], "big")


def _zero_rows(sql: Sql, key_id: int, first: str, later: list[str]) -> None:
    sql.executemany(
        "INSERT INTO counts_monthly (month, key_id, n) VALUES (?, ?, 0)",
        [[month, key_id] for month in [first, *later]],
    )


def _months_after(month: str, last: str) -> list[str]:
    """The months (``YYYY-MM``) after ``month`` up to ``last``, inclusive."""
    year, number = int(month[:4]), int(month[5:])
    months: list[str] = []
    while True:
        year, number = (year + 1, 1) if number == 12 else (year, number + 1)
        text = f"{year:04d}-{number:02d}"
        if text > last:
            return months
        months.append(text)


def up_to(sql: Sql, as_of: date) -> list[dict[str, Any]]:
    """Facts up to ``as_of`` per rollup key: the running totals at the end of
    the month before, and the daily rows of ``as_of``'s own month."""
    row = sql.one("SELECT month FROM counts_horizon WHERE id = 1")
    month = f"{as_of:%Y-%m}"
    if row is None:
        return []
    if month > row["month"]:  # no fact after the horizon: its totals are all
        return _totals_at(sql, row["month"])
    return [
        *_totals_at(sql, month_before(as_of)),
        *named(
            sql,
            "SELECT key_id, SUM(n) AS n FROM counts_daily "
            "WHERE occurred_on >= ? AND occurred_on <= ? GROUP BY key_id",
            [f"{month}-01", as_of.isoformat()],
        ),
    ]


def month_before(day: date) -> str:
    """The month (``YYYY-MM``) before ``day``'s."""
    if day.month == 1:
        return f"{day.year - 1}-12"
    return f"{day.year}-{day.month - 1:02d}"


def _totals_at(sql: Sql, month: str) -> list[dict[str, Any]]:
    return named(sql, "SELECT key_id, n FROM counts_monthly WHERE month = ?", [month])


def named(sql: Sql, per_key_id: str, params: list[Any]) -> list[dict[str, Any]]:
    """The rows of ``per_key_id`` (a statement answering ``key_id`` and
    ``n``) with their key's columns instead of its id. Grouping by the id
    and naming the groups after costs a third of grouping by the columns."""
    return sql.all(
        f"SELECT {KEY}, g.n AS n FROM ({per_key_id}) g "
        "JOIN counts_keys k ON k.key_id = g.key_id",
        params,
    )
