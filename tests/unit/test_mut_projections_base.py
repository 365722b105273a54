"""What every projection shares (``projections.base``), and a small scripted
case log the projection tests below feed their read models with.

No store and no application: real domain events (made by the aggregates'
own commands) with a chosen recorded time, and a projection's tables in an
in-memory SQLite database behind the same ``Sql`` the runners use.
"""

from __future__ import annotations

import dataclasses
import sqlite3
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime, timedelta, timezone
from typing import Any

import pytest

from domain.apartment import Apartment
from domain.case import HousingCase
from domain.facts import Stamp
from infra.signing import utc_timestamp
from infra.views import Sql
from projections.base import (
    END_OF_TIME,
    Projection,
    Recorded,
    handles,
    once,
    utc_text,
)

TODAY = date(2026, 11, 30)


def stamp(day: str, committee: str = "IFN", user: str = "u-1") -> Stamp:
    return Stamp(
        f"s-{committee}-{day}", committee, user, date.fromisoformat(day), TODAY
    )


class Log:
    """A case log written by hand: each aggregate's new facts are appended
    with the recorded time given (UTC), at the next position."""

    def __init__(self) -> None:
        self.records: list[Recorded] = []

    def take(self, aggregate: Any, recorded: str) -> None:
        moment = datetime.fromisoformat(recorded).replace(tzinfo=UTC)
        for event in aggregate.collect_events():
            event = dataclasses.replace(event, timestamp=moment)
            self.records.append(Recorded(len(self.records) + 1, event))


class RecordingCursor:
    """A cursor that keeps the statements sent to it (what a projection
    would send to PostgreSQL), and runs none."""

    def __init__(self) -> None:
        self.statements: list[str] = []

    def execute(self, statement: str, params: list[Any]) -> None:
        self.statements.append(statement)


@contextmanager
def tables(projection: Projection) -> Iterator[Sql]:
    """``projection``'s tables, fresh, in an in-memory SQLite database."""
    connection = sqlite3.connect(":memory:", isolation_level=None)
    connection.row_factory = sqlite3.Row
    try:
        sql = Sql(connection.cursor(), postgres=False)
        projection.create_tables(sql)
        yield sql
    finally:
        connection.close()


def table_names(sql: Sql) -> set[str]:
    rows = sql.all("SELECT name FROM sqlite_master WHERE type = 'table'")
    return {row["name"] for row in rows}


# -- projections.base --------------------------------------------------------


def test_a_recorded_fact_has_its_position_times_and_effective_day() -> None:
    log = Log()
    flat = Apartment.acquire(stamp("2021-03-05"), "a-1", "AB Bo", "Norr", 2, 6000)
    log.take(flat, "2021-03-06T08:09:10.123456")
    (recorded,) = log.records
    assert recorded.position == 1
    assert recorded.recorded_at == "2021-03-06T08:09:10.123456Z"
    assert recorded.occurred_on == "2021-03-05"


def test_utc_text_is_utc_whatever_the_servers_zone(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A server on Swedish local time still stores UTC."""
    monkeypatch.setenv("TZ", "Europe/Stockholm")
    time.tzset()
    try:
        moment = datetime(2021, 7, 1, 1, 2, 3, tzinfo=UTC)
        assert utc_text(moment) == "2021-07-01T01:02:03.000000Z"
        # A moment in another zone (not the store's UTC) is converted to
        # UTC, not to the server's zone.
        new_york = timezone(timedelta(hours=-4))
        later = datetime(2021, 7, 1, 1, 2, 3, tzinfo=new_york)
        assert utc_text(later) == "2021-07-01T05:02:03.000000Z"
    finally:
        monkeypatch.undo()
        time.tzset()


def test_utc_text_is_fixed_width_utc_whatever_the_zone() -> None:
    stockholm_summer = timezone(timedelta(hours=2))
    moment = datetime(2021, 7, 1, 1, 2, 3, tzinfo=stockholm_summer)
    assert utc_text(moment) == "2021-06-30T23:02:03.000000Z"
    assert len(utc_text(datetime(2021, 1, 1, tzinfo=UTC))) == len(END_OF_TIME)
    assert utc_text(datetime(9999, 12, 31, 23, 59, 59, 999999, tzinfo=UTC)) == (
        END_OF_TIME
    )


@pytest.mark.parametrize("year", [1, 999, 1000, 2021, 9999])
def test_utc_text_is_the_strftime_form_in_every_year(year: int) -> None:
    """The isoformat shortcut (5998f32) gives the text the strftime form
    gave before it, and that ``infra.signing.utc_timestamp`` still gives; below
    the year 1000 isoformat would pad the year, so strftime writes it."""
    moment = datetime(year, 3, 4, 5, 6, 7, 89, tzinfo=UTC)
    form = "%Y-%m-%dT%H:%M:%S.%fZ"
    assert utc_text(moment) == moment.strftime(form) == utc_timestamp(moment)
    assert utc_text(moment).endswith("-03-04T05:06:07.000089Z")


def test_once_computes_on_first_access_and_keeps_the_value() -> None:
    """``once`` (made here, so its ``__init__`` runs under the code being
    tested): the first access computes, the value then sits in the
    instance's dict under the method's name and is read from there."""
    calls: list[int] = []

    class Thing:
        @once
        def value(self) -> int:
            calls.append(1)
            return 42

    thing = Thing()
    assert (thing.value, thing.value) == (42, 42)
    assert calls == [1]
    assert thing.__dict__ == {"value": 42}
    assert isinstance(vars(Thing)["value"], once)
    assert Thing.value is vars(Thing)["value"]  # type: ignore[comparison-overlap]


def seen_projection() -> Projection:
    """A projection that writes down what its two handlers were given; its
    class is made here, inside the test, so that ``handles`` and
    ``__init_subclass__`` run under the code being tested (not once, when
    this file is imported)."""

    class Seen(Projection):
        name = "seen"
        tables = {
            "seen": "CREATE TABLE IF NOT EXISTS seen (position INTEGER, what TEXT)"
        }
        indexes = ["CREATE INDEX IF NOT EXISTS seen_by_what ON seen (what)"]
        retired_tables = ("seen_before",)

        @handles(HousingCase.Filed, HousingCase.Granted)
        def case_moved(self, sql: Sql, r: Recorded) -> None:
            sql.execute(
                "INSERT INTO seen VALUES (?, ?)", [r.position, r.event.type_name]
            )

        @handles(Apartment.Acquired)
        def acquired(self, sql: Sql, r: Recorded) -> None:
            sql.execute("INSERT INTO seen VALUES (?, ?)", [r.position, "flat"])

    return Seen()


def test_each_event_goes_to_its_handler_and_others_are_skipped() -> None:
    log = Log()
    case = HousingCase.file(stamp("2021-03-01"), "c-1", {}, {"adults": 1}, "man", 1980)
    case.grant(stamp("2021-03-02"), "d-1", "socialt_kontrakt", "assessment")
    log.take(case, "2021-03-02T00:00:00")
    flat = Apartment.acquire(stamp("2021-03-03"), "a-1", "AB Bo", "Norr", 2, 6000)
    flat.return_to_landlord(stamp("2021-03-04"), None)  # no handler: skipped
    log.take(flat, "2021-03-04T00:00:00")
    projection = seen_projection()
    with tables(projection) as sql:
        projection.process(sql, log.records[0])
        projection.process_batch(sql, log.records[1:])
        rows = sql.all("SELECT position, what FROM seen ORDER BY position")
    assert [(r["position"], r["what"]) for r in rows] == [
        (1, "application_filed"),
        (2, "application_granted"),
        (3, "flat"),
    ]


def test_a_handler_is_called_as_the_projection_s_method() -> None:
    """``process`` gives the handler its own projection as ``self``."""

    class Named(Projection):
        name = "named"
        tables = {"named": "CREATE TABLE IF NOT EXISTS named (who TEXT)"}

        @handles(HousingCase.Filed)
        def filed(self, sql: Sql, r: Recorded) -> None:
            sql.execute("INSERT INTO named VALUES (?)", [self.name])

    log = Log()
    log.take(
        HousingCase.file(stamp("2021-03-01"), "c-1", {}, {}, "man", 1980),
        "2021-03-01T00:00:00",
    )
    projection = Named()
    with tables(projection) as sql:
        projection.process(sql, log.records[0])
        assert sql.all("SELECT who FROM named") == [{"who": "named"}]


def test_handlers_are_found_per_subclass() -> None:
    projection = seen_projection()
    seen: Any = type(projection)
    assert projection._handlers == {
        HousingCase.Filed: seen.case_moved,
        HousingCase.Granted: seen.case_moved,
        Apartment.Acquired: seen.acquired,
    }
    assert seen.acquired.__handles__ == (Apartment.Acquired,)
    assert set(projection._handlers) == {
        HousingCase.Filed,
        HousingCase.Granted,
        Apartment.Acquired,
    }


def test_tables_and_indexes_are_created_and_dropped_with_the_retired_ones() -> None:
    projection = seen_projection()
    with tables(projection) as sql:
        indexes = sql.all("SELECT name FROM sqlite_master WHERE type = 'index'")
        assert [row["name"] for row in indexes] == ["seen_by_what"]
        sql.execute("CREATE TABLE seen_before (x INTEGER)")
        assert table_names(sql) == {"seen", "seen_before"}
        projection.drop_tables(sql)
        assert table_names(sql) == set()
        projection.drop_tables(sql)  # nothing left to drop: no error


def test_query_indexes_are_made_unless_a_rebuild_leaves_them_for_later() -> None:
    """``create_tables`` makes the query indexes too, unless told not to (a
    rebuild makes them after its replay, ``create_query_indexes``)."""

    class Queried(type(seen_projection())):  # type: ignore[misc]
        query_indexes = [
            "CREATE INDEX IF NOT EXISTS seen_by_position ON seen (position)"
        ]

    def index_names(sql: Sql) -> list[str]:
        rows = sql.all("SELECT name FROM sqlite_master WHERE type = 'index'")
        return sorted(row["name"] for row in rows)

    with tables(Queried()) as sql:  # ``create_tables(sql)``: the default
        assert index_names(sql) == ["seen_by_position", "seen_by_what"]
    connection = sqlite3.connect(":memory:", isolation_level=None)
    connection.row_factory = sqlite3.Row
    try:
        sql = Sql(connection.cursor(), postgres=False)
        Queried().create_tables(sql, query_indexes=False)
        assert index_names(sql) == ["seen_by_what"]
        Queried().create_query_indexes(sql)
        assert index_names(sql) == ["seen_by_position", "seen_by_what"]
    finally:
        connection.close()


def test_position_keyed_tables_take_the_rowid_on_sqlite_only() -> None:
    """A table listed in ``position_keyed`` is keyed by SQLite's rowid
    (``INTEGER PRIMARY KEY``); a table not listed, and every table on
    PostgreSQL, keeps ``BIGINT PRIMARY KEY``."""

    class Keyed(Projection):
        name = "keyed"
        tables = {
            "listed": "CREATE TABLE IF NOT EXISTS listed (position BIGINT PRIMARY KEY)",
            "other": "CREATE TABLE IF NOT EXISTS other (position BIGINT PRIMARY KEY)",
        }
        position_keyed = ("listed",)

    with tables(Keyed()) as sql:
        rows = sql.all("SELECT name, sql FROM sqlite_master WHERE type = 'table'")
    assert {row["name"]: row["sql"] for row in rows} == {
        "listed": "CREATE TABLE listed (position INTEGER PRIMARY KEY)",
        "other": "CREATE TABLE other (position BIGINT PRIMARY KEY)",
    }

    cursor = RecordingCursor()
    Keyed().create_tables(Sql(cursor, postgres=True))
    assert cursor.statements == list(Keyed.tables.values())


def test_a_projection_starts_at_version_one_with_nothing_retired() -> None:
    assert Projection.version == 1
    assert Projection.indexes == []
    assert Projection.retired_tables == ()
