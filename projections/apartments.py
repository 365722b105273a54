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

Each apartment's row also holds its latest state, since when, and the days
of its past vacancies: a day on or after the last fact's (today, mostly) is
answered from those rows alone; an earlier day from the states that held on
it.
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
    # 2: the changes of state with their days, the org number; 3: each
    # state's end day
    version = 3
    tables = {
        "apartments_stock": (
            "CREATE TABLE IF NOT EXISTS apartments_stock ("
            "apartment_id TEXT PRIMARY KEY, position BIGINT NOT NULL, "
            "landlord TEXT NOT NULL, landlord_org_no TEXT, "
            "district TEXT NOT NULL, rooms INTEGER NOT NULL, "
            "monthly_rent_sek INTEGER NOT NULL, acquired_on TEXT NOT NULL, "
            "state TEXT NOT NULL, since_on TEXT NOT NULL, "
            "past_vacant_days INTEGER NOT NULL)"
        ),
        # Each state from its day (``occurred_on``) to the next one's
        # (``until_on``, None while it lasts): half-open, so of two changes on
        # one day the later is the day's state.
        "apartment_moves": (
            "CREATE TABLE IF NOT EXISTS apartment_moves ("
            "apartment_id TEXT NOT NULL, position BIGINT NOT NULL, "
            "occurred_on TEXT NOT NULL, until_on TEXT, state TEXT NOT NULL, "
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
            "INSERT INTO apartments_stock VALUES (?,?,?,?,?,?,?,?,?,?,0)",
            [
                e.apartment_id,
                r.position,
                e.landlord,
                org_no_on(e),
                e.district,
                e.rooms,
                e.monthly_rent_sek,
                r.occurred_on,
                _AVAILABLE,
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
        apartment, state = r.event.apartment_id, _STATE_AFTER[type(r.event)].value
        now = sql.one(
            "SELECT state, since_on, past_vacant_days FROM apartments_stock "
            "WHERE apartment_id = ?",
            [apartment],
        )
        assert now is not None, "an apartment is acquired before anything else"
        past = int(now["past_vacant_days"])
        if now["state"] == _AVAILABLE:  # a vacancy ends (or goes on)
            past += _days(now["since_on"], r.event.occurred_on)
        sql.execute(
            "UPDATE apartments_stock SET state = ?, since_on = ?, "
            "past_vacant_days = ? WHERE apartment_id = ?",
            [state, r.occurred_on, past, apartment],
        )
        sql.execute(
            "UPDATE apartment_moves SET until_on = ? "
            "WHERE apartment_id = ? AND until_on IS NULL",
            [r.occurred_on, r.event.apartment_id],
        )
        sql.execute(
            "INSERT INTO apartment_moves VALUES (?,?,?,NULL,?)",
            [apartment, r.position, r.occurred_on, state],
        )


def _days(since: str, until: date) -> int:
    return max((until - date.fromisoformat(since)).days, 0)


# -- queries ---------------------------------------------------------------


def stock(sql: Sql, day: date) -> dict[str, Any]:
    """Apartments by state, landlord and district on ``day`` (effective
    dates), and vacancy days up to it (the vacancies open that day
    included)."""
    text = day.isoformat()
    # On or after the last fact's day (today, mostly) every apartment is in
    # its latest state: one row each, kept up to date, as fast as before
    # as_of. A day before it needs the states that held on it.
    latest = sql.one("SELECT MAX(occurred_on) AS day FROM apartment_moves")
    current = latest is None or latest["day"] is None or latest["day"] <= text
    by_state: Counter[str] = Counter()
    landlords: dict[str, Counter[str]] = {}
    districts: dict[str, Counter[str]] = {}
    landlord_names: dict[str, str] = {}
    district_names: dict[str, str] = {}
    rows = sql.all(
        "SELECT s.landlord, s.landlord_org_no, s.district, s.state, "
        "COUNT(*) AS n, MIN(s.position) AS first FROM apartments_stock s "
        "GROUP BY s.landlord, s.landlord_org_no, s.district, s.state"
        if current
        else "SELECT s.landlord, s.landlord_org_no, s.district, m.state, "
        "COUNT(*) AS n, MIN(s.position) AS first FROM apartment_moves m "
        "JOIN apartments_stock s ON s.apartment_id = m.apartment_id "
        f"WHERE {_ON_DAY} GROUP BY s.landlord, s.landlord_org_no, s.district, "
        "m.state",
        [] if current else [text, text],
    )
    for row in sorted(rows, key=lambda row: int(row["first"])):
        state, n = row["state"], int(row["n"])
        by_state[state] += n
        lkey = landlord_key(row["landlord_org_no"], row["landlord"])
        landlord_names.setdefault(lkey, shown_name(row["landlord"]))
        landlords.setdefault(lkey, Counter())[state] += n
        dkey = normalised(row["district"])
        district_names.setdefault(dkey, shown_name(row["district"]))
        districts.setdefault(dkey, Counter())[state] += n
    return {
        "apartments_total": sum(by_state.values()),
        "by_state": _states(by_state),
        "by_landlord": _by_landlord(landlords, landlord_names),
        "by_district": _breakdown(districts, district_names),
        "vacancy_days": (_vacancy_now if current else _vacancy_days)(sql, day),
    }


#: A state that holds on the day (``?`` twice: the day).
_ON_DAY = "m.occurred_on <= ? AND (m.until_on IS NULL OR m.until_on > ?)"


def _vacancy_days(sql: Sql, day: date) -> dict[str, Any]:
    """The lengths of the vacancies open on ``day``, and all vacant days to
    it: those of vacancies ended by then, and the open ones' so far."""
    text = day.isoformat()
    days = (
        "CAST(m.until_on AS DATE) - CAST(m.occurred_on AS DATE)"
        if sql.postgres
        else "julianday(m.until_on) - julianday(m.occurred_on)"
    )
    ended = sql.one(
        f"SELECT SUM({days}) AS days FROM apartment_moves m "
        "WHERE m.state = ? AND m.until_on <= ?",
        [_AVAILABLE, text],
    )
    past = round(ended["days"] or 0) if ended else 0
    open_days = [
        _days(row["occurred_on"], day)
        for row in sql.all(
            f"SELECT m.occurred_on FROM apartment_moves m WHERE m.state = ? "
            f"AND {_ON_DAY}",
            [_AVAILABLE, text, text],
        )
    ]
    return _vacancies(open_days, past)


def _vacancy_now(sql: Sql, day: date) -> dict[str, Any]:
    """As :func:`_vacancy_days`, from each apartment's latest state."""
    past = sql.one("SELECT SUM(past_vacant_days) AS days FROM apartments_stock")
    open_days = [
        _days(row["since_on"], day)
        for row in sql.all(
            "SELECT since_on FROM apartments_stock WHERE state = ?", [_AVAILABLE]
        )
    ]
    return _vacancies(open_days, int(past["days"] or 0) if past else 0)


def _vacancies(open_days: list[int], past: int) -> dict[str, Any]:
    return {
        "current": {
            "count": len(open_days),
            "mean": round(mean(open_days), 2) if open_days else None,
            "median": median(open_days) if open_days else None,
            "max": max(open_days, default=None),
        },
        "total_to_date": past + sum(open_days),
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
