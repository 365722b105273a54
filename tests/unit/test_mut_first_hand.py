"""The path to a first-hand lease (``projections.first_hand``) on a scripted
history of thirteen contracts in six execution quarters, worked out by hand:
outcomes adding up to the cohort, shares within 12 and 24 months of the
contracts observed that long (the rest censored, still counted), days to
conversion and in contract with their month bands, per landlord and
district named by the spelling of their first acquisition in the log, as
known at a moment."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from typing import Any

import pytest

from domain.apartment import Apartment
from domain.case import HousingCase
from infra.views import Sql
from projections.first_hand import (
    GROUPINGS,
    LAST_BAND,
    MONTH_BANDS,
    TERMINATION_REASONS,
    first_hand,
    month_band,
    months_later,
    normalised,
    whole_months,
)
from projections.tenancies import Tenancies
from tests.unit.test_mut_projections_base import Log, stamp, tables
from tests.unit.test_mut_tenancies import ORG, at

#: case: (apartment, its landlord, org. number, district, executed on, how
#: it ended or None, on what day, recorded on what day if later)
CONTRACTS: dict[str, tuple[Any, ...]] = {
    "H1": ("P10", "Bo AB", ORG, "Norrby", "2020-12-31", None),
    "H2": ("P11", "Bo AB", ORG, "Norrby", "2021-06-15", None),
    "F5": ("P5", "BO AB", ORG, "NORRBY", "2022-01-10", "deceased", "2023-06-30"),
    "F1": ("P1", "Bo AB", ORG, "Norrby", "2022-01-31", "converted", "2023-01-31"),
    "F6": ("P6", "Hem HB", None, "Söderberga", "2022-02-15", "eviction",
           "2022-12-31"),
    "F2": ("P2", "Bo Fastigheter AB", ORG, "norrby ", "2022-02-28", "converted",
           "2023-03-01"),
    "F3": ("P3", "hem  HB", None, "söderberga", "2022-03-15", "eviction",
           "2022-09-01"),
    "F4": ("P4", "Hem HB", None, "Söderberga", "2022-03-31", None),
    "K1": ("P12", "Hem HB", None, "Söderberga", "2023-07-31", None),
    "G1": ("P7", "Bo AB", ORG, "Norrby", "2023-10-01", None),
    "G3": ("P9", "hem HB", None, "Söderberga", "2023-11-30", "converted",
           "2024-02-01"),
    "G2": ("P8", "Hem HB", None, "Söderberga", "2023-12-31", "moved_out",
           "2024-01-15", "2024-02-01"),
    "L1": ("P13", "Hem HB", None, "Söderberga", "2024-02-15", None),
}  # fmt: skip
#: G1's execution was recorded on 20 October.
LATE_EXECUTION = {"G1": "2023-10-20"}


def history() -> Log:
    log = Log()
    for case_id, (
        flat_id,
        landlord,
        org_no,
        district,
        executed,
        *end,
    ) in CONTRACTS.items():
        acquired = "2020-12-01" if case_id[0] == "H" else "2021-12-01"
        flat = Apartment.acquire(stamp(acquired, "ALN"), flat_id, landlord,
                                 district, 2, 5000, org_no)  # fmt: skip
        log.take(flat, f"{acquired}T08:00:00")
        case = HousingCase.file(stamp("2020-11-01"), case_id, {}, {}, "man", 1980)
        case.grant(stamp("2020-11-02"), f"d-{case_id}", "socialt_kontrakt",
                   "assessment")  # fmt: skip
        log.take(case, "2020-11-02T08:00:00")
        case.execute(stamp(executed), flat, 5000, date.fromisoformat(executed))
        recorded = LATE_EXECUTION.get(case_id, executed)
        log.take(case, f"{recorded}T08:00:00")
        log.take(flat, f"{recorded}T08:00:00")
        how, *when = end
        if how is None:
            continue
        on = date.fromisoformat(when[0])
        if how == "converted":
            case.convert_to_first_hand(stamp(when[0]), flat, on)
        else:
            case.terminate(stamp(when[0]), flat, how)
        log.take(case, f"{when[-1]}T08:00:00")  # recorded that day, or later
        log.take(flat, f"{when[-1]}T08:00:00")
    return log


@pytest.fixture(scope="module")
def sql() -> Iterator[Sql]:
    projection = Tenancies()
    with tables(projection) as sql:
        projection.process_batch(sql, history().records)
        yield sql


NO_DAYS = {"count": 0, "median_days": None, "p90_days": None, "max_days": None}
BANDS = ["0-5", "6-11", "12-23", "24-35", "36+"]


def days(*values: int) -> dict[str, Any]:
    """The summary of ``values`` (given sorted), worked out: count, median,
    the nearest-rank 90th percentile, maximum."""
    if not values:
        return NO_DAYS
    n = len(values)
    middle = (values[(n - 1) // 2] + values[n // 2]) / 2
    p90 = values[-(-9 * n // 10) - 1]
    return {"count": n, "median_days": middle if middle % 1 else int(middle),
            "p90_days": p90, "max_days": values[-1]}  # fmt: skip


def outcome(
    executed: int,
    converted: list[int],
    terminated: dict[str, int],
    open_days: list[int],
    bands: dict[str, int],
    within_12: tuple[int, int, float | None],
    within_24: tuple[int, int, float | None],
) -> dict[str, Any]:
    def share(observed: int, converted: int, share: float | None) -> dict[str, Any]:
        return {"observed": observed, "converted": converted, "share": share}

    return {
        "executed": executed,
        "converted": len(converted),
        "terminated": sum(terminated.values()),
        "terminated_by_reason": {r: terminated.get(r, 0) for r in TERMINATION_REASONS},
        "still_second_hand": len(open_days),
        "converted_within_12_months": share(*within_12),
        "converted_within_24_months": share(*within_24),
        "days_to_conversion": days(*converted),
        "days_in_contract": {
            **days(*open_days),
            "by_months": {band: bands.get(band, 0) for band in BANDS},
        },
    }


AS_OF = date(2024, 1, 31)

#: 2022Q1 on 31 January 2024. F1 converted after 365 days, on the day it
#: was twelve months old; F2 after 366, a day past its twelve months (28
#: February 2023); F3, F5, F6 terminated; F4 open 671 days (22 months).
#: Twelve months: all six observed, F1 converted. Twenty-four: F1 (on the
#: day) and F5 (10 January) observed, the four others censored.
Q1_2022 = outcome(
    6, [365, 366], {"eviction": 2, "deceased": 1}, [671],
    {"12-23": 1}, (6, 1, 0.1667), (2, 1, 0.5),
)  # fmt: skip


def test_the_cohorts_on_a_day(sql: Sql) -> None:
    """H1 and H2 open for 37 and 31 whole months, K1 for 6; 2023Q4: G1 open
    122 days (3 months), G3 62 (converted the day after), G2 moved out.
    L1, executed after the day, is in no cohort."""
    got = first_hand(sql, date(2020, 10, 1), date(2024, 3, 31), AS_OF, "none")
    assert got == [
        {"cohort": "2020Q4", **outcome(1, [], {}, [1126], {"36+": 1},
                                       (1, 0, 0.0), (1, 0, 0.0))},
        {"cohort": "2021Q2", **outcome(1, [], {}, [960], {"24-35": 1},
                                       (1, 0, 0.0), (1, 0, 0.0))},
        {"cohort": "2022Q1", **Q1_2022},
        {"cohort": "2023Q3", **outcome(1, [], {}, [184], {"6-11": 1},
                                       (0, 0, None), (0, 0, None))},
        {"cohort": "2023Q4", **outcome(3, [], {"moved_out": 1}, [62, 122],
                                       {"0-5": 2}, (0, 0, None), (0, 0, None))},
    ]  # fmt: skip


def test_a_contract_executed_on_the_day_is_in_its_cohort(sql: Sql) -> None:
    got = first_hand(
        sql, date(2024, 1, 1), date(2024, 3, 31), date(2024, 2, 15), "none"
    )
    assert got == [
        {"cohort": "2024Q1", **outcome(1, [], {}, [0], {"0-5": 1},
                                       (0, 0, None), (0, 0, None))}
    ]  # fmt: skip


def test_outcomes_are_counted_to_the_day(sql: Sql) -> None:
    """On 31 January 2023 F1 converted that day, twelve months after it
    moved in; F5 (12 months in) is not yet terminated; F2 (11 months) and
    F4 (10 months) are open, the others censored. A day earlier, F1 too is
    open and nobody is twelve months in."""
    q1 = (date(2022, 1, 1), date(2022, 3, 31))
    assert first_hand(sql, *q1, date(2023, 1, 31), "none") == [
        {"cohort": "2022Q1", **outcome(
            6, [365], {"eviction": 2}, [306, 337, 386],
            {"6-11": 2, "12-23": 1}, (2, 1, 0.5), (0, 0, None))}
    ]  # fmt: skip
    (before,) = first_hand(sql, *q1, date(2023, 1, 30), "none")
    assert before["converted"] == 0
    assert before["still_second_hand"] == 4
    assert before["converted_within_12_months"] == {
        "observed": 1,  # F5, twelve months on 10 January
        "converted": 0,
        "share": 0.0,
    }


def test_per_landlord_by_number_named_by_the_first_spelling(sql: Sql) -> None:
    """H1's "Bo AB" (P10, the first acquisition in the log) names the number
    in 2022Q1 too, not F5's "BO AB" executed first in the quarter nor F2's
    "Bo Fastigheter AB"; without a number, "Hem HB" (F6's P6, acquired
    before F3's P3 "hem  HB")."""
    q1 = (date(2022, 1, 1), date(2022, 3, 31))
    assert first_hand(sql, *q1, AS_OF, "landlord") == [
        {"cohort": "2022Q1", "landlord": "Bo AB", "landlord_org_no": ORG,
         **outcome(3, [365, 366], {"deceased": 1}, [], {}, (3, 1, 0.3333),
                   (2, 1, 0.5))},
        {"cohort": "2022Q1", "landlord": "Hem HB", "landlord_org_no": None,
         **outcome(3, [], {"eviction": 2}, [671], {"12-23": 1},
                   (3, 0, 0.0), (0, 0, None))},
    ]  # fmt: skip
    # The same name whichever cohorts are asked.
    everything = first_hand(sql, date(2020, 1, 1), date(2024, 12, 31), AS_OF,
                            "landlord")  # fmt: skip
    assert [(g["cohort"], g["landlord"], g["landlord_org_no"]) for g in everything] == [
        ("2020Q4", "Bo AB", ORG),
        ("2021Q2", "Bo AB", ORG),
        ("2022Q1", "Bo AB", ORG),
        ("2022Q1", "Hem HB", None),
        ("2023Q3", "Hem HB", None),
        ("2023Q4", "Bo AB", ORG),
        ("2023Q4", "Hem HB", None),
    ]


def test_per_district_trimmed_and_case_folded(sql: Sql) -> None:
    """Named by H1's "Norrby" and F6's "Söderberga", acquired first."""
    q1 = (date(2022, 1, 1), date(2022, 3, 31))
    got = first_hand(sql, *q1, AS_OF, "district")
    assert [(g["cohort"], g["district"], g["executed"]) for g in got] == [
        ("2022Q1", "Norrby", 3),
        ("2022Q1", "Söderberga", 3),
    ]
    assert list(got[0])[:3] == ["cohort", "district", "executed"]
    assert got[1] == {"cohort": "2022Q1", "district": "Söderberga",
                      **outcome(3, [], {"eviction": 2}, [671],
                                {"12-23": 1}, (3, 0, 0.0), (0, 0, None))}  # fmt: skip


def test_as_known_at_a_moment(sql: Sql) -> None:
    """G2's moving out (15 January) was recorded on 1 February; G1's
    moving in (1 October) on 20 October."""
    q4 = (date(2023, 10, 1), date(2023, 12, 31))
    assert first_hand(sql, *q4, AS_OF, "none", at("2024-02-01T07:59:59")) == [
        {"cohort": "2023Q4", **outcome(3, [], {}, [31, 62, 122], {"0-5": 3},
                                       (0, 0, None), (0, 0, None))}
    ]  # fmt: skip
    (known,) = first_hand(sql, *q4, AS_OF, "none", at("2024-02-01T08:00:00"))
    assert known["terminated_by_reason"]["moved_out"] == 1
    assert first_hand(sql, *q4, AS_OF, "none", at("2023-10-20T07:59:59")) == []
    (g1,) = first_hand(sql, *q4, AS_OF, "none", at("2023-10-20T08:00:00"))
    assert g1["executed"] == 1


def test_nothing_executed_in_the_quarters() -> None:
    with tables(Tenancies()) as sql:
        assert (
            first_hand(sql, date(2022, 1, 1), date(2022, 12, 31), AS_OF, "none") == []
        )


@pytest.mark.parametrize(
    ("day", "months", "later"),
    [
        (date(2024, 1, 31), 0, date(2024, 1, 31)),
        (date(2024, 1, 31), 1, date(2024, 2, 29)),  # the month's last day
        (date(2023, 1, 31), 1, date(2023, 2, 28)),
        (date(2023, 11, 30), 3, date(2024, 2, 29)),
        (date(2023, 12, 15), 1, date(2024, 1, 15)),
        (date(2023, 12, 31), 12, date(2024, 12, 31)),
        (date(2022, 3, 31), 24, date(2024, 3, 31)),
    ],
)
def test_months_later(day: date, months: int, later: date) -> None:
    assert months_later(day, months) == later


@pytest.mark.parametrize(
    ("start", "end", "months"),
    [
        (date(2024, 1, 31), date(2024, 2, 28), 0),  # a month is to the 29th
        (date(2024, 1, 31), date(2024, 2, 29), 1),
        (date(2024, 1, 15), date(2024, 2, 14), 0),
        (date(2024, 1, 15), date(2024, 2, 15), 1),
        (date(2023, 12, 15), date(2024, 1, 15), 1),
        (date(2023, 12, 16), date(2025, 1, 15), 12),
        (date(2024, 1, 15), date(2024, 1, 15), 0),
    ],
)
def test_whole_months(start: date, end: date, months: int) -> None:
    assert whole_months(start, end) == months


@pytest.mark.parametrize(
    ("months", "band"),
    [(0, "0-5"), (5, "0-5"), (6, "6-11"), (11, "6-11"), (12, "12-23"),
     (23, "12-23"), (24, "24-35"), (35, "24-35"), (36, "36+"), (120, "36+")],
)  # fmt: skip
def test_month_band(months: int, band: str) -> None:
    assert month_band(months) == band


def test_the_codes_and_names() -> None:
    assert [code for _, _, code in MONTH_BANDS] + [LAST_BAND] == BANDS
    assert TERMINATION_REASONS == (
        "eviction",
        "moved_out",
        "own_housing_found",
        "deceased",
        "other",
    )
    assert GROUPINGS == ("none", "landlord", "district")
    assert normalised("  Kommunbostäder   AB ") == "kommunbostäder ab"


def test_a_group_is_named_by_the_first_spelling_known_at_the_moment() -> None:
    """P1 "Norrby" comes first in the log but was recorded on 5 January;
    P2 "NORRBY " after it, by a clock behind, on 3 January, and M1 moved
    into P2 on the 4th. Known at the 4th, the group's first acquisition
    recorded by then is P2's, which names it; once P1 is known, P1's."""
    log = Log()
    p1 = Apartment.acquire(stamp("2022-01-02", "ALN"), "P1", "Bo AB", "Norrby", 2,
                           5000)  # fmt: skip
    log.take(p1, "2022-01-05T08:00:00")
    p2 = Apartment.acquire(stamp("2022-01-02", "ALN"), "P2", "BO AB", "NORRBY ", 2,
                           5000)  # fmt: skip
    log.take(p2, "2022-01-03T08:00:00")
    case = HousingCase.file(stamp("2021-12-01"), "M1", {}, {}, "man", 1980)
    case.grant(stamp("2021-12-02"), "d-M1", "socialt_kontrakt", "assessment")
    case.execute(stamp("2022-01-04"), p2, 5000, date(2022, 1, 4))
    log.take(case, "2022-01-04T08:00:00")
    log.take(p2, "2022-01-04T08:00:00")
    projection = Tenancies()
    q1 = (date(2022, 1, 1), date(2022, 3, 31), date(2022, 3, 31))
    with tables(projection) as db:
        projection.process_batch(db, log.records)
        names = {
            (by, moment): [g[by] for g in first_hand(db, *q1, by, at(moment))]
            for by in ("landlord", "district")
            for moment in ("2022-01-04T08:00:00", "2022-01-05T08:00:00")
        }
    assert names == {
        ("landlord", "2022-01-04T08:00:00"): ["BO AB"],
        ("landlord", "2022-01-05T08:00:00"): ["Bo AB"],
        ("district", "2022-01-04T08:00:00"): ["NORRBY"],
        ("district", "2022-01-05T08:00:00"): ["Norrby"],
    }
