"""Small-count suppression for figures published outside the municipality
(``public=true`` on ``/v1/oversight/counts``, ``/flows`` and
``/v1/reports/unexecuted``; always on ``/v1/reports/council``), as SCB and
the statistics offices do it.

**The method.**

1. *Primary.* Every count from 1 to T-1 is shown as ``"<T"`` (T is
   ``BOENDE_SUPPRESSION_THRESHOLD``, default 5, at least 3). Zero is shown:
   it says nobody, which identifies nobody.
2. *Secondary.* Then as few other figures as the sums of the table need are
   shown as ``"suppressed"``, cells before totals, so that no withheld figure
   can be worked out from what is shown: not by adding and subtracting rows,
   columns and totals, and not with what ``"<T"`` and ``"suppressed"``
   themselves say (1 to T-1; T or more). Totals stay shown unless they would
   reveal a withheld cell. ``services.reporting.protection`` holds the
   engine and the argument: the sums are a network; a figure is protected
   exactly when a cycle of it can move by one; secondary figures are chosen
   by cheapest cycle, then every one that is not needed is shown again.

**The guarantee.** For every figure shown as ``"<T"`` or ``"suppressed"``
there are two tables that publish the same answer (fit every sum, every
exact figure and every mark) and differ in that figure: it cannot be known
exactly from the answer. And every ``"suppressed"`` figure is needed: shown,
it would give some withheld figure away. ``tests/unit/test_suppression.py``
checks both with hypothesis, against a brute-force search over the sums of
the whole table (not the engine's network), and ``tests/integration/
test_public_figures.py`` that the sums hold on real data.

The sums of each answer:

- counts (:func:`count_groups`): ``filed_total`` = every state;
  ``granted_total`` = granted + cancelled + ``executed_total``;
  ``executed_total`` = executed + ``converted_total`` + ``terminated_total``;
  ``converted_total`` = converted = apartments transferred; executed =
  apartments occupied; ``terminated_total`` = terminated = the termination
  reasons; ``rejected_total`` = rejected + the grants on appeal, which are
  never published but are among the granted states (each state split by
  basis, as hidden figures a reader only knows to be 0 or more).
- the council report: each measure's cross table (intervention and gender by
  waiting band) with row totals, subtotals per intervention and the grand
  total (``services.reporting.council``).
- flows: per period, each reasoned kind is the sum of its reasons
  (``services.reporting.flow_suppression``; :func:`public_flows` is the
  plain answer without reasons: one cell per fact type, no sums). The
  quarterly report: three section totals and no grand total, so primary
  only is enough: no sum ties them.

**Not covered.** A protected figure may still be narrowed to a range (e.g.
between 2 and 3): the promise is "not exactly", SCB's minimum, not a
protection interval. Each answer is protected on its own: two answers can be
differenced with each other (two ``as_of`` days, ``known_at`` times,
overlapping ``from``/``to`` ranges, months against their quarter, the council
report against the quarterly report's totals), and facts of different kinds
bound each other (a decision needs a filing). Publish public figures for
fixed, non-overlapping reporting periods only.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from typing import Any

from services.reporting.protection import PRIMARY, SHOWN, Group, protect

__all__ = [
    "DEFAULT_THRESHOLD",
    "HIDDEN",
    "Group",
    "count_groups",
    "legend",
    "public_counts",
    "public_flows",
    "public_report",
    "small",
    "suppress",
]

DEFAULT_THRESHOLD = 5
HIDDEN = "suppressed"
Shown = int | str

GRANTED_STATES = ("granted", "cancelled", "executed", "converted", "terminated")
EXECUTED_STATES = ("executed", "converted", "terminated")


def small(threshold: int = DEFAULT_THRESHOLD) -> str:
    """The mark of a count from 1 to ``threshold`` - 1: ``"<5"``."""
    return f"<{threshold}"


def legend(threshold: int = DEFAULT_THRESHOLD) -> dict[str, str]:
    """What the marks of a public answer mean."""
    return {
        small(threshold): f"a count from 1 to {threshold - 1}",
        HIDDEN: "a figure withheld so that no figure shown as "
        f"{small(threshold)} can be worked out from the others",
    }


def suppress(
    values: Mapping[str, int],
    groups: Sequence[Group],
    threshold: int = DEFAULT_THRESHOLD,
    hidden: Mapping[str, int] | None = None,
    totals: Collection[str] = (),
) -> dict[str, Shown]:
    """Each figure as published: exact, ``"<T"`` or ``"suppressed"``.
    ``groups`` are the table's sums (a network, see
    ``services.reporting.protection``), ``hidden`` the figures in them that
    are never published (with values that fit the sums),
    ``totals`` the figures to keep shown when a cell would do as well."""
    status = protect(values, groups, threshold, hidden, totals)
    mark = small(threshold)
    return {
        name: value
        if status[name] == SHOWN
        else mark
        if status[name] == PRIMARY
        else HIDDEN
        for name, value in values.items()
    }


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


def _state(name: str) -> str:
    return f"cases_by_state.{name}"


def _split(whole: str, hidden: str) -> Group:
    """``whole`` by basis: decided after assessment, or granted on appeal."""
    return Group(whole, (f"~{hidden}.assessment", f"~{hidden}.appeal"))


def count_groups(states: Sequence[str], reasons: Sequence[str]) -> list[Group]:
    """The sums of a counts answer as a network (see the module docstring);
    names starting with ``~`` are hidden figures (:func:`count_hidden`)."""
    reason = [f"terminations_by_reason.{r}" for r in reasons]
    others = [_state(s) for s in states if s not in GRANTED_STATES]
    return [
        Group("filed_total", (*others, "granted_total")),
        Group(
            "granted_total", (_state("granted"), _state("cancelled"), "executed_total")
        ),
        Group(
            "executed_total",
            (_state("executed"), "converted_total", "terminated_total"),
        ),
        Group("converted_total", (_state("converted"),)),
        Group(_state("converted"), ("apartments_by_state.transferred",)),
        _split("apartments_by_state.transferred", "converted"),
        Group(_state("executed"), ("apartments_by_state.occupied",)),
        _split("apartments_by_state.occupied", "executed"),
        _split(_state("granted"), "granted"),
        _split(_state("cancelled"), "cancelled"),
        Group("terminated_total", (_state("terminated"),)),
        Group(_state("terminated"), tuple(reason)),
        *(
            _split(name, f"terminated.{r}")
            for name, r in zip(reason, reasons, strict=True)
        ),
        Group("~terminated.appeal", tuple(f"~terminated.{r}.appeal" for r in reasons)),
        Group(
            "~appeals",
            tuple(f"~{s}.appeal" for s in GRANTED_STATES),
        ),
        Group("rejected_total", (_state("rejected"), "~appeals")),
    ]


def count_hidden(values: Mapping[str, int], reasons: Sequence[str]) -> dict[str, int]:
    """A value for each hidden figure of :func:`count_groups` that fits its
    sums with ``values``. Any such split serves: a withheld figure is
    protected when *two* tables publish the same answer, and either may be
    this one rather than the true one. The grants on appeal (``appeals``:
    ``rejected_total`` minus rejected) are spread so that a state keeps one
    after assessment and one on appeal where it can, which lets both move."""
    appeals = values["rejected_total"] - values[_state("rejected")]
    states = [_state(s) for s in GRANTED_STATES]
    shares = _spread(appeals, [values[s] for s in states])
    on_appeal = dict(zip(states, shares, strict=True))
    hidden = {"~appeals": appeals}
    for s in GRANTED_STATES[:-1]:
        hidden[f"~{s}.appeal"] = on_appeal[_state(s)]
        hidden[f"~{s}.assessment"] = values[_state(s)] - on_appeal[_state(s)]
    terminated = on_appeal[_state("terminated")]
    hidden["~terminated.appeal"] = terminated
    counts = [values[f"terminations_by_reason.{r}"] for r in reasons]
    for r, count, appeal in zip(
        reasons, counts, _spread(terminated, counts), strict=True
    ):
        hidden[f"~terminated.{r}.appeal"] = appeal
        hidden[f"~terminated.{r}.assessment"] = count - appeal
    return hidden


def _spread(total: int, sizes: Sequence[int]) -> list[int]:
    """``total`` (at most ``sum(sizes)``) as shares of at most each size:
    first one to each size of two or more, then up to one less than each
    size, then up to each size."""
    shares = [0] * len(sizes)
    for stage in ("one each", "all but one", "all"):
        for i, size in enumerate(sizes):
            room = {"one each": min(size - 1, 1), "all but one": size - 1}
            more = min(total, max(0, room.get(stage, size) - shares[i]))
            shares[i] += more
            total -= more
    return shares


def public_counts(
    answer: Mapping[str, Any], threshold: int = DEFAULT_THRESHOLD
) -> dict[str, Any]:
    """A ``counts`` answer with its figures suppressed."""
    values = flatten(answer, _COUNT_DICTS, _COUNT_TOTALS)
    reasons = list(answer["terminations_by_reason"])
    groups = count_groups(list(answer["cases_by_state"]), reasons)
    shown = suppress(
        values, groups, threshold, count_hidden(values, reasons), _COUNT_TOTALS
    )
    return {
        **answer,
        **unflatten(shown),
        "public": True,
        "legend": legend(threshold),
    }


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


def public_flows(
    answer: Mapping[str, Any], threshold: int = DEFAULT_THRESHOLD
) -> dict[str, Any]:
    """A ``flows`` answer: every count cell on its own (no totals published)."""
    periods = [
        {"period": row["period"], **suppress(_counts_of(row), [], threshold)}
        for row in answer["periods"]
    ]
    return {**answer, "periods": periods, "public": True, "legend": legend(threshold)}


def _counts_of(row: Mapping[str, Any]) -> dict[str, int]:
    return {key: int(value) for key, value in row.items() if key != "period"}


def public_report(
    answer: Mapping[str, Any], threshold: int = DEFAULT_THRESHOLD
) -> dict[str, Any]:
    """The quarterly report's JSON as section totals only: no rows (they are
    per decision) and no grand total."""
    kept = {k: v for k, v in answer.items() if k not in ("rows", "columns")}
    totals = suppress(answer["totals"], [], threshold)
    return {**kept, "totals": totals, "public": True, "legend": legend(threshold)}
