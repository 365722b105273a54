"""People in social contracts (``projections.households``) on the tenancies
history of ``test_mut_tenancies``: every figure on a day and over a week,
as known at a moment; the household types and age bands at their edges."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest

from infra.views import Sql
from projections.base import END_OF_TIME
from projections.households import (
    AGE_BANDS,
    GENDERS,
    HOUSEHOLD_TYPES,
    age_band,
    household_type,
    households,
    summarise,
)
from tests.unit.test_mut_tenancies import at, sql  # noqa: F401  (the fixture)

NONE = {"households": 0, "adults": 0, "children": 0}


def figures(households: int, adults: int, children: int) -> dict[str, int]:
    return {"households": households, "adults": adults, "children": children}


def answer(total: dict[str, int], **groups: dict[str, dict[str, int]]) -> Any:
    """The whole answer: every code of every breakdown, zero unless given."""
    codes = {
        "by_gender": GENDERS,
        "by_household_type": HOUSEHOLD_TYPES,
        "by_age_band": [code for _, _, code in AGE_BANDS],
    }
    return {
        **total,
        **{
            name: {code: groups.get(name, {}).get(code, NONE) for code in codes[name]}
            for name in codes
        },
    }


def test_the_households_on_a_day(sql: Sql) -> None:  # noqa: F811
    """1 February 2024: X (34, a single parent of two), Y (64, two adults)
    and Z (17, alone; the age is the year's, before the birthday too)."""
    day = date(2024, 2, 1)
    assert households(sql, day, day, END_OF_TIME) == answer(
        figures(3, 4, 2),
        by_gender={
            "woman": figures(1, 1, 2),
            "man": figures(1, 2, 0),
            "other": figures(1, 1, 0),
        },
        by_household_type={
            "single_adult": figures(1, 1, 0),
            "single_adult_with_children": figures(1, 1, 2),
            "adults": figures(1, 2, 0),
        },
        by_age_band={
            "0-17": figures(1, 1, 0),
            "25-34": figures(1, 1, 2),
            "55-64": figures(1, 2, 0),
        },
    )


def test_a_week_counts_each_household_that_lived_there_on_any_day(
    sql: Sql,  # noqa: F811
) -> None:
    """Week 22 of 2024, 27 May to 2 June: W evicted on the 31st and Y's
    lease his own from the 1st still lived there on a day of it."""
    week = households(sql, date(2024, 5, 27), date(2024, 6, 2), END_OF_TIME)
    assert week == answer(
        figures(3, 5, 1),
        by_gender={
            "man": figures(1, 2, 0),
            "other": figures(1, 1, 0),
            "unknown": figures(1, 2, 1),
        },
        by_household_type={
            "single_adult": figures(1, 1, 0),
            "adults": figures(1, 2, 0),
            "adults_with_children": figures(1, 2, 1),
        },
        by_age_band={
            "0-17": figures(1, 1, 0),
            "55-64": figures(1, 2, 0),
            "65+": figures(1, 2, 1),
        },
    )


def test_the_age_is_that_of_the_last_days_year(sql: Sql) -> None:  # noqa: F811
    """A week across new year: Z, born 2007, is 18 in the year of its last day."""
    week = households(sql, date(2024, 12, 30), date(2025, 1, 5), END_OF_TIME)
    assert week == answer(
        figures(1, 1, 0),
        by_gender={"other": figures(1, 1, 0)},
        by_household_type={"single_adult": figures(1, 1, 0)},
        by_age_band={"18-24": figures(1, 1, 0)},
    )


def test_the_first_and_last_days_are_inclusive(sql: Sql) -> None:  # noqa: F811
    def total(first: str, last: str) -> int:
        day = date.fromisoformat
        n: int = households(sql, day(first), day(last), END_OF_TIME)["households"]
        return n

    assert total("2024-01-01", "2024-01-10") == 0
    assert total("2024-01-01", "2024-01-11") == 1  # X moved in on the 11th
    assert total("2024-02-15", "2024-03-31") == 2  # X out on the 15th
    assert total("2024-02-14", "2024-03-31") == 3
    assert total("2024-06-01", "2024-06-01") == 1  # Y's conversion that day


def test_as_known_at_a_moment(sql: Sql) -> None:  # noqa: F811
    day = date(2024, 4, 1)
    before_w = households(sql, day, day, at("2024-04-20T07:59:59"))
    assert before_w["households"] == 2  # W's moving in recorded on 20 April
    assert households(sql, day, day, at("2024-04-20T08:00:00"))["households"] == 3
    june = date(2024, 6, 1)
    before_y = households(sql, june, june, at("2024-06-10T07:59:59"))
    assert before_y["households"] == 2  # Y's conversion not yet known
    assert before_y["by_gender"]["man"] == figures(1, 2, 0)
    assert households(sql, june, june, at("2024-06-10T08:00:00"))["households"] == 1
    # W's eviction (31 May) is known with its moving in.
    may = date(2024, 5, 31)
    assert households(sql, may, may, at("2024-04-20T08:00:00"))["households"] == 2


def test_alike_households_are_counted_each() -> None:
    """A row with ``n`` stands for that many households alike; without it,
    for one. A gender outside the codes gets a group of its own."""
    rows = [
        {"gender": "man", "birth_year": 1980, "adults": 2, "children": 3, "n": 4},
        {"gender": "nonbinary", "birth_year": 2000, "adults": 1, "children": 0},
    ]
    got = summarise(rows, 2024)
    expected = answer(
        figures(5, 9, 12),
        by_gender={"man": figures(4, 8, 12)},
        by_household_type={
            "adults_with_children": figures(4, 8, 12),
            "single_adult": figures(1, 1, 0),
        },
        by_age_band={"35-44": figures(4, 8, 12), "18-24": figures(1, 1, 0)},
    )
    expected["by_gender"]["nonbinary"] = figures(1, 1, 0)
    assert got == expected
    assert list(got) == [
        "households",
        "adults",
        "children",
        "by_gender",
        "by_household_type",
        "by_age_band",
    ]
    assert list(got["by_gender"]) == [*GENDERS, "nonbinary"]


def test_nothing_to_count() -> None:
    assert summarise([], 2024) == answer(NONE)


@pytest.mark.parametrize(
    ("adults", "children", "kind"),
    [
        (0, 0, "single_adult"),
        (1, 0, "single_adult"),
        (2, 0, "adults"),
        (1, 1, "single_adult_with_children"),
        (2, 1, "adults_with_children"),
        (3, 4, "adults_with_children"),
    ],
)
def test_the_household_type(adults: int, children: int, kind: str) -> None:
    assert household_type(adults, children) == kind


@pytest.mark.parametrize(
    ("age", "band"),
    [
        (-1, "0-17"),  # born after the day's year: the youngest
        (0, "0-17"),
        (17, "0-17"),
        (18, "18-24"),
        (24, "18-24"),
        (25, "25-34"),
        (34, "25-34"),
        (35, "35-44"),
        (44, "35-44"),
        (45, "45-54"),
        (54, "45-54"),
        (55, "55-64"),
        (64, "55-64"),
        (65, "65+"),
        (110, "65+"),
    ],
)
def test_the_age_band(age: int, band: str) -> None:
    assert age_band(2024, 2024 - age) == band


def test_the_codes_in_their_order() -> None:
    assert GENDERS == ("woman", "man", "other", "unknown")
    assert HOUSEHOLD_TYPES == (
        "single_adult",
        "single_adult_with_children",
        "adults",
        "adults_with_children",
    )
    assert [code for _, _, code in AGE_BANDS] == [
        "0-17",
        "18-24",
        "25-34",
        "35-44",
        "45-54",
        "55-64",
        "65+",
    ]
