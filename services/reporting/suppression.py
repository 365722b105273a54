"""Small-count suppression for figures published outside the municipality
(``public=true`` on ``/v1/oversight/counts``, ``/flows`` and
``/v1/reports/unexecuted``).

**The method** (primary suppression, then suppression of the totals):

1. *Primary.* Every count from 1 to 4 is shown as ``"<5"``. Zero is shown
   as 0: it says nobody, which identifies nobody.
2. *Totals.* A figure that is a total of other published figures (a
   :class:`Group`: the whole, and the parts it adds up, or bounds) is shown
   as ``"suppressed"`` as soon as any of its parts is not shown exactly. This
   runs until nothing changes, so it cascades: a hidden total that is itself
   a part hides its own total too.

Why totals rather than a second cell: with a published total and two
``"<5"`` cells, the pair (1, 1) or (4, 4) is still recoverable from their
difference (their sum is 2 or 8), and a second, larger cell hidden to
protect a small one can be bounded. A hidden total claims nothing (no upper
bound), so:

**The guarantee.** Take any published answer and any count shown as
``"<5"`` or ``"suppressed"``. Change that count's underlying cases by one
(still 1 to 4 for a ``"<5"``) and change every total that contains it by the
same: all of those totals are ``"suppressed"`` by rule 2, so the published
answer is identical — the value cannot be told from its neighbour by
differencing the published cells and totals. ``tests/unit/test_suppression.py``
checks this over generated worlds, and ``tests/integration/
test_public_figures.py`` checks that the groups below hold on real data.

The groups of each answer:

- counts: ``filed_total`` = every state; ``granted_total`` = granted,
  cancelled, executed, converted, terminated; ``executed_total`` = executed,
  converted, terminated; ``converted_total`` = converted;
  ``terminated_total`` = terminated = the termination reasons;
  ``rejected_total`` = rejected + the grants on appeal (which are among the
  granted states, so all of those count as its parts); apartments occupied =
  cases executed, apartments transferred = cases converted.
- flows: per period, one cell per fact type and no totals: primary only.
- the quarterly report: the three section totals, no grand total and no rows
  (the rows are per decision): primary only.

**Not covered.** Each answer is protected on its own. Two answers can still
be differenced with each other — two ``as_of`` days, ``known_at`` times,
overlapping ``from``/``to`` ranges, months against their quarter — and facts
of different kinds bound each other (a decision needs a filing). Publish
public figures for fixed, non-overlapping reporting periods only.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

SMALL = "<5"
HIDDEN = "suppressed"
LEGEND = {
    SMALL: "a count from 1 to 4",
    HIDDEN: "a total withheld because it would reveal a count shown as <5",
}
Shown = int | str

GRANTED_STATES = ("granted", "cancelled", "executed", "converted", "terminated")
EXECUTED_STATES = ("executed", "converted", "terminated")


@dataclass(frozen=True)
class Group:
    """``whole`` is the total (or a bound) of ``parts``: all figure names."""

    whole: str
    parts: tuple[str, ...]


def suppress(values: Mapping[str, int], groups: Iterable[Group]) -> dict[str, Shown]:
    """Each figure as published: exact, ``"<5"`` or ``"suppressed"``."""
    shown: dict[str, Shown] = {
        name: SMALL if 1 <= value <= 4 else value for name, value in values.items()
    }
    pending = [g for g in groups if g.whole in shown]
    changed = True
    while changed:
        changed = False
        for group in pending:
            hidden = any(not isinstance(shown.get(p, 0), int) for p in group.parts)
            if hidden and shown[group.whole] != HIDDEN:
                shown[group.whole] = HIDDEN
                changed = True
    return shown


# -- counts ----------------------------------------------------------------------

_COUNT_DICTS = ("cases_by_state", "terminations_by_reason", "apartments_by_state")
_COUNT_TOTALS = (
    "filed_total",
    "granted_total",
    "rejected_total",
    "executed_total",
    "converted_total",
    "terminated_total",
)


def count_groups(states: Sequence[str], reasons: Sequence[str]) -> list[Group]:
    """The groups of a counts answer (see the module's docstring)."""

    def state(*names: str) -> tuple[str, ...]:
        return tuple(f"cases_by_state.{n}" for n in names)

    by_reason = tuple(f"terminations_by_reason.{r}" for r in reasons)
    return [
        Group("filed_total", state(*states)),
        Group("granted_total", state(*GRANTED_STATES)),
        Group("rejected_total", state("rejected", *GRANTED_STATES)),
        Group("executed_total", state(*EXECUTED_STATES)),
        Group("converted_total", state("converted")),
        Group("terminated_total", state("terminated")),
        Group("terminated_total", by_reason),
        Group("cases_by_state.terminated", by_reason),
        Group("apartments_by_state.occupied", state("executed")),
        Group("apartments_by_state.transferred", state("converted")),
    ]


def public_counts(answer: Mapping[str, Any]) -> dict[str, Any]:
    """A ``counts`` answer with its figures suppressed."""
    values = flatten(answer, _COUNT_DICTS, _COUNT_TOTALS)
    groups = count_groups(
        list(answer["cases_by_state"]), list(answer["terminations_by_reason"])
    )
    shown = suppress(values, groups)
    return {**answer, **unflatten(shown), "public": True, "legend": LEGEND}


def flatten(
    answer: Mapping[str, Any], dicts: Sequence[str], totals: Sequence[str]
) -> dict[str, int]:
    """``{"cases_by_state.granted": 7, "filed_total": 40, ...}``."""
    flat = {f"{d}.{key}": int(v) for d in dicts for key, v in answer[d].items()}
    return flat | {name: int(answer[name]) for name in totals}


def unflatten(shown: Mapping[str, Shown]) -> dict[str, Any]:
    nested: dict[str, Any] = {}
    for name, value in shown.items():
        outer, dot, inner = name.partition(".")
        if dot:
            nested.setdefault(outer, {})[inner] = value
        else:
            nested[name] = value
    return nested


# -- flows and the quarterly report -------------------------------------------------


def public_flows(answer: Mapping[str, Any]) -> dict[str, Any]:
    """A ``flows`` answer: every count cell on its own (no totals published)."""
    periods = [
        {"period": row["period"], **suppress(_counts_of(row), [])}
        for row in answer["periods"]
    ]
    return {**answer, "periods": periods, "public": True, "legend": LEGEND}


def _counts_of(row: Mapping[str, Any]) -> dict[str, int]:
    return {key: int(value) for key, value in row.items() if key != "period"}


def public_report(answer: Mapping[str, Any]) -> dict[str, Any]:
    """The quarterly report's JSON as section totals only: no rows (they are
    per decision) and no grand total."""
    kept = {k: v for k, v in answer.items() if k not in ("rows", "columns")}
    totals = suppress(answer["totals"], [])
    return {**kept, "totals": totals, "public": True, "legend": LEGEND}
