"""Public figures: no suppressed value can be recovered by differencing.

The proof is by indistinguishability. For a generated world (how many cases
and apartments are in each finest-grained situation), publish it; then for
every figure shown as ``"<5"`` or ``"suppressed"``, find a neighbouring world
— one case or apartment more, fewer or moved — whose publication is
*identical* while that figure's true value differs. Nothing in the published
answer, cells and totals alike, can then tell the two values apart.
``tests/integration/test_public_figures.py`` checks that the world model's
sums (the groups of ``services.reporting.suppression``) hold on real data.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from itertools import permutations
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from projections.counts import CASE_STATES, FLOW_TYPES
from projections.unexecuted import SECTIONS
from services.reporting.suppression import (
    EXECUTED_STATES,
    GRANTED_STATES,
    HIDDEN,
    SMALL,
    Group,
    count_groups,
    flatten,
    public_counts,
    public_flows,
    public_report,
    suppress,
)

REASONS = ("deceased", "eviction", "moved_out", "other", "own_housing_found")
# The finest situations a case or apartment can be in, as far as counts see.
ATOMS: tuple[tuple[str, ...], ...] = (
    ("case", "filed"),
    ("case", "withdrawn"),
    ("case", "rejected"),
    *(
        ("case", state, basis)
        for state in ("granted", "cancelled", "executed", "converted")
        for basis in ("assessment", "appeal")
    ),
    *(
        ("case", "terminated", basis, reason)
        for basis in ("assessment", "appeal")
        for reason in REASONS
    ),
    ("apartment", "available"),
    ("apartment", "returned"),
)
World = dict[tuple[str, ...], int]

small_or_not = st.one_of(st.integers(0, 6), st.integers(0, 60))
worlds = st.fixed_dictionaries({atom: small_or_not for atom in ATOMS})


def true_counts(world: World) -> dict[str, Any]:
    """The figures of a counts answer for ``world``: the model of the sums."""

    def cases(state: str, appeal: bool | None = None) -> int:
        return sum(
            n
            for atom, n in world.items()
            if atom[:2] == ("case", state) and (appeal is None or "appeal" in atom)
        )

    by_state = {s: cases(s) for s in CASE_STATES}
    appeals = sum(cases(s, appeal=True) for s in GRANTED_STATES)
    reasons = {
        r: sum(n for atom, n in world.items() if atom[1] == "terminated" and r in atom)
        for r in REASONS
    }
    return {
        "cases_by_state": by_state,
        "filed_total": sum(by_state.values()),
        "granted_total": sum(by_state[s] for s in GRANTED_STATES),
        "rejected_total": by_state["rejected"] + appeals,
        "executed_total": sum(by_state[s] for s in EXECUTED_STATES),
        "converted_total": by_state["converted"],
        "terminated_total": by_state["terminated"],
        "terminations_by_reason": {r: n for r, n in reasons.items() if n},
        "apartments_by_state": {
            "available": world[("apartment", "available")],
            "occupied": by_state["executed"],
            "returned": world[("apartment", "returned")],
            "transferred": by_state["converted"],
        },
    }


def figures(answer: dict[str, Any]) -> dict[str, Any]:
    dicts = ("cases_by_state", "terminations_by_reason", "apartments_by_state")
    totals = [k for k in answer if k.endswith("_total")]
    flat = {f"{d}.{k}": v for d in dicts for k, v in answer[d].items()}
    return flat | {k: answer[k] for k in totals}


def neighbours(world: World) -> Iterator[World]:
    """Every world one case or apartment away: one more, one fewer, or one
    moved from one situation to another."""
    for atom in ATOMS:
        yield {**world, atom: world[atom] + 1}
        if world[atom]:
            yield {**world, atom: world[atom] - 1}
    for source, target in permutations(ATOMS, 2):
        if world[source] and source[0] == target[0]:
            yield {**world, source: world[source] - 1, target: world[target] + 1}


def assert_indistinguishable(
    world: Any,
    publish: Callable[[Any], dict[str, Any]],
    truth: Callable[[Any], dict[str, Any]],
    around: Callable[[Any], Iterator[Any]],
) -> None:
    """Every suppressed figure has a twin world that publishes the same."""
    published, true = publish(world), truth(world)
    suppressed = {name for name, shown in published.items() if shown in (SMALL, HIDDEN)}
    unresolved = set(suppressed)
    for other in around(world):
        if not unresolved:
            break
        if publish(other) == published:
            twin = truth(other)
            unresolved -= {n for n in unresolved if twin.get(n, 0) != true[n]}
    assert not unresolved, f"recoverable: {sorted(unresolved)}"


# -- counts --------------------------------------------------------------------


@settings(max_examples=150, deadline=None)
@given(worlds)
def test_no_suppressed_count_can_be_recovered(world: World) -> None:
    assert_indistinguishable(
        world,
        lambda w: figures(public_counts(true_counts(w))),
        lambda w: figures(true_counts(w)),
        neighbours,
    )


@settings(max_examples=300, deadline=None)
@given(worlds)
def test_a_published_total_has_every_part_published(world: World) -> None:
    """Plain differencing: a total shown exactly never has a part that is not,
    so total minus the shown parts reveals nothing."""
    answer = true_counts(world)
    shown = figures(public_counts(answer))
    groups = count_groups(CASE_STATES, list(answer["terminations_by_reason"]))
    for group in groups:
        if isinstance(shown[group.whole], int):
            assert all(isinstance(shown.get(p, 0), int) for p in group.parts), group
    for name, value in figures(answer).items():
        expected = SMALL if 1 <= value <= 4 else value
        assert shown[name] in (expected, HIDDEN), name
        if shown[name] == HIDDEN:  # only totals are ever hidden
            assert any(g.whole == name for g in groups)


@settings(max_examples=300, deadline=None)
@given(worlds)
def test_the_groups_are_the_models_sums(world: World) -> None:
    """The groups say what adds up (or bounds) what; in the model they do."""
    answer = true_counts(world)
    values = flatten(
        answer,
        ("cases_by_state", "terminations_by_reason", "apartments_by_state"),
        [k for k in answer if k.endswith("_total")],
    )
    for group in count_groups(CASE_STATES, list(answer["terminations_by_reason"])):
        parts = sum(values.get(p, 0) for p in group.parts)
        if group.whole == "rejected_total":  # rejected + appeals (among them)
            assert values["cases_by_state.rejected"] <= values[group.whole] <= parts
        else:
            assert values[group.whole] == parts, group


def test_an_example_one_small_cell_hides_its_totals() -> None:
    world = {atom: 0 for atom in ATOMS} | {
        ("case", "filed"): 12,
        ("case", "withdrawn"): 2,
        ("case", "executed", "assessment"): 9,
    }
    shown = public_counts(true_counts(world))
    assert shown["cases_by_state"]["withdrawn"] == SMALL
    assert shown["filed_total"] == HIDDEN  # 23 - 12 - 9 would give the 2
    assert shown["granted_total"] == shown["executed_total"] == 9
    assert shown["cases_by_state"]["filed"] == 12 and shown["public"] is True


# -- the engine on any sums ----------------------------------------------------------


@st.composite
def sums(draw: st.DrawFn) -> tuple[dict[str, int], list[Group], dict[str, set[str]]]:
    """Random leaves and totals over leaves and earlier totals."""
    leaves = {f"l{i}": draw(small_or_not) for i in range(draw(st.integers(1, 6)))}
    names, members = list(leaves), {n: {n} for n in leaves}
    groups = []
    for j in range(draw(st.integers(0, 5))):
        parts = draw(st.lists(st.sampled_from(names), min_size=1, unique=True))
        whole = f"t{j}"
        members[whole] = set().union(*(members[p] for p in parts))
        groups.append(Group(whole, tuple(parts)))
        names.append(whole)
    return leaves, groups, members


@settings(max_examples=300, deadline=None)
@given(sums())
def test_the_engine_on_any_sums(
    drawn: tuple[dict[str, int], list[Group], dict[str, set[str]]],
) -> None:
    leaves, groups, members = drawn

    def truth(values: dict[str, int]) -> dict[str, int]:
        return {n: sum(values[leaf] for leaf in m) for n, m in members.items()}

    def around(values: dict[str, int]) -> Iterator[dict[str, int]]:
        for leaf, n in values.items():
            yield {**values, leaf: n + 1}
            if n:
                yield {**values, leaf: n - 1}

    assert_indistinguishable(
        leaves, lambda v: suppress(truth(v), groups), truth, around
    )


# -- flows and the quarterly report ---------------------------------------------------

flow_rows = st.lists(
    st.fixed_dictionaries({name: small_or_not for name in FLOW_TYPES.values()}),
    min_size=1,
    max_size=4,
)


@settings(max_examples=150, deadline=None)
@given(flow_rows)
def test_no_suppressed_flow_can_be_recovered(rows: list[dict[str, int]]) -> None:
    def answer(cells: list[dict[str, int]]) -> dict[str, Any]:
        periods = [{"period": f"2024-{i + 1:02}", **c} for i, c in enumerate(cells)]
        return {"from": "2024-01-01", "period": "month", "periods": periods}

    def flat(body: dict[str, Any]) -> dict[str, Any]:
        return {
            f"{row['period']}.{k}": v
            for row in body["periods"]
            for k, v in row.items()
            if k != "period"
        }

    def around(cells: list[dict[str, int]]) -> Iterator[list[dict[str, int]]]:
        for i, row in enumerate(cells):
            for key, n in row.items():
                for step in (1, -1) if n else (1,):
                    yield [*cells[:i], {**row, key: n + step}, *cells[i + 1 :]]

    published = public_flows(answer(rows))
    assert all(set(r) == {"period", *FLOW_TYPES.values()} for r in published["periods"])
    assert_indistinguishable(
        rows, lambda c: flat(public_flows(answer(c))), lambda c: flat(answer(c)), around
    )


@settings(max_examples=150, deadline=None)
@given(st.fixed_dictionaries({s: small_or_not for s in SECTIONS}))
def test_no_suppressed_report_total_can_be_recovered(totals: dict[str, int]) -> None:
    def answer(t: dict[str, int]) -> dict[str, Any]:
        rows = [{"section": s} for s, n in t.items() for _ in range(n)]
        return {"quarter": "2024Q1", "totals": t, "rows": rows, "columns": ["x"]}

    def around(t: dict[str, int]) -> Iterator[dict[str, int]]:
        for s, n in t.items():
            yield {**t, s: n + 1}
            if n:
                yield {**t, s: n - 1}

    published = public_report(answer(totals))
    assert "rows" not in published and "columns" not in published  # per decision
    assert set(published["totals"]) == set(SECTIONS)  # and no grand total
    assert_indistinguishable(
        totals, lambda t: public_report(answer(t))["totals"], lambda t: t, around
    )
