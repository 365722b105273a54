"""The seed figures' pages (issue 13) in a real browser: Hyror's table holds
``GET /v1/oversight/rents``'s figures for the same day and grouping, the
simulated municipality has rents to show, the page passes axe (WCAG 2.1 AA)
and the keyboard, and its form works without JavaScript."""

from __future__ import annotations

import re
from urllib.parse import urlencode

import pytest
from playwright.sync_api import expect

from tests.browser.browsing import (
    Server,
    assert_accessible,
    assert_keyboard_reaches_every_control,
)
from tests.browser.conftest import Visit
from tests.browser.tables import as_text, table_values

RENT_COLUMNS = {
    "apartments": ("apartments",),
    "occupied": ("occupied",),
    "aln_per_month": ("aln_pays", "per_month"),
    "aln_median": ("aln_pays", "median"),
    "households_per_month": ("households_pay", "per_month"),
    "households_median": ("households_pay", "median"),
    "difference_per_month": ("difference_per_month",),
    "difference_per_occupied_apartment": ("difference_per_occupied_apartment",),
}


def _at(group: dict[str, object], path: tuple[str, ...]) -> object:
    value: object = group
    for key in path:
        value = value[key]  # type: ignore[index]
    return value


@pytest.mark.parametrize("by", ["none", "landlord", "district", "rooms"])
def test_rents_are_the_json_apis(visit: Visit, server: Server, by: str) -> None:
    expected = server.api("/v1/oversight/rents", by=by)
    page = visit("oversight", f"/oversikt/hyror?by={by}&as_of={expected['as_of']}")
    shown = table_values(page, "#hyror-tabell", "data-name")
    groups = expected["groups"]
    assert shown == {
        (g[by] if by != "none" else "Alla"): {
            column: as_text(_at(g, path)) for column, path in RENT_COLUMNS.items()
        }
        for g in groups
    }
    assert sum(g["aln_pays"]["per_month"] or 0 for g in groups) > 0
    assert str(expected["as_of_position"]) in page.locator(
        "footer"
    ).inner_text().replace("\u00a0", "")
    vacancy = server.api("/v1/oversight/vacancy", period="month")
    assert table_values(page, "#kostnad-tabell", "data-period") == {
        p["period"]: {c: as_text(p[c]) for c in ("vacant_days", "cost_sek")}
        for p in vacancy["periods"]
    }
    assert sum(p["vacant_days"] for p in vacancy["periods"]) > 0, "no vacancy"
    expect(page.locator("figure.diagram svg[role=img]")).to_have_count(1)
    if by == "landlord":
        assert_accessible(page)
        assert_keyboard_reaches_every_control(page)


def test_rents_form_works_without_javascript(visit: Visit) -> None:
    page = visit("oversight", "/oversikt/hyror")
    page.select_option("#by", "district")
    page.click("form.valj button[type=submit]")
    expect(page).to_have_url(re.compile(r"by=district"))
    assert page.locator("script").count() == 0
    expect(page.locator("#hyror-tabell")).to_have_attribute("data-by", "district")


HOUSEHOLD_COLUMNS = ("households", "adults", "children")


@pytest.mark.parametrize("query", [{"week": "2026-W14"}, {"as_of": "2026-04-01"}])
def test_households_are_the_json_apis(
    visit: Visit, server: Server, query: dict[str, str]
) -> None:
    expected = server.api("/v1/oversight/households", **query)
    ((key, value),) = query.items()
    page = visit("oversight", f"/oversikt/hemloshet?{key}={value}")
    totals = table_values(page, "#totalt-tabell", "data-name")
    assert totals["total"]["households"] == as_text(expected["households"])
    assert totals["adults"]["adults"] == as_text(expected["adults"])
    assert totals["children"]["children"] == as_text(expected["children"])
    assert expected["households"] > 0
    for breakdown in ("by_gender", "by_household_type", "by_age_band"):
        assert table_values(page, f"#{breakdown}-tabell", "data-name") == {
            code: {c: as_text(row[c]) for c in HOUSEHOLD_COLUMNS}
            for code, row in expected[breakdown].items()
        }
    expect(page.locator("figure.diagram svg[role=img]")).to_have_count(1)
    expect(page.locator("figure.diagram figcaption a")).to_have_attribute(
        "href", "#by_age_band-tabell"
    )
    if key == "week":
        assert_accessible(page)
        assert_keyboard_reaches_every_control(page)


def test_households_refuses_a_day_and_a_week_together(visit: Visit) -> None:
    page = visit("oversight", "/oversikt/hemloshet?as_of=2026-04-01&week=2026-W14")
    expect(page.locator("p.fel[role=alert]")).to_be_visible()
    expect(page.locator("#totalt-tabell")).to_have_count(0)


def _share(window: dict[str, object]) -> str:
    return as_text(window["share"])


@pytest.mark.parametrize("by", ["none", "landlord"])
def test_first_hand_is_the_json_apis(visit: Visit, server: Server, by: str) -> None:
    query = {"from": "2024-01-01", "to": "2025-12-31", "by": by}
    expected = server.api("/v1/oversight/first-hand", **query)
    page = visit("oversight", "/oversikt/forstahand?" + urlencode(query))
    shown = table_values(page, "#forstahand-tabell", "data-row")
    assert shown == {
        f"{c['cohort']}|{c.get(by, '') if by != 'none' else ''}": {
            "executed": as_text(c["executed"]),
            "converted": as_text(c["converted"]),
            "terminated": as_text(c["terminated"]),
            "still_second_hand": as_text(c["still_second_hand"]),
            "share_12": _share(c["converted_within_12_months"]),
            "share_24": _share(c["converted_within_24_months"]),
            "median_days": as_text(c["days_to_conversion"]["median_days"]),
        }
        for c in expected["cohorts"]
    }
    cohorts = expected["cohorts"]
    chart = page.locator("figure.diagram svg[role=img]")
    expect(chart).to_have_count(1)
    assert chart.locator("title").count() == 1 and chart.locator("desc").count() == 1
    expect(page.locator("figure.diagram figcaption a")).to_have_attribute(
        "href", "#forstahand-tabell"
    )
    assert sum(c["executed"] for c in cohorts) > 0
    assert sum(c["converted"] for c in cohorts) > 0, "no conversions simulated"
    assert sum(c["terminated"] for c in cohorts) > 0, "no terminations simulated"
    if by == "landlord":
        assert_accessible(page)
        assert_keyboard_reaches_every_control(page)
