"""Flöden, Handläggningstider and Bostadsbestånd in a real browser: the
tables hold the JSON API's figures for the same query, every chart is an
image with a name followed by its table, the pages pass axe (WCAG 2.1 AA)
and the keyboard, and the period picker and Flöden's breakdown (by) work
without JavaScript."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Browser, Page, expect

from projections.counts import CODES
from tests.browser.browsing import (
    Server,
    assert_accessible,
    assert_keyboard_reaches_every_control,
    login_development,
)
from tests.browser.conftest import Visit
from tests.browser.tables import as_text, table_values

FLOWS = ("filed", "granted", "rejected", "withdrawn", "executed", "converted")
FLOWS += ("terminated", "cancelled")
RANGE = {"from": "2025-07-01", "to": "2026-06-30"}


def assert_charts_have_their_tables(page: Page, charts: int) -> None:
    images = page.locator("figure.diagram svg[role=img]")
    expect(images).to_have_count(charts)
    for i in range(charts):
        svg = images.nth(i)
        assert svg.get_attribute("aria-label")
        assert svg.locator("title").count() == 1 and svg.locator("desc").count() == 1
        link = page.locator("figure.diagram figcaption a").nth(i)
        target = str(link.get_attribute("href"))
        expect(page.locator(f"table{target}")).to_have_count(1)
    assert page.locator("script").count() == 0  # readable without JavaScript


def assert_footer_names(page: Page, answer: dict[str, object]) -> None:
    footer = page.locator("footer").inner_text()
    assert f"{answer['as_of_position']:,}".replace(",", "\u00a0") in footer
    if "root_hash" in answer:
        assert str(answer["root_hash"]) in footer


def test_flows_are_the_json_apis_for_the_same_range(
    visit: Visit, server: Server
) -> None:
    page = visit(
        "oversight",
        "/oversikt/floden?period=quarter&from={from}&to={to}".format(**RANGE),
    )
    expected = server.api("/v1/oversight/flows", period="quarter", **RANGE)
    shown = table_values(page, "#floden-tabell", "data-period")
    assert shown == {
        p["period"]: {c: as_text(p[c]) for c in FLOWS} for p in expected["periods"]
    }
    assert list(shown) == ["2025Q3", "2025Q4", "2026Q1", "2026Q2"]
    assert sum(p["granted"] for p in expected["periods"]) > 0
    assert_footer_names(page, expected)
    apartments = ("apartments_acquired", "apartments_returned")
    if all(key in expected["periods"][0] for key in apartments):
        assert table_values(page, "#lagenheter-tabell", "data-period") == {
            p["period"]: {c: as_text(p[c]) for c in apartments}
            for p in expected["periods"]
        }
        assert_charts_have_their_tables(page, 2)
    else:  # the API has no apartment flows yet: the page says so
        expect(page.locator("#lagenheter-saknas")).to_be_visible()
        assert_charts_have_their_tables(page, 1)
    assert_accessible(page)
    assert_keyboard_reaches_every_control(page)


@pytest.mark.parametrize("by", ["gender", "intervention", "basis"])
def test_flows_by_group_are_the_json_apis(
    visit: Visit, server: Server, by: str
) -> None:
    page = visit(
        "oversight",
        "/oversikt/floden?period=quarter&from={from}&to={to}&by={by}".format(
            **RANGE, by=by
        ),
    )
    expected = server.api("/v1/oversight/flows", period="quarter", by=by, **RANGE)
    periods = expected["periods"]
    for code in CODES[by]:
        shown = table_values(page, f"#grupper table[data-group={code}]", "data-period")
        assert shown == {
            p["period"]: {c: as_text(p["groups"][code][c]) for c in FLOWS}
            for p in periods
        }, code
    groups = page.locator("#grupper table[data-group]")
    assert [
        groups.nth(i).get_attribute("data-group") for i in range(groups.count())
    ] == list(CODES[by])
    granted = [sum(p["groups"][code]["granted"] for p in periods) for code in CODES[by]]
    assert sum(1 for n in granted if n) >= 2, granted  # the groups differ
    expect(page.get_by_label("Uppdelat på", exact=True)).to_have_value(by)
    assert_footer_names(page, expected)
    assert_charts_have_their_tables(page, len(CODES[by]) + 2)  # totals, apartments
    assert_accessible(page)
    assert_keyboard_reaches_every_control(page)


def test_lead_times_are_the_json_apis(visit: Visit, server: Server) -> None:
    page = visit(
        "oversight",
        "/oversikt/handlaggningstider?period=quarter&from={from}&to={to}".format(
            **RANGE
        ),
    )
    expected = server.api("/v1/oversight/lead-times", period="quarter", **RANGE)
    for interval in (
        "filing_to_decision",
        "decision_to_execution",
        "execution_to_first_hand",
    ):
        shown = table_values(page, f"table[data-interval={interval}]", "data-period")
        assert shown == {
            p["period"]: {m: as_text(v) for m, v in p[interval].items()}
            for p in expected["periods"]
        }, interval
    assert any(p["decision_to_execution"]["count"] for p in expected["periods"])
    assert_footer_names(page, expected)
    assert_charts_have_their_tables(page, 3)
    assert_accessible(page)
    assert_keyboard_reaches_every_control(page)


def test_the_stock_is_the_json_apis(visit: Visit, server: Server) -> None:
    page = visit("oversight", "/oversikt/bostadsbestand")
    expected = server.api("/v1/oversight/apartments")
    states = table_values(page, "#status-tabell", "data-state")
    assert states.keys() == expected["by_state"].keys()
    for key in ("by_landlord", "by_district"):
        shown = table_values(page, f"table[data-group={key}]", "data-name")
        assert shown == {
            name: {s: as_text(n) for s, n in group["by_state"].items()}
            | {"total": as_text(group["total"])}
            for name, group in expected[key].items()
        }, key
    assert expected["apartments_total"] > 0
    vacancy = server.api("/v1/oversight/vacancy", period="quarter")
    assert table_values(page, "#kostnad-tabell", "data-period") == {
        p["period"]: {
            "vacant_days": as_text(p["vacant_days"]),
            "cost_sek": as_text(p["cost_sek"]),
        }
        for p in vacancy["periods"]
    }
    assert sum(p["cost_sek"] for p in vacancy["periods"]) > 0
    assert_footer_names(page, expected)
    assert_footer_names(page, vacancy)
    assert_charts_have_their_tables(page, 3)
    assert_accessible(page)
    assert_keyboard_reaches_every_control(page)


def test_a_bad_form_is_said_in_swedish_and_passes_axe(visit: Visit) -> None:
    page = visit("oversight", "/oversikt/floden?from=2026-05-01&to=2026-01-01")
    expect(page.get_by_role("alert")).to_contain_text("får inte vara efter")
    assert_accessible(page)
    page = visit("oversight", "/oversikt/floden?by=age")
    expect(page.get_by_role("alert")).to_contain_text("Välj uppdelning")
    expect(page.locator("table")).to_have_count(0)
    assert_accessible(page)
    page = visit(
        "oversight", "/oversikt/handlaggningstider?from=1901-01-01&period=month"
    )
    expect(page.get_by_role("alert")).to_contain_text("Intervallet är för långt")


def test_the_period_picker_works_without_javascript(
    browser: Browser, server: Server
) -> None:
    context = browser.new_context(java_script_enabled=False, locale="sv-SE")
    try:
        page = context.new_page()
        login_development(page, server.url, "oversight")
        page.goto(f"{server.url}/oversikt/floden")
        page.get_by_label("Period", exact=True).select_option("year")
        page.get_by_label("Från", exact=True).fill("2025-01-01")
        page.get_by_role("button", name="Visa").click()
        expect(page).to_have_url(re.compile(r"period=year&from=2025-01-01"))
        shown = table_values_without_js(page)
        assert shown == ["2025", "2026"]
        expect(page.locator("#grupper")).to_have_count(0)

        page.get_by_label("Uppdelat på", exact=True).select_option(label="Insats")
        page.get_by_role("button", name="Visa").click()
        expect(page).to_have_url(
            re.compile(r"period=year&from=2025-01-01&.*by=intervention")
        )
        expect(page.get_by_role("heading", name="Uppdelat på insats")).to_be_visible()
        expect(page.locator("#grupper table[data-group]")).to_have_count(3)
        expect(page.get_by_role("heading", name="Boendesocial insats")).to_be_visible()
        # Printed (Flöden has no PDF: the print stylesheet is its printout):
        # no form, but every group's heading, chart and table.
        page.emulate_media(media="print")
        expect(page.locator("form.dagval")).to_be_hidden()
        expect(page.get_by_role("heading", name="Uppdelat på insats")).to_be_visible()
        for table in page.locator("#grupper table[data-group]").all():
            expect(table).to_be_visible()
        charts = page.locator("#grupper figure.diagram svg")
        expect(charts).to_have_count(3)
        for chart in charts.all():
            expect(chart).to_be_visible()
        page.emulate_media(media="screen")

        page.get_by_label("Uppdelat på", exact=True).select_option(label="Ingen")
        page.get_by_role("button", name="Visa").click()
        expect(page).to_have_url(re.compile(r"by=none"))
        expect(page.locator("#grupper")).to_have_count(0)
        assert table_values_without_js(page) == ["2025", "2026"]
    finally:
        context.close()


def test_the_auditor_is_not_shown_the_boards_pages(visit: Visit) -> None:
    page = visit("auditor", "/oversikt/floden")
    assert "Åtkomst nekad" in page.title()
    nav = page.locator("nav").inner_text() if page.locator("nav").count() else ""
    assert "Flöden" not in nav and "Revision" in nav


def table_values_without_js(page: Page) -> list[str]:
    """The periods of the flows table, read through the DOM by Playwright
    (works with the page's own JavaScript disabled)."""
    rows = page.locator("#floden-tabell tr[data-period]")
    return [str(rows.nth(i).get_attribute("data-period")) for i in range(rows.count())]
