"""How a landlord or district group is named (``projections.spellings``):
by the spelling of its first acquisition in the log, as known at a moment,
even when a clock ran behind.

One number, four acquisitions in log order, recorded (by their clocks):
P1 "Bo AB" on 10 January; P2 "Bo Fastigheter AB" on 5 January (a clock
behind); P3 "BO AB" on 7 January; P4 "Bo  AB" on 20 January. Without a
number, P5 " hem  HB" then P6 "Hem HB", both on 21 January. Districts:
"Norrby " (P1), then "NORRBY", "norrby", "Norrby"; "Söderberga" then
"söderberga".
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date

import pytest

from domain.apartment import Apartment
from infra.views import Sql
from projections.rents import rents
from projections.spellings import SPELLED, first_spellings
from projections.tenancies import Tenancies
from tests.unit.test_mut_projections_base import Log, stamp, tables
from tests.unit.test_mut_tenancies import ORG, at

ACQUISITIONS = [
    ("P1", "Bo AB", ORG, "Norrby ", "2024-01-10", 7000),
    ("P2", "Bo Fastigheter AB", ORG, "NORRBY", "2024-01-05", 6000),
    ("P3", "BO AB", ORG, "norrby", "2024-01-07", 5000),
    ("P4", "Bo  AB", ORG, "Norrby", "2024-01-20", 4000),
    ("P5", " hem  HB", None, "Söderberga", "2024-01-21", 9000),
    ("P6", "Hem HB", None, "söderberga", "2024-01-21", 3000),
]


@pytest.fixture(scope="module")
def sql() -> Iterator[Sql]:
    log = Log()
    for flat_id, landlord, org_no, district, recorded, rent in ACQUISITIONS:
        flat = Apartment.acquire(stamp("2024-01-01", "ALN"), flat_id, landlord,
                                 district, 2, rent, org_no)  # fmt: skip
        log.take(flat, f"{recorded}T08:00:00")
    projection = Tenancies()
    with tables(projection) as sql:
        projection.process_batch(sql, log.records)
        yield sql


def test_kept_are_the_acquisitions_that_could_be_first(sql: Sql) -> None:
    """P2 was recorded before P1: kept; P3 and P4 after P2, P6 with P5:
    never first."""
    rows = sql.all(
        "SELECT grouped_by, group_key, position, spelling FROM tenancy_spellings "
        "ORDER BY grouped_by, group_key, position"
    )
    assert [tuple(row.values()) for row in rows] == [
        ("district", "norrby", 1, "Norrby"),
        ("district", "norrby", 2, "NORRBY"),
        ("district", "söderberga", 5, "Söderberga"),
        ("landlord", ORG, 1, "Bo AB"),
        ("landlord", ORG, 2, "Bo Fastigheter AB"),
        ("landlord", "name:hem hb", 5, "hem HB"),
    ]
    assert SPELLED == ("landlord", "district")


def test_named_by_the_first_in_the_log(sql: Sql) -> None:
    assert first_spellings(sql, "landlord") == {ORG: "Bo AB", "name:hem hb": "hem HB"}
    assert first_spellings(sql, "district") == {
        "norrby": "Norrby",
        "söderberga": "Söderberga",
    }


def test_as_known_at_a_moment_the_first_recorded_by_then(sql: Sql) -> None:
    # On 9 January P2 and P3 were recorded, not P1: P2 is the earlier.
    assert first_spellings(sql, "landlord", at("2024-01-09T08:00:00"))[ORG] == (
        "Bo Fastigheter AB"
    )
    assert first_spellings(sql, "landlord", at("2024-01-10T08:00:00"))[ORG] == "Bo AB"
    assert first_spellings(sql, "landlord", at("2024-01-05T08:00:00"))[ORG] == (
        "Bo Fastigheter AB"
    )
    # None recorded yet: the first in the log, never no name.
    assert first_spellings(sql, "landlord", at("2024-01-05T07:59:59")) == {
        ORG: "Bo AB",
        "name:hem hb": "hem HB",
    }


def test_rents_name_the_group_as_known_at_the_moment(sql: Sql) -> None:
    """The cheapest row (P4, 4000) names nothing; the first in the log does."""
    day = date(2024, 1, 1)
    assert [(g["landlord"], g["apartments"]) for g in rents(sql, day, "landlord")] == [
        ("Bo AB", 4),
        ("hem HB", 2),
    ]
    known = rents(sql, day, "landlord", at("2024-01-09T08:00:00"))
    assert [(g["landlord"], g["apartments"]) for g in known] == [
        ("Bo Fastigheter AB", 2)
    ]
    by_district = rents(sql, day, "district")
    assert [(g["district"], g["apartments"]) for g in by_district] == [
        ("Norrby", 4),
        ("Söderberga", 2),
    ]
