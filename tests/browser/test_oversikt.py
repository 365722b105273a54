"""A board member's tour in a real browser (Debian's Chromium): sign in
through the identity provider or the development login, read the Översikt
figures, check them against the JSON API, sign out; every page passes axe
(WCAG 2.1 AA) and the keyboard, and no request leaves 127.0.0.1."""

from __future__ import annotations

import re
import time
from datetime import date

from playwright.sync_api import Browser, expect

from tests.browser.browsing import (
    AS_OF,
    BOARD_MEMBER,
    OidcProvider,
    OutsideRequests,
    Server,
    assert_accessible,
    assert_keyboard_reaches_every_control,
    figures_on_page,
)
from tests.browser.conftest import Visit


def json_figures(server: Server, day: date) -> dict[str, int]:
    """The Översikt figures as the JSON API gives them for ``day``."""
    counts = server.api("/v1/oversight/counts", as_of=day.isoformat())
    late = server.api("/v1/oversight/unexecuted", as_of=day.isoformat())
    due = server.api("/v1/oversight/unexecuted", as_of=day.isoformat(), due_within=30)
    states = counts["cases_by_state"]
    return {
        "executed_now": states["executed"],
        "granted_waiting": states["granted"],
        "unexecuted_past_three_months": late["count"],
        "due_within_30_days": due["count"],
        "granted_total": counts["granted_total"],
        "converted_total": counts["converted_total"],
        "terminated_total": counts["terminated_total"],
    }


def test_the_figures_are_the_json_apis_for_the_same_day(
    visit: Visit, server: Server
) -> None:
    page = visit("oversight", f"/oversikt?as_of={AS_OF}")
    shown = figures_on_page(page)
    expected = json_figures(server, AS_OF)
    assert shown == expected
    assert expected["executed_now"] > 0 and expected["granted_total"] > 0
    assert expected["due_within_30_days"] > 0  # the history has some due soon
    counts = server.api("/v1/oversight/counts", as_of=AS_OF.isoformat())
    footer = page.locator("footer").inner_text()
    assert counts["root_hash"] in footer
    assert f"{counts['as_of_position']:,}".replace(",", "\u00a0") in footer


def test_the_day_picker_and_the_year_before(visit: Visit, server: Server) -> None:
    page = visit("oversight")
    page.get_by_label("Dag").fill("2026-03-31")
    page.get_by_role("button", name="Visa").click()
    expect(page).to_have_url(re.compile(r"as_of=2026-03-31"))
    shown = figures_on_page(page)
    expected = json_figures(server, date(2026, 3, 31))
    assert shown == expected
    before = json_figures(server, date(2025, 3, 31))
    row = page.locator("tr[data-figure=granted_total] td").nth(1)
    assert int(str(row.get_attribute("data-value"))) == before["granted_total"]


def test_a_page_without_a_session_goes_to_the_login_page_and_back(
    visit: Visit,
) -> None:
    page = visit(None, f"/oversikt?as_of={AS_OF}")
    expect(page).to_have_url(re.compile(r"/oversikt/logga-in\?nasta="))
    page.locator("button[name=role][value=oversight]").click()
    expect(page).to_have_url(re.compile(rf"/oversikt\?as_of={AS_OF}$"))
    expect(page.locator("tr[data-figure]").first).to_be_visible()


def test_signing_in_through_the_identity_provider(
    browser: Browser, server: Server, oidc_provider: OidcProvider
) -> None:
    outside = OutsideRequests(oidc_provider.url)
    context = browser.new_context(locale="sv-SE")
    context.route("**/*", outside)
    try:
        page = context.new_page()
        page.goto(f"{server.url}/oversikt")
        page.get_by_role("link", name="Logga in med kommunens inloggning").click()
        expect(page).to_have_url(re.compile(rf"^{oidc_provider.url}/oauth2/authorize"))
        assert "code_challenge_method=S256" in page.url and "nonce=" in page.url
        page.get_by_role("button", name=BOARD_MEMBER["sub"]).click()
        expect(page).to_have_url(f"{server.url}/oversikt")
        expect(page.locator("tr[data-figure]").first).to_be_visible()
        session = next(c for c in context.cookies() if c["name"] == "boende_session")
        assert session["httpOnly"] and session["sameSite"] == "Lax"
        assert session["path"] == "/oversikt"
        # It ends with the ID token (the provider's tokens last 1800 s).
        assert 0 < session["expires"] - time.time() <= 1800 + 5
    finally:
        context.close()
    assert outside.ours == [], f"requests left 127.0.0.1: {outside.ours}"


def test_signing_out(visit: Visit) -> None:
    page = visit("oversight")
    page.get_by_role("button", name="Logga ut").click()
    expect(page.get_by_role("status")).to_have_text("Du är utloggad.")
    page.goto(page.url.split("/oversikt")[0] + "/oversikt")
    expect(page).to_have_url(re.compile(r"/oversikt/logga-in"))


def test_every_page_passes_axe(visit: Visit) -> None:
    pages = [
        visit(None, "/oversikt/logga-in"),
        visit("oversight", f"/oversikt?as_of={AS_OF}"),
        visit("oversight", "/oversikt?as_of=2026-02-30"),  # the form says why
        visit("auditor", "/oversikt"),  # signed in, but not for this page: 403
    ]
    assert "Åtkomst nekad" in pages[3].title()
    for page in pages:
        assert_accessible(page)


def test_every_control_is_reached_by_the_keyboard(visit: Visit) -> None:
    for page in (visit(None, "/oversikt/logga-in"), visit("oversight")):
        assert_keyboard_reaches_every_control(page)


def test_the_skip_link_is_the_first_stop_and_leads_to_the_content(
    visit: Visit,
) -> None:
    page = visit("oversight")
    page.keyboard.press("Tab")
    skip = page.get_by_role("link", name="Hoppa till innehållet")
    expect(skip).to_be_focused()
    page.keyboard.press("Enter")
    expect(page.locator("main")).to_be_focused()


def test_the_api_documentation_works_offline(visit: Visit) -> None:
    docs = visit(None, "/docs")
    expect(docs.locator(".swagger-ui .info .title")).to_contain_text("Boende")
    redoc = visit(None, "/redoc")
    expect(redoc.locator("h1").first).to_contain_text("Boende")


def test_the_pages_keep_their_content_security_policy(
    browser: Browser, server: Server
) -> None:
    """Without bypassing the CSP (as ``visit`` does for axe): no inline script
    or style, nothing from elsewhere, so Chromium reports no violation."""
    context = browser.new_context()
    errors: list[str] = []
    try:
        page = context.new_page()
        page.on(
            "console", lambda m: errors.append(m.text) if m.type == "error" else None
        )
        page.goto(f"{server.url}/oversikt/logga-in")
        page.locator("button[name=role][value=oversight]").click()
        page.goto(f"{server.url}/oversikt?as_of={AS_OF}")
        expect(page.locator("tr[data-figure]").first).to_be_visible()
    finally:
        context.close()
    assert [e for e in errors if "Content Security Policy" in e] == []
