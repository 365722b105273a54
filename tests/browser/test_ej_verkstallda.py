"""Ej verkställda beslut in a real browser: the three-month list and the
quarterly report hold the JSON API's figures, the CSV download is the API's
Swedish file, the PDF download carries the provenance line on every page,
and the page passes axe (WCAG 2.1 AA) and the keyboard."""

from __future__ import annotations

import io

import httpx
import pypdf
from playwright.sync_api import Page

from tests.browser.browsing import (
    AS_OF,
    Server,
    assert_accessible,
    assert_keyboard_reaches_every_control,
)
from tests.browser.conftest import Visit
from tests.browser.tables import table_values

QUARTER = "2026Q1"  # ended on the tests' today, with decisions in every section
PAGE = f"/oversikt/ej-verkstallda?as_of={AS_OF}&kvartal={QUARTER}"


def download(page: Page, name: str) -> bytes:
    with page.expect_download() as started:
        page.get_by_role("link", name=name).click()
    path = started.value.path()
    return path.read_bytes()


def test_the_list_and_the_report_are_the_json_apis(
    visit: Visit, server: Server
) -> None:
    page = visit("oversight", PAGE)
    late = server.api("/v1/oversight/unexecuted", as_of=AS_OF.isoformat())
    shown = table_values(page, "#lista-tabell", "data-reference")
    assert list(shown) == [d["reference"] for d in late["decisions"]]  # oldest first
    days = page.locator("#lista-tabell td[data-value]")
    assert [days.nth(i).get_attribute("data-value") for i in range(days.count())] == [
        str(d["days_waiting"]) for d in late["decisions"]
    ]
    assert late["count"] > 0
    soon = server.api(
        "/v1/oversight/unexecuted", as_of=AS_OF.isoformat(), due_within=30
    )
    rows = page.locator("#snart-tabell tr[data-reference]")
    shown_soon = [
        (
            rows.nth(i).get_attribute("data-reference"),
            rows.nth(i).locator("td[data-value]").get_attribute("data-value"),
        )
        for i in range(rows.count())
    ]
    assert shown_soon == [
        (d["reference"], str(d["days_left"])) for d in soon["decisions"]
    ]
    assert soon["count"] > 0  # the simulated municipality has some due soon

    report = server.api("/v1/reports/unexecuted", quarter=QUARTER)
    totals = page.locator("#kvartal-summa tr[data-section] td")
    assert [int(str(totals.nth(i).get_attribute("data-value"))) for i in range(3)] == [
        report["totals"][s] for s in ("new", "earlier_resolved", "earlier_standing")
    ]
    assert sum(report["totals"].values()) > 0
    for section in ("new", "earlier_resolved", "earlier_standing"):
        rows = page.locator(f"table[data-section={section}] tr[data-reference]")
        references = [
            rows.nth(i).get_attribute("data-reference") for i in range(rows.count())
        ]
        assert references == [
            r["reference"] for r in report["rows"] if r["section"] == section
        ]
    footer = page.locator("footer").inner_text()
    assert report["root_hash"] in footer
    assert_accessible(page)
    assert_keyboard_reaches_every_control(page)


def test_the_csv_download_is_the_apis_swedish_file(
    visit: Visit, server: Server
) -> None:
    page = visit("oversight", PAGE)
    downloaded = download(page, "Ladda ner CSV (Excel)").decode("utf-8-sig")
    api = httpx.get(
        f"{server.url}/v1/reports/unexecuted",
        params={"quarter": QUARTER, "format": "csv", "lang": "sv"},
        headers={"Authorization": f"Bearer {server.token('oversight')}"},
        timeout=30,
    )
    api.raise_for_status()

    def without_time(text: str) -> list[str]:  # the file says when it was made
        return [line for line in text.splitlines() if not line.startswith("# Skapad")]

    assert without_time(downloaded) == without_time(api.content.decode("utf-8-sig"))
    assert len(downloaded.splitlines()) > 10


def test_the_pdf_download_has_the_provenance_on_every_page(
    visit: Visit, server: Server
) -> None:
    page = visit("oversight", PAGE)
    pdf = download(page, "Ladda ner PDF för utskrift")
    assert pdf.startswith(b"%PDF-")
    report = server.api("/v1/reports/unexecuted", quarter=QUARTER)
    pages = [p.extract_text() for p in pypdf.PdfReader(io.BytesIO(pdf)).pages]
    assert len(pages) >= 2
    for number, text in enumerate(pages, start=1):
        flat = "".join(text.split())  # a long line may wrap anywhere
        assert f"trädstorlek{report['tree_size']}" in flat, number
        assert f"rothash{report['root_hash']}" in flat, number
        assert f"Sida{number}av{len(pages)}" in flat
    text = "".join("".join(pages).split())
    for row in report["rows"][:5]:
        assert row["reference"] in text


def test_a_quarter_not_begun_is_said_in_swedish(visit: Visit) -> None:
    page = visit("oversight", "/oversikt/ej-verkstallda?kvartal=2031Q1")
    assert "har inte börjat" in page.get_by_role("alert").inner_text()
    assert_accessible(page)


def test_the_councils_statistics_download_as_the_apis(
    visit: Visit, server: Server
) -> None:
    page = visit("oversight", PAGE)
    council = server.api("/v1/reports/council", quarter=QUARTER)
    pdf = download(page, "Ladda ner statistiken som PDF")
    pages = [p.extract_text() for p in pypdf.PdfReader(io.BytesIO(pdf)).pages]
    for text in pages:
        assert f"rothash{council['root_hash']}" in "".join(text.split())
    grand = council["tables"]["unexecuted"][-1]  # the grand total row
    assert grand["intervention"] == grand["gender"] == "total"
    printed = {"<5": "<5", "suppressed": ".."}
    figures = [
        printed.get(str(grand[c]), str(grand[c])) for c in council["columns"][2:]
    ]
    flat = " ".join(" ".join(pages).split())
    assert f"Totalt Totalt {' '.join(figures)}" in flat, figures
    csv = download(page, "Ladda ner statistiken som CSV").decode("utf-8-sig")
    api = httpx.get(
        f"{server.url}/v1/reports/council",
        params={"quarter": QUARTER, "format": "csv", "lang": "sv"},
        headers={"Authorization": f"Bearer {server.token('oversight')}"},
        timeout=30,
    ).content.decode("utf-8-sig")
    same = [line for line in csv.splitlines() if not line.startswith("# Skapad")]
    assert same == [
        line for line in api.splitlines() if not line.startswith("# Skapad")
    ]
