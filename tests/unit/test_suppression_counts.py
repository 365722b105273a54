"""Public counts (``/v1/oversight/counts?public=true``): nothing withheld
can be worked out, zeros are shown and small ones marked, and the network of
``count_groups`` is the answer's sums (``test_suppression.py`` has the
oracle and the argument; the counts' 22 atoms are too many for its full
search, so a twin world proves each figure here)."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from itertools import chain, permutations
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from projections.counts import CASE_STATES
from services.reporting.suppression import (
    EXECUTED_STATES,
    GRANTED_STATES,
    HIDDEN,
    count_groups,
    count_hidden,
    flatten,
    public_counts,
)
from tests.unit.test_suppression import Atom, Sums, _fits, allowed, small_or_not

REASONS = ("deceased", "eviction", "moved_out", "other", "own_housing_found")
# The finest situations a case or apartment can be in, as far as counts see.
ATOMS: tuple[Atom, ...] = (
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
World = dict[Atom, int]
worlds = st.fixed_dictionaries({atom: small_or_not for atom in ATOMS})


def count_sums(world: World) -> Sums:
    """Each figure of a counts answer as the atoms it counts."""

    def case(*states: str, appeal: bool = False) -> list[Atom]:
        return [
            a
            for a in ATOMS
            if a[0] == "case" and a[1] in states and (not appeal or "appeal" in a)
        ]

    sums: Sums = {f"cases_by_state.{s}": case(s) for s in CASE_STATES}
    reasons = [r for r in REASONS if any(world[a] for a in ATOMS if r in a)]
    sums |= {
        f"terminations_by_reason.{r}": [
            a for a in ATOMS if a[1] == "terminated" and r in a
        ]
        for r in reasons
    }
    sums |= {
        "apartments_by_state.available": [("apartment", "available")],
        "apartments_by_state.occupied": case("executed"),
        "apartments_by_state.returned": [("apartment", "returned")],
        "apartments_by_state.transferred": case("converted"),
        "filed_total": case(*CASE_STATES),
        "granted_total": case(*GRANTED_STATES),
        "rejected_total": case("rejected") + case(*GRANTED_STATES, appeal=True),
        "executed_total": case(*EXECUTED_STATES),
        "converted_total": case("converted"),
        "terminated_total": case("terminated"),
    }
    return sums


def true_counts(world: World) -> dict[str, Any]:
    """A counts answer for ``world``, as ``projections.counts`` shapes it."""
    sums = count_sums(world)
    value = {f: sum(world[a] for a in atoms) for f, atoms in sums.items()}
    answer: dict[str, Any] = {"as_of": "2026-01-01"}
    for key in ("cases_by_state", "terminations_by_reason", "apartments_by_state"):
        answer[key] = {
            f.split(".")[1]: v for f, v in value.items() if f.startswith(key + ".")
        }
    return answer | {f: v for f, v in value.items() if f.endswith("_total")}


def figures(answer: Mapping[str, Any]) -> dict[str, Any]:
    dicts = ("cases_by_state", "terminations_by_reason", "apartments_by_state")
    flat = {f"{d}.{k}": v for d in dicts for k, v in answer[d].items()}
    return flat | {k: v for k, v in answer.items() if k.endswith("_total")}


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


def swaps(world: World) -> Iterator[World]:
    """Every world where one granted case's basis (assessment or appeal) is
    the other: with a step of :func:`neighbours`, what one cycle of the
    counts' network changes (a simple cycle passes the ground once and the
    appeals' sum once)."""
    for atom in ATOMS:
        if "appeal" in atom and world[atom]:
            twin = tuple("assessment" if p == "appeal" else p for p in atom)
            yield {**world, atom: world[atom] - 1, twin: world[twin] + 1}
        if "assessment" in atom and world[atom]:
            twin = tuple("appeal" if p == "assessment" else p for p in atom)
            yield {**world, atom: world[atom] - 1, twin: world[twin] + 1}


def assert_indistinguishable(world: World, threshold: int = 5) -> None:
    """Every withheld figure has a twin world one case or apartment away
    (and perhaps one basis swapped) that fits the published answer (every
    exact figure, every mark; a reason not listed is zero) and differs in it.
    A twin proves it; the full search of :func:`worlds_like` is too wide for
    the counts' 22 atoms."""
    published = figures(public_counts(true_counts(world), threshold))
    if all(s == HIDDEN for s in published.values()):
        published = dict.fromkeys(published, "withheld")
    true = figures(true_counts(world))
    unresolved = {n for n, shown in published.items() if not isinstance(shown, int)}
    for other in chain(
        neighbours(world), (s for n in neighbours(world) for s in swaps(n))
    ):
        if not unresolved:
            break
        twin = figures(true_counts(other))
        if all(twin[n] == 0 for n in twin.keys() - published.keys()) and all(
            _fits(twin.get(n, 0), allowed(s, threshold)) for n, s in published.items()
        ):
            unresolved -= {n for n in unresolved if twin.get(n, 0) != true[n]}
    assert not unresolved, f"recoverable: {sorted(unresolved)}"


@settings(max_examples=150, deadline=None)
@given(worlds)
def test_no_withheld_count_can_be_recovered(world: World) -> None:
    assert_indistinguishable(world)


@settings(max_examples=200, deadline=None)
@given(worlds)
def test_counts_mark_small_ones_and_show_zeros(world: World) -> None:
    true = figures(true_counts(world))
    shown = figures(public_counts(true_counts(world)))
    if all(s == HIDDEN for s in shown.values()):
        return  # the whole table withheld
    for name_, value in true.items():
        if 1 <= value <= 4:
            assert shown[name_] == "<5", name_
        elif value == 0:
            assert shown[name_] == 0, name_
        else:
            assert shown[name_] in (value, HIDDEN), name_


@settings(max_examples=300, deadline=None)
@given(worlds)
def test_the_groups_are_the_models_sums(world: World) -> None:
    """The network's sums hold in the model with the world's own split by
    basis, and with the split ``count_hidden`` picks (any that fits serves)."""
    answer = true_counts(world)
    reasons = list(answer["terminations_by_reason"])
    values = flatten(
        answer,
        ("cases_by_state", "terminations_by_reason", "apartments_by_state"),
        [k for k in answer if k.endswith("_total")],
    )
    hidden: dict[str, int] = {}
    for state in GRANTED_STATES[:-1]:
        for basis in ("assessment", "appeal"):
            hidden[f"~{state}.{basis}"] = world[("case", state, basis)]
    for reason in reasons:
        for basis in ("assessment", "appeal"):
            hidden[f"~terminated.{reason}.{basis}"] = world[
                ("case", "terminated", basis, reason)
            ]
    hidden["~terminated.appeal"] = sum(
        hidden[f"~terminated.{r}.appeal"] for r in reasons
    )
    hidden["~appeals"] = sum(hidden[f"~{s}.appeal"] for s in GRANTED_STATES)
    picked = count_hidden(values, reasons)
    assert picked.keys() == hidden.keys()
    assert all(n >= 0 for n in picked.values())
    for split in (hidden, picked):
        every = values | split
        for group in count_groups(CASE_STATES, reasons):
            assert every[group.whole] == sum(every[p] for p in group.parts), group


def test_two_terminations_hide_no_totals() -> None:
    """Five years of a municipality: 2 terminations, both evictions. Before,
    they hid filed_total, granted_total and executed_total; now two cells
    with the same count (executed = apartments occupied) do."""
    world = {atom: 0 for atom in ATOMS} | {
        ("case", "filed"): 12,
        ("case", "withdrawn"): 30,
        ("case", "rejected"): 40,
        ("case", "granted", "assessment"): 20,
        ("case", "cancelled", "assessment"): 15,
        ("case", "executed", "assessment"): 95,
        ("case", "executed", "appeal"): 5,
        ("case", "converted", "assessment"): 30,
        ("case", "terminated", "assessment", "eviction"): 2,
        ("apartment", "available"): 8,
        ("apartment", "returned"): 13,
    }
    shown = public_counts(true_counts(world))
    assert shown["filed_total"] == 249 and shown["granted_total"] == 167
    assert shown["executed_total"] == 132 and shown["rejected_total"] == 45
    assert shown["terminated_total"] == shown["cases_by_state"]["terminated"] == "<5"
    assert shown["terminations_by_reason"] == {"eviction": "<5"}
    assert shown["cases_by_state"]["executed"] == HIDDEN
    assert shown["apartments_by_state"]["occupied"] == HIDDEN
    hidden = [n for n, v in figures(shown).items() if not isinstance(v, int)]
    assert len(hidden) == 5
