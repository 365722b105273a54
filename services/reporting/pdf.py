"""Printable reports: HTML to PDF with WeasyPrint, on A4, with the
provenance line (log position, tree size, root hash, time made) in the
margin of every page, where a page torn from the printout still carries it.

WeasyPrint needs Pango, HarfBuzz and a font from the system (Debian:
``libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz-subset0 fonts-dejavu-core``;
``.ci/run`` installs them; docs/web.md); WeasyPrint is imported on the
first PDF, so everything else runs without them. A PDF loads nothing: the
stylesheets come in as text and every URL in the document is refused, so
rendering never reaches another host (nor a file outside the process).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from functools import cache
from typing import Any, Final, NoReturn

from services.errors import ServiceError

#: The page box: A4, the provenance line across the foot of every page, the
#: page number at its head.
PAGE_CSS: Final = """
@page {
  size: A4;
  margin: 16mm 14mm 22mm 14mm;
  @top-right {
    content: "Sida " counter(page) " av " counter(pages);
    font-size: 8pt;
    color: #333333;
  }
  @bottom-left {
    content: "%(provenance)s";
    width: 100%%;
    font-size: 7pt;
    color: #333333;
    font-family: "DejaVu Sans Mono", monospace;
    vertical-align: top;
    padding-top: 3mm;
    border-top: 0.5pt solid #333333;
  }
}
html { font-family: "DejaVu Sans", sans-serif; font-size: 10pt; }
"""


SYSTEM_PACKAGES: Final = (
    "libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz-subset0 fonts-dejavu-core"
)


class PdfUnavailable(ServiceError):
    """WeasyPrint cannot load the system's Pango: 503, saying what to install.
    Imported only when a PDF is asked for, so the rest of Boende runs
    without those libraries."""

    code = "unavailable"


@cache
def _weasyprint() -> tuple[Any, Any, Any]:
    """WeasyPrint's ``HTML`` and ``CSS``, and a fetcher that fetches nothing."""
    try:
        from weasyprint import CSS, HTML
        from weasyprint.urls import URLFetcher
    except (OSError, ImportError) as error:  # cffi could not load Pango
        raise PdfUnavailable(
            "PDFs need the system libraries of WeasyPrint, which this server "
            f"lacks ({error}); on Debian: apt-get install {SYSTEM_PACKAGES}"
        ) from None

    # WeasyPrint warns of every CSS property it skips (the screen sheet's
    # overflow-x...) and quotes what it could not lay out: nothing for an
    # operator, and a report of personal data must not leak into the log.
    logging.getLogger("weasyprint").setLevel(logging.ERROR)

    class NothingFetched(URLFetcher):  # type: ignore[misc]
        """The report is self-contained: every URL in it is refused."""

        def fetch(self, url: str, headers: Any = None) -> NoReturn:
            raise ValueError(f"a Boende PDF loads no resources (asked for {url[:80]})")

    return HTML, CSS, NothingFetched


def css_string(text: str) -> str:
    """``text`` safe inside a double-quoted CSS string."""
    escaped = text.replace("\\", "\\\\").replace('"', '\\"')
    return " ".join(escaped.split())  # no line breaks in a margin box


def render_pdf(html: str, provenance: str, stylesheets: Sequence[str] = ()) -> bytes:
    """The PDF of ``html`` styled by ``stylesheets`` (CSS text, in order),
    on A4, with ``provenance`` at the foot of every page."""
    html_of, css_of, nothing_fetched = _weasyprint()
    fetcher = nothing_fetched()
    page = PAGE_CSS % {"provenance": css_string(provenance)}
    sheets = [css_of(string=page, url_fetcher=fetcher)]
    sheets += [css_of(string=text, url_fetcher=fetcher) for text in stylesheets]
    document = html_of(string=html, url_fetcher=fetcher, media_type="print")
    pdf: bytes = document.write_pdf(stylesheets=sheets)
    return pdf
