"""Ej verkställda beslut (``GET /oversikt/ej-verkstallda``): the granted
decisions not executed within three months, on a chosen day, and the
quarterly report to IVO and the council, with its CSV and its PDF.

- The three-month list is ``GET /v1/oversight/unexecuted``'s own answer
  (``services.http.timeliness.unexecuted``), and so is the list of the
  decisions that reach three months within 30 days (``?due_within=30``).
- The council's statistics of the same quarter (counts only, small counts
  suppressed) are linked as CSV and PDF (``utskrift``).
- The quarterly report is ``GET /v1/reports/unexecuted``'s own answer
  (``services.http.reports.quarterly.unexecuted_report``), and its files are
  that function's: ``.../kvartalsrapport.csv`` is the API's Swedish CSV byte
  for byte, ``.../kvartalsrapport.pdf`` prints the same rows
  (``services.http.pages.utskrift``).

Cases appear under their pseudonymous reference only, as in the API.
"""

from __future__ import annotations

import json
from typing import Annotated, Any, Final
from urllib.parse import urlencode

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, Response

from projections import unexecuted as unexecuted_view
from services.bootstrap import Boende
from services.errors import InvalidRequest
from services.http import timeliness
from services.http.authz import PAGES
from services.http.deps import get_audit_log, today_of
from services.http.pages.floden import parse_day, parse_moment
from services.http.pages.utskrift import (
    COUNCIL_CSV,
    COUNCIL_PDF,
    known_of,
    last_ended_quarter,
    pdf_response,
    quarters_up_to,
)
from services.http.pages.web import render, source_of
from services.http.reports import quarterly
from services.http.reports.formats import TableFormat

router = APIRouter(include_in_schema=False)

PATH: Final = f"{PAGES}/ej-verkstallda"
CSV: Final = f"{PATH}/kvartalsrapport.csv"
PDF: Final = f"{PATH}/kvartalsrapport.pdf"
TITLE: Final = "Ej verkställda beslut"
DUE_SOON: Final = 30  # days: the warning list
#: The report's columns on the page and in the PDF (the section is a heading).
COLUMNS: Final = tuple(c for c in unexecuted_view.REPORT_COLUMNS if c != "section")
Text = Annotated[str | None, Query(max_length=40)]
Quarter = Annotated[str | None, Query(max_length=8)]


@router.get(PATH)
def unexecuted_page(
    request: Request, as_of: Text = None, known_at: Text = None, kvartal: Quarter = None
) -> HTMLResponse:
    """The three-month list on ``as_of`` (default today) as known at
    ``known_at``, and the report of ``kvartal`` (default the latest ended)."""
    boende: Boende = request.app.state.boende
    today = today_of(boende)
    quarter = kvartal or last_ended_quarter(today)
    form = {"as_of": as_of or "", "known_at": known_at or "", "kvartal": quarter}
    context: dict[str, Any] = {"form": form, "quarters": quarters_up_to(today)}
    try:
        day = parse_day(as_of, "Dag") if as_of else today
        known = parse_moment(known_at, boende.settings.timezone) if known_at else None
        late = timeliness.unexecuted(
            boende, as_of=day, known_at=known, due_within=None, min_position=None
        )
        due = timeliness.unexecuted(
            boende, as_of=day, known_at=known, due_within=DUE_SOON, min_position=None
        )
        report = report_answer(request, quarter, known)
    except (ValueError, InvalidRequest) as error:
        message = str(error) if isinstance(error, ValueError) else _swedish(error)
        return render(
            request,
            "ej_verkstallda.html",
            title=TITLE,
            status=422,
            error=message,
            **context,
        )
    links = _query(quarter, known_at)
    return render(
        request,
        "ej_verkstallda.html",
        title=TITLE,
        sources=[
            source_of("Ej verkställda beslut (unexecuted)", late),
            source_of(f"Når tre månader inom {DUE_SOON} dagar (unexecuted)", due),
            source_of(f"Kvartalsrapport {quarter} (unexecuted)", report),
        ],
        late=late,
        due=due,
        report=report,
        columns=COLUMNS,
        sections=unexecuted_view.SECTIONS,
        csv_link=f"{CSV}?{links}",
        pdf_link=f"{PDF}?{links}",
        council_csv=f"{COUNCIL_CSV}?{links}",
        council_pdf=f"{COUNCIL_PDF}?{links}",
        **context,
    )


def report_answer(request: Request, quarter: str, known: Any) -> dict[str, Any]:
    """``GET /v1/reports/unexecuted``'s JSON answer for ``quarter``."""
    response = quarterly.unexecuted_report(
        request.app.state.boende,
        get_audit_log(request),
        quarter=quarter,
        table=TableFormat(csv=False, lang="sv"),
        known_at=known,
        min_position=None,
        public=False,
    )
    body: dict[str, Any] = json.loads(bytes(response.body))
    return body


@router.get(CSV)
def report_csv(
    request: Request, kvartal: Quarter = None, known_at: Text = None
) -> Response:
    """The quarterly report as the API's Swedish CSV file."""
    boende: Boende = request.app.state.boende
    return quarterly.unexecuted_report(
        boende,
        get_audit_log(request),
        quarter=kvartal or last_ended_quarter(today_of(boende)),
        table=TableFormat(csv=True, lang="sv"),
        known_at=known_of(known_at, boende),
        min_position=None,
        public=False,
    )


@router.get(PDF)
def report_pdf(
    request: Request, kvartal: Quarter = None, known_at: Text = None
) -> Response:
    """The quarterly report printed: A4 landscape, provenance on every page."""
    boende: Boende = request.app.state.boende
    quarter = kvartal or last_ended_quarter(today_of(boende))
    report = report_answer(request, quarter, known_of(known_at, boende))
    return pdf_response(
        request,
        "kvartalsrapport_pdf.html",
        report,
        f"ej_verkstallda_{quarter}.pdf",
        landscape=True,
        columns=COLUMNS,
        sections=unexecuted_view.SECTIONS,
    )


def _query(quarter: str, known_at: str | None) -> str:
    return urlencode(
        {"kvartal": quarter, **({"known_at": known_at} if known_at else {})}
    )


def _swedish(error: InvalidRequest) -> str:
    """The API's refusal of a quarter, in Swedish."""
    problems = " ".join(
        str(d.get("problem", "")) for d in error.details.get("details", [])
    )
    if "future" in problems:
        return "Kvartalet har inte börjat än: välj ett kvartal som har börjat."
    if "2021Q3" in problems or "quarter" in error.message:
        return "Kvartalet ska skrivas som år och kvartal, till exempel 2026Q3."
    return f"Frågan kunde inte besvaras ({error.message})."
