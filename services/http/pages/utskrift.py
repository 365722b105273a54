"""Printed reports (*utskrift*): a report's own template rendered to PDF
(``services.reporting.pdf``, WeasyPrint) with the pages' stylesheets, on A4,
the provenance line (log position, tree size, root hash, the time it was
made) in the foot of every page.

A report page links its PDF; the PDF routes are in ``authz.ROUTES`` like
every page, so who may print a report is who may see it. The figures come
from the JSON endpoint's own answer, as on the page.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from importlib import resources
from typing import Any, Final
from zoneinfo import ZoneInfo

from fastapi import Request
from fastapi.responses import Response

from services.http.pages.web import swedish_number, templates
from services.reporting.pdf import render_pdf

PDF_MEDIA_TYPE: Final = "application/pdf"
_STATIC = resources.files("services.http.pages") / "static"
#: The pages' stylesheets, in order: screen, print, charts and tables.
STYLESHEETS: Final = ("boende.css", "print.css", "charts.css")
LANDSCAPE: Final = "@page { size: A4 landscape; }"
#: A printed report is read on paper: smaller type, tighter rows.
COMPACT: Final = (
    "html { font-size: 8.5pt; } body { font-size: 8.5pt; } main { padding: 0; }"
    " h1 { font-size: 15pt; margin: 0 0 3mm; } h2, h3 { font-size: 11pt; }"
    " table { font-size: 8pt; margin: 2mm 0 4mm; }"
    " th, td { padding: 0.6mm 1.5mm; line-height: 1.25; }"
)


def provenance_line(answer: Mapping[str, Any], made_at: datetime) -> str:
    """The foot of every page: which log the figures came from, and when."""
    parts = [f"Boende: loggposition {swedish_number(answer['as_of_position'])}"]
    if answer.get("tree_size") is not None:
        parts.append(f"trädstorlek {answer['tree_size']}")
        parts.append(f"rothash {answer['root_hash']}")
    parts.append(f"skapad {made_at.strftime('%Y-%m-%d %H:%M:%S %Z')}")
    return " · ".join(parts)


def pdf_response(
    request: Request,
    template: str,
    answer: Mapping[str, Any],
    filename: str,
    *,
    landscape: bool = False,
    **context: Any,
) -> Response:
    """``template`` (a whole document, not on the base layout) as a PDF to
    save as ``filename``, its provenance in every page's foot and in the
    headers the CSV files carry."""
    settings = request.app.state.boende.settings
    made_at = datetime.now(ZoneInfo(settings.timezone))
    provenance = provenance_line(answer, made_at)
    html = templates.get_template(template).render(
        answer=answer,
        provenance=provenance,
        made_at=made_at.strftime("%Y-%m-%d %H:%M:%S"),
        timezone=settings.timezone,
        **context,
    )
    sheets = [(_STATIC / name).read_text(encoding="utf-8") for name in STYLESHEETS]
    sheets += [COMPACT, *([LANDSCAPE] if landscape else [])]
    pdf = render_pdf(html, provenance, sheets)
    headers = {
        "Content-Disposition": f'attachment; filename="{filename}"',
        "X-As-Of-Position": str(answer["as_of_position"]),
        "X-Content-Type-Options": "nosniff",
        "Cache-Control": "no-store",
    }
    if answer.get("tree_size") is not None:
        headers["X-Tree-Size"] = str(answer["tree_size"])
        headers["X-Root-Hash"] = str(answer["root_hash"])
    return Response(pdf, media_type=PDF_MEDIA_TYPE, headers=headers)
