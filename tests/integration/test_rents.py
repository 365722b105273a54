"""Rents and vacancy (``/v1/oversight/rents``, ``/vacancy``) on SQLite and
PostgreSQL: a scripted stock whose figures are worked out by hand."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient

from services.bootstrap import Boende
from services.http.app import create_app
from services.projecting.rebuild import rebuild_together
from tests.conftest import Ids
from tests.integration.test_unexecuted import Cases

ORG = "556999-0012"


@pytest.fixture
def api(boende: Boende) -> Iterator[TestClient]:
    with TestClient(create_app(boende)) as client:
        yield client


def history(c: Cases) -> None:
    c.post("apartment_acquired", "A1", "2025-01-01", landlord="Bo AB",
           landlord_org_no="556999-0012", district="Norrby", rooms=2,
           monthly_rent_sek=6000)  # fmt: skip
    c.filed("X", "2024-12-01")
    c.granted("X", "2024-12-10")
    c.post("contract_executed", c.case_ids["X"], "2025-01-11", apartment_id="A1",
           monthly_rent_sek=6200, lease_starts_on="2025-01-11")  # fmt: skip
    # A1 vacant 1-10 January: 10 days at 6000/31.
    c.post("apartment_acquired", "A2", "2025-01-16", landlord=" hem  HB",
           landlord_org_no="916512-3457", district="söderberga", rooms=3,
           monthly_rent_sek=9300)  # fmt: skip
    # A2 vacant 16-31 January (16 days at 9300/31 = 4800) and all of February
    # (9300); returned on 1 March, which is not a vacant day.
    c.post("apartment_returned", "A2", "2025-03-01")
    c.post("contract_terminated", c.case_ids["X"], "2025-02-15", reason="moved_out")
    # A1 vacant from 15 February: 14 days at 6000/28 = 3000, March 6000.
    c.catch_up()


def get(api: TestClient, path: str, **params: str) -> dict[str, Any]:
    response = api.get(f"/v1/oversight/{path}", params=params)
    assert response.status_code == 200, response.text
    body = response.json()
    assert {"as_of_position", "tree_size", "root_hash"} <= set(body)
    return body


def test_rents_on_a_day_by_hand(boende: Boende, api: TestClient, ids: Ids) -> None:
    history(Cases(boende, api, ids))
    (february,) = get(api, "rents", as_of="2025-02-01")["groups"]
    assert february == {
        "apartments": 2,
        "occupied": 1,
        "aln_pays": {
            "median": 7650,
            "lowest": 6000,
            "highest": 9300,
            "per_month": 15300,
        },
        "households_pay": {
            "median": 6200,
            "lowest": 6200,
            "highest": 6200,
            "per_month": 6200,
        },
        "difference_per_month": 200,  # the household pays 200 more than ALN
        "difference_per_occupied_apartment": 200,
    }
    (march,) = get(api, "rents", as_of="2025-03-01")["groups"]  # A2 returned
    assert (march["apartments"], march["occupied"]) == (1, 0)
    assert march["difference_per_occupied_apartment"] is None
    by_landlord = get(api, "rents", as_of="2025-02-01", by="landlord")["groups"]
    assert [
        (g["landlord"], g["landlord_org_no"], g["apartments"]) for g in by_landlord
    ] == [("Bo AB", "556999-0012", 1), ("hem HB", "916512-3457", 1)]
    by_rooms = get(api, "rents", as_of="2025-02-01", by="rooms")["groups"]
    assert [(g["rooms"], g["aln_pays"]["median"]) for g in by_rooms] == [
        ("2", 6000),
        ("3", 9300),
    ]


def test_vacancy_per_month_by_hand(boende: Boende, api: TestClient, ids: Ids) -> None:
    history(Cases(boende, api, ids))
    window = {"from": "2025-01-01", "to": "2025-03-31"}
    months = get(api, "vacancy", **window)["periods"]
    assert months == [
        {"period": "2025-01", "vacant_days": 26, "cost_sek": 6735},  # 1935.48 + 4800
        {"period": "2025-02", "vacant_days": 42, "cost_sek": 12300},
        {"period": "2025-03", "vacant_days": 31, "cost_sek": 6000},
    ]
    (quarter,) = get(api, "vacancy", period="quarter", **window)["periods"]
    assert (quarter["vacant_days"], quarter["cost_sek"]) == (99, 25035)
    districts = get(api, "vacancy", by="district", **window)["periods"]
    assert [(p["period"], p["district"], p["vacant_days"]) for p in districts] == [
        ("2025-01", "norrby", 10),
        ("2025-01", "söderberga", 16),
        ("2025-02", "norrby", 14),
        ("2025-02", "söderberga", 28),
        ("2025-03", "norrby", 31),
        ("2025-03", "söderberga", 0),
    ]


def test_a_rebuild_equals_the_live_model(
    boende: Boende, api: TestClient, ids: Ids
) -> None:
    history(Cases(boende, api, ids))
    live = get(api, "vacancy", **{"from": "2025-01-01", "to": "2025-12-31"})
    rebuild_together([boende.runner("tenancies")])
    again = get(api, "vacancy", **{"from": "2025-01-01", "to": "2025-12-31"})
    assert again["periods"] == live["periods"]


def test_a_landlord_has_one_name_on_both_engines_in_every_figure(
    boende: Boende, api: TestClient, ids: Ids
) -> None:
    """One number under three spellings: "Bo AB" acquired first (B1, the
    dearest), then "Bo Fastigheter AB" (B2, the cheapest, where the only
    contract is executed) and "BO AB" (B3). Every figure names it "Bo AB",
    the first in the log, as the register does, on SQLite and PostgreSQL
    alike: not the row an engine happens to return first (on SQLite the
    cheapest), nor the first contract executed."""
    c = Cases(boende, api, ids)
    for flat, name, rent in [
        ("B1", "Bo AB", 7000),
        ("B2", "Bo Fastigheter AB", 6000),
        ("B3", "BO AB", 6500),
    ]:
        c.post("apartment_acquired", flat, "2025-01-01", landlord=name,
               landlord_org_no=ORG, district="norrby", rooms=2,
               monthly_rent_sek=rent)  # fmt: skip
    c.filed("X", "2024-12-01")
    c.granted("X", "2024-12-10")
    c.post("contract_executed", c.case_ids["X"], "2025-01-11", apartment_id="B2",
           monthly_rent_sek=6200, lease_starts_on="2025-01-11")  # fmt: skip
    c.catch_up()
    rents = get(api, "rents", as_of="2025-02-01", by="landlord")["groups"]
    assert [(g["landlord"], g["landlord_org_no"], g["apartments"]) for g in rents] == [
        ("Bo AB", ORG, 3)
    ]
    january = {"from": "2025-01-01", "to": "2025-01-31"}
    (vacant,) = get(api, "vacancy", by="landlord", **january)["periods"]
    # B1 and B3 all January, B2 1-10 January.
    assert (vacant["landlord"], vacant["landlord_org_no"], vacant["vacant_days"]) == (
        "Bo AB",
        ORG,
        31 + 31 + 10,
    )
    quarter = {"from": "2025-01-01", "to": "2025-03-31", "as_of": "2025-03-31"}
    (cohort,) = get(api, "first-hand", by="landlord", **quarter)["cohorts"]
    assert (cohort["landlord"], cohort["landlord_org_no"], cohort["executed"]) == (
        "Bo AB",
        ORG,
        1,
    )
    (landlord,) = get(api, "landlords")["landlords"]
    assert (landlord["first_name"], landlord["name"]) == ("Bo AB", "BO AB")
