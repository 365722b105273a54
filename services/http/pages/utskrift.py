"""Printed reports (*utskrift*): a report's own template rendered to PDF
(``services.reporting.pdf``, WeasyPrint) with the pages' stylesheets, on A4,
the provenance line (log position, tree size, root hash, the time it was
made) in the foot of every page; and the quarters a report page offers.

A report page links its PDF; the PDF routes are in ``authz.ROUTES`` like
every page, so who may print a report is who may see it. The figures come
from the JSON endpoint's own answer, as on the page.

The council's statistics (``GET /v1/reports/council``, counts only, small
counts suppressed) print from here: ``.../fullmaktige.pdf``, and its CSV
``.../fullmaktige.csv`` is the API's Swedish file; *Ej verkställda beslut*
links both.

IVO's individual report (``GET /v1/reports/ivo``) is personal data, for the
IVO rapporteur (``ifn_officer``) only: ``GET /oversikt/ivo`` is a form (the
quarter and the purpose, a code of the purpose list) that shows no one, and
``.../individrapport.pdf`` prints the report through the API's own function,
which writes one access-log entry per case (this route, the purpose) before
it decrypts anything. The PDF is not kept, cached or logged.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import date, datetime
from importlib import resources
from typing import Annotated, Any, Final
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response

from services.bootstrap import Boende
from services.errors import InvalidRequest
from services.http.authz import PAGES, PrincipalDep
from services.http.deps import get_audit_log, today_of
from services.http.pages.floden import parse_moment
from services.http.pages.web import render, swedish_number, templates
from services.http.reports import council, ivo
from services.http.reports.formats import TableFormat
from services.reporting.labels import LABELS
from services.reporting.pdf import render_pdf

router = APIRouter(include_in_schema=False)

COUNCIL_PDF: Final = f"{PAGES}/ej-verkstallda/fullmaktige.pdf"
COUNCIL_CSV: Final = f"{PAGES}/ej-verkstallda/fullmaktige.csv"
IVO_PAGE: Final = f"{PAGES}/ivo"
IVO_PDF: Final = f"{IVO_PAGE}/individrapport.pdf"
QUARTERS_OFFERED: Final = 8
Text = Annotated[str | None, Query(max_length=40)]
Quarter = Annotated[str | None, Query(max_length=8)]

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


# -- the quarters a report is asked for ------------------------------------------


def quarters_up_to(today: date) -> list[str]:
    """The quarters to choose from, newest first: this one and the seven before."""
    year, index = today.year, (today.month - 1) // 3
    found = []
    for _ in range(QUARTERS_OFFERED):
        found.append(f"{year}Q{index + 1}")
        year, index = (year, index - 1) if index else (year - 1, 3)
    return found


def last_ended_quarter(today: date) -> str:
    """The quarter reported now: the latest that has ended."""
    return quarters_up_to(today)[1]


def known_of(text: str | None, boende: Boende) -> datetime | None:
    """``known_at`` of a download link; 422 (as the API's) when unreadable."""
    if not text:
        return None
    try:
        return parse_moment(text, boende.settings.timezone)
    except ValueError as error:
        raise InvalidRequest(
            str(error), details=[{"loc": "known_at", "problem": "not a time"}]
        ) from None


# -- the council's statistics ----------------------------------------------------


def council_answer(
    request: Request, quarter: str | None, known_at: str | None, *, csv: bool
) -> Response:
    """``GET /v1/reports/council``'s own answer (JSON or its Swedish CSV)."""
    boende: Boende = request.app.state.boende
    return council.council_report(
        boende,
        get_audit_log(request),
        quarter=quarter or last_ended_quarter(today_of(boende)),
        table=TableFormat(csv=csv, lang="sv"),
        known_at=known_of(known_at, boende),
        min_position=None,
    )


@router.get(COUNCIL_CSV)
def council_csv(
    request: Request, kvartal: Quarter = None, known_at: Text = None
) -> Response:
    """The council's statistics as the API's Swedish CSV file."""
    return council_answer(request, kvartal, known_at, csv=True)


@router.get(COUNCIL_PDF)
def council_pdf(
    request: Request, kvartal: Quarter = None, known_at: Text = None
) -> Response:
    """The council's statistics printed: A4, provenance on every page."""
    response = council_answer(request, kvartal, known_at, csv=False)
    body: dict[str, Any] = json.loads(bytes(response.body))
    return pdf_response(
        request, "fullmaktige_pdf.html", body, f"fullmaktige_{body['quarter']}.pdf"
    )


# -- IVO's individual report (personal data) -------------------------------------


@router.get(IVO_PAGE)
def ivo_page(request: Request) -> Response:
    """The rapporteur's form: which quarter, and why (the purpose code)."""
    boende: Boende = request.app.state.boende
    today = today_of(boende)
    return render(
        request,
        "ivo.html",
        title="IVO-rapport",
        quarters=quarters_up_to(today),
        chosen=last_ended_quarter(today),
        purposes=list(LABELS["purpose"]),
        action=IVO_PDF,
    )


@router.get(IVO_PDF)
def ivo_pdf(
    request: Request,
    principal: PrincipalDep,
    kvartal: Quarter = None,
    syfte: Annotated[str | None, Query(max_length=40)] = None,
) -> Response:
    """IVO's individual report printed; every case read is access-logged
    with ``syfte`` (422 ``purpose_required`` unless it is a purpose code)."""
    quarter, purpose = kvartal, syfte
    boende: Boende = request.app.state.boende
    if purpose not in LABELS["purpose"]:
        purpose = None  # the API's own refusal: 422 purpose_required
    response = ivo.ivo_report(
        request,
        boende,
        get_audit_log(request),
        principal,
        quarter=quarter or last_ended_quarter(today_of(boende)),
        table=TableFormat(csv=False, lang="sv"),
        x_purpose=purpose,
        known_at=None,
        min_position=None,
    )
    body: dict[str, Any] = json.loads(bytes(response.body))
    return pdf_response(
        request,
        "ivo_pdf.html",
        body,
        f"ivo_{body['quarter']}.pdf",
        landscape=True,
        purpose=purpose,
    )
