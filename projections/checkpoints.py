"""Counts as known at a past moment, from copies of the running totals, so
that a ``known_at`` answer reads a bounded number of rows however long the
log is (``projections.counts``).

After every :data:`EVERY`-th counted fact (in log order) the monthly
running totals (``projections.monthly_totals``) are copied whole into
``counts_checkpoint_totals``: checkpoint P holds, per key and month, the
facts at positions up to P. Beside it, ``counts_checkpoints`` keeps

- ``recorded_max``, the latest recorded time of those facts, and
- ``after_min``, the earliest recorded time of any fact after P (lowered as
  later facts arrive; :data:`END_OF_TIME` while none has).

The facts matching "``occurred_on <= D`` and ``recorded_at <= T``" are then

- every fact up to the latest checkpoint P with ``recorded_max <= T``: the
  copy's totals at the month before D's, and those in D's own month from the
  facts table;
- plus the matching facts after P, which all lie before the first checkpoint
  after P whose ``after_min`` is later than T (no fact after it was recorded
  by T): fewer than :data:`EVERY` while clocks move forward, and read by
  position.

Recorded times follow log order on one host (the counts handler clamps each
aggregate's, but two writing hosts' clocks may disagree); ``after_min``
keeps the answer exact when they do not, at the cost of reading further.
Checkpoints fall on counted facts, not on batches, so every replay of the
log, however batched, builds identical rows.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from infra.views import Sql
from projections.base import END_OF_TIME
from projections.monthly_totals import month_before, named

#: Counted facts between two checkpoints: at most this many facts are read
#: for a ``known_at`` answer besides its month's (while clocks agree), and
#: each checkpoint copies the running totals (keys x months rows).
EVERY = 50_000

TABLES = {
    "counts_checkpoints": (
        "CREATE TABLE IF NOT EXISTS counts_checkpoints ("
        "position BIGINT PRIMARY KEY, recorded_max TEXT NOT NULL, "
        "after_min TEXT NOT NULL, horizon TEXT NOT NULL)"
    ),
    "counts_checkpoint_totals": (
        "CREATE TABLE IF NOT EXISTS counts_checkpoint_totals ("
        "position BIGINT NOT NULL, month TEXT NOT NULL, key_id BIGINT NOT NULL, "
        "n BIGINT NOT NULL, PRIMARY KEY (position, month, key_id))"
    ),
    "counts_fact_number": (
        "CREATE TABLE IF NOT EXISTS counts_fact_number ("
        "id INTEGER PRIMARY KEY CHECK (id = 1), facts BIGINT NOT NULL)"
    ),
}


def facts_before(sql: Sql) -> int:
    """How many facts have been counted so far."""
    row = sql.one("SELECT facts FROM counts_fact_number WHERE id = 1")
    return int(row["facts"]) if row else 0


def counted(sql: Sql, facts: int) -> None:
    """Remember that ``facts`` facts have been counted."""
    sql.execute(
        "INSERT INTO counts_fact_number VALUES (1, ?) ON CONFLICT (id) "
        "DO UPDATE SET facts = excluded.facts",
        [facts],
    )


def recorded_after(sql: Sql, earliest: str) -> None:
    """Facts recorded at ``earliest`` or later were counted after every
    checkpoint taken so far."""
    sql.execute(
        "UPDATE counts_checkpoints SET after_min = ? WHERE after_min > ?",
        [earliest, earliest],
    )


def take(sql: Sql, position: int) -> None:
    """A checkpoint at ``position``: the running totals as they are now, with
    every fact up to ``position`` counted and none after it."""
    sql.execute(
        "INSERT INTO counts_checkpoints (position, recorded_max, after_min, "
        "horizon) SELECT ?, r.recorded_at, ?, h.month FROM counts_last_recorded r, "
        "counts_horizon h WHERE r.id = 1 AND h.id = 1",
        [position, END_OF_TIME],
    )
    sql.execute(
        "INSERT INTO counts_checkpoint_totals (position, month, key_id, n) "
        "SELECT ?, month, key_id, n FROM counts_monthly",
        [position],
    )


def up_to(sql: Sql, as_of: date, known_at: str) -> list[dict[str, Any]]:
    """Facts up to ``as_of`` recorded by ``known_at``, per rollup key (rows
    of the key's columns and ``n``; a key may come in several rows)."""
    month_start = f"{as_of:%Y-%m}-01"
    latest = sql.one(
        "SELECT position, horizon FROM counts_checkpoints WHERE recorded_max <= ? "
        "ORDER BY position DESC LIMIT 1",
        [known_at],
    )
    start = int(latest["position"]) if latest else 0
    rows: list[dict[str, Any]] = []
    if latest is not None:
        rows += named(
            sql,
            "SELECT key_id, n FROM counts_checkpoint_totals "
            "WHERE position = ? AND month = ?",
            [start, min(month_before(as_of), latest["horizon"])],
        )
    # The facts of as_of's own month, wherever they lie in the log.
    rows += _facts(
        sql,
        "occurred_on >= ? AND occurred_on <= ? AND recorded_at <= ?",
        [month_start, as_of.isoformat(), known_at],
    )
    # Those of earlier months after the checkpoint, recorded by known_at.
    end = sql.one(
        "SELECT position FROM counts_checkpoints WHERE position > ? "
        "AND after_min > ? ORDER BY position LIMIT 1",
        [start, known_at],
    )
    within = "" if end is None else f"AND position <= {int(end['position'])} "
    rows += _facts(
        sql,
        f"position > ? {within}AND occurred_on < ? AND recorded_at <= ?",
        [start, month_start, known_at],
    )
    return rows


def _facts(sql: Sql, where: str, params: list[Any]) -> list[dict[str, Any]]:
    """The facts matching ``where``, counted per rollup key."""
    return named(
        sql,
        f"SELECT key_id, COUNT(*) AS n FROM counts_facts WHERE {where} GROUP BY key_id",
        params,
    )
