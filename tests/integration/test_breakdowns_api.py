"""Breakdowns over HTTP (``/v1/oversight/counts`` and ``/flows`` with
``by``, and the flows' details) on a simulated municipality, on SQLite and
PostgreSQL: the groups add up to the whole, the reasons to their kind, and
public flows hide every small count."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from contextlib import ExitStack
from datetime import date

import pytest
from fastapi.testclient import TestClient

from infra.settings import Settings
from services.bootstrap import bootstrap
from services.http.app import create_app
from services.reporting.suppression import HIDDEN
from services.simulation.player import generate, send
from tests.conftest import fresh_postgres_database

WINDOW = {"from": "2021-01-01", "to": "2022-06-30"}


@pytest.fixture(scope="module", params=["sqlite", "postgres"])
def api(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[TestClient]:
    """One simulated municipality per engine, for every test of the module."""
    data_dir = tmp_path_factory.mktemp("breakdowns") / "var"
    with ExitStack() as stack:
        url = None
        if request.param == "postgres":
            url = stack.enter_context(fresh_postgres_database())
        boende = bootstrap(Settings(data_dir=data_dir, database_url=url))
        stack.callback(boende.close)
        client = stack.enter_context(TestClient(create_app(boende)))
        history = generate(18, seed=8, start=date(2021, 1, 1))
        assert send(history, client).unexpected == 0
        for runner in boende.runners:
            runner.catch_up()
        yield client


@pytest.mark.parametrize("by", ["gender", "intervention", "basis"])
def test_groups_add_up_to_the_whole(api: TestClient, by: str) -> None:
    for day in ("2021-06-30", "2022-06-30"):
        answer = api.get("/v1/oversight/counts", params={"as_of": day, "by": by}).json()
        assert answer["by"] == by
        states: Counter[str] = Counter()
        totals: Counter[str] = Counter()
        for figures in answer["groups"].values():
            states.update(figures["cases_by_state"])
            totals.update({k: v for k, v in figures.items() if k.endswith("_total")})
            assert all(n >= 0 for n in figures["cases_by_state"].values())
        assert dict(states) == answer["cases_by_state"]
        assert all(totals[k] == answer[k] for k in totals)
    flows = api.get("/v1/oversight/flows", params={**WINDOW, "by": by}).json()
    for row in flows["periods"]:
        summed: Counter[str] = Counter()
        for figures in row["groups"].values():
            summed.update(figures)
        for name, n in summed.items():
            assert n == row[name], (row["period"], name)


def test_reasons_add_up_to_their_kind(api: TestClient) -> None:
    flows = api.get("/v1/oversight/flows", params=WINDOW).json()
    seen = Counter[str]()
    for row in flows["periods"]:
        for kind, reasons in row["by_reason"].items():
            assert sum(reasons.values()) == row[kind], (row["period"], kind)
            seen[kind] += row[kind]
    assert seen["delays"] > 0 and seen["cancelled"] > 0
    assert sum(row["apartments_acquired"] for row in flows["periods"]) > 0


def test_public_flows_hide_every_small_count(api: TestClient) -> None:
    true = api.get("/v1/oversight/flows", params=WINDOW).json()
    public = api.get("/v1/oversight/flows", params={**WINDOW, "public": "true"}).json()
    assert public["public"] is True
    for exact, shown in zip(true["periods"], public["periods"], strict=True):
        cells = {k: (v, shown[k]) for k, v in exact.items() if isinstance(v, int)}
        for kind, reasons in exact["by_reason"].items():
            for reason, n in reasons.items():
                cells[f"{kind}.{reason}"] = (n, shown["by_reason"][kind][reason])
        for name, (value, published) in cells.items():
            if 1 <= value <= 4:
                assert published == "<5", name
            else:
                assert published in (value, HIDDEN), name


@pytest.mark.parametrize("path", ["counts", "flows"])
def test_breakdowns_are_not_published(api: TestClient, path: str) -> None:
    response = api.get(
        f"/v1/oversight/{path}", params={"by": "gender", "public": "true"}
    )
    assert response.status_code == 422
    assert response.json()["error"] == "invalid_request"
