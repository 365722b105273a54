"""Flows: the case facts per period (by effective date), from the counts
rollup (``projections.counts``). In detail: what the rollup also
knows per period beyond the state-changing case facts — delays and
follow-ups, apartments acquired and returned, the cancellations,
terminations, delays and follow-ups by their reason — and every case fact
per gender, intervention or basis (``by``): a fact counts in the group its
case was in at that fact, so a filing is always in ``none`` (no grant yet)
for intervention and basis. Read from the same rollup, so the details of a
period always add up to its flows."""

from __future__ import annotations

from collections import Counter
from datetime import date
from typing import Any

from infra.views import Sql
from projections.counts import CODES, FLOW_TYPES, _knows_all, period_of, periods

#: The reasons of the reasoned facts (DOMAIN.md), every one listed in flows.
FLOW_REASONS = {
    "cancelled": (
        "offer_declined",
        "own_housing_found",
        "moved_away",
        "deceased",
        "other",
    ),
    "terminated": ("eviction", "moved_out", "own_housing_found", "deceased", "other"),
    "delays": (
        "no_apartment_available",
        "offer_declined",
        "client_unreachable",
        "other",
    ),
    "follow_ups": ("on_track", "rent_arrears", "disturbance", "other"),
}
#: Every fact a flow counts: the case facts above, then the rest.
FLOW_NAMES = {
    **FLOW_TYPES,
    "delay_reason_recorded": "delays",
    "follow_up_recorded": "follow_ups",
    "apartment_acquired": "apartments_acquired",
    "apartment_returned": "apartments_returned",
}
#: The daily rollup with each row's key: what a fact is, and its case's groups.
DAILY = "counts_daily d JOIN counts_keys k ON k.key_id = d.key_id"
CASE_FLOWS = [name for t, name in FLOW_NAMES.items() if not t.startswith("apartment_")]


def flows(
    sql: Sql, start: date, end: date, period: str, known_at: str | None
) -> list[dict[str, Any]]:
    """Facts per period (by effective date) between ``start`` and ``end``."""
    month = "substr(occurred_on, 1, 7)"
    between = [start.isoformat(), end.isoformat()]
    if _knows_all(sql, known_at):
        rows = sql.all(
            f"SELECT {month} AS month, type, SUM(n) AS n FROM {DAILY} "
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
        if row["type"] not in FLOW_TYPES:
            continue  # delays and follow-ups: see projections.flows
        key = period_of(date.fromisoformat(row["month"] + "-01"), period)
        buckets[key][FLOW_TYPES[row["type"]]] += int(row["n"])
    return [
        {"period": key, **{name: counter[name] for name in FLOW_TYPES.values()}}
        for key, counter in buckets.items()
    ]


def flow_details(
    sql: Sql,
    start: date,
    end: date,
    period: str,
    known_at: str | None,
    by: str | None = None,
) -> list[dict[str, Any]]:
    """Per period (by effective date) between ``start`` and ``end``, what
    :func:`flows` leaves out: delays and follow-ups, apartments
    acquired and returned, and each reasoned fact by its reason; with ``by``,
    every case fact also per gender, intervention or basis under ``groups``."""
    month = "substr(occurred_on, 1, 7)"
    columns = f"{month} AS month, kind, type, reason" + (f", {by}" if by else "")
    grouping = f"{month}, kind, type, reason" + (f", {by}" if by else "")
    between = [start.isoformat(), end.isoformat()]
    if _knows_all(sql, known_at):
        rows = sql.all(
            f"SELECT {columns}, SUM(n) AS n FROM {DAILY} "
            f"WHERE occurred_on >= ? AND occurred_on <= ? GROUP BY {grouping}",
            between,
        )
    else:
        rows = sql.all(
            f"SELECT {columns}, COUNT(*) AS n FROM counts_facts "
            f"WHERE occurred_on >= ? AND occurred_on <= ? "
            f"AND recorded_at <= ? GROUP BY {grouping}",
            [*between, known_at],
        )
    keys = periods(start, end, period)
    buckets = {key: Counter[tuple[str, str]]() for key in keys}
    grouped = (
        {key: {code: Counter[str]() for code in CODES[by]} for key in keys}
        if by
        else {}
    )
    for row in rows:
        key = period_of(date.fromisoformat(row["month"] + "-01"), period)
        name = FLOW_NAMES.get(row["type"])
        if name is None:
            continue  # an apartment's occupancy: its case's execution counts
        n = int(row["n"])
        buckets[key][(name, row["reason"])] += n
        if by and row["kind"] == "case":
            grouped[key].setdefault(row[by], Counter())[name] += n
    answer = []
    for key, counter in buckets.items():
        totals = Counter[str]()
        for (name, _), n in counter.items():
            totals[name] += n
        extra = [
            name for name in FLOW_NAMES.values() if name not in FLOW_TYPES.values()
        ]
        out: dict[str, Any] = {"period": key, **{name: totals[name] for name in extra}}
        out["by_reason"] = {
            name: {code: counter[(name, code)] for code in codes}
            for name, codes in FLOW_REASONS.items()
        }
        if by:
            out["groups"] = {
                code: {name: c[name] for name in CASE_FLOWS}
                for code, c in grouped[key].items()
            }
        answer.append(out)
    return answer
