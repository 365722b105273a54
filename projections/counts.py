"""Contract counts and flows: the executive board's core figures.

One row per case fact (the case's state after it) and per apartment fact,
with its effective date and recorded time. That is enough to answer "how many
cases were in each state on day D, as far as was known at time T" — the
latest fact of each case with ``occurred_on <= D`` and ``recorded_at <= T`` —
so a report presented on a past day can be reproduced after late
registrations. Flows count facts per period by effective date.
"""

from __future__ import annotations

from collections import Counter
from datetime import date
from typing import Any

from domain.apartment import Apartment
from domain.case import CaseState, HousingCase
from infra.views import Sql
from projections.base import Projection, Recorded, handles

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
END_OF_TIME = "9999-12-31T23:59:59.999999Z"


class Counts(Projection):
    name = "counts"
    tables = {
        "counts_case_facts": (
            "CREATE TABLE IF NOT EXISTS counts_case_facts ("
            "position BIGINT PRIMARY KEY, case_id TEXT NOT NULL, type TEXT NOT NULL, "
            "state TEXT NOT NULL, reason TEXT, occurred_on TEXT NOT NULL, "
            "recorded_at TEXT NOT NULL)"
        ),
        "counts_apartment_facts": (
            "CREATE TABLE IF NOT EXISTS counts_apartment_facts ("
            "position BIGINT PRIMARY KEY, apartment_id TEXT NOT NULL, "
            "state TEXT NOT NULL, occurred_on TEXT NOT NULL, recorded_at TEXT NOT NULL)"
        ),
    }
    indexes = [
        "CREATE INDEX IF NOT EXISTS counts_case_facts_by_case "
        "ON counts_case_facts (case_id, position)",
        "CREATE INDEX IF NOT EXISTS counts_case_facts_by_day "
        "ON counts_case_facts (occurred_on)",
    ]

    @handles(
        HousingCase.Filed,
        HousingCase.Withdrawn,
        HousingCase.Granted,
        HousingCase.Rejected,
        HousingCase.GrantCancelled,
        HousingCase.ContractExecuted,
        HousingCase.ConvertedToFirstHand,
        HousingCase.ContractTerminated,
    )
    def case_fact(self, sql: Sql, r: Recorded) -> None:
        event = r.event
        sql.execute(
            "INSERT INTO counts_case_facts VALUES (?,?,?,?,?,?,?)",
            [
                r.position,
                event.case_id,
                event.type_name,
                _STATE_AFTER[event.type_name],
                getattr(event, "reason", None),
                r.occurred_on,
                r.recorded_at,
            ],
        )

    @handles(
        Apartment.Acquired,
        Apartment.Returned,
        Apartment.Occupied,
        Apartment.Vacated,
        Apartment.Transferred,
    )
    def apartment_fact(self, sql: Sql, r: Recorded) -> None:
        event = r.event
        sql.execute(
            "INSERT INTO counts_apartment_facts VALUES (?,?,?,?,?)",
            [
                r.position,
                event.apartment_id,
                _APARTMENT_STATE_AFTER[event.type_name],
                r.occurred_on,
                r.recorded_at,
            ],
        )


_STATE_AFTER = {
    "application_filed": "filed",
    "application_withdrawn": "withdrawn",
    "application_granted": "granted",
    "application_rejected": "rejected",
    "grant_cancelled": "cancelled",
    "contract_executed": "executed",
    "converted_to_first_hand": "converted",
    "contract_terminated": "terminated",
}
_APARTMENT_STATE_AFTER = {
    "apartment_acquired": "available",
    "apartment_returned": "returned",
    "apartment_occupied": "occupied",
    "apartment_vacated": "available",
    "apartment_transferred": "transferred",
}


# -- queries ---------------------------------------------------------------


def counts(sql: Sql, as_of: date, known_at: str | None) -> dict[str, Any]:
    """Cases and apartments by state on ``as_of``, as known at ``known_at``."""
    params = [as_of.isoformat(), known_at or END_OF_TIME]
    by_state = _latest_states(sql, "counts_case_facts", "case_id", params)
    apartments = _latest_states(sql, "counts_apartment_facts", "apartment_id", params)
    totals = Counter[str]()
    terminations = Counter[str]()
    for row in sql.all(
        "SELECT type, reason, COUNT(*) AS n FROM counts_case_facts "
        "WHERE occurred_on <= ? AND recorded_at <= ? GROUP BY type, reason",
        params,
    ):
        totals[row["type"]] += row["n"]
        if row["type"] == "contract_terminated":
            terminations[row["reason"]] += row["n"]
    return {
        "cases_by_state": {s: by_state.get(s, 0) for s in CASE_STATES},
        "filed_total": totals["application_filed"],
        "granted_total": totals["application_granted"],
        "rejected_total": totals["application_rejected"],
        "executed_total": totals["contract_executed"],
        "converted_total": totals["converted_to_first_hand"],
        "terminated_total": totals["contract_terminated"],
        "terminations_by_reason": dict(sorted(terminations.items())),
        "apartments_by_state": {s: apartments.get(s, 0) for s in APARTMENT_STATES},
    }


def _latest_states(sql: Sql, table: str, key: str, params: list[str]) -> dict[str, int]:
    rows = sql.all(
        f"SELECT f.state, COUNT(*) AS n FROM {table} f JOIN ("
        f"SELECT {key}, MAX(position) AS last FROM {table} "
        f"WHERE occurred_on <= ? AND recorded_at <= ? GROUP BY {key}"
        f") latest ON f.position = latest.last GROUP BY f.state",
        params,
    )
    return {row["state"]: int(row["n"]) for row in rows}


def flows(
    sql: Sql, start: date, end: date, period: str, known_at: str | None
) -> list[dict[str, Any]]:
    """Facts per period (by effective date) between ``start`` and ``end``."""
    rows = sql.all(
        "SELECT substr(occurred_on, 1, 7) AS month, type, COUNT(*) AS n "
        "FROM counts_case_facts WHERE occurred_on >= ? AND occurred_on <= ? "
        "AND recorded_at <= ? GROUP BY substr(occurred_on, 1, 7), type",
        [start.isoformat(), end.isoformat(), known_at or END_OF_TIME],
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
