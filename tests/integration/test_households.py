"""People in social contracts (``/v1/oversight/households``) on SQLite and
PostgreSQL: a scripted history worked out by hand, a simulated municipality
against a naive fold of its submissions, and a rebuild equal to the live
read model."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from datetime import date, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient

from projections.households import age_band, household_type
from services.bootstrap import Boende
from services.http.app import create_app
from services.projecting.rebuild import rebuild_together
from services.simulation.player import generate, send
from tests.conftest import Ids, view_rows
from tests.integration.test_unexecuted import Cases


@pytest.fixture
def api(boende: Boende) -> Iterator[TestClient]:
    with TestClient(create_app(boende)) as client:
        yield client


class Homes(Cases):
    def filed_household(
        self, label: str, day: str, gender: str, born: int, adults: int, children: int
    ) -> None:
        self.case_ids[label] = self.ids.next("c")
        self.post(
            "application_filed",
            self.case_ids[label],
            day,
            gender=gender,
            birth_year=born,
            household={"adults": adults, "children": children},
        )

    def ended(self, label: str, event_type: str, day: str, **payload: Any) -> None:
        self.post(event_type, self.case_ids[label], day, **payload)


def history(h: Homes) -> None:
    """Who lives in a contract when, in the comments."""
    h.filed_household("A", "2025-01-02", "woman", 1990, 1, 2)
    h.granted("A", "2025-01-10")
    h.executed("A", "2025-02-01")  # lives there from 1 February, still
    h.filed_household("B", "2025-01-03", "man", 1960, 1, 0)
    h.granted("B", "2025-01-11")
    h.executed("B", "2025-02-15")  # 15 February ...
    h.ended("B", "contract_terminated", "2025-04-01", reason="moved_out")  # to 31 March
    h.filed_household("C", "2025-01-04", "man", 2001, 2, 0)
    h.granted("C", "2025-01-12")
    h.executed("C", "2025-03-01")  # 1 March ...
    h.ended(
        "C",
        "converted_to_first_hand",
        "2025-04-03",  # ... to 2 April: from 3 April a first-hand lease
        landlord_consented_on="2025-04-01",
    )
    h.filed_household("D", "2025-01-05", "woman", 1980, 2, 3)
    h.granted("D", "2025-01-13")  # granted, never moved in: not counted
    h.catch_up()


def figures(api: TestClient, **params: str) -> dict[str, Any]:
    response = api.get("/v1/oversight/households", params=params)
    assert response.status_code == 200, response.text
    return response.json()


def people(households: int, adults: int, children: int) -> dict[str, int]:
    return {"households": households, "adults": adults, "children": children}


def test_households_on_a_day_by_hand(boende: Boende, api: TestClient, ids: Ids) -> None:
    history(Homes(boende, api, ids))
    before = figures(api, as_of="2025-01-31")
    assert (before["households"], before["adults"], before["children"]) == (0, 0, 0)

    march = figures(api, as_of="2025-03-31")  # A, B, C
    assert people(march["households"], march["adults"], march["children"]) == people(
        3, 4, 2
    )
    assert march["by_gender"]["woman"] == people(1, 1, 2)
    assert march["by_gender"]["man"] == people(2, 3, 0)
    assert march["by_gender"]["unknown"] == people(0, 0, 0)
    assert march["by_household_type"] == {
        "single_adult": people(1, 1, 0),  # B
        "single_adult_with_children": people(1, 1, 2),  # A
        "adults": people(1, 2, 0),  # C
        "adults_with_children": people(0, 0, 0),
    }
    bands = {
        k: v["households"] for k, v in march["by_age_band"].items() if v["households"]
    }
    assert bands == {"18-24": 1, "35-44": 1, "65+": 1}  # 2025-2001, -1990, -1960

    april_1 = figures(api, as_of="2025-04-01")  # B moved out that day
    assert april_1["households"] == 2
    april_3 = figures(api, as_of="2025-04-03")  # C's first-hand lease from that day
    assert april_3["households"] == 1
    assert april_3["as_of"] == "2025-04-03"
    assert {"as_of_position", "tree_size", "root_hash"} <= set(april_3)


def test_a_week_counts_a_household_once_if_it_lived_there_any_day(
    boende: Boende, api: TestClient, ids: Ids
) -> None:
    history(Homes(boende, api, ids))
    # 2025-W14 is Monday 31 March to Sunday 6 April: A, B (to 31 March), C.
    week = figures(api, week="2025-W14")
    assert (week["first_day"], week["last_day"]) == ("2025-03-31", "2025-04-06")
    assert week["households"] == 3 and week["as_of"] is None
    # 2025-W15 (7-13 April): A only.
    assert figures(api, week="2025-W15")["households"] == 1


def test_known_at_leaves_out_what_was_registered_later(
    boende: Boende, api: TestClient, ids: Ids
) -> None:
    h = Homes(boende, api, ids)
    history(h)
    now = figures(api, as_of="2025-04-01")
    before = figures(api, as_of="2025-04-01", known_at="2000-01-01T00:00:00Z")
    assert now["households"] == 2 and before["households"] == 0


def test_public_figures_mark_small_counts_and_keep_zeros(
    boende: Boende, api: TestClient, ids: Ids
) -> None:
    """On 31 March three households (A, B, C) of four adults and two
    children live in contracts: every figure from 1 to 4 is "<5" (the
    threshold is 5), zeros are shown, and no figure is exact that would give
    a small one away. The CSV in Swedish says the same."""
    history(Homes(boende, api, ids))
    march = figures(api, as_of="2025-03-31", public="true")
    assert (march["households"], march["adults"], march["children"]) == ("<5",) * 3
    assert march["by_gender"] == {
        "woman": people("<5", "<5", "<5"),  # type: ignore[arg-type]
        "man": people("<5", "<5", 0),  # type: ignore[arg-type]
        "other": people(0, 0, 0),
        "unknown": people(0, 0, 0),
    }
    assert march["by_household_type"]["adults_with_children"] == people(0, 0, 0)
    assert march["public"] is True and set(march["legend"]) == {"<5", "suppressed"}
    assert march["root_hash"] == figures(api, as_of="2025-03-31")["root_hash"]
    csv = api.get(
        "/v1/oversight/households",
        params={"as_of": "2025-03-31", "public": "true", "format": "csv"},
    )
    assert csv.status_code == 200, csv.text
    assert csv.headers["content-disposition"].endswith(
        'households_2025-03-31_public.csv"'
    )
    lines = csv.text.splitlines()
    assert "# För publicering (små tal dolda): ja" in lines
    header = lines.index("Uppdelning;Grupp;Hushåll;Vuxna;Barn")
    assert lines[header + 1 : header + 4] == [
        "Totalt;;<5;<5;<5",
        "Per kön;Kvinna;<5;<5;<5",
        "Per kön;Man;<5;<5;0",
    ]


@pytest.mark.parametrize(
    "params",
    [
        {"week": "2025-W54"},
        {"week": "2025-14"},
        {"week": "0001-W01"},
        {"week": "2025-W14", "as_of": "2025-04-01"},
        {"as_of": "2025-02-30"},
    ],
)
def test_bad_days_and_weeks_are_refused(
    boende: Boende, api: TestClient, params: dict[str, str]
) -> None:
    response = api.get("/v1/oversight/households", params=params)
    assert response.status_code == 422, response.text
    assert response.json()["error"] in {"invalid_request", "invalid_submission"}


def test_simulated_households_match_a_naive_fold_and_survive_a_rebuild(
    boende: Boende, api: TestClient
) -> None:
    envelopes = generate(18, seed=5, start=date(2021, 1, 1))
    assert send(envelopes, api, concurrency=4).unexpected == 0
    for runner in boende.runners:
        runner.catch_up()
    days = [date(2021, 1, 1) + timedelta(days=d) for d in range(0, 560, 37)]
    live = {day: figures(api, as_of=day.isoformat()) for day in days}
    for day, answer in live.items():
        assert shown(answer) == naive(envelopes, day), day
    assert max(a["households"] for a in live.values()) > 5

    runner = boende.runner("tenancies")
    tables_before = view_rows(runner.store, runner.projection)
    rebuild_together([runner])
    assert view_rows(runner.store, runner.projection) == tables_before
    assert figures(api, as_of=days[-1].isoformat()) == live[days[-1]]


def naive(envelopes: list[dict[str, Any]], day: date) -> dict[str, Any]:
    """The figures straight from the submissions, case by case."""
    filed: dict[str, dict[str, Any]] = {}
    moved_in: dict[str, date] = {}
    ended: dict[str, date] = {}
    for env in envelopes:
        on = date.fromisoformat(env["occurred_on"])
        if env["type"] == "application_filed":
            filed[env["case_id"]] = env["payload"]
        elif env["type"] == "contract_executed":
            moved_in[env["case_id"]] = on
        elif env["type"] in {"converted_to_first_hand", "contract_terminated"}:
            ended[env["case_id"]] = on
    totals: Counter[str] = Counter()
    by: dict[str, Counter[str]] = {
        "gender": Counter(),
        "type": Counter(),
        "band": Counter(),
    }
    for case_id, start in moved_in.items():
        if start > day or (case_id in ended and ended[case_id] <= day):
            continue
        p = filed[case_id]
        adults, children = p["household"]["adults"], p["household"]["children"]
        totals.update(households=1, adults=adults, children=children)
        by["gender"][p["gender"]] += 1
        by["type"][household_type(adults, children)] += 1
        by["band"][age_band(day.year, p["birth_year"])] += 1
    return {
        "totals": +totals,
        "gender": +by["gender"],
        "type": +by["type"],
        "band": +by["band"],
    }


def shown(answer: dict[str, Any]) -> dict[str, Any]:
    """The answer in ``naive``'s shape: households per code, zeros left out."""

    def households(name: str) -> Counter[str]:
        return +Counter({k: v["households"] for k, v in answer[name].items()})

    return {
        "totals": +Counter(
            {k: answer[k] for k in ("households", "adults", "children")}
        ),
        "gender": households("by_gender"),
        "type": households("by_household_type"),
        "band": households("by_age_band"),
    }
