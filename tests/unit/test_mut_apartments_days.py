"""Vacant days on a past day (``projections/apartments.py``,
``_vacancy_days``): before any vacancy has ended there are none past, only
the open ones' days; on PostgreSQL a vacancy's length is a date subtraction
(SQLite has no dates: ``julianday``)."""

from __future__ import annotations

from datetime import date
from typing import Any

from domain.apartment import Apartment
from domain.case import HousingCase
from projections.apartments import ApartmentStock, _vacancy_days, stock
from tests.unit.test_mut_projections_base import Log, stamp, tables


def test_before_any_vacancy_ended_only_the_open_days_count() -> None:
    """a-1 available from 1 January, occupied on 1 February: asked for
    10 January (before the last fact: the states on the day), 9 days, all
    of them the open vacancy's."""
    log = Log()
    flat = Apartment.acquire(stamp("2021-01-01", "ALN"), "a-1", "AB Bo", "N", 2, 1)
    case = HousingCase.file(stamp("2021-01-01"), "c-1", {}, {}, "man", 1980)
    case.grant(stamp("2021-01-02"), "d-1", "socialt_kontrakt", "assessment")
    case.execute(stamp("2021-02-01"), flat, 1, date(2021, 2, 1))
    log.take(flat, "2021-02-01T00:00:00")
    projection = ApartmentStock()
    with tables(projection) as sql:
        for record in log.records:
            projection.process(sql, record)
        on_the_10th = stock(sql, date(2021, 1, 10))["vacancy_days"]
        on_the_1st = _vacancy_days(sql, date(2021, 1, 1))
    assert on_the_10th == {
        "current": {"count": 1, "mean": 9, "median": 9, "max": 9},
        "total_to_date": 9,
    }
    assert on_the_1st["total_to_date"] == 0  # the vacancy begins that day


class Recording:
    """A PostgreSQL read model that answers 12 vacant days ended in the
    months before and 12 in the month asked, no snapshot and no open
    vacancy, and keeps the statements it was asked."""

    postgres = True

    def __init__(self) -> None:
        self.statements: list[str] = []

    def one(self, statement: str, params: Any = ()) -> dict[str, Any]:
        self.statements.append(statement)
        return {"days": 12, "low": None, "high": None}

    def all(self, statement: str, params: Any = ()) -> list[dict[str, Any]]:
        self.statements.append(statement)
        return []


def test_on_postgresql_a_vacancy_s_length_is_a_date_subtraction() -> None:
    sql = Recording()
    assert _vacancy_days(sql, date(2021, 3, 1)) == {  # type: ignore[arg-type]
        "current": {"count": 0, "mean": None, "median": None, "max": None},
        "total_to_date": 24,
    }
    ended = sql.statements[1].lower()  # SQL ignores the case of keywords
    assert "sum(cast(until_on as date) - cast(occurred_on as date))" in ended
    assert "julianday" not in " ".join(sql.statements).lower()
