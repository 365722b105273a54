"""Small-count suppression of a households answer (``projections.households``,
``public=true`` on ``/v1/oversight/households``; the method:
``services.reporting.suppression``).

Each measure (households, adults, children) is published as its total and
three breakdowns of it (by gender, household type and age band): three
one-level tables that share the total. Each breakdown is protected on its
own, with the total kept shown where a cell would do as well. That is
enough when the total comes out the same in all three (exact when it is 0
or at least T, ``"<T"`` otherwise): the breakdowns are margins of different
dimensions, so with the total fixed no breakdown says anything about the
cells of another. If protecting one breakdown withholds the total (a tiny
table: say 1 + 1 = 2 with T = 3), the others would give it away by their
sum, so every figure of that measure is withheld, as the engine does with
a table it cannot protect.

Not covered (as for every answer, ``services.reporting.suppression``): the
measures bound each other (a household has at least one adult), and two
answers (two days, a day and its week) can be differenced.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from services.reporting.suppression import (
    DEFAULT_THRESHOLD,
    HIDDEN,
    Group,
    Shown,
    legend,
    small,
    suppress,
)

MEASURES = ("households", "adults", "children")
BREAKDOWNS = ("by_gender", "by_household_type", "by_age_band")
TOTAL = "total"  # a name no cell has (cells are "<breakdown>.<code>")


def public_households(
    answer: Mapping[str, Any], threshold: int = DEFAULT_THRESHOLD
) -> dict[str, Any]:
    """A households answer with its figures suppressed; the rest (days,
    provenance) as it was."""
    out: dict[str, Any] = {
        **answer,
        **{b: {code: {} for code in answer[b]} for b in BREAKDOWNS},
    }
    for measure in MEASURES:
        total, cells = _measure(answer, measure, threshold)
        out[measure] = total
        for breakdown, shown in cells.items():
            for code, value in shown.items():
                out[breakdown][code][measure] = value
    return {**out, "public": True, "legend": legend(threshold)}


def _measure(
    answer: Mapping[str, Any], measure: str, threshold: int
) -> tuple[Shown, dict[str, dict[str, Shown]]]:
    """The measure's total and each breakdown's cells as published."""
    total = int(answer[measure])
    natural: Shown = total if total == 0 or total >= threshold else small(threshold)
    cells: dict[str, dict[str, Shown]] = {}
    for breakdown in BREAKDOWNS:
        values = {
            f"{breakdown}.{code}": int(g[measure])
            for code, g in answer[breakdown].items()
        }
        group = Group(TOTAL, tuple(values))
        shown = suppress({TOTAL: total, **values}, [group], threshold, totals=[TOTAL])
        if shown[TOTAL] != natural:
            return HIDDEN, {b: {code: HIDDEN for code in answer[b]} for b in BREAKDOWNS}
        cells[breakdown] = {
            code: shown[f"{breakdown}.{code}"] for code in answer[breakdown]
        }
    return natural, cells
