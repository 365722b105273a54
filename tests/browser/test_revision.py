"""Revision in a real browser, as an auditor: the latest signed head as the
audit API gives it; a figure from the oversight API (its tree size and root
hash) checked against a head signed from the page; a wrong root is not
verified; the page passes axe (WCAG 2.1 AA) and the keyboard; the board
cannot open it."""

from __future__ import annotations

from playwright.sync_api import Page, expect

from tests.browser.browsing import (
    AS_OF,
    Server,
    assert_accessible,
    assert_keyboard_reaches_every_control,
)
from tests.browser.conftest import Visit


def check(page: Page, size: int, root: str) -> str:
    page.get_by_label("Trädstorlek", exact=True).fill(str(size))
    page.get_by_label("Rothash", exact=True).fill(root)
    page.get_by_role("button", name="Kontrollera").click()
    answer = page.locator("#kontroll-svar")
    expect(answer).to_be_visible()
    return str(answer.get_attribute("data-reason"))


def test_a_printed_figure_is_verified_against_a_signed_head(
    visit: Visit, server: Server
) -> None:
    figure = server.api("/v1/oversight/counts", as_of=AS_OF.isoformat())
    size, root = figure["tree_size"], figure["root_hash"]
    page = visit("auditor", "/oversikt/revision")
    if check(page, size, root) == "not_yet_signed":
        page.get_by_role("button", name="Signera ett nytt trädhuvud nu").click()
        expect(page.get_by_role("status").first).to_contain_text("signerades")
    answer = page.locator("#kontroll-svar")
    assert answer.get_attribute("data-reason") == "verified"
    assert answer.get_attribute("data-verified") == "true"
    expect(answer).to_contain_text(f"rothashen {root}")
    head = server.api("/v1/audit/tree-head", role="auditor")
    assert head["tree_size"] >= size
    expect(page.locator("#huvud-tabell")).to_contain_text(head["root_hash"])
    assert_accessible(page)
    assert_keyboard_reaches_every_control(page)

    wrong = root[:-1] + ("0" if root[-1] != "0" else "1")
    assert check(page, size, wrong) == "different_root"
    assert page.locator("#kontroll-svar").get_attribute("data-verified") == "false"
    assert check(page, size - 1, root) == "different_root"
    assert_accessible(page)


def test_the_access_log_and_purges_are_the_audit_apis(
    visit: Visit, server: Server
) -> None:
    page = visit("auditor", "/oversikt/revision?from=2020-01-01")
    log = server.api("/v1/audit/access", role="auditor", **{"from": "2020-01-01"})
    rows = page.locator("#atkomst-tabell tr[data-id]")
    assert [rows.nth(i).get_attribute("data-id") for i in range(rows.count())] == [
        str(e["id"]) for e in log["entries"][:50]
    ]
    purges = server.api("/v1/audit/purges", role="auditor")
    assert page.locator("#gallring-tabell tr[data-id]").count() == min(
        50, len(purges["entries"])
    )
    page = visit("auditor", "/oversikt/revision?from=2026-05-01&to=2026-01-01")
    expect(page.get_by_role("alert")).to_contain_text("får inte vara efter")
    assert_accessible(page)


def test_not_a_hash_is_said_in_swedish(visit: Visit) -> None:
    page = visit("auditor", "/oversikt/revision?storlek=12&rot=inte-en-hash")
    expect(page.get_by_role("alert")).to_contain_text("64 tecken")
    assert_accessible(page)


def test_the_board_cannot_open_the_auditors_page(visit: Visit) -> None:
    page = visit("oversight", "/oversikt/revision")
    assert "Åtkomst nekad" in page.title()
