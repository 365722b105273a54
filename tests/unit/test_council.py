"""The council report's months and bands (``projections.council``), and its
tables' shape (``services.reporting.council``), on exact cases."""

from __future__ import annotations

import sqlite3
from collections import Counter
from collections.abc import Iterator
from datetime import date, timedelta
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from infra.views import Sql
from projections.council import (
    BANDS,
    band_of,
    council_cells,
    months_later,
    months_waited,
)
from projections.unexecuted import (
    Unexecuted,
    is_unexecuted_on,
    three_month_deadline,
)
from services.reporting.council import (
    council_tables,
    rows_of,
    table_groups,
    table_values,
)
from services.reporting.suppression import Group

SK, BS = "socialt_kontrakt", "boendesocial_insats"


@pytest.mark.parametrize(
    ("decided", "day", "months"),
    [
        ("2025-03-15", "2025-03-15", 0),
        ("2025-03-15", "2025-03-14", 0),
        ("2025-03-15", "2025-04-14", 0),
        ("2025-03-15", "2025-04-15", 1),
        ("2025-03-15", "2025-06-14", 2),
        ("2025-03-15", "2025-06-15", 3),
        ("2025-01-31", "2025-04-29", 2),
        ("2025-01-31", "2025-04-30", 3),  # a day April lacks: its last
        ("2024-12-31", "2025-09-30", 9),
        ("2024-02-29", "2025-02-28", 12),
        ("2024-01-15", "2025-07-15", 18),
        ("2024-01-15", "2025-07-14", 17),
        ("2023-11-30", "2024-02-29", 3),
    ],
)
def test_months_waited(decided: str, day: str, months: int) -> None:
    assert months_waited(date.fromisoformat(decided), date.fromisoformat(day)) == months


def test_months_later_keeps_the_day_or_takes_the_months_last() -> None:
    assert months_later(date(2025, 1, 31), 1) == date(2025, 2, 28)
    assert months_later(date(2024, 1, 31), 1) == date(2024, 2, 29)
    assert months_later(date(2025, 11, 15), 2) == date(2026, 1, 15)
    assert months_later(date(2025, 12, 31), 0) == date(2025, 12, 31)


@pytest.mark.parametrize(
    ("months", "band"),
    [
        (0, None),
        (2, None),
        (3, "3_6"),
        (6, "3_6"),
        (7, "7_9"),
        (9, "7_9"),
        (10, "10_12"),
        (12, "10_12"),
        (13, "13_17"),
        (17, "13_17"),
        (18, "18_plus"),
        (240, "18_plus"),
    ],
)
def test_ivo_bands(months: int, band: str | None) -> None:
    assert band_of(months) == band


@given(st.dates(date(2000, 1, 1), date(2030, 12, 31)), st.integers(0, 2000))
def test_past_the_deadline_is_three_months_or_more(decided: date, days: int) -> None:
    """The deadline is the decision day three months on: a decision is
    unexecuted on a day exactly when it has waited three whole months and
    that day is not the deadline itself."""
    day = decided + timedelta(days=days)
    waited = months_waited(decided, day)
    assert months_later(decided, waited) <= day < months_later(decided, waited + 1)
    late = is_unexecuted_on(day, decided, None)
    assert late == (waited >= 3 and day != three_month_deadline(decided))
    assert months_later(decided, 3) == three_month_deadline(decided)


def test_a_table_has_subtotals_and_a_total() -> None:
    assert rows_of(["a", "b"], ["x"]) == [
        ("a", "x"),
        ("a", "total"),
        ("b", "x"),
        ("b", "total"),
        ("total", "total"),
    ]
    values = table_values(
        {("a", "x", "1"): 2, ("b", "x", "2"): 7}, ["a", "b"], ["x"], ["1", "2"]
    )
    assert values == {
        "a|x|1": 2,
        "a|x|2": 0,
        "a|x|total": 2,
        "a|total|1": 2,
        "a|total|2": 0,
        "a|total|total": 2,
        "b|x|1": 0,
        "b|x|2": 7,
        "b|x|total": 7,
        "b|total|1": 0,
        "b|total|2": 7,
        "b|total|total": 7,
        "total|total|1": 2,
        "total|total|2": 7,
        "total|total|total": 9,
    }
    groups = table_groups(["a"], ["x", "y"], ["1"])
    assert Group("a|x|total", ("a|x|1",)) in groups
    assert Group("a|total|1", ("a|x|1", "a|y|1")) in groups
    assert Group("total|total|total", ("a|total|total",)) in groups
    assert groups[-1] == Group("total|total|total", ("total|total|1",))
    assert len(groups) == 2 + 2 * 2 + 1  # rows; per column a subtotal, a total


def test_council_tables_name_their_bands_and_columns() -> None:
    cells = Counter({("unexecuted", "socialt_kontrakt", "woman", "3_6"): 9})
    answer = council_tables(cells, 5)
    assert answer["bands"][0] == {"band": "3_6", "months_from": 3, "months_to": 6}
    assert answer["bands"][-1] == {
        "band": "18_plus",
        "months_from": 18,
        "months_to": None,
    }
    assert [b["band"] for b in answer["bands"]] == list(BANDS)
    assert answer["columns"] == ["intervention", "gender", *BANDS, "total"]
    first = answer["tables"]["unexecuted"][0]
    assert first == {
        "intervention": "socialt_kontrakt",
        "gender": "woman",
        "3_6": 9,
        "7_9": 0,
        "10_12": 0,
        "13_17": 0,
        "18_plus": 0,
        "total": 9,
    }
    assert answer["tables"]["executed_late"][-1]["total"] == 0
    assert answer["public"] is True and answer["threshold"] == 5


# -- counting from the read model's table (in memory) --------------------------------

CASES = [
    # case, gender, intervention, decided, executed, ended; recorded at noon on
    # the day unless the row says when
    ("a", "woman", SK, "2025-06-29", None, None),  # 3 months on 30 Sep
    ("b", "man", BS, "2024-12-31", ("2025-09-30", "2025-10-01"), None),  # 9
    ("c", "woman", SK, "2025-06-30", None, None),  # deadline 30 Sep: in time
    ("d", "other", SK, "2024-03-01", None, ("2025-09-30", "2025-10-02")),  # 18
    ("e", "unknown", SK, "2025-01-01", ("2025-06-30", None), None),  # before
    ("f", "man", SK, "2025-03-01", ("2025-07-01", None), None),  # late, 4
    ("g", "woman", SK, "2025-10-01", None, None),  # decided after the quarter
    ("h", "woman", SK, ("2025-03-01", "2025-12-01"), None, None),  # 6
    ("j", "man", SK, "2025-02-01", ("2025-10-10", None), None),  # 7
]
KNOWN_AT = "2025-09-30T23:00:00+00:00"


def _day(value: Any) -> tuple[str | None, str | None]:
    if value is None:
        return None, None
    day, recorded = value if isinstance(value, tuple) else (value, None)
    return day, f"{recorded or day}T12:00:00+00:00"


@pytest.fixture
def sql() -> Iterator[Sql]:
    connection = sqlite3.connect(":memory:", isolation_level=None)
    connection.row_factory = sqlite3.Row
    try:
        sql = Sql(connection.cursor(), postgres=False)
        Unexecuted().create_tables(sql)
        for case, gender, intervention, *facts in CASES:
            (decided, decided_at), (executed, executed_at), (ended, ended_at) = (
                _day(f) for f in facts
            )
            sql.execute(
                "INSERT INTO unexecuted_cases (case_id, gender, decided_on, "
                "intervention, decided_recorded_at, executed_on, "
                "executed_recorded_at, ended_on, end_kind, ended_recorded_at) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                [
                    *(case, gender, decided, intervention, decided_at),
                    *(executed, executed_at, ended, ended and "cancelled", ended_at),
                ],
            )
        sql.execute(
            "INSERT INTO unexecuted_cases (case_id, gender) VALUES ('i', 'man')"
        )
        yield sql
    finally:
        connection.close()


def test_council_cells_by_hand(sql: Sql) -> None:
    start, end = date(2025, 7, 1), date(2025, 9, 30)
    assert council_cells(sql, start, end) == Counter(
        {
            ("unexecuted", SK, "woman", "3_6"): 2,  # a, h
            ("unexecuted", SK, "man", "7_9"): 1,  # j
            ("executed_late", BS, "man", "7_9"): 1,  # b, on the counting day
            ("executed_late", SK, "man", "3_6"): 1,  # f, on the first day
        }
    )
    assert council_cells(sql, start, end, KNOWN_AT) == Counter(
        {
            ("unexecuted", SK, "woman", "3_6"): 1,  # a; h not yet known
            ("unexecuted", BS, "man", "7_9"): 1,  # b's execution not yet known
            ("unexecuted", SK, "other", "18_plus"): 1,  # nor d's end
            ("unexecuted", SK, "man", "7_9"): 1,  # j
            ("executed_late", SK, "man", "3_6"): 1,  # f
        }
    )
    # Known at the very moment f's execution was recorded: it is known.
    at_f = council_cells(sql, start, end, "2025-07-01T12:00:00+00:00")
    assert at_f[("executed_late", SK, "man", "3_6")] == 1
    assert at_f[("unexecuted", SK, "woman", "3_6")] == 1  # a; h not yet known
    # Counted on 31 August: a is in time still; f was executed late.
    assert council_cells(sql, start, date(2025, 8, 31)) == Counter(
        {
            ("unexecuted", BS, "man", "7_9"): 1,  # b: 8 months
            ("unexecuted", SK, "other", "13_17"): 1,  # d: 17
            ("unexecuted", SK, "woman", "3_6"): 1,  # h: 5
            ("unexecuted", SK, "man", "3_6"): 1,  # j: 6
            ("executed_late", SK, "man", "3_6"): 1,  # f
        }
    )


def test_council_tables_keep_totals_when_cells_do_as_well() -> None:
    """The small ones here can be covered through cells and a subtotal's
    band, or through the row totals: the engine weighs cells before totals,
    so the row totals stay shown."""
    cells = Counter(
        {
            ("unexecuted", BS, "woman", "3_6"): 3,
            ("unexecuted", SK, "man", "10_12"): 8,
            ("unexecuted", SK, "man", "7_9"): 1,
            ("unexecuted", BS, "man", "7_9"): 1,
            ("unexecuted", BS, "man", "10_12"): 3,
        }
    )
    rows = council_tables(cells, 5)["tables"]["unexecuted"]
    by_row = {(r["intervention"], r["gender"]): r for r in rows}
    assert by_row[(SK, "man")]["10_12"] == "suppressed"
    assert by_row[(SK, "man")]["total"] == 9
    assert by_row[(SK, "total")]["10_12"] == "suppressed"
    assert by_row[(SK, "total")]["total"] == 9
    assert by_row[(BS, "total")]["total"] == 7
