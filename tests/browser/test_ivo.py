"""IVO's individual report for the rapporteur in a real browser: only
ifn_officer reaches it, the form passes axe and the keyboard, the PDF holds
the report with the provenance on every page, and every case it read is in
the access log with this route and the chosen purpose before the PDF came."""

from __future__ import annotations

import io

import pypdf
from playwright.sync_api import expect

from tests.browser.browsing import (
    Server,
    assert_accessible,
    assert_keyboard_reaches_every_control,
)
from tests.browser.conftest import Visit

QUARTER = "2026Q1"
ROUTE = "GET /oversikt/ivo/individrapport.pdf"


def test_the_rapporteur_prints_the_report_and_every_read_is_logged(
    visit: Visit, server: Server
) -> None:
    page = visit("ifn_officer", "/oversikt/ivo")
    expect(page.locator("nav")).to_contain_text("IVO-rapport")
    assert_accessible(page)
    assert_keyboard_reaches_every_control(page)
    page.get_by_label("Kvartal").select_option(QUARTER)
    page.get_by_label("Syfte").select_option("ivo_rapportering")
    with page.expect_download() as started:
        page.get_by_role("button", name="Ladda ner individrapporten som PDF").click()
    pdf = started.value.path().read_bytes()
    assert pdf.startswith(b"%PDF-")

    log = server.api("/v1/audit/access", role="auditor", limit=1000)
    ours = [e for e in log["entries"] if e["endpoint"] == ROUTE]
    assert ours and {e["purpose"] for e in ours} == {"ivo_rapportering"}
    assert len({e["sub"] for e in ours}) == 1  # the one signed-in person
    cases = {e["case_id"] for e in ours}
    pages = [p.extract_text() for p in pypdf.PdfReader(io.BytesIO(pdf)).pages]
    text = "".join("".join(pages).split())
    assert all(case in text for case in cases)  # each logged case is in the report
    tree = server.api("/v1/oversight/counts")
    for one in pages:
        assert "rothash" in "".join(one.split()) and "trädstorlek" in "".join(
            one.split()
        )
    assert str(tree["tree_size"]) in text


def test_without_a_purpose_nothing_is_read(visit: Visit, server: Server) -> None:
    before = server.api("/v1/audit/access", role="auditor", limit=1000)["entries"]
    page = visit("ifn_officer", f"/oversikt/ivo/individrapport.pdf?kvartal={QUARTER}")
    assert "purpose_required" in page.content()
    after = server.api("/v1/audit/access", role="auditor", limit=1000)["entries"]
    assert after == before


def test_the_board_cannot_print_it(visit: Visit) -> None:
    page = visit("oversight", "/oversikt/ivo")
    assert "Åtkomst nekad" in page.title()
    assert "IVO-rapport" not in page.locator("nav").inner_text()
