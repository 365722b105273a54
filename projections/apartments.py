"""The apartment stock (*bostadsbestånd*): what ALN holds, where, and how
long apartments stand empty — today, or on any day (``as_of``).

One row per apartment (landlord and its organisation number, district,
rooms, rent, the day it was acquired) and one per change of its state with
the change's effective date (``occurred_on``): acquired (available),
occupied, vacated (available again), returned, transferred. The stock on a
day is each apartment's state after its last change on or before that day;
an apartment acquired later is not in it.

A vacancy runs from the effective date an apartment became available —
acquired, or vacated by a terminated contract — to the effective date it
stopped being available — occupied by an executed contract, or returned to
its landlord; its length is the difference in days. Landlords are grouped
by organisation number when the acquisition named one, else by their
normalised name (``projections.landlords``); districts by their normalised
name (a code, since the list: ``domain.districts``). A group is named by
its first spelling in the log. Answers are aggregates only: no apartment
ids, no tenants.
"""

from __future__ import annotations

from collections import Counter
from datetime import date
from statistics import mean, median
from typing import Any

from domain.apartment import Apartment, ApartmentState
from domain.districts import normalised
from infra.views import Sql
from projections.base import Projection, Recorded, handles
from projections.landlords import landlord_key, org_no_of, org_no_on, shown_name

APARTMENT_STATES = [s.value for s in ApartmentState]
_AVAILABLE = ApartmentState.AVAILABLE.value
#: The state each fact leaves an apartment in.
_STATE_AFTER: dict[type, ApartmentState] = {
    Apartment.Acquired: ApartmentState.AVAILABLE,
    Apartment.Occupied: ApartmentState.OCCUPIED,
    Apartment.Vacated: ApartmentState.AVAILABLE,
    Apartment.Returned: ApartmentState.RETURNED,
    Apartment.Transferred: ApartmentState.TRANSFERRED,
}


class ApartmentStock(Projection):
    """Per apartment: its facts, and its changes of state with their days."""

    name = "apartments"
    version = 2  # 2: the changes of state with their days; the org number
    tables = {
        "apartments_stock": (
            "CREATE TABLE IF NOT EXISTS apartments_stock ("
            "apartment_id TEXT PRIMARY KEY, position BIGINT NOT NULL, "
            "landlord TEXT NOT NULL, landlord_org_no TEXT, "
            "district TEXT NOT NULL, rooms INTEGER NOT NULL, "
            "monthly_rent_sek INTEGER NOT NULL, acquired_on TEXT NOT NULL)"
        ),
        "apartment_moves": (
            "CREATE TABLE IF NOT EXISTS apartment_moves ("
            "apartment_id TEXT NOT NULL, position BIGINT NOT NULL, "
            "occurred_on TEXT NOT NULL, state TEXT NOT NULL, "
            "PRIMARY KEY (apartment_id, position))"
        ),
    }
    indexes = [
        "CREATE INDEX IF NOT EXISTS apartment_moves_by_day "
        "ON apartment_moves (occurred_on)",
    ]

    @handles(Apartment.Acquired)
    def acquired(self, sql: Sql, r: Recorded) -> None:
        e = r.event
        sql.execute(
            "INSERT INTO apartments_stock VALUES (?,?,?,?,?,?,?,?)",
            [
                e.apartment_id,
                r.position,
                e.landlord,
                org_no_on(e),
                e.district,
                e.rooms,
                e.monthly_rent_sek,
                r.occurred_on,
            ],
        )
        self.moved(sql, r)

    @handles(
        Apartment.Occupied,
        Apartment.Vacated,
        Apartment.Returned,
        Apartment.Transferred,
    )
    def moved(self, sql: Sql, r: Recorded) -> None:
        sql.execute(
            "INSERT INTO apartment_moves VALUES (?,?,?,?)",
            [
                r.event.apartment_id,
                r.position,
                r.occurred_on,
                _STATE_AFTER[type(r.event)].value,
            ],
        )


def _days(since: str, until: date) -> int:
    return max((until - date.fromisoformat(since)).days, 0)


# -- queries ---------------------------------------------------------------


def stock(sql: Sql, day: date) -> dict[str, Any]:
    """Apartments by state, landlord and district on ``day`` (effective
    dates), and vacancy days up to it (the vacancies open that day
    included)."""
    states, vacancies = _states_on(sql, day)
    by_state: Counter[str] = Counter()
    landlords: dict[str, Counter[str]] = {}
    districts: dict[str, Counter[str]] = {}
    landlord_names: dict[str, str] = {}
    district_names: dict[str, str] = {}
    for row in sql.all("SELECT * FROM apartments_stock ORDER BY position"):
        state = states.get(row["apartment_id"])
        if state is None:  # acquired after ``day``
            continue
        by_state[state] += 1
        lkey = landlord_key(row["landlord_org_no"], row["landlord"])
        landlord_names.setdefault(lkey, shown_name(row["landlord"]))
        landlords.setdefault(lkey, Counter())[state] += 1
        dkey = normalised(row["district"])
        district_names.setdefault(dkey, shown_name(row["district"]))
        districts.setdefault(dkey, Counter())[state] += 1
    return {
        "apartments_total": sum(by_state.values()),
        "by_state": _states(by_state),
        "by_landlord": _by_landlord(landlords, landlord_names),
        "by_district": _breakdown(districts, district_names),
        "vacancy_days": vacancies,
    }


def _states_on(sql: Sql, day: date) -> tuple[dict[str, str], dict[str, Any]]:
    """Each apartment's state on ``day``; the current vacancies' lengths and
    all vacant days to ``day``, past and current."""
    states: dict[str, str] = {}
    available_since: dict[str, str] = {}
    past = 0
    for move in sql.all(
        "SELECT apartment_id, occurred_on, state FROM apartment_moves "
        "WHERE occurred_on <= ? ORDER BY apartment_id, position",
        [day.isoformat()],
    ):
        apartment = move["apartment_id"]
        since = available_since.pop(apartment, None)
        if since is not None:  # a vacancy ends (or goes on: vacated again)
            past += _days(since, date.fromisoformat(move["occurred_on"]))
        states[apartment] = move["state"]
        if move["state"] == _AVAILABLE:
            available_since[apartment] = move["occurred_on"]
    current = [_days(since, day) for since in available_since.values()]
    return states, {
        "current": {
            "count": len(current),
            "mean": round(mean(current), 2) if current else None,
            "median": median(current) if current else None,
            "max": max(current, default=None),
        },
        "total_to_date": past + sum(current),
    }


def _states(counter: Counter[str]) -> dict[str, int]:
    return {state: counter[state] for state in APARTMENT_STATES}


def _breakdown(
    groups: dict[str, Counter[str]], names: dict[str, str]
) -> dict[str, dict[str, Any]]:
    return {
        names[key]: {"total": sum(counter.values()), "by_state": _states(counter)}
        for key, counter in sorted(groups.items(), key=lambda kv: names[kv[0]])
    }


def _by_landlord(
    groups: dict[str, Counter[str]], names: dict[str, str]
) -> dict[str, dict[str, Any]]:
    """Per landlord, named by its first spelling (with its number after it
    should two landlords share a name), its number beside its counts."""
    shown: dict[str, dict[str, Any]] = {}
    for key, counter in sorted(groups.items(), key=lambda kv: (names[kv[0]], kv[0])):
        name = names[key]
        if name in shown:
            name = f"{name} ({org_no_of(key) or 'utan organisationsnummer'})"
        shown[name] = {
            "landlord_org_no": org_no_of(key),
            "total": sum(counter.values()),
            "by_state": _states(counter),
        }
    return shown
