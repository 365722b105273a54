"""Contract counts and flows: the executive board's core figures.

Two tables. ``counts_facts`` holds one row per case or apartment fact: the
state after it, the state before it, its effective date and recorded time.
``counts_daily`` rolls those rows up per effective day, type, reason and
state change, kept by upsert-increment in the same transaction.

Each fact moves one aggregate from ``prev_state`` to ``state``, and a case's
(or apartment's) facts never go back in effective date (the domain refuses
it) nor in recorded time (the handler clamps it), so the facts that match
"``occurred_on <= D`` and ``recorded_at <= T``" are a prefix of every
aggregate's history. The number in state S is then the matching facts into S
minus those out of S: a sum over the small daily rollup when ``T`` is now,
one filtered pass over the facts for a past ``known_at``. A report presented
on a past day is reproducible after late registrations. Flows count facts
per period by effective date.

So that an ``as_of`` answer reads a few dozen rows however long the log is,
the rollup also keeps running totals per month (``projections.monthly_totals``).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from datetime import date
from typing import Any

from domain.apartment import Apartment
from domain.case import CaseState, HousingCase
from infra.views import Sql
from projections import monthly_totals
from projections.base import END_OF_TIME, Projection, Recorded
from projections.monthly_totals import KEY as _KEY
from projections.monthly_totals import Key

__all__ = ["END_OF_TIME", "counts", "flows"]

CASE_STATES = [s.value for s in CaseState]
APARTMENT_STATES = ["available", "occupied", "returned", "transferred"]
FLOW_TYPES = {
    "application_filed": "filed",
    "application_granted": "granted",
    "application_rejected": "rejected",
    "application_withdrawn": "withdrawn",
    "contract_executed": "executed",
    "converted_to_first_hand": "converted",
    "contract_terminated": "terminated",
    "grant_cancelled": "cancelled",
}
#: Per counted event class: the kind of aggregate and its state after the fact.
STATE_AFTER: dict[type, tuple[str, str]] = {
    HousingCase.Filed: ("case", "filed"),
    HousingCase.Withdrawn: ("case", "withdrawn"),
    HousingCase.Granted: ("case", "granted"),
    HousingCase.Rejected: ("case", "rejected"),
    HousingCase.GrantCancelled: ("case", "cancelled"),
    HousingCase.ContractExecuted: ("case", "executed"),
    HousingCase.ConvertedToFirstHand: ("case", "converted"),
    HousingCase.ContractTerminated: ("case", "terminated"),
    Apartment.Acquired: ("apartment", "available"),
    Apartment.Returned: ("apartment", "returned"),
    Apartment.Occupied: ("apartment", "occupied"),
    Apartment.Vacated: ("apartment", "available"),
    Apartment.Transferred: ("apartment", "transferred"),
}
#: Facts that start an aggregate's history: nothing before them to look up.
FIRST_FACTS = (HousingCase.Filed, Apartment.Acquired)
#: Facts whose ``reason`` is one of a fixed list (DOMAIN.md), never free text.
ENUMERATED_REASONS = (HousingCase.ContractTerminated, HousingCase.GrantCancelled)
_ROLLUP_KEY = f"occurred_on, {_KEY}"


class Counts(Projection):
    name = "counts"
    # 2: one facts table with prev_state and the daily rollup (was one table
    # per aggregate kind, with free-text reasons). 3: monthly running totals.
    version = 3
    retired_tables = ("counts_case_facts", "counts_apartment_facts")
    tables = {
        "counts_facts": (
            "CREATE TABLE IF NOT EXISTS counts_facts ("
            "position BIGINT PRIMARY KEY, kind TEXT NOT NULL, "
            "aggregate_id TEXT NOT NULL, type TEXT NOT NULL, reason TEXT NOT NULL, "
            "state TEXT NOT NULL, prev_state TEXT NOT NULL, "
            "occurred_on TEXT NOT NULL, recorded_at TEXT NOT NULL)"
        ),
        "counts_daily": (
            "CREATE TABLE IF NOT EXISTS counts_daily ("
            "occurred_on TEXT NOT NULL, kind TEXT NOT NULL, type TEXT NOT NULL, "
            "reason TEXT NOT NULL, state TEXT NOT NULL, prev_state TEXT NOT NULL, "
            f"n BIGINT NOT NULL, PRIMARY KEY ({_ROLLUP_KEY}))"
        ),
        **monthly_totals.TABLES,
        "counts_last_recorded": (
            "CREATE TABLE IF NOT EXISTS counts_last_recorded ("
            "id INTEGER PRIMARY KEY CHECK (id = 1), recorded_at TEXT NOT NULL)"
        ),
    }
    indexes = [
        "CREATE INDEX IF NOT EXISTS counts_facts_by_aggregate "
        "ON counts_facts (kind, aggregate_id, position)",
        "CREATE INDEX IF NOT EXISTS counts_facts_by_day ON counts_facts (occurred_on)",
    ]

    def process(self, sql: Sql, recorded: Recorded) -> None:
        self.process_batch(sql, [recorded])

    def process_batch(self, sql: Sql, batch: Sequence[Recorded]) -> None:
        latest: dict[tuple[str, str], tuple[str, str]] = {}  # this batch's facts
        facts: list[list[Any]] = []
        daily = Counter[tuple[str, ...]]()
        for r in batch:
            counted = STATE_AFTER.get(type(r.event))
            if counted is None:
                continue
            kind, state = counted
            event = r.event
            key = (kind, event.case_id if kind == "case" else event.apartment_id)
            before = latest.get(key)
            if before is None and not isinstance(event, FIRST_FACTS):
                before = _latest_fact(sql, *key)
            prev_state, prev_recorded = before or ("", "")
            # Known no earlier than the fact before it, so that "recorded by T"
            # selects a prefix of the aggregate's history even if clocks of
            # two writing hosts disagree.
            recorded_at = max(r.recorded_at, prev_recorded)
            latest[key] = (state, recorded_at)
            # Only enumerated reasons: a rejection's or withdrawal's is free text
            # and may name a person, so it never reaches an oversight table.
            reason = event.reason if isinstance(event, ENUMERATED_REASONS) else ""
            facts.append(
                [
                    r.position,
                    kind,
                    key[1],
                    event.type_name,
                    reason,
                    state,
                    prev_state,
                    r.occurred_on,
                    recorded_at,
                ]
            )
            daily[
                (r.occurred_on, kind, event.type_name, reason, state, prev_state)
            ] += 1
        if not facts:
            return
        sql.executemany("INSERT INTO counts_facts VALUES (?,?,?,?,?,?,?,?,?)", facts)
        sql.executemany(
            f"INSERT INTO counts_daily ({_ROLLUP_KEY}, n) VALUES (?,?,?,?,?,?,?) "
            f"ON CONFLICT ({_ROLLUP_KEY}) "
            "DO UPDATE SET n = counts_daily.n + excluded.n",
            [[*k, n] for k, n in daily.items()],
        )
        monthly = Counter[tuple[Key, str]]()
        for (day, *rolled), n in daily.items():
            kind_, type_, reason_, state_, prev_ = rolled
            monthly[((kind_, type_, reason_, state_, prev_), day[:7])] += n
        monthly_totals.add(sql, monthly)
        sql.execute(
            "INSERT INTO counts_last_recorded VALUES (1, ?) ON CONFLICT (id) DO "
            "UPDATE SET recorded_at = excluded.recorded_at "
            "WHERE excluded.recorded_at > counts_last_recorded.recorded_at",
            [max(f[8] for f in facts)],
        )


def _latest_fact(sql: Sql, kind: str, aggregate_id: str) -> tuple[str, str] | None:
    row = sql.one(
        "SELECT state, recorded_at FROM counts_facts WHERE kind = ? "
        "AND aggregate_id = ? ORDER BY position DESC LIMIT 1",
        [kind, aggregate_id],
    )
    return (row["state"], row["recorded_at"]) if row else None


# -- queries ---------------------------------------------------------------


def counts(sql: Sql, as_of: date, known_at: str | None) -> dict[str, Any]:
    """Cases and apartments by state on ``as_of``, as known at ``known_at``."""
    columns = _KEY
    if _knows_all(sql, known_at):
        rows = monthly_totals.up_to(sql, as_of)
    else:
        rows = sql.all(
            f"SELECT {columns}, COUNT(*) AS n FROM counts_facts "
            f"WHERE occurred_on <= ? AND recorded_at <= ? GROUP BY {columns}",
            [as_of.isoformat(), known_at],
        )
    states = {"case": Counter[str](), "apartment": Counter[str]()}
    totals = Counter[str]()
    terminations = Counter[str]()
    for row in rows:
        n = int(row["n"])
        moved = states[row["kind"]]
        moved[row["state"]] += n
        if row["prev_state"]:
            moved[row["prev_state"]] -= n
        totals[row["type"]] += n
        if row["type"] == "contract_terminated":
            terminations[row["reason"]] += n
    by_state, apartments = states["case"], states["apartment"]
    return {
        "cases_by_state": {s: by_state[s] for s in CASE_STATES},
        "filed_total": totals["application_filed"],
        "granted_total": totals["application_granted"],
        "rejected_total": totals["application_rejected"],
        "executed_total": totals["contract_executed"],
        "converted_total": totals["converted_to_first_hand"],
        "terminated_total": totals["contract_terminated"],
        "terminations_by_reason": dict(sorted(terminations.items())),
        "apartments_by_state": {s: apartments[s] for s in APARTMENT_STATES},
    }


def _knows_all(sql: Sql, known_at: str | None) -> bool:
    """Whether ``known_at`` is no earlier than every recorded fact, so the
    rollup (which holds every fact) answers exactly."""
    if known_at is None:
        return True
    row = sql.one("SELECT recorded_at FROM counts_last_recorded WHERE id = 1")
    return row is None or known_at >= row["recorded_at"]


def flows(
    sql: Sql, start: date, end: date, period: str, known_at: str | None
) -> list[dict[str, Any]]:
    """Facts per period (by effective date) between ``start`` and ``end``."""
    month = "substr(occurred_on, 1, 7)"
    between = [start.isoformat(), end.isoformat()]
    if _knows_all(sql, known_at):
        rows = sql.all(
            f"SELECT {month} AS month, type, SUM(n) AS n FROM counts_daily "
            f"WHERE kind = 'case' AND occurred_on >= ? AND occurred_on <= ? "
            f"GROUP BY {month}, type",
            between,
        )
    else:
        rows = sql.all(
            f"SELECT {month} AS month, type, COUNT(*) AS n FROM counts_facts "
            f"WHERE kind = 'case' AND occurred_on >= ? AND occurred_on <= ? "
            f"AND recorded_at <= ? GROUP BY {month}, type",
            [*between, known_at],
        )
    buckets = {key: Counter[str]() for key in periods(start, end, period)}
    for row in rows:
        key = period_of(date.fromisoformat(row["month"] + "-01"), period)
        buckets[key][FLOW_TYPES[row["type"]]] += int(row["n"])
    return [
        {"period": key, **{name: counter[name] for name in FLOW_TYPES.values()}}
        for key, counter in buckets.items()
    ]


def period_of(day: date, period: str) -> str:
    if period == "month":
        return f"{day:%Y-%m}"
    if period == "quarter":
        return f"{day.year}Q{(day.month - 1) // 3 + 1}"
    return str(day.year)


def periods(start: date, end: date, period: str) -> list[str]:
    """Every period key from ``start`` to ``end``, in order."""
    keys: list[str] = []
    year, month = start.year, start.month
    while (year, month) <= (end.year, end.month):
        key = period_of(date(year, month, 1), period)
        if not keys or keys[-1] != key:
            keys.append(key)
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return keys
