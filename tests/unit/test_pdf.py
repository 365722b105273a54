"""The printable reports (``services.reporting.pdf``): a real PDF, the
provenance line on every page, and nothing fetched from anywhere."""

from __future__ import annotations

import io
import sys
import threading
from http.server import BaseHTTPRequestHandler, HTTPServer

import pytest

from services.reporting.pdf import css_string, render_pdf

pypdf = pytest.importorskip("pypdf")

PROVENANCE = (
    'Loggposition 2988 · trädstorlek 2988 · rothash 2f9a62634f5a "x" · '
    "skapad 2026-11-30 12:00 UTC"
)


def _pages(pdf: bytes) -> list[str]:
    return [page.extract_text() for page in pypdf.PdfReader(io.BytesIO(pdf)).pages]


def test_every_page_carries_the_provenance_line() -> None:
    rows = "".join(f"<tr><td>rad {i}</td><td>{i * 7}</td></tr>" for i in range(150))
    html = (
        '<html lang="sv"><head><title>Ej verkställda beslut</title></head><body>'
        f"<h1>Ej verkställda beslut</h1><table>{rows}</table></body></html>"
    )
    pdf = render_pdf(html, PROVENANCE, ["td { padding: 2mm; }"])
    assert pdf.startswith(b"%PDF-")
    pages = _pages(pdf)
    assert len(pages) >= 3  # the table runs over several pages
    for number, text in enumerate(pages, start=1):
        flat = " ".join(text.split())
        assert "Loggposition 2988" in flat and "rothash 2f9a62634f5a" in flat
        assert f"Sida {number} av {len(pages)}" in flat
    assert "rad 149" in " ".join(pages) and "1043" in " ".join(pages)


def test_a_pdf_fetches_nothing_even_when_the_document_asks() -> None:
    asked: list[str] = []

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            asked.append(self.path)
            self.send_response(404)
            self.end_headers()

        def log_message(self, *args: object) -> None:
            pass

    server = HTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    base = f"http://127.0.0.1:{server.server_port}"
    try:
        html = (
            f'<html><head><link rel="stylesheet" href="{base}/a.css"></head>'
            f'<body><img src="{base}/b.png" alt="b"><p>text</p></body></html>'
        )
        pdf = render_pdf(html, "p", [f'@import url("{base}/c.css");'])
    finally:
        server.shutdown()
    assert pdf.startswith(b"%PDF-")
    assert asked == []


def test_css_strings_are_escaped_and_on_one_line() -> None:
    assert css_string('a "b" \\ c\nd') == 'a \\"b\\" \\\\ c d'


def test_without_weasyprint_a_pdf_is_503_naming_what_to_install(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from services.reporting import pdf

    pdf._weasyprint.cache_clear()
    monkeypatch.setitem(sys.modules, "weasyprint", None)  # as if it cannot load
    try:
        with pytest.raises(pdf.PdfUnavailable, match=r"libpango-1\.0-0") as refused:
            render_pdf("<p>x</p>", "p")
        assert refused.value.code == "unavailable"  # 503, services.errors
    finally:
        pdf._weasyprint.cache_clear()
