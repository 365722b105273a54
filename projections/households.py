"""People in social contracts: Socialstyrelsen's homelessness mapping,
*situation 3 — långsiktiga boendelösningar* (a person living in a housing
solution the municipality arranged, such as a social contract, because they
cannot get into the ordinary housing market).

From the tenancies read model (``projections.tenancies``): every household
that lived in an executed social contract on a day — or, for the mapping's
week, on at least one day of an ISO week (counted once) — with its adults
and children, by the applicant's gender, the household's type and the
applicant's age band. The age is the year of the day minus the birth year
(the filing records the birth year only), so it may be one year high before
the birthday.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from typing import Any

from infra.views import Sql
from projections.base import END_OF_TIME
from projections.tenancies import HOUSEHOLDS_LIVING

GENDERS = ("woman", "man", "other", "unknown")
HOUSEHOLD_TYPES = (
    "single_adult",  # one adult, no children
    "single_adult_with_children",
    "adults",  # two or more adults, no children
    "adults_with_children",
)
#: (first age, last age or None, code), in order.
AGE_BANDS = (
    (0, 17, "0-17"),
    (18, 24, "18-24"),
    (25, 34, "25-34"),
    (35, 44, "35-44"),
    (45, 54, "45-54"),
    (55, 64, "55-64"),
    (65, None, "65+"),
)


#: A household's kind: the columns the answer groups by.
_KINDS = ("gender", "birth_year", "adults", "children")


def household_type(adults: int, children: int) -> str:
    single = adults <= 1
    if children > 0:
        return "single_adult_with_children" if single else "adults_with_children"
    return "single_adult" if single else "adults"


def age_band(year: int, birth_year: int) -> str:
    age = year - birth_year
    for first, last, code in AGE_BANDS:
        if age >= first and (last is None or age <= last):
            return code
    return AGE_BANDS[0][2]  # a birth year after the day's year: the youngest


def households(sql: Sql, first: date, last: date, known_at: str) -> dict[str, Any]:
    """The households living in a social contract on at least one day from
    ``first`` to ``last``, as known at ``known_at``: totals and breakdowns.
    As everything recorded says (``known_at`` the end of time), from the
    month-end snapshots (``projections.month_ends``); as known at a
    past moment, from the tenancies themselves."""
    if known_at == END_OF_TIME:
        living = HOUSEHOLDS_LIVING.counted(sql, first, last, _KINDS)
        return summarise(living, last.year)
    rows = sql.all(
        "SELECT gender, birth_year, adults, children, COUNT(*) AS n "
        "FROM tenancies WHERE executed_on <= ? AND executed_recorded_at <= ? "
        "AND NOT (ended_on IS NOT NULL AND ended_on <= ? "
        "AND ended_recorded_at <= ?) "
        "GROUP BY gender, birth_year, adults, children",
        [last.isoformat(), known_at, first.isoformat(), known_at],
    )
    return summarise(rows, last.year)


def summarise(rows: Iterable[dict[str, Any]], year: int) -> dict[str, Any]:
    """Households, adults and children in total, and each by gender, type and
    age band (every code listed, zeros included); a row with ``n`` stands
    for that many households alike. Summed in plain lists, each row's type
    and band looked up once per kind (a million-event log has ~1,400 kinds)."""
    total = [0, 0, 0]
    sums: dict[str, dict[str, list[int]]] = {
        "by_gender": {code: [0, 0, 0] for code in GENDERS},
        "by_household_type": {code: [0, 0, 0] for code in HOUSEHOLD_TYPES},
        "by_age_band": {code: [0, 0, 0] for _, _, code in AGE_BANDS},
    }
    by_gender, by_type, by_band = sums.values()
    bands: dict[int, str] = {}
    for row in rows:
        n = int(row.get("n", 1))
        adults, children, born = row["adults"], row["children"], row["birth_year"]
        people = (n, n * adults, n * children)
        band = bands.get(born) or bands.setdefault(born, age_band(year, born))
        for figures in (
            total,
            by_gender.setdefault(row["gender"], [0, 0, 0]),
            by_type[household_type(adults, children)],
            by_band[band],
        ):
            figures[0] += people[0]
            figures[1] += people[1]
            figures[2] += people[2]
    return {
        **_figures(total),
        **{
            name: {key: _figures(figures) for key, figures in groups.items()}
            for name, groups in sums.items()
        },
    }


def _figures(figures: list[int]) -> dict[str, int]:
    return dict(zip(("households", "adults", "children"), figures, strict=True))
