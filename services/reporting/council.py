"""The council's statistical report as published tables: per measure
(``projections.council``), rows of intervention and gender with a subtotal row
per intervention and a grand total row, columns of IVO's waiting bands and a
total column, suppressed as one table (``services.reporting.suppression``).

The sums of a table, as a network (``services.reporting.protection``):

- each intervention and gender row: its ``total`` is the sum of its bands;
- each column: an intervention's subtotal is the sum of its genders, the
  grand total row the sum of the interventions' subtotals;
- the grand total row: its ``total`` is the sum of its bands.

That a subtotal row's ``total`` is the sum of its bands follows from these
(sum its genders' rows), so it is left out of the network, not out of the
protection: a reader who uses it learns nothing the others do not say.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from projections.council import BANDS, GENDERS, INTERVENTIONS, MEASURES, Cells
from services.reporting.suppression import Group, legend, suppress

TOTAL = "total"
COLUMNS = (*BANDS, TOTAL)


def name(row: tuple[str, str], column: str) -> str:
    """A figure of the table: ``socialt_kontrakt|woman|3_6``."""
    return f"{row[0]}|{row[1]}|{column}"


def rows_of(outer: Sequence[str], inner: Sequence[str]) -> list[tuple[str, str]]:
    """The rows in order: each outer's inner rows then its subtotal; last the
    grand total."""
    rows = [(o, i) for o in outer for i in (*inner, TOTAL)]
    return [*rows, (TOTAL, TOTAL)]


def table_groups(
    outer: Sequence[str], inner: Sequence[str], bands: Sequence[str]
) -> list[Group]:
    """The sums of one table as a network (see the module docstring)."""
    columns = (*bands, TOTAL)
    groups = [
        Group(name((o, i), TOTAL), tuple(name((o, i), b) for b in bands))
        for o in outer
        for i in inner
    ]
    for column in columns:
        groups += [
            Group(name((o, TOTAL), column), tuple(name((o, i), column) for i in inner))
            for o in outer
        ]
        groups.append(
            Group(
                name((TOTAL, TOTAL), column),
                tuple(name((o, TOTAL), column) for o in outer),
            )
        )
    groups.append(
        Group(
            name((TOTAL, TOTAL), TOTAL), tuple(name((TOTAL, TOTAL), b) for b in bands)
        )
    )
    return groups


def table_values(
    cells: Mapping[tuple[str, str, str], int],
    outer: Sequence[str],
    inner: Sequence[str],
    bands: Sequence[str],
) -> dict[str, int]:
    """Every figure of one table, totals included, from its inner cells
    (``(outer, inner, band) -> count``)."""

    def value(o: str, i: str, b: str) -> int:
        os = outer if o == TOTAL else [o]
        is_ = inner if i == TOTAL else [i]
        bs = bands if b == TOTAL else [b]
        return sum(cells.get((x, y, z), 0) for x in os for y in is_ for z in bs)

    return {
        name(row, column): value(*row, column)
        for row in rows_of(outer, inner)
        for column in (*bands, TOTAL)
    }


def council_tables(cells: Cells, threshold: int) -> dict[str, Any]:
    """The report's tables, each suppressed on its own (no sum ties the two
    measures: a decision executed late in the quarter is not unexecuted at
    its end)."""
    bands = list(BANDS)
    groups = table_groups(INTERVENTIONS, GENDERS, bands)
    tables: dict[str, Any] = {}
    for measure in MEASURES:
        inner = {k[1:]: n for k, n in cells.items() if k[0] == measure}
        values = table_values(inner, INTERVENTIONS, GENDERS, bands)
        totals = [n for n in values if TOTAL in n.split("|")]
        shown = suppress(values, groups, threshold, totals=totals)
        tables[measure] = [
            {
                "intervention": row[0],
                "gender": row[1],
                **{column: shown[name(row, column)] for column in COLUMNS},
            }
            for row in rows_of(INTERVENTIONS, GENDERS)
        ]
    return {
        "columns": ["intervention", "gender", *COLUMNS],
        "bands": [
            {"band": code, "months_from": first, "months_to": last}
            for code, (first, last) in BANDS.items()
        ],
        "tables": tables,
        "public": True,
        "threshold": threshold,
        "legend": legend(threshold),
    }
