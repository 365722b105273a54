"""Tenancies: who lives in a social contract, in which apartment, from when
to when (the seed figures: *hemlöshetskartläggningen*, the path to a
first-hand lease).

One row per executed contract (a case is executed at most once): the day
the household moved in and, once it has, the day the contract ended — by
conversion to a first-hand lease (*övertag*) or by termination, with its
reason — each with its recorded time, so an answer ``as known at`` a past
moment leaves out what was registered later. Beside it, what the filing said
about the household (the applicant's gender and birth year, adults and
children: no personal data) and what the acquisition said about the
apartment (landlord, district, rooms, the rent ALN pays), with the days it
entered and left the municipality's stock (returned to its landlord, or
transferred to the tenant with a first-hand lease) and every vacancy: from
the day it became available (acquired, or vacated by a terminated contract)
to the day it stopped being so (occupied, returned), half-open like a
tenancy, so the day of moving in is not vacant.

**Living in a social contract on day D**: moved in on or before D, and the
contract not ended on or before D. The day of the conversion or the
termination is the first day the household no longer lives in a social
contract (the half-open interval ``[executed_on, ended_on)``).

The apartment's entry into and exit from the stock, and each vacancy's
start and end, carry their recorded times too, so rents and vacancy can
also be answered as known at a past moment. Vacancies are never joined: a
vacancy that starts the day the last one ended is a row of its own
(half-open intervals, so no day counts twice), which keeps what was known
in between.

A later fact is known no earlier than the execution, acquisition or vacancy
it ends (the recorded time is clamped, as in ``projections.counts``), so
"known at T" never sees an end without its beginning.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from typing import Any

from domain.apartment import Apartment
from domain.case import HousingCase
from infra.views import Sql
from projections import spellings
from projections.base import END_OF_TIME, Projection, Recorded, handles
from projections.landlords import org_no_on
from projections.month_ends import MonthEnd, Shifts, Snapshotting

_TEXT, _INT, _BIG = "TEXT", "INTEGER", "BIGINT"
#: The apartment's columns a rent is grouped by (no number: "").
_PLACE = (("landlord", _TEXT), ("landlord_org_no", _TEXT), ("district", _TEXT))
_PLACE_OF = ("a.landlord", "COALESCE(a.landlord_org_no, '')", "a.district")
_LIVED = "tenancies t JOIN tenancy_apartments a ON a.apartment_id = t.apartment_id"

#: Month-end snapshots (``projections.month_ends``) of the households living
#: in a contract (``projections.households``), the apartments in stock and
#: the contracts lived in with both rents (``projections.rents``). A
#: contract is lived in only while its apartment is in stock (an apartment
#: is returned only when available, and transferred by the conversion that
#: ends its contract), so its own days are the contract's.
HOUSEHOLDS_LIVING = MonthEnd(
    "tenancy_household_months",
    (("gender", _TEXT), ("birth_year", _INT), ("adults", _INT), ("children", _INT)),
    "tenancies",
    ("gender", "birth_year", "adults", "children"),
    "executed_on",
    "ended_on",
)
APARTMENTS_IN_STOCK = MonthEnd(
    "tenancy_stock_months",
    (*_PLACE, ("rooms", _INT), ("rent", _BIG)),
    "tenancy_apartments a",
    (*_PLACE_OF, "a.rooms", "a.landlord_rent_sek"),
    "a.acquired_on",
    "a.left_on",
)
CONTRACTS_LIVED = MonthEnd(
    "tenancy_lived_months",
    (*_PLACE, ("rooms", _INT), ("rent", _BIG), ("charged", _BIG)),
    _LIVED,
    (*_PLACE_OF, "a.rooms", "a.landlord_rent_sek", "t.household_rent_sek"),
    "t.executed_on",
    "t.ended_on",
)
SNAPSHOTS = (HOUSEHOLDS_LIVING, APARTMENTS_IN_STOCK, CONTRACTS_LIVED)


class Tenancies(Snapshotting, Projection):
    snapshots = SNAPSHOTS
    name = "tenancies"
    # 2: the apartments' days in stock, and their vacancies; 3: the
    # landlord's organisation number (projections.landlords); 4: the
    # household on the tenancy's own row, with an index that covers the
    # households query (no join, no row read: a million-event log); 5: the
    # recorded times of the apartment's entry and exit and of each vacancy's
    # start and end (rents and vacancy as known at a past moment), a
    # vacancy per start (never joined); 6: month-end snapshots of the
    # households living (projections.month_ends); 7: each landlord's
    # and district's first spelling, which names it (projections.spellings);
    # 8: month-end snapshots of the apartments in stock and the contracts
    # lived in, with their rents (projections.rents)
    version = 8
    replay_cost = 24.0  # µs per event, make bench of 246fb0a at 1M events
    tables = {
        "tenancy_households": (
            "CREATE TABLE IF NOT EXISTS tenancy_households ("
            "case_id TEXT PRIMARY KEY, gender TEXT NOT NULL, "
            "birth_year INTEGER NOT NULL, adults INTEGER NOT NULL, "
            "children INTEGER NOT NULL)"
        ),
        "tenancy_apartments": (
            "CREATE TABLE IF NOT EXISTS tenancy_apartments ("
            "apartment_id TEXT PRIMARY KEY, landlord TEXT NOT NULL, "
            "district TEXT NOT NULL, rooms INTEGER NOT NULL, "
            "landlord_rent_sek BIGINT NOT NULL, acquired_on TEXT NOT NULL, "
            "left_on TEXT, left_as TEXT, landlord_org_no TEXT, "
            "acquired_recorded_at TEXT NOT NULL, left_recorded_at TEXT)"
        ),
        "tenancy_vacancies": (
            "CREATE TABLE IF NOT EXISTS tenancy_vacancies ("
            "apartment_id TEXT NOT NULL, started_position BIGINT NOT NULL, "
            "started_on TEXT NOT NULL, started_recorded_at TEXT NOT NULL, "
            "ended_on TEXT, ended_recorded_at TEXT, "
            "PRIMARY KEY (apartment_id, started_position))"
        ),
        "tenancies": (
            "CREATE TABLE IF NOT EXISTS tenancies ("
            "case_id TEXT PRIMARY KEY, apartment_id TEXT NOT NULL, "
            "executed_on TEXT NOT NULL, executed_recorded_at TEXT NOT NULL, "
            "household_rent_sek BIGINT NOT NULL, ended_on TEXT, "
            "ended_recorded_at TEXT, ended_as TEXT, end_reason TEXT, "
            "gender TEXT NOT NULL, birth_year INTEGER NOT NULL, "
            "adults INTEGER NOT NULL, children INTEGER NOT NULL)"
        ),
        **{n: t for snapshot in SNAPSHOTS for n, t in snapshot.tables.items()},
        **spellings.TABLES,
    }
    # Every index is a query's: the handlers find rows by primary key, so a
    # rebuild builds these once after its replay (``Projection.query_indexes``).
    query_indexes = [
        "CREATE INDEX IF NOT EXISTS tenancies_by_executed_on "
        "ON tenancies (executed_on)",
        "CREATE INDEX IF NOT EXISTS tenancies_living ON tenancies (executed_on, "
        "ended_on, executed_recorded_at, ended_recorded_at, gender, birth_year, "
        "adults, children)",
        "CREATE INDEX IF NOT EXISTS tenancy_vacancies_by_started_on "
        "ON tenancy_vacancies (started_on)",
        # A month's changes to the snapshots (``MonthEnd.counted``).
        "CREATE INDEX IF NOT EXISTS tenancies_ending ON tenancies (ended_on, "
        "executed_on, gender, birth_year, adults, children)",
        "CREATE INDEX IF NOT EXISTS tenancy_apartments_by_acquired_on "
        "ON tenancy_apartments (acquired_on)",
        "CREATE INDEX IF NOT EXISTS tenancy_apartments_by_left_on "
        "ON tenancy_apartments (left_on)",
        *(index for snapshot in SNAPSHOTS for index in snapshot.indexes),
    ]

    def process(self, sql: Sql, recorded: Recorded) -> None:
        self.process_batch(sql, [recorded])

    def process_batch(self, sql: Sql, batch: Sequence[Recorded]) -> None:
        """The batch's rows, then its changes to the month-end snapshots
        together."""
        self._shifts: dict[MonthEnd, Shifts] = {s: Counter() for s in SNAPSHOTS}
        for recorded in batch:
            super().process(sql, recorded)  # the handler, without a batch
        self.apply_shifts(sql, self._shifts)

    @handles(HousingCase.Filed)
    def filed(self, sql: Sql, r: Recorded) -> None:
        e = r.event
        sql.execute(
            "INSERT INTO tenancy_households VALUES (?, ?, ?, ?, ?)",
            [
                e.case_id,
                e.gender,
                e.birth_year,
                int(e.household.get("adults", 1)),
                int(e.household.get("children", 0)),
            ],
        )

    @handles(Apartment.Acquired)
    def acquired(self, sql: Sql, r: Recorded) -> None:
        e = r.event
        sql.execute(
            "INSERT INTO tenancy_apartments "
            "VALUES (?, ?, ?, ?, ?, ?, NULL, NULL, ?, ?, NULL)",
            [
                e.apartment_id,
                e.landlord,
                e.district,
                e.rooms,
                e.monthly_rent_sek,
                r.occurred_on,
                org_no_on(e),
                r.recorded_at,
            ],
        )
        names = {"landlord": e.landlord, "district": e.district}
        spellings.record(sql, r, {**names, "landlord_org_no": org_no_on(e)})
        place = (e.landlord, org_no_on(e) or "", e.district, e.rooms)
        stock = self._shifts[APARTMENTS_IN_STOCK]
        APARTMENTS_IN_STOCK.change(
            stock, (*place, e.monthly_rent_sek), r.occurred_on, None, 1
        )
        self.vacated(sql, r)

    @handles(Apartment.Vacated)
    def vacated(self, sql: Sql, r: Recorded) -> None:
        # One row per vacancy, even one that starts the day the last ended
        # (occupied and vacated on one day): half-open, no day counts twice.
        sql.execute(
            "INSERT INTO tenancy_vacancies VALUES (?, ?, ?, ?, NULL, NULL)",
            [r.event.apartment_id, r.position, r.occurred_on, r.recorded_at],
        )

    @handles(Apartment.Occupied)
    def occupied(self, sql: Sql, r: Recorded) -> None:
        self._vacancy_ends(sql, r)

    @handles(Apartment.Returned, Apartment.Transferred)
    def left(self, sql: Sql, r: Recorded) -> None:
        left_as = (
            "returned" if isinstance(r.event, Apartment.Returned) else "transferred"
        )
        flat = sql.one(
            "SELECT landlord, COALESCE(landlord_org_no, '') AS landlord_org_no, "
            "district, rooms, landlord_rent_sek, acquired_on, left_on "
            "FROM tenancy_apartments WHERE apartment_id = ?",
            [r.event.apartment_id],
        )
        if flat is not None:  # the snapshot: the old departure undone, the new one
            key = _key(flat, APARTMENTS_IN_STOCK)
            shifts = self._shifts[APARTMENTS_IN_STOCK]
            APARTMENTS_IN_STOCK.change(
                shifts, key, flat["acquired_on"], flat["left_on"], -1
            )
            APARTMENTS_IN_STOCK.change(
                shifts, key, flat["acquired_on"], r.occurred_on, 1
            )
        sql.execute(
            "UPDATE tenancy_apartments SET left_on = ?, left_as = ?, "
            "left_recorded_at = CASE WHEN acquired_recorded_at > ? "
            "THEN acquired_recorded_at ELSE ? END WHERE apartment_id = ?",
            [
                r.occurred_on,
                left_as,
                r.recorded_at,
                r.recorded_at,
                r.event.apartment_id,
            ],
        )
        self._vacancy_ends(sql, r)

    @staticmethod
    def _vacancy_ends(sql: Sql, r: Recorded) -> None:
        # Known no earlier than the vacancy it ends.
        sql.execute(
            "UPDATE tenancy_vacancies SET ended_on = ?, "
            "ended_recorded_at = CASE WHEN started_recorded_at > ? "
            "THEN started_recorded_at ELSE ? END "
            "WHERE apartment_id = ? AND ended_on IS NULL",
            [r.occurred_on, r.recorded_at, r.recorded_at, r.event.apartment_id],
        )

    @handles(HousingCase.ContractExecuted)
    def executed(self, sql: Sql, r: Recorded) -> None:
        e = r.event
        sql.execute(
            "INSERT INTO tenancies (case_id, apartment_id, executed_on, "
            "executed_recorded_at, household_rent_sek, gender, birth_year, "
            "adults, children) SELECT ?, ?, ?, ?, ?, gender, birth_year, adults, "
            "children FROM tenancy_households WHERE case_id = ?",
            [
                e.case_id,
                e.apartment_id,
                r.occurred_on,
                r.recorded_at,
                e.monthly_rent_sek,
                e.case_id,
            ],
        )
        self._count(sql, e.case_id, None, 1)

    @handles(HousingCase.ConvertedToFirstHand)
    def converted(self, sql: Sql, r: Recorded) -> None:
        self._end(sql, r, "converted", "")

    @handles(HousingCase.ContractTerminated)
    def terminated(self, sql: Sql, r: Recorded) -> None:
        self._end(sql, r, "terminated", r.event.reason)

    def _end(self, sql: Sql, r: Recorded, ended_as: str, reason: str) -> None:
        # The snapshots: the old end (if any) undone, the new one counted.
        case_id = r.event.case_id
        self._count(sql, case_id, "t.ended_on", -1)
        self._count(sql, case_id, "?", 1, r.occurred_on)
        # Known no earlier than the execution it ends (a skewed clock).
        sql.execute(
            "UPDATE tenancies SET ended_on = ?, ended_as = ?, end_reason = ?, "
            "ended_recorded_at = CASE WHEN executed_recorded_at > ? "
            "THEN executed_recorded_at ELSE ? END WHERE case_id = ?",
            [
                r.occurred_on,
                ended_as,
                reason,
                r.recorded_at,
                r.recorded_at,
                r.event.case_id,
            ],
        )

    def _count(
        self, sql: Sql, case_id: str, end: str | None, sign: int, *day: str
    ) -> None:
        """Count (1) or take back (-1) the case's contract in the household
        and lived-in snapshots, ending at ``end`` (a column, or ``?`` for
        ``day``; None: still running)."""
        row = sql.one(
            f"SELECT t.executed_on, {end or 'NULL'} AS ended_on, t.gender, "
            "t.birth_year, t.adults, t.children, a.landlord, "
            "COALESCE(a.landlord_org_no, '') AS landlord_org_no, a.district, "
            "a.rooms, a.landlord_rent_sek, t.household_rent_sek "
            "FROM tenancies t LEFT JOIN tenancy_apartments a "
            "ON a.apartment_id = t.apartment_id WHERE t.case_id = ?",
            [*day, case_id],
        )
        if row is None:
            return
        lived = (CONTRACTS_LIVED,) if row["landlord"] is not None else ()
        for snapshot in (HOUSEHOLDS_LIVING, *lived):
            snapshot.change(
                self._shifts[snapshot],
                _key(row, snapshot),
                row["executed_on"],
                row["ended_on"],
                sign,
            )


def _key(row: dict[str, Any], snapshot: MonthEnd) -> tuple[Any, ...]:
    """``row``'s key in ``snapshot`` (its columns, rents by their own names)."""
    renamed = {"rent": "landlord_rent_sek", "charged": "household_rent_sek"}
    return tuple(row[renamed.get(name, name)] for name, _ in snapshot.columns)


# -- queries ---------------------------------------------------------------

#: The columns every tenancy query answers, as ``tenancy_rows`` selects them.
_COLUMNS = (
    "t.case_id, t.apartment_id, t.executed_on, t.executed_recorded_at, "
    "t.household_rent_sek, t.ended_on, t.ended_recorded_at, t.ended_as, "
    "t.end_reason, h.gender, h.birth_year, h.adults, h.children, "
    "a.landlord, a.landlord_org_no, a.district, a.rooms, a.landlord_rent_sek"
)
_JOINS = (
    "FROM tenancies t JOIN tenancy_households h ON h.case_id = t.case_id "
    "JOIN tenancy_apartments a ON a.apartment_id = t.apartment_id"
)


def living_between(
    sql: Sql, first: str, last: str, known_at: str
) -> list[dict[str, Any]]:
    """Every tenancy a household lived in on at least one day from ``first``
    to ``last`` (ISO dates, inclusive), as known at ``known_at``; the end is
    left out (``ended_on`` None) when it was not yet known then."""
    rows = sql.all(
        f"SELECT {_COLUMNS} {_JOINS} WHERE t.executed_on <= ? "
        "AND t.executed_recorded_at <= ? "
        "AND NOT (t.ended_on IS NOT NULL AND t.ended_on <= ? "
        "AND t.ended_recorded_at <= ?)",
        [last, known_at, first, known_at],
    )
    return [_as_known(row, known_at) for row in rows]


def executed_between(
    sql: Sql, first: str, last: str, known_at: str = END_OF_TIME
) -> list[dict[str, Any]]:
    """Every tenancy that began from ``first`` to ``last`` (inclusive), as
    known at ``known_at``: its end left out when not yet known then."""
    rows = sql.all(
        f"SELECT {_COLUMNS} {_JOINS} WHERE t.executed_on >= ? AND t.executed_on <= ? "
        "AND t.executed_recorded_at <= ? ORDER BY t.executed_on, t.case_id",
        [first, last, known_at],
    )
    return [_as_known(row, known_at) for row in rows]


def _as_known(row: dict[str, Any], known_at: str) -> dict[str, Any]:
    """``row`` without its end when the end was recorded after ``known_at``."""
    if row["ended_recorded_at"] is not None and row["ended_recorded_at"] > known_at:
        row.update(
            ended_on=None, ended_recorded_at=None, ended_as=None, end_reason=None
        )
    return row
