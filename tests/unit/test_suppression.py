"""Public figures: nothing withheld can be worked out, and nothing is withheld
that need not be.

The oracle is independent of the engine's network. A table is generated as
its finest cells (*atoms*: in a cross table its inner cells, in the counts
answer each kind of case). Every published figure is the sum of some atoms,
written down here from what the figure means — every row, column, subtotal
and grand total, including the sums the engine leaves out as implied. A
published answer says: this figure is exactly v; is 1..T-1 (``"<T"``); is T
or more (``"suppressed"``). :func:`worlds_like` lists every table of atoms,
each atom within one of its true value, that publishes the same; a withheld
figure is *recoverable* when it has one value in all of them.

Why one step suffices: the sums of these tables are totally unimodular, so if
another table of integers publishes the same, the difference splits into
sign-compatible cycles each of which, alone, also publishes the same and
moves each atom by at most one (conformal decomposition). So "no table within
one step differs in the figure" means "no table at all does", and the
minimality check (b) below is exact too.

(a) every withheld figure takes two values or more among those tables;
(b) every figure withheld as ``"suppressed"`` though it is 0 or T or more is
needed: shown exactly, some withheld figure becomes recoverable;
and zeros are shown, 1..T-1 is ``"<T"``, unless the whole table is withheld.
"""

from __future__ import annotations

from collections.abc import Mapping
from itertools import product
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from projections.counts import FLOW_TYPES
from projections.unexecuted import SECTIONS
from services.reporting.council import (
    TOTAL,
    council_tables,
    name,
    rows_of,
    table_groups,
    table_values,
)
from services.reporting.suppression import (
    HIDDEN,
    public_flows,
    public_report,
    small,
    suppress,
)

Atom = tuple[str, ...]
Sums = dict[str, list[Atom]]  # figure -> the atoms it adds up


def allowed(shown: Any, threshold: int) -> tuple[int, int | None]:
    """What a published mark says of a figure: lowest, highest."""
    if isinstance(shown, int):
        return shown, shown
    if shown == small(threshold):
        return 1, threshold - 1
    return 0 if shown == "withheld" else threshold, None


def worlds_like(
    atoms: Mapping[Atom, int],
    sums: Sums,
    published: Mapping[str, Any],
    threshold: int,
) -> dict[str, set[int]]:
    """Each published figure's values over every table of atoms within one
    step of ``atoms`` that publishes ``published``."""
    order = list(atoms)
    bounds = {f: allowed(published[f], threshold) for f in published}
    last = {f: max(order.index(a) for a in sums[f]) if sums[f] else -1 for f in bounds}
    watch: dict[int, list[str]] = {}
    for f, index in last.items():
        watch.setdefault(index, []).append(f)
    seen: dict[str, set[int]] = {f: set() for f in published}
    empty = [f for f in bounds if not sums[f]]
    if any(not _fits(0, bounds[f]) for f in empty):
        return seen
    value: dict[Atom, int] = {}

    def walk(i: int) -> None:
        if i == len(order):
            for f in seen:
                seen[f].add(sum(value[a] for a in sums[f]))
            return
        atom = order[i]
        for step in (-1, 0, 1):
            value[atom] = atoms[atom] + step
            if value[atom] < 0:
                continue
            if all(
                _fits(sum(value[a] for a in sums[f]), bounds[f])
                for f in watch.get(i, [])
            ):
                walk(i + 1)

    walk(0)
    return seen


def _fits(total: int, bounds: tuple[int, int | None]) -> bool:
    low, high = bounds
    return total >= low and (high is None or total <= high)


def assert_protected_and_minimal(
    atoms: Mapping[Atom, int], sums: Sums, published: Mapping[str, Any], threshold: int
) -> None:
    true = {f: sum(atoms[a] for a in sums[f]) for f in published}
    withheld = [f for f, s in published.items() if not isinstance(s, int)]
    all_withheld = all(s == HIDDEN for s in published.values()) and any(
        1 <= v < threshold for v in true.values()
    )
    marks = {f: "withheld" for f in published} if all_withheld else published
    seen = worlds_like(atoms, sums, marks, threshold)
    recoverable = [f for f in withheld if len(seen[f]) < 2]
    assert not recoverable, f"recoverable: {recoverable}"
    if all_withheld:
        return
    for f, v in true.items():  # zeros shown, small ones marked
        if 1 <= v < threshold:
            assert published[f] == small(threshold), f
        elif v == 0:
            assert published[f] == 0, f
    for f in withheld:
        if published[f] == HIDDEN:  # secondary: is it needed?
            seen = worlds_like(atoms, sums, {**published, f: true[f]}, threshold)
            others = [g for g in withheld if g != f]
            assert any(len(seen[g]) < 2 for g in others), f"not needed: {f}"


# -- cross tables with subtotals: the council's shape -------------------------------

small_or_not = st.one_of(st.integers(0, 6), st.integers(0, 40))


@st.composite
def cross_tables(draw: st.DrawFn) -> tuple[list[str], list[str], list[str], dict]:
    outer = [f"o{i}" for i in range(draw(st.integers(1, 2)))]
    inner = [f"i{i}" for i in range(draw(st.integers(1, 3)))]
    most = 12 // (len(outer) * len(inner))
    bands = [f"b{i}" for i in range(draw(st.integers(1, min(3, most))))]
    cells = {(o, i, b): draw(small_or_not) for o in outer for i in inner for b in bands}
    return outer, inner, bands, cells


def cross_sums(outer: list[str], inner: list[str], bands: list[str]) -> Sums:
    """Every figure of the table as the inner cells it adds up."""

    def pick(key: str, every: list[str]) -> list[str]:
        return every if key == TOTAL else [key]

    return {
        name(row, column): [
            (o, i, b)
            for o in pick(row[0], outer)
            for i in pick(row[1], inner)
            for b in pick(column, bands)
        ]
        for row in rows_of(outer, inner)
        for column in (*bands, TOTAL)
    }


@settings(max_examples=120, deadline=None)
@given(cross_tables(), st.sampled_from([3, 5]))
def test_cross_tables_protected_and_minimal(drawn: Any, threshold: int) -> None:
    outer, inner, bands, cells = drawn
    values = table_values(cells, outer, inner, bands)
    totals = [n for n in values if TOTAL in n.split("|")]
    groups = table_groups(outer, inner, bands)
    published = suppress(values, groups, threshold, totals=totals)
    assert_protected_and_minimal(
        cells, cross_sums(outer, inner, bands), published, threshold
    )


def test_a_small_cell_costs_a_rectangle_not_the_totals() -> None:
    """One small cell in a 2x2 table: the three other corners of a rectangle
    are withheld, every total is shown."""
    cells = {
        ("o", "a", "x"): 2,
        ("o", "a", "y"): 10,
        ("o", "b", "x"): 7,
        ("o", "b", "y"): 9,
    }
    values = table_values(cells, ["o"], ["a", "b"], ["x", "y"])
    totals = [n for n in values if TOTAL in n.split("|")]
    shown = suppress(
        values, table_groups(["o"], ["a", "b"], ["x", "y"]), 5, totals=totals
    )
    hidden = sorted(n for n, s in shown.items() if not isinstance(s, int))
    assert hidden == ["o|a|x", "o|a|y", "o|b|x", "o|b|y"]
    assert shown["o|a|x"] == "<5" and shown["o|a|y"] == HIDDEN
    assert all(isinstance(shown[n], int) for n in totals)


# -- flows and the quarterly report: no sums, primary only ----------------------------

flow_rows = st.lists(
    st.fixed_dictionaries({n: small_or_not for n in FLOW_TYPES.values()}),
    min_size=1,
    max_size=4,
)


@settings(max_examples=100, deadline=None)
@given(flow_rows, st.sampled_from([3, 5, 10]))
def test_flows_are_primary_only(rows: list[dict[str, int]], threshold: int) -> None:
    periods = [{"period": f"2024-{i + 1:02}", **c} for i, c in enumerate(rows)]
    body = {"from": "2024-01-01", "period": "month", "periods": periods}
    published = public_flows(body, threshold)
    for exact, shown in zip(periods, published["periods"], strict=True):
        assert shown["period"] == exact["period"]
        for key, value in exact.items():
            if key != "period":
                expected = small(threshold) if 1 <= value < threshold else value
                assert shown[key] == expected


@settings(max_examples=100, deadline=None)
@given(st.fixed_dictionaries({s: small_or_not for s in SECTIONS}))
def test_report_totals_are_primary_only(totals: dict[str, int]) -> None:
    rows = [{"section": s} for s, n in totals.items() for _ in range(n)]
    body = {"quarter": "2024Q1", "totals": totals, "rows": rows, "columns": ["x"]}
    published = public_report(body)
    assert "rows" not in published and "columns" not in published  # per decision
    assert published["totals"] == {
        s: "<5" if 1 <= n <= 4 else n for s, n in totals.items()
    }


# -- the council report's two tables ---------------------------------------------------


def test_council_tables_are_protected_each_on_its_own() -> None:
    from collections import Counter

    from projections.council import BANDS, GENDERS, INTERVENTIONS

    cells: Counter[tuple[str, str, str, str]] = Counter()
    for k, (i, g, b) in enumerate(product(INTERVENTIONS, GENDERS, BANDS)):
        cells[("unexecuted", i, g, b)] = (k * 7) % 11
        cells[("executed_late", i, g, b)] = (k * 5) % 4
    answer = council_tables(cells, 5)
    assert answer["columns"] == ["intervention", "gender", *BANDS, "total"]
    for measure, rows in answer["tables"].items():
        assert len(rows) == len(INTERVENTIONS) * (len(GENDERS) + 1) + 1
        grand = rows[-1]
        assert (grand["intervention"], grand["gender"]) == ("total", "total")
        true = sum(n for k, n in cells.items() if k[0] == measure)
        assert grand["total"] in (true, HIDDEN, "<5")
