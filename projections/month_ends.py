"""Month-end snapshots of what lasts a while (a household in a contract, an
apartment in the stock), so that an answer for a day reads one month's rows
and a month of changes however long the log is, instead of every interval
ever recorded (``projections.tenancies`` keeps three: the households living
in a contract, the apartments in stock and the contracts lived in with
their rents; ``projections.households`` and ``projections.rents`` read
them).

Each interval is half-open, ``[start, end)`` (an end on or before a day
means gone that day). A snapshot holds, per month and key (the columns the
answers group by), how many intervals contained the month's last day. It
is dense: a key has a row for every month from the first month it changed
to the horizon (``<table>_span`` lists every month from the earliest
change's to the latest's); after the horizon nothing changes, so the
horizon's rows hold for every later month.

An interval adds one from the month it starts, and takes it away again from
the month its end reaches (its end, or its start if the end was dated
earlier: such an interval never holds a day, as the scan says). Rebuilds
and live runs apply the same changes, batched per key and month, so they
build identical rows.

Only for what is recorded now: an answer as known at a past moment reads
the intervals themselves (their recorded times are not in the snapshot).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any, ClassVar

from infra.views import Sql

Key = tuple[Any, ...]
Shifts = Counter[tuple[Key, str]]


def month_of(day: str) -> str:
    """``2025-04`` of an ISO day."""
    return day[:7]


@dataclass(frozen=True)
class MonthEnd:
    """A snapshot ``table`` of ``columns`` (name and SQL type), counted from
    the intervals in ``source`` (a ``FROM`` clause) whose key is ``keys``
    (expressions, in the order of ``columns``) from ``start`` to ``end``."""

    table: str
    columns: tuple[tuple[str, str], ...]
    source: str
    keys: tuple[str, ...]
    start: str
    end: str

    @property
    def names(self) -> str:
        return ", ".join(name for name, _ in self.columns)

    @property
    def tables(self) -> dict[str, str]:
        declared = "".join(f"{name} {kind} NOT NULL, " for name, kind in self.columns)
        return {
            self.table: (
                f"CREATE TABLE IF NOT EXISTS {self.table} ({declared}"
                f"month TEXT NOT NULL, n BIGINT NOT NULL, "
                f"PRIMARY KEY ({self.names}, month))"
            ),
            f"{self.table}_span": (
                f"CREATE TABLE IF NOT EXISTS {self.table}_span (month TEXT PRIMARY KEY)"
            ),
            # A replay's changes, staged until it ends (``Snapshotting``).
            f"{self.table}_pending": (
                f"CREATE TABLE IF NOT EXISTS {self.table}_pending ({declared}"
                "month TEXT NOT NULL, n BIGINT NOT NULL)"
            ),
        }

    @property
    def indexes(self) -> list[str]:
        # Covers an answer's read of a month: no row looked up.
        return [
            f"CREATE INDEX IF NOT EXISTS {self.table}_by_month "
            f"ON {self.table} (month, {self.names}, n)"
        ]

    def change(
        self, shifts: Shifts, key: Key, start: str, end: str | None, sign: int
    ) -> None:
        """Count an interval (``sign`` 1) or take it back (-1) in ``shifts``:
        one from its start's month on, minus one from its end's."""
        shifts[key, month_of(start)] += sign
        if end is not None:
            shifts[key, month_of(max(start, end))] -= sign

    def apply(self, sql: Sql, shifts: Shifts) -> None:
        """Add each (key, month) change to that month and every later one.

        The batch's changes are folded per key first, so each of a key's
        months is written once, found by its primary key, however many of
        its months the batch changed (a replay's batch of ten thousand facts
        changes a key in several)."""
        # Every (key, month) touched, even where the batch's changes cancel:
        # the rows a key has must not depend on how the log was batched
        # (a rebuild, a live run and a Kafka-fed run build the same tables).
        if not shifts:
            return
        by_key: dict[Key, Counter[str]] = {}
        for (key, month), n in shifts.items():
            by_key.setdefault(key, Counter())[month] += n
        first = min(month for _, month in shifts)
        last = max(month for _, month in shifts)
        self._cover(sql, first, last)
        span = self._span(sql)
        assert span is not None, "covered just now"
        months = months_between(first, span[1])
        rows: list[list[Any]] = []
        for key, added in sorted(by_key.items()):
            total = 0
            for month in months[months.index(min(added)) :]:
                total += added.get(month, 0)
                rows.append([*key, month, total])
        marks = ", ".join("?" * len(self.columns))
        sql.executemany(
            f"INSERT INTO {self.table} ({self.names}, month, n) "
            f"VALUES ({marks}, ?, ?) ON CONFLICT ({self.names}, month) "
            f"DO UPDATE SET n = {self.table}.n + excluded.n",
            rows,
        )

    def stage(self, sql: Sql, shifts: Shifts) -> None:
        """Keep ``shifts`` for :meth:`flush` (a replay's batch): one row per
        (key, month), in the batch's own transaction, so a batch rolled back
        takes its changes with it."""
        marks = ", ".join("?" * len(self.columns))
        sql.executemany(
            f"INSERT INTO {self.table}_pending ({self.names}, month, n) "
            f"VALUES ({marks}, ?, ?)",
            [[*key, month, n] for (key, month), n in sorted(shifts.items())],
        )

    def flush(self, sql: Sql) -> None:
        """Apply every staged change at once (each (key, month) summed over
        the whole replay, each of a key's months written once), then forget
        them. The rows are those applying them batch by batch would build:
        the changes add up, and every (key, month) staged is touched."""
        staged = Counter[tuple[Key, str]]()
        for row in sql.all(
            f"SELECT {self.names}, month, SUM(n) AS n FROM {self.table}_pending "
            f"GROUP BY {self.names}, month"
        ):
            key = tuple(row[name] for name, _ in self.columns)
            staged[key, row["month"]] += int(row["n"])
        self.apply(sql, staged)
        sql.execute(f"DELETE FROM {self.table}_pending")

    def _span(self, sql: Sql) -> tuple[str, str] | None:
        row = sql.one(
            f"SELECT MIN(month) AS low, MAX(month) AS high FROM {self.table}_span"
        )
        return None if row is None or row["low"] is None else (row["low"], row["high"])

    def _cover(self, sql: Sql, first: str, last: str) -> None:
        """Extend the months listed to ``first`` .. ``last``; a month after
        the horizon starts as a copy of the horizon's rows."""
        span = self._span(sql)
        low, high = span or (first, first)
        for month in months_between(first, last if span is None else low):
            if span is None or month < low:
                sql.execute(f"INSERT INTO {self.table}_span VALUES (?)", [month])
        for month in months_between(high, last) if span else []:
            if month > high:
                sql.execute(f"INSERT INTO {self.table}_span VALUES (?)", [month])
                sql.execute(
                    f"INSERT INTO {self.table} ({self.names}, month, n) "
                    f"SELECT {self.names}, ?, n FROM {self.table} WHERE month = ?",
                    [month, high],
                )

    def counted(
        self, sql: Sql, first: date, last: date, grouped: tuple[str, ...]
    ) -> list[dict[str, Any]]:
        """Per value of the ``grouped`` columns, the intervals holding at
        least one day from ``first`` to ``last`` (``n``): the snapshot at
        the end of the month before ``first``'s, less those gone by
        ``first``, plus those begun after it until ``last`` (summed by the
        engine, in one statement)."""
        before = first.replace(day=1) - timedelta(days=1)  # that month's last day
        month, span = month_of(before.isoformat()), self._span(sql)
        if span is None or month < span[0]:
            month = ""  # before every change: nothing held yet
        elif month > span[1]:
            month = span[1]  # nothing changed after the horizon
        exprs = dict(zip((name for name, _ in self.columns), self.keys, strict=True))
        chosen = "".join(f"{name}, " for name in grouped)
        picked = "".join(f"{exprs[name]} AS {name}, " for name in grouped)
        cut, day, end = before.isoformat(), first.isoformat(), last.isoformat()
        start, stop = self.start, self.end
        return sql.all(
            f"SELECT {chosen}SUM(n) AS n FROM ("
            f"SELECT {chosen}n FROM {self.table} WHERE month = ? "
            # held at the cut, gone by ``first``
            f"UNION ALL SELECT {picked}-1 AS n FROM {self.source} "
            f"WHERE {stop} > ? AND {stop} <= ? AND {start} <= ? "
            # begun after the cut, by ``last``, still there on ``first``
            f"UNION ALL SELECT {picked}1 AS n FROM {self.source} "
            f"WHERE {start} > ? AND {start} <= ? "
            f"AND NOT ({stop} IS NOT NULL AND {stop} <= ?)"
            f") changes {'GROUP BY ' + ', '.join(grouped) if grouped else ''} "
            "HAVING SUM(n) <> 0",
            [month, cut, day, cut, cut, end, day],
        )


def months_between(first: str, last: str) -> list[str]:
    """Every month from ``first`` to ``last`` (``YYYY-MM``), both included."""
    year, month = int(first[:4]), int(first[5:7])
    out = []
    while f"{year:04d}-{month:02d}" <= last:
        out.append(f"{year:04d}-{month:02d}")
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return out


class Snapshotting:
    """For a projection that keeps month-end snapshots (its ``snapshots``):
    a batch's changes applied at its end, or, during a rebuild's replay,
    staged and applied once when the replay ends (``finish_replay``). A
    replay's batches change the same keys and months again and again: a
    key's months up to the horizon were rewritten for every batch, most of
    a rebuild of ``tenancies``."""

    snapshots: ClassVar[tuple[MonthEnd, ...]]
    replaying = False

    def start_replay(self) -> None:
        self.replaying = True

    def finish_replay(self, sql: Sql) -> None:
        self.replaying = False
        for snapshot in self.snapshots:
            snapshot.flush(sql)

    def apply_shifts(self, sql: Sql, shifts: dict[MonthEnd, Shifts]) -> None:
        for snapshot, changes in shifts.items():
            if self.replaying:
                snapshot.stage(sql, changes)
            else:
                snapshot.apply(sql, changes)
