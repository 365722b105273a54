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
answered from those rows alone. An earlier day is answered from month-end
snapshots (``projections.month_ends``) of the states held and the vacancies
open, plus that month's changes, and from the vacant days of the vacancies
ended in each month: one month's rows, however long the log.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from datetime import date
from statistics import mean, median
from typing import Any

from domain.apartment import Apartment, ApartmentState
from domain.districts import normalised
from infra.views import Sql
from projections.base import Projection, Recorded, handles
from projections.landlords import landlord_key, org_no_of, org_no_on, shown_name
from projections.month_ends import MonthEnd, Shifts, Snapshotting, month_of
from projections.spellings import shown_order

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

#: An apartment's group in the answers (no organisation number: "").
_PLACE = ("landlord", "landlord_org_no", "district")
#: Month-end snapshots: the apartments per group and state, and the
#: vacancies open per day they began (their lengths on a day).
STATES_HELD = MonthEnd(
    "apartment_state_months",
    (*((name, "TEXT") for name in _PLACE), ("state", "TEXT")),
    "apartment_moves m JOIN apartments_stock s ON s.apartment_id = m.apartment_id",
    ("s.landlord", "COALESCE(s.landlord_org_no, '')", "s.district", "m.state"),
    "m.occurred_on",
    "m.until_on",
)
VACANCIES_OPEN = MonthEnd(
    "apartment_vacancy_months",
    (("since", "TEXT"),),
    f"(SELECT occurred_on, until_on FROM apartment_moves "
    f"WHERE state = '{_AVAILABLE}') v",
    ("v.occurred_on",),
    "v.occurred_on",
    "v.until_on",
)
SNAPSHOTS = (STATES_HELD, VACANCIES_OPEN)
#: The groupings whose groups are named by their first spelling in the log.
_SPELLED = ("landlord", "district")


class ApartmentStock(Snapshotting, Projection):
    snapshots = SNAPSHOTS
    """Per apartment: its facts, and its changes of state with their days."""

    name = "apartments"
    # 2: the changes of state with their days, the org number; 3: each
    # state's end day; 4: month-end snapshots of the states and open
    # vacancies, the vacant days ended per month, each group's first spelling
    version = 4
    replay_cost = 11.0  # µs per event, make bench of 246fb0a at 1M events
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
        # The days of the vacancies that ended in a month (by their end).
        "apartment_vacancy_ended": (
            "CREATE TABLE IF NOT EXISTS apartment_vacancy_ended ("
            "month TEXT PRIMARY KEY, days BIGINT NOT NULL)"
        ),
        # Each landlord's and district's group named by its first spelling.
        "apartment_spellings": (
            "CREATE TABLE IF NOT EXISTS apartment_spellings ("
            "grouped_by TEXT NOT NULL, group_key TEXT NOT NULL, "
            "spelling TEXT NOT NULL, PRIMARY KEY (grouped_by, group_key))"
        ),
        **{n: t for snapshot in SNAPSHOTS for n, t in snapshot.tables.items()},
    }
    query_indexes = [
        "CREATE INDEX IF NOT EXISTS apartment_moves_by_day "
        "ON apartment_moves (occurred_on)",
        # A month's ends (the snapshots' changes, the vacancies ended).
        "CREATE INDEX IF NOT EXISTS apartment_moves_by_end "
        "ON apartment_moves (until_on)",
        *(index for snapshot in SNAPSHOTS for index in snapshot.indexes),
    ]

    def process(self, sql: Sql, recorded: Recorded) -> None:
        self.process_batch(sql, [recorded])

    def process_batch(self, sql: Sql, batch: Sequence[Recorded]) -> None:
        """The batch's rows, then its changes to the month-end snapshots
        and the vacant days ended, together."""
        self._shifts: dict[MonthEnd, Shifts] = {s: Counter() for s in SNAPSHOTS}
        self._ended: Counter[str] = Counter()
        for recorded in batch:
            super().process(sql, recorded)  # the handler, without a batch
        self.apply_shifts(sql, self._shifts)
        for month, days in sorted(self._ended.items()):
            sql.execute(
                "INSERT INTO apartment_vacancy_ended VALUES (?, ?) ON CONFLICT "
                "(month) DO UPDATE SET days = apartment_vacancy_ended.days + ?",
                [month, days, days],
            )

    @handles(Apartment.Acquired)
    def acquired(self, sql: Sql, r: Recorded) -> None:
        e = r.event
        names = {"landlord": e.landlord, "district": e.district}
        groups = {
            "landlord": landlord_key(org_no_on(e), e.landlord),
            "district": normalised(e.district),
        }
        for by in _SPELLED:
            sql.execute(
                "INSERT INTO apartment_spellings VALUES (?, ?, ?) "
                "ON CONFLICT DO NOTHING",
                [by, groups[by], shown_name(names[by])],
            )
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
            "SELECT landlord, landlord_org_no, district, state, since_on, "
            "past_vacant_days, position FROM apartments_stock WHERE apartment_id = ?",
            [apartment],
        )
        assert now is not None, "an apartment is acquired before anything else"
        past = int(now["past_vacant_days"])
        place = (now["landlord"], now["landlord_org_no"] or "", now["district"])
        states, vacancies = self._shifts[STATES_HELD], self._shifts[VACANCIES_OPEN]
        if now["position"] != r.position:  # the state before this one ends
            since, previous = now["since_on"], now["state"]
            STATES_HELD.change(states, (*place, previous), since, None, -1)
            STATES_HELD.change(states, (*place, previous), since, r.occurred_on, 1)
            if previous == _AVAILABLE:  # a vacancy ends (or goes on)
                days = _days(since, r.event.occurred_on)
                past += days
                self._ended[month_of(r.occurred_on)] += days
                VACANCIES_OPEN.change(vacancies, (since,), since, None, -1)
                VACANCIES_OPEN.change(vacancies, (since,), since, r.occurred_on, 1)
        STATES_HELD.change(states, (*place, state), r.occurred_on, None, 1)
        if state == _AVAILABLE:
            VACANCIES_OPEN.change(vacancies, (r.occurred_on,), r.occurred_on, None, 1)
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
    # its latest state: one row each, kept up to date. A day before it reads
    # the month-end snapshot before it and its month's changes.
    latest = sql.one("SELECT MAX(occurred_on) AS day FROM apartment_moves")
    current = latest is None or latest["day"] is None or latest["day"] <= text
    rows = (
        sql.all(
            "SELECT landlord, COALESCE(landlord_org_no, '') AS landlord_org_no, "
            "district, state, COUNT(*) AS n FROM apartments_stock "
            "GROUP BY landlord, landlord_org_no, district, state"
        )
        if current
        else STATES_HELD.counted(sql, day, day, (*_PLACE, "state"))
    )
    spellings = _spellings(sql)
    by_state: Counter[str] = Counter()
    landlords: dict[str, Counter[str]] = {}
    districts: dict[str, Counter[str]] = {}
    for row in rows:
        state, n = row["state"], int(row["n"])
        by_state[state] += n
        lkey = landlord_key(row["landlord_org_no"] or None, row["landlord"])
        landlords.setdefault(lkey, Counter())[state] += n
        districts.setdefault(normalised(row["district"]), Counter())[state] += n
    return {
        "apartments_total": sum(by_state.values()),
        "by_state": _states(by_state),
        "by_landlord": _by_landlord(landlords, spellings["landlord"]),
        "by_district": _breakdown(districts, spellings["district"]),
        "vacancy_days": (_vacancy_now if current else _vacancy_days)(sql, day),
    }


def _spellings(sql: Sql) -> dict[str, dict[str, str]]:
    """Per grouping, each group's first spelling in the log."""
    named: dict[str, dict[str, str]] = {by: {} for by in _SPELLED}
    rows = sql.all("SELECT grouped_by, group_key, spelling FROM apartment_spellings")
    for row in rows:
        named[row["grouped_by"]][row["group_key"]] = row["spelling"]
    return named


def _vacancy_days(sql: Sql, day: date) -> dict[str, Any]:
    """The lengths of the vacancies open on ``day``, and all vacant days to
    it: those of vacancies ended by then (the months before ``day``'s from
    their sums, its own month's one by one), and the open ones' so far."""
    text, month = day.isoformat(), month_of(day.isoformat())
    days = (
        "CAST(until_on AS DATE) - CAST(occurred_on AS DATE)"
        if sql.postgres
        else "julianday(until_on) - julianday(occurred_on)"
    )
    months = sql.one(
        "SELECT SUM(days) AS days FROM apartment_vacancy_ended WHERE month < ?",
        [month],
    )
    this_month = sql.one(
        f"SELECT SUM({days}) AS days FROM apartment_moves WHERE state = ? "
        "AND until_on >= ? AND until_on <= ?",
        [_AVAILABLE, f"{month}-01", text],
    )
    past = int(months["days"] or 0) if months else 0
    past += round(this_month["days"] or 0) if this_month else 0
    open_days = [
        _days(row["since"], day)
        for row in VACANCIES_OPEN.counted(sql, day, day, ("since",))
        for _ in range(int(row["n"]))
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
        for key, counter in sorted(
            groups.items(), key=lambda kv: shown_order(kv[0], names)
        )
    }


def _by_landlord(
    groups: dict[str, Counter[str]], names: dict[str, str]
) -> dict[str, dict[str, Any]]:
    """Per landlord, named by its first spelling (with its number after it
    should two landlords share a name), its number beside its counts."""
    shown: dict[str, dict[str, Any]] = {}
    for key, counter in sorted(
        groups.items(), key=lambda kv: shown_order(kv[0], names)
    ):
        name = names[key]
        if name in shown:
            name = f"{name} ({org_no_of(key) or 'utan organisationsnummer'})"
        shown[name] = {
            "landlord_org_no": org_no_of(key),
            "total": sum(counter.values()),
            "by_state": _states(counter),
        }
    return shown
