"""The shape of a public answer: every published figure keeps its name, the
answer says it is public and explains its marks (mutants of
``services/reporting/suppression.py`` that the property tests let live)."""

from __future__ import annotations

from services.reporting.suppression import (
    HIDDEN,
    LEGEND,
    SMALL,
    public_counts,
    public_flows,
    public_report,
    unflatten,
)

STATES = ("filed", "withdrawn", "rejected", "granted", "cancelled")


def test_public_counts_say_they_are_public_and_explain_the_marks() -> None:
    answer = {
        "as_of": "2026-01-01",
        "cases_by_state": {state: 10 for state in STATES} | {"rejected": 2},
        "terminations_by_reason": {},
        "apartments_by_state": {"available": 7},
        "filed_total": 52,
        "granted_total": 20,
        "rejected_total": 22,
        "executed_total": 0,
        "converted_total": 0,
        "terminated_total": 0,
    }
    published = public_counts(answer)
    assert published["public"] is True
    assert published["legend"] == LEGEND
    assert published["cases_by_state"]["rejected"] == SMALL
    assert published["filed_total"] == HIDDEN
    assert published["rejected_total"] == HIDDEN
    assert published["granted_total"] == 20
    assert published["as_of"] == "2026-01-01"


def test_public_flows_keep_each_period_and_say_they_are_public() -> None:
    answer = {
        "period": "month",
        "periods": [{"period": "2026-01", "application_filed": 3, "x": 9}],
    }
    assert public_flows(answer) == {
        "period": "month",
        "periods": [{"period": "2026-01", "application_filed": SMALL, "x": 9}],
        "public": True,
        "legend": LEGEND,
    }


def test_the_public_report_keeps_its_totals_and_drops_its_rows() -> None:
    answer = {
        "quarter": "2026Q1",
        "rows": [{"decision": "d-1"}],
        "columns": ["decision"],
        "totals": {"a": 2, "b": 0, "c": 12},
    }
    assert public_report(answer) == {
        "quarter": "2026Q1",
        "totals": {"a": SMALL, "b": 0, "c": 12},
        "public": True,
        "legend": LEGEND,
    }


def test_a_figure_name_splits_at_its_first_dot() -> None:
    assert unflatten({"cases_by_state.a.b": 1, "filed_total": 2}) == {
        "cases_by_state": {"a.b": 1},
        "filed_total": 2,
    }
