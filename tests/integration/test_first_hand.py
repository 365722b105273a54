"""The path to a first-hand lease (``/v1/oversight/first-hand``) on SQLite
and PostgreSQL: a scripted history whose outcomes are worked out by hand in
the comments, landlords grouped by their organisation number (by their
normalised name when a fact has none), censoring."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient

from domain.districts import normalised
from services.bootstrap import Boende
from services.http.app import create_app
from tests.conftest import Ids
from tests.integration.test_unexecuted import Cases

NOT_OBSERVED = {"observed": 0, "converted": 0, "share": None}
#: The landlords' organisation numbers (Luhn-checked, fictitious).
ORG_NO = {"hyresvärden hb": "916512-3457", "kommunbostäder ab": "556012-3456"}


@pytest.fixture
def api(boende: Boende) -> Iterator[TestClient]:
    with TestClient(create_app(boende)) as client:
        yield client


class Contracts(Cases):
    def moved_in(
        self,
        label: str,
        day: str,
        landlord: str,
        district: str,
        org_no: str | None = None,
    ) -> None:
        self.filed(label, "2022-11-01")
        self.granted(label, "2022-12-01")
        apartment = self.ids.next("apt")
        self.post(
            "apartment_acquired",
            apartment,
            "2022-12-15",
            landlord=landlord,
            landlord_org_no=org_no or ORG_NO[normalised(landlord)],
            district=district,
        )
        self.post(
            "contract_executed",
            self.case_ids[label],
            day,
            apartment_id=apartment,
            lease_starts_on=day,
        )

    def converted(self, label: str, day: str) -> None:
        self.post(
            "converted_to_first_hand",
            self.case_ids[label],
            day,
            landlord_consented_on=day,
        )

    def terminated(self, label: str, day: str, reason: str) -> None:
        self.post("contract_terminated", self.case_ids[label], day, reason=reason)


def history(c: Contracts) -> None:
    c.moved_in("P5", "2023-01-05", "Hyresvärden HB", "Söderberga")
    c.converted("P5", "2025-03-05")  # 790 days: not within 12, nor 24 months
    c.moved_in("P1", "2023-02-01", "Kommunbostäder AB", "Norrby")
    c.converted("P1", "2024-01-15")  # 348 days: within 12 months
    c.moved_in("P2", "2023-03-10", "kommunbostäder  AB ", "norrby")  # the same landlord
    c.terminated("P2", "2023-09-01", "eviction")
    c.moved_in("P3", "2023-03-20", "Hyresvärden HB", "söderberga")  # 1017 d, 33 months
    c.moved_in("P4", "2025-06-01", "Kommunbostäder AB", "Norrby")
    c.converted("P4", "2025-11-01")  # 153 days; not yet 12 months old
    c.catch_up()


def cohorts(api: TestClient, **params: str) -> list[dict[str, Any]]:
    window = {"from": "2023-01-01", "to": "2025-12-31", "as_of": "2025-12-31"}
    response = api.get("/v1/oversight/first-hand", params={**window, **params})
    assert response.status_code == 200, response.text
    body = response.json()
    assert {"as_of_position", "tree_size", "root_hash"} <= set(body)
    return body["cohorts"]  # type: ignore[no-any-return]


def test_outcomes_per_execution_quarter_by_hand(
    boende: Boende, api: TestClient, ids: Ids
) -> None:
    history(Contracts(boende, api, ids))
    first, second = cohorts(api)
    assert first["cohort"] == "2023Q1" and second["cohort"] == "2025Q2"
    assert {k: first[k] for k in ("executed", "converted", "terminated")} == {
        "executed": 4,
        "converted": 2,
        "terminated": 1,
    }
    assert first["still_second_hand"] == 1
    assert first["terminated_by_reason"]["eviction"] == 1
    assert first["converted_within_12_months"] == {
        "observed": 4,
        "converted": 1,
        "share": 0.25,
    }
    assert first["converted_within_24_months"] == {
        "observed": 4,
        "converted": 1,
        "share": 0.25,
    }
    assert first["days_to_conversion"] == {
        "count": 2,
        "median_days": 569,
        "p90_days": 790,
        "max_days": 790,
    }
    assert first["days_in_contract"]["max_days"] == 1017
    assert first["days_in_contract"]["by_months"] == {
        "0-5": 0,
        "6-11": 0,
        "12-23": 0,
        "24-35": 1,
        "36+": 0,
    }
    # The young cohort is censored: counted, but in no share yet.
    assert second["executed"] == second["converted"] == 1
    assert second["converted_within_12_months"] == NOT_OBSERVED
    assert second["days_to_conversion"]["median_days"] == 153


def test_landlords_are_grouped_by_their_organisation_number(
    boende: Boende, api: TestClient, ids: Ids
) -> None:
    history(Contracts(boende, api, ids))
    rows = [c for c in cohorts(api, by="landlord") if c["cohort"] == "2023Q1"]
    assert [
        (c["landlord"], c["landlord_org_no"], c["executed"], c["converted"])
        for c in rows
    ] == [  # by name, in Swedish alphabetical order
        ("Hyresvärden HB", "916512-3457", 2, 1),
        ("Kommunbostäder AB", "556012-3456", 2, 1),  # and "kommunbostäder  AB "
    ]
    # The list's codes, however the sender spelt the district.
    districts = [c["district"] for c in cohorts(api, by="district")]
    assert districts == ["norrby", "söderberga", "norrby"]


def test_one_number_under_two_names_is_one_landlord_and_names_apart_are_two(
    boende: Boende, api: TestClient, ids: Ids
) -> None:
    c = Contracts(boende, api, ids)
    c.moved_in("R1", "2023-01-10", "Kommunbostäder AB", "Norrby")
    c.moved_in("R2", "2023-02-10", "KB Fastigheter AB", "Norrby", "556012-3456")
    c.moved_in("R3", "2023-03-10", "KB Fastigheter AB", "Norrby", "556400-1112")
    c.catch_up()
    rows = cohorts(api, by="landlord")
    assert [(r["landlord"], r["landlord_org_no"], r["executed"]) for r in rows] == [
        ("KB Fastigheter AB", "556400-1112", 1),  # the same name, another company
        ("Kommunbostäder AB", "556012-3456", 2),  # renamed: still one landlord
    ]


def test_outcomes_are_counted_to_as_of(
    boende: Boende, api: TestClient, ids: Ids
) -> None:
    history(Contracts(boende, api, ids))
    (early,) = cohorts(api, as_of="2023-06-30", to="2023-06-30")
    assert (early["executed"], early["still_second_hand"]) == (4, 4)
    assert early["converted_within_12_months"] == NOT_OBSERVED


@pytest.mark.parametrize(
    "params",
    [{"by": "gender"}, {"from": "2024-01-01", "to": "2023-01-01"}, {"as_of": "x"}],
)
def test_bad_parameters_are_refused(
    boende: Boende, api: TestClient, params: dict[str, str]
) -> None:
    response = api.get("/v1/oversight/first-hand", params=params)
    assert response.status_code == 422, response.text


def test_a_contract_is_observed_from_the_day_it_is_twelve_months_old(
    boende: Boende, api: TestClient, ids: Ids
) -> None:
    history(Contracts(boende, api, ids))
    # P1 moved in 2023-02-01 and converted 2024-01-15: on 2024-02-01 it is
    # exactly twelve months old, observed, and converted within them; P5
    # (2023-01-05) too, not converted; P2 and P3 (March) are not yet.
    (cohort,) = cohorts(api, as_of="2024-02-01", to="2024-02-01")
    assert cohort["converted_within_12_months"] == {
        "observed": 2,
        "converted": 1,
        "share": 0.5,
    }
    (before,) = cohorts(api, as_of="2024-01-31", to="2024-01-31")
    assert before["converted_within_12_months"]["observed"] == 1  # P5 only
