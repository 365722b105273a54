"""Flöden broken down (issue 13), through the app (TestClient): for every
``by`` the page offers, each figure in each of its tables is the one
``GET /v1/oversight/flows`` answers for the same query, each group's chart
is followed by that group's table, and a bad choice is the page's own 422
with the form again, never a 500."""

from __future__ import annotations

import re
from collections.abc import Iterator
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from infra.settings import Settings
from projections.counts import CODES
from services.bootstrap import bootstrap
from services.http.app import create_app
from services.http.pages.floden import TABLED
from services.simulation.player import plan, send

MONTHS, SEED = 12, 7
PAGE = "/oversikt/floden"
API = "/v1/oversight/flows"

#: {table id: (data-group or None, {period: {column: data-value}})}
Tables = dict[str, tuple[str | None, dict[str, dict[str, str]]]]


class FigureReader(HTMLParser):
    """The cells a figure page marks (``data-column``, ``data-value``) by
    table and row (``data-period``), the charts (``svg role=img``) and the
    tables their captions link to, in the page's order."""

    def __init__(self) -> None:
        super().__init__()
        self.tables: Tables = {}
        self.order: list[str] = []  # "chart" or "table:<id>", as they come
        self.links: list[str] = []  # each chart caption's link to its table
        self.table: str | None = None
        self.row: str | None = None
        self.in_caption = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        if tag == "table" and a.get("id"):
            self.table = str(a["id"])
            self.tables[self.table] = (a.get("data-group"), {})
            self.order.append(f"table:{self.table}")
        elif tag == "svg" and a.get("role") == "img":
            self.order.append("chart")
        elif tag == "figcaption":
            self.in_caption = True
        elif tag == "a" and self.in_caption:
            self.links.append(str(a.get("href")).removeprefix("#"))
        elif tag == "tr" and self.table and a.get("data-period"):
            self.row = str(a["data-period"])
            self.tables[self.table][1][self.row] = {}
        elif self.row and self.table and "data-column" in a:
            cells = self.tables[self.table][1][self.row]
            cells[str(a["data-column"])] = str(a.get("data-value"))

    def handle_endtag(self, tag: str) -> None:
        if tag == "table":
            self.table = self.row = None
        elif tag == "tr":
            self.row = None
        elif tag == "figcaption":
            self.in_caption = False


def read(html: str) -> FigureReader:
    reader = FigureReader()
    reader.feed(html)
    return reader


def as_cells(rows: list[dict[str, Any]]) -> dict[str, dict[str, str]]:
    """JSON periods as the page writes them: every flow of its table."""
    return {p["period"]: {c: str(p[c]) for c in TABLED} for p in rows}


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    """A simulated municipality's year, recorded through the API; auth off,
    so the page and the API are asked alike."""
    data_dir: Path = tmp_path_factory.mktemp("floden") / "var"
    boende = bootstrap(Settings(data_dir=data_dir, auth="off"))
    world = plan(MONTHS, SEED)
    try:
        with TestClient(create_app(boende)) as client:
            sent = send(world.envelopes, client, 4, expect_valid=world.expectations)
            assert sent.unexpected == 0
            for runner in boende.runners:
                runner.catch_up()
            client.params = {  # type: ignore[assignment]
                "from": world.start.isoformat(),
                "to": world.end.isoformat(),
            }
            yield client
    finally:
        boende.close()


def query(client: TestClient, **params: str) -> dict[str, str]:
    return {**dict(client.params), "period": "quarter", **params}


def page_and_api(
    client: TestClient, **params: str
) -> tuple[FigureReader, dict[str, Any]]:
    page = client.get(PAGE, params=query(client, **params))
    assert page.status_code == 200, page.text
    if params.get("by") in ("none", ""):  # the page's "Ingen": the API's no by
        del params["by"]
    answer = client.get(API, params=query(client, **params))
    assert answer.status_code == 200, answer.text
    return read(page.text), answer.json()


@pytest.mark.parametrize("by", ["gender", "intervention", "basis"])
def test_every_group_on_the_page_is_the_apis(client: TestClient, by: str) -> None:
    page, answer = page_and_api(client, by=by)
    periods = answer["periods"]
    assert page.tables["floden-tabell"] == (None, as_cells(periods))

    grouped = {gid: t for gid, t in page.tables.items() if t[0] is not None}
    shown = {group: rows for group, rows in grouped.values()}
    expected = {
        code: as_cells([{"period": p["period"], **p["groups"][code]} for p in periods])
        for code in CODES[by]
    }
    assert shown == expected
    assert [group for group, _ in grouped.values()] == list(CODES[by])

    # The groups add up to the totals (each case fact is in one group) ...
    for period in periods:
        for column in TABLED:
            in_groups = sum(int(shown[g][period["period"]][column]) for g in shown)
            assert in_groups == period[column], (period["period"], column)
    # ... and the breakdown is not all in one group: it shows something.
    granted = {g: sum(int(r["granted"]) for r in shown[g].values()) for g in shown}
    assert sum(1 for n in granted.values() if n) >= 2, granted

    # Every chart is followed by the table its caption names.
    for i, item in enumerate(page.order):
        if item == "chart":
            assert page.order[i + 1] == f"table:{page.links.pop(0)}"
    assert page.order.count("chart") == len(grouped) + 2  # totals, apartments


@pytest.mark.parametrize("none", [{}, {"by": "none"}, {"by": ""}])
def test_no_breakdown_shows_the_totals_alone(
    client: TestClient, none: dict[str, str]
) -> None:
    page, answer = page_and_api(client, **none)
    assert page.tables["floden-tabell"] == (None, as_cells(answer["periods"]))
    assert all(group is None for group, _ in page.tables.values())
    assert "groups" not in answer["periods"][0]


def test_the_form_offers_each_breakdown_in_swedish(client: TestClient) -> None:
    html = client.get(PAGE, params=query(client, by="basis")).text
    select = re.search(r'<select id="by" name="by">(.*?)</select>', html, re.S)
    assert select, "no breakdown selector"
    options = re.findall(
        r'<option value="(\w+)"( selected)?>([^<]+)</option>', select[1]
    )
    assert options == [
        ("none", "", "Ingen"),
        ("gender", "", "Kön"),
        ("intervention", "", "Insats"),
        ("basis", " selected", "Beslutsgrund"),
    ]
    assert '<label for="by">Uppdelat på</label>' in html
    assert '<form class="dagval" method="get" action="/oversikt/floden">' in html


@pytest.mark.parametrize(
    "params",
    [
        {"by": "age"},
        {"by": "GENDER"},
        {"by": "gender", "period": "week"},
        {"by": "gender", "from": "2026-05-01", "to": "2026-01-01"},
    ],
)
def test_a_bad_choice_is_the_form_again_with_an_alert(
    client: TestClient, params: dict[str, str]
) -> None:
    page = client.get(PAGE, params=query(client, **params))
    assert page.status_code == 422
    assert 'role="alert"' in page.text and '<select id="by" name="by">' in page.text
    assert not read(page.text).tables  # no figures for a question not asked
    if params["by"] != "gender":
        assert "Välj uppdelning: ingen, kön, insats eller beslutsgrund." in page.text
    assert client.get(API, params=query(client, **params)).status_code == 422


def test_an_overlong_choice_is_refused_not_a_500(client: TestClient) -> None:
    page = client.get(PAGE, params=query(client, by="g" * 41))
    assert page.status_code == 422
