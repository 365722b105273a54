"""Small exact cases of the suppression engine and the public answers' shapes
(``services/reporting/suppression.py`` and ``protection.py``): each pins one
rule the property tests of ``test_suppression.py`` only see in bulk, so a
mutant of it fails here by name."""

from __future__ import annotations

import pytest

from services.reporting.protection import (
    GROUND,
    Arc,
    NotANetwork,
    Table,
    _cheapest_cycle,
    arcs_of,
    protect,
)
from services.reporting.suppression import (
    HIDDEN,
    Group,
    _spread,
    count_groups,
    count_hidden,
    legend,
    public_counts,
    public_flows,
    public_report,
    small,
    suppress,
    unflatten,
)


def test_the_marks_say_the_threshold() -> None:
    assert small() == "<5" and small(7) == "<7"
    assert legend(7) == {
        "<7": "a count from 1 to 6",
        "suppressed": "a figure withheld so that no figure shown as <7 can be "
        "worked out from the others",
    }


def test_primary_marks_one_to_threshold_less_one_and_shows_zero() -> None:
    values = {"a": 0, "b": 1, "c": 4, "d": 5, "e": 9}
    assert suppress(values, []) == {"a": 0, "b": "<5", "c": "<5", "d": 5, "e": 9}
    assert suppress(values, [], 3) == {"a": 0, "b": "<3", "c": 4, "d": 5, "e": 9}


def test_a_total_enters_its_group_and_the_parts_leave_it() -> None:
    arcs = arcs_of(["t", "a", "b", "free"], [Group("t", ("a", "b"))])
    assert arcs == {
        "t": Arc(GROUND, 0),
        "a": Arc(0, GROUND),
        "b": Arc(0, GROUND),
        "free": Arc(GROUND, GROUND),
    }


def test_a_cell_of_a_row_and_a_column_flows_from_one_to_the_other() -> None:
    arcs = arcs_of([], [Group("row", ("a", "b")), Group("column", ("a", "c"))])
    assert arcs["a"] == Arc(0, 1)  # the column's parts flow in
    assert arcs["row"] == Arc(GROUND, 0) and arcs["column"] == Arc(1, GROUND)
    assert arcs["c"] == Arc(GROUND, 1)


def test_sums_that_are_not_a_network_are_refused() -> None:
    with pytest.raises(NotANetwork, match="more than two"):
        arcs_of([], [Group("x", ("a",)), Group("y", ("a",)), Group("z", ("a",))])
    with pytest.raises(NotANetwork, match="more than two"):
        arcs_of([], [Group("x", ("a", "a"))])
    with pytest.raises(NotANetwork, match="oriented"):
        arcs_of([], [Group("t", ("a", "b")), Group("a", ("c",)), Group("b", ("c",))])


def test_sums_over_figures_without_a_value_are_refused() -> None:
    with pytest.raises(ValueError, match=r"no value: \['b'\]"):
        suppress({"t": 9, "a": 2}, [Group("t", ("a", "b"))])
    assert suppress({"t": 9, "a": 2}, [Group("t", ("a", "b"))], hidden={"b": 7})


def test_the_cheapest_cell_protects_a_small_one() -> None:
    """t = a + b + c with a small: one more in a, one fewer in b (the
    smallest other cell) keeps t; the total stays shown."""
    values = {"t": 32, "a": 2, "b": 10, "c": 20}
    shown = suppress(values, [Group("t", ("a", "b", "c"))], totals=["t"])
    assert shown == {"t": 32, "a": "<5", "b": HIDDEN, "c": 20}


def test_a_suppressed_figure_is_known_to_be_at_least_the_threshold() -> None:
    """a = 1 cannot go down; b = 5, once suppressed, cannot go down either
    (4 would be "<5"): only the total can move with a."""
    values = {"t": 6, "a": 1, "b": 5}
    assert suppress(values, [Group("t", ("a", "b"))], totals=["t"]) == {
        "t": HIDDEN,
        "a": "<5",
        "b": 5,
    }
    values = {"t": 8, "a": 1, "b": 7}  # b can go down to 6: a cell again
    assert suppress(values, [Group("t", ("a", "b"))], totals=["t"]) == {
        "t": 8,
        "a": "<5",
        "b": HIDDEN,
    }


def test_a_small_one_at_the_top_of_its_range_moves_down() -> None:
    values = {"t": 8, "a": 4, "b": 4}  # "<5" + "<5" = 8 says 4 + 4
    assert suppress(values, [Group("t", ("a", "b"))]) == {
        "t": HIDDEN,
        "a": "<5",
        "b": "<5",
    }
    values = {"t": 8, "a": 4, "b": 1, "c": 3}  # a down, b up: both small
    assert suppress(values, [Group("t", ("a", "b", "c"))])["t"] == 8


def test_an_unprotectable_table_is_withheld_whole() -> None:
    """1 + 1 = 2 with threshold 3: "<3" + "<3" = "<3" forces 1 + 1 = 2."""
    values = {"t": 2, "a": 1, "b": 1, "zero": 0}
    groups = [Group("t", ("a", "b", "zero"))]
    assert protect(values, groups, 3) == dict.fromkeys(values, "withheld")
    assert suppress(values, groups, 3) == dict.fromkeys(values, HIDDEN)
    assert suppress(values, groups, 5)["t"] == "<5"  # 1..4: (1, 1) or (2, 1)


def test_a_needless_secondary_suppression_is_shown_again() -> None:
    """Two small cells in one row protect each other: nothing else hidden."""
    values = {"t": 20, "a": 2, "b": 3, "c": 15}
    assert suppress(values, [Group("t", ("a", "b", "c"))], totals=["t"]) == {
        "t": 20,
        "a": "<5",
        "b": "<5",
        "c": 15,
    }


def test_hidden_figures_only_move_down_from_at_least_one() -> None:
    """t = a + h with h never published: a small one moves against h only
    if h (in the table the engine works from) is at least 1."""
    values = {"t": 9, "a": 1}  # a can only go up
    groups = [Group("t", ("a", "h"))]
    assert suppress(values, groups, hidden={"h": 8}) == {"t": 9, "a": "<5"}
    assert suppress(values, groups, hidden={"h": 0}) == {"t": HIDDEN, "a": "<5"}
    values = {"t": 9, "a": 2}  # a down, h up: h may always grow
    assert suppress(values, groups, hidden={"h": 0}) == {"t": 9, "a": "<5"}


STATES = ("filed", "withdrawn", "granted", "rejected", "cancelled", "executed")


def counts_answer() -> dict[str, object]:
    return {
        "as_of": "2026-01-01",
        "cases_by_state": dict.fromkeys(STATES, 10)
        | {"rejected": 2, "converted": 6, "terminated": 3},
        "terminations_by_reason": {"eviction": 1, "moved_out": 2},
        "apartments_by_state": {
            "available": 7,
            "occupied": 10,
            "returned": 0,
            "transferred": 6,
        },
        "filed_total": 71,
        "granted_total": 39,
        "rejected_total": 5,
        "executed_total": 19,
        "converted_total": 6,
        "terminated_total": 3,
    }


def test_the_grants_on_appeal_are_spread_so_both_sides_can_move() -> None:
    values = {
        "cases_by_state.rejected": 2,
        "rejected_total": 5,  # 3 on appeal
        **{
            f"cases_by_state.{s}": n
            for s, n in {
                "granted": 10,
                "cancelled": 1,
                "executed": 10,
                "converted": 6,
                "terminated": 3,
            }.items()
        },
        "terminations_by_reason.eviction": 1,
        "terminations_by_reason.moved_out": 2,
    }
    assert count_hidden(values, ["eviction", "moved_out"]) == {
        "~appeals": 3,
        "~terminated.appeal": 0,
        "~granted.assessment": 9,
        "~granted.appeal": 1,
        "~cancelled.assessment": 1,
        "~cancelled.appeal": 0,
        "~executed.assessment": 9,
        "~executed.appeal": 1,
        "~converted.assessment": 5,
        "~converted.appeal": 1,
        "~terminated.eviction.assessment": 1,
        "~terminated.eviction.appeal": 0,
        "~terminated.moved_out.assessment": 2,
        "~terminated.moved_out.appeal": 0,
    }
    for state in ("granted", "cancelled", "executed", "converted"):
        values[f"cases_by_state.{state}"] = 0  # every appeal is a termination
    hidden = count_hidden(values, ["eviction", "moved_out"])
    assert hidden["~terminated.appeal"] == 3
    assert hidden["~terminated.eviction.appeal"] == 1
    assert hidden["~terminated.moved_out.appeal"] == 2
    assert hidden["~terminated.moved_out.assessment"] == 0


def test_spread_gives_one_each_then_all_but_one_then_all() -> None:
    assert _spread(2, [3, 1, 4]) == [1, 0, 1]
    assert _spread(5, [3, 1, 4]) == [2, 0, 3]
    assert _spread(8, [3, 1, 4]) == [3, 1, 4]
    assert _spread(0, [3]) == [0]
    # A size of two has room for one after assessment too: it comes first.
    assert _spread(1, [2, 3]) == [1, 0]


def test_the_counts_network_has_every_state_and_reason() -> None:
    groups = count_groups(["filed", "withdrawn", "rejected", "granted"], ["x"])
    assert groups[0] == Group(
        "filed_total",
        (
            "cases_by_state.filed",
            "cases_by_state.withdrawn",
            "cases_by_state.rejected",
            "granted_total",
        ),
    )
    assert Group("cases_by_state.terminated", ("terminations_by_reason.x",)) in groups
    assert groups[-1] == Group(
        "rejected_total", ("cases_by_state.rejected", "~appeals")
    )


def test_public_counts_say_they_are_public_and_explain_the_marks() -> None:
    published = public_counts(counts_answer(), 5)
    assert published["public"] is True
    assert published["legend"] == legend(5)
    assert published["as_of"] == "2026-01-01"
    assert published["cases_by_state"]["rejected"] == "<5"
    assert published["terminations_by_reason"] == {"eviction": "<5", "moved_out": "<5"}
    assert published["filed_total"] == 71 and published["granted_total"] == 39
    assert "~appeals" not in str(published)  # hidden figures are never published
    assert public_counts(counts_answer(), 4)["legend"] == legend(4)


def test_public_flows_keep_each_period_and_say_they_are_public() -> None:
    answer = {
        "period": "month",
        "periods": [{"period": "2026-01", "application_filed": 3, "x": 9}],
    }
    assert public_flows(answer) == {
        "period": "month",
        "periods": [{"period": "2026-01", "application_filed": "<5", "x": 9}],
        "public": True,
        "legend": legend(5),
    }
    assert public_flows(answer, 10)["periods"][0]["x"] == "<10"


def test_the_public_report_keeps_its_totals_and_drops_its_rows() -> None:
    answer = {
        "quarter": "2026Q1",
        "rows": [{"decision": "d-1"}],
        "columns": ["decision"],
        "totals": {"a": 2, "b": 0, "c": 12},
    }
    assert public_report(answer) == {
        "quarter": "2026Q1",
        "totals": {"a": "<5", "b": 0, "c": 12},
        "public": True,
        "legend": legend(5),
    }
    assert public_report(answer, 3)["totals"]["a"] == "<3"


def test_a_figure_name_splits_at_its_first_dot() -> None:
    assert unflatten({"cases_by_state.a.b": 1, "filed_total": 2}) == {
        "cases_by_state": {"a.b": 1},
        "filed_total": 2,
    }


def test_what_a_reader_knows_of_each_mark() -> None:
    arcs = arcs_of(["p", "s", "h", "x"], [])
    status = {"p": "primary", "s": "secondary", "h": "hidden", "x": "shown"}
    table = Table(arcs, dict.fromkeys(arcs, 7), status, 5, ())
    assert table.bounds("p") == (1, 4)
    assert table.bounds("s") == (5, None)
    assert table.bounds("h") == (0, None)
    assert table.withheld() == ["p", "s"]


def test_a_shown_figure_at_the_threshold_cannot_be_opened_downwards() -> None:
    """b = 5 withheld could not go down to 4 ("<5"): only t can move with a."""
    values = {"t": 6, "a": 1, "b": 5}
    arcs = arcs_of(values, [Group("t", ("a", "b"))])
    status = {"t": "shown", "a": "primary", "b": "shown"}
    table = Table(arcs, values, status, 5, ("t",))
    assert _cheapest_cycle(table, "a") == ["t"]
    table.values["b"] = 6  # 6 can go down to 5: the cheaper cell
    assert _cheapest_cycle(table, "a") == ["b"]
