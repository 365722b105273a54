"""The apartment stock (*bostadsbestånd*): what ALN holds, where, and how
long apartments stand empty.

One row per apartment: landlord, district, rooms, rent, current state, the
day it last became available, and the vacant days of its past vacancies. A
vacancy runs from the effective date (``occurred_on``) an apartment became
available — acquired, or vacated by a terminated contract — to the effective
date it stopped being available — occupied by an executed contract, or
returned to its landlord; its length is the difference in days. Answers are
aggregates only: no apartment ids, no tenants.
"""

from __future__ import annotations

from collections import Counter
from datetime import date
from statistics import mean, median
from typing import Any

from domain.apartment import Apartment, ApartmentState
from infra.views import Sql
from projections.base import Projection, Recorded, handles

APARTMENT_STATES = [s.value for s in ApartmentState]


class ApartmentStock(Projection):
    """Per apartment: its facts, current state and vacancy bookkeeping."""

    name = "apartments"
    tables = {
        "apartments_stock": (
            "CREATE TABLE IF NOT EXISTS apartments_stock ("
            "apartment_id TEXT PRIMARY KEY, landlord TEXT NOT NULL, "
            "district TEXT NOT NULL, rooms INTEGER NOT NULL, "
            "monthly_rent_sek INTEGER NOT NULL, state TEXT NOT NULL, "
            "became_available_on TEXT NOT NULL, "
            "past_vacant_days INTEGER NOT NULL)"
        ),
    }

    @handles(Apartment.Acquired)
    def acquired(self, sql: Sql, r: Recorded) -> None:
        event = r.event
        sql.execute(
            "INSERT INTO apartments_stock VALUES (?,?,?,?,?,?,?,?)",
            [
                event.apartment_id,
                event.landlord,
                event.district,
                event.rooms,
                event.monthly_rent_sek,
                ApartmentState.AVAILABLE.value,
                r.occurred_on,
                0,
            ],
        )

    @handles(Apartment.Occupied, Apartment.Returned)
    def vacancy_ended(self, sql: Sql, r: Recorded) -> None:
        row = sql.one(
            "SELECT state, became_available_on, past_vacant_days "
            "FROM apartments_stock WHERE apartment_id = ?",
            [r.event.apartment_id],
        )
        assert row is not None, "an apartment is acquired before anything else"
        days = int(row["past_vacant_days"])
        if row["state"] == ApartmentState.AVAILABLE.value:
            days += _days(row["became_available_on"], r.event.occurred_on)
        sql.execute(
            "UPDATE apartments_stock SET state = ?, past_vacant_days = ? "
            "WHERE apartment_id = ?",
            [_state_after(r), days, r.event.apartment_id],
        )

    @handles(Apartment.Vacated)
    def vacated(self, sql: Sql, r: Recorded) -> None:
        sql.execute(
            "UPDATE apartments_stock SET state = ?, became_available_on = ? "
            "WHERE apartment_id = ?",
            [ApartmentState.AVAILABLE.value, r.occurred_on, r.event.apartment_id],
        )

    @handles(Apartment.Transferred)
    def transferred(self, sql: Sql, r: Recorded) -> None:
        sql.execute(
            "UPDATE apartments_stock SET state = ? WHERE apartment_id = ?",
            [ApartmentState.TRANSFERRED.value, r.event.apartment_id],
        )


def _state_after(r: Recorded) -> str:
    if isinstance(r.event, Apartment.Occupied):
        return ApartmentState.OCCUPIED.value
    return ApartmentState.RETURNED.value


def _days(since: str, until: date) -> int:
    return max((until - date.fromisoformat(since)).days, 0)


# -- queries ---------------------------------------------------------------


def stock(sql: Sql, today: date) -> dict[str, Any]:
    """Apartments by state, landlord and district, and vacancy days to
    ``today`` (the current vacancies of available apartments included)."""
    by_state: Counter[str] = Counter()
    by_landlord: dict[str, Counter[str]] = {}
    by_district: dict[str, Counter[str]] = {}
    for row in sql.all(
        "SELECT landlord, district, state, COUNT(*) AS n FROM apartments_stock "
        "GROUP BY landlord, district, state"
    ):
        n = int(row["n"])
        by_state[row["state"]] += n
        by_landlord.setdefault(row["landlord"], Counter())[row["state"]] += n
        by_district.setdefault(row["district"], Counter())[row["state"]] += n
    return {
        "apartments_total": sum(by_state.values()),
        "by_state": _states(by_state),
        "by_landlord": _breakdown(by_landlord),
        "by_district": _breakdown(by_district),
        "vacancy_days": _vacancy_days(sql, today),
    }


def _states(counter: Counter[str]) -> dict[str, int]:
    return {state: counter[state] for state in APARTMENT_STATES}


def _breakdown(groups: dict[str, Counter[str]]) -> dict[str, dict[str, Any]]:
    return {
        key: {"total": sum(counter.values()), "by_state": _states(counter)}
        for key, counter in sorted(groups.items())
    }


def _vacancy_days(sql: Sql, today: date) -> dict[str, Any]:
    """Current vacancies' lengths, and all vacant days (past and current)."""
    rows = sql.all(
        "SELECT state, became_available_on, past_vacant_days FROM apartments_stock"
    )
    current = [
        _days(row["became_available_on"], today)
        for row in rows
        if row["state"] == ApartmentState.AVAILABLE.value
    ]
    past = sum(int(row["past_vacant_days"]) for row in rows)
    return {
        "current": {
            "count": len(current),
            "mean": round(mean(current), 2) if current else None,
            "median": median(current) if current else None,
            "max": max(current, default=None),
        },
        "total_to_date": past + sum(current),
    }
