"""The council's counts (``projections.council``) on scripted histories: the
quarter of ``test_mut_unexecuted`` (executed on the deadline day is not
late; two late executions in one cell are two), and decisions waiting
exactly at the edges of IVO's waiting bands on one counting day."""

from __future__ import annotations

from collections import Counter
from datetime import date
from typing import Any

import pytest

from domain.case import HousingCase
from projections.base import END_OF_TIME
from projections.council import _band, _known, band_of, council_cells
from projections.unexecuted import Unexecuted
from tests.unit.test_mut_projections_base import Log, stamp, tables
from tests.unit.test_mut_unexecuted import BS, SK, history

D = date.fromisoformat


def cells_of(log: Log, start: str, counted_to: str, known_at: str | None = None) -> Any:
    projection = Unexecuted()
    with tables(projection) as sql:
        projection.process_batch(sql, log.records)
        return council_cells(sql, D(start), D(counted_to), known_at)


def test_the_third_quarter_of_the_scripted_history() -> None:
    """Unexecuted on 30 September: c-1 (decided 31 March: 6 months) and c-3
    (15 February: 7). Executed late in the quarter: c-9 (2 July, a day
    late: 3 months) and c-5 (11 August, a day late: 3) in one cell, c-2
    (15 August, decided 31 January: 6). c-4, executed on its deadline day,
    is not late."""
    assert cells_of(history(), "2021-07-01", "2021-09-30") == Counter(
        {
            ("unexecuted", SK, "woman", "3_6"): 1,
            ("unexecuted", SK, "other", "7_9"): 1,
            ("executed_late", SK, "woman", "3_6"): 2,
            ("executed_late", BS, "man", "3_6"): 1,
        }
    )


def test_the_third_quarter_as_known_on_1_october() -> None:
    """c-2's execution is not known: decided 31 January, on 30 September it
    has waited 8 whole months (31 January moved 8 months on is 30
    September, September lacking a 31st)."""
    assert cells_of(
        history(), "2021-07-01", "2021-09-30", "2021-10-01T00:00:00.000000Z"
    ) == Counter(
        {
            ("unexecuted", SK, "woman", "3_6"): 1,
            ("unexecuted", SK, "other", "7_9"): 1,
            ("unexecuted", BS, "man", "7_9"): 1,
            ("executed_late", SK, "woman", "3_6"): 2,
        }
    )


def test_a_running_quarter_counted_to_the_day_of_an_execution() -> None:
    """Counted to 11 August: c-5, executed that day, is late in it; c-2
    (executed the 15th) still waits, 6 whole months."""
    assert cells_of(history(), "2021-07-01", "2021-08-11") == Counter(
        {
            ("unexecuted", SK, "woman", "3_6"): 1,
            ("unexecuted", SK, "other", "3_6"): 1,
            ("unexecuted", BS, "man", "3_6"): 1,
            ("executed_late", SK, "woman", "3_6"): 2,
        }
    )
    # The quarter begins on the day of c-5's execution: still in it.
    assert (
        cells_of(history(), "2021-08-11", "2021-08-11")[
            ("executed_late", SK, "woman", "3_6")
        ]
        == 1
    )


# Decided on each day, counted on 15 June 2022: (decided, whole months).
EDGES = [
    ("2022-03-15", 3),  # on its deadline day: not yet late, not counted
    ("2022-03-14", 3),
    ("2021-12-16", 5),
    ("2021-12-15", 6),
    ("2021-11-16", 6),
    ("2021-11-15", 7),
    ("2021-09-16", 8),
    ("2021-09-15", 9),
    ("2021-08-16", 9),
    ("2021-08-15", 10),
    ("2021-06-15", 12),
    ("2021-05-16", 12),
    ("2021-05-15", 13),
    ("2021-01-15", 17),
    ("2020-12-16", 17),
    ("2020-12-15", 18),
    ("2019-01-01", 41),
]


def test_the_waiting_bands_at_their_edges() -> None:
    log = Log()
    for n, (decided, _) in enumerate(EDGES):
        case = HousingCase.file(stamp("2019-01-01"), f"c-{n}", {}, {}, "woman", 1980)
        case.grant(stamp(decided), f"d-{n}", SK, "assessment")
        log.take(case, "2022-06-15T00:00:00")
    assert cells_of(log, "2022-04-01", "2022-06-15") == Counter(
        {
            ("unexecuted", SK, "woman", "3_6"): 4,  # 3, 5, 6 and 6 months
            ("unexecuted", SK, "woman", "7_9"): 4,  # 7, 8, 9 and 9
            ("unexecuted", SK, "woman", "10_12"): 3,  # 10, 12 and 12
            ("unexecuted", SK, "woman", "13_17"): 3,  # 13, 17 and 17
            ("unexecuted", SK, "woman", "18_plus"): 2,  # 18 and 41
        }
    )
    # As known before any of it was recorded: nothing.
    assert cells_of(log, "2022-04-01", "2022-06-15", "2022-06-14T23:59:59.999999Z") == (
        Counter()
    )


@pytest.mark.parametrize(
    ("months", "band"),
    [(2, None), (3, "3_6"), (6, "3_6"), (7, "7_9"), (9, "7_9"), (10, "10_12"),
     (12, "10_12"), (13, "13_17"), (17, "13_17"), (18, "18_plus"), (600, "18_plus")],
)  # fmt: skip
def test_the_band_of_whole_months(months: int, band: str | None) -> None:
    assert band_of(months) == band


def test_under_three_months_is_no_band_of_a_late_decision() -> None:
    with pytest.raises(AssertionError) as refused:
        _band(2)
    assert str(refused.value) == "2 months is under the first band"
    assert _band(3) == "3_6"


def test_a_day_known_only_with_its_recorded_time() -> None:
    assert _known("2021-08-15", "2021-10-05T08:00:00.000000Z", END_OF_TIME) == (
        D("2021-08-15")
    )
    assert (
        _known("2021-08-15", "2021-10-05T08:00:00.000000Z", "2021-10-05T07:00") is None
    )
    assert _known(None, "2021-10-05T08:00:00.000000Z", END_OF_TIME) is None
    assert _known("2021-08-15", None, END_OF_TIME) is None
