"""Översikt (``GET /oversikt``): the core figures on a chosen day, beside the
same day a year before.

The figures are the JSON API's own answers, got by calling its functions
(``oversight.counts``, ``timeliness.unexecuted``, the latter also with
``due_within=30``) with the page's ``as_of`` and ``known_at``: a figure here
and ``GET /v1/oversight/counts`` for the same day can never differ.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse

from infra.views import Sql
from projections.due_soon import due_soon
from services.bootstrap import Boende
from services.http import oversight, timeliness
from services.http.authz import PAGES
from services.http.deps import FIRST_DAY, LAST_DAY, get_audit_log, today_of
from services.http.pages.web import Source, render, source_of

router = APIRouter(include_in_schema=False)

DUE_SOON_DAYS = 30
#: The figures in the page's order: (code in ``labels.LABELS["key_figure"]``,
#: where the answers hold it).
FIGURES = (
    "executed_now",
    "granted_waiting",
    "unexecuted_past_three_months",
    "due_within_30_days",
    "granted_total",
    "converted_total",
    "terminated_total",
)
Text = Annotated[str | None, Query(max_length=40)]


@router.get(PAGES)
def overview(
    request: Request, as_of: Text = None, known_at: Text = None
) -> HTMLResponse:
    """The figures on ``as_of`` (default today) as known at ``known_at``
    (default now), and their change since the same day a year before."""
    boende: Boende = request.app.state.boende
    try:
        day = _day(as_of) if as_of else today_of(boende)
        known = _moment(known_at, boende.settings.timezone) if known_at else None
    except ValueError as error:
        return render(
            request,
            "oversikt.html",
            title="Översikt",
            status=422,
            error=str(error),
            form={"as_of": as_of or "", "known_at": known_at or ""},
            rows=[],
        )
    before = same_day_a_year_before(day)
    now_figures, sources = figures_on(request, day, known)
    then_figures, _ = figures_on(request, before, known)
    rows = [
        {
            "code": code,
            "now": now_figures[code],
            "before": then_figures[code],
            "change": now_figures[code] - then_figures[code],
        }
        for code in FIGURES
    ]
    return render(
        request,
        "oversikt.html",
        title="Översikt",
        sources=sources,
        rows=rows,
        day=day.isoformat(),
        before=before.isoformat(),
        known_at=known.isoformat(timespec="minutes") if known else None,
        form={"as_of": day.isoformat(), "known_at": known_at or ""},
        due_soon_days=DUE_SOON_DAYS,
    )


def figures_on(
    request: Request, day: date, known: datetime | None
) -> tuple[dict[str, int], list[Source]]:
    """The figures on ``day``, from the JSON API's functions, and their sources."""
    boende: Boende = request.app.state.boende
    audit = get_audit_log(request)
    counts = oversight.counts(
        boende, audit, as_of=day, known_at=known, min_position=None, public=False
    )
    late = timeliness.unexecuted(
        boende, as_of=day, known_at=known, due_within=None, min_position=None
    )
    due = timeliness.unexecuted(
        boende, as_of=day, known_at=known, due_within=DUE_SOON_DAYS, min_position=None
    )
    states = counts["cases_by_state"]
    figures = {
        "executed_now": states["executed"],
        "granted_waiting": states["granted"],
        "unexecuted_past_three_months": late["count"],
        "due_within_30_days": due["count"],
        "granted_total": counts["granted_total"],
        "converted_total": counts["converted_total"],
        "terminated_total": counts["terminated_total"],
    }
    sources = [
        source_of("Ärenden per läge (counts)", counts),
        source_of("Ej verkställda beslut (unexecuted)", late),
    ]
    return figures, sources


def due_within(sql: Sql, day: date, days: int, known_at: str | None) -> int:
    """How many decisions are due within ``days`` of ``day``: the count of
    ``GET /v1/oversight/unexecuted?due_within=`` (``projections.due_soon``),
    for a page that reads it inside an answer of its own."""
    return len(due_soon(sql, day, days, str, known_at))


def same_day_a_year_before(day: date) -> date:
    """The same date a year earlier; 29 February becomes 28 February."""
    try:
        return day.replace(year=day.year - 1)
    except ValueError:
        return day.replace(year=day.year - 1, day=28)


def _day(text: str) -> date:
    try:
        day = date.fromisoformat(text)
    except ValueError:
        raise ValueError(f"”{text}” är inget datum (ÅÅÅÅ-MM-DD).") from None
    if not date(FIRST_DAY.year + 1, 1, 1) <= day <= LAST_DAY:
        raise ValueError(
            f"Välj en dag mellan {FIRST_DAY.year + 1} och {LAST_DAY.year}."
        )
    return day


def _moment(text: str, timezone: str) -> datetime:
    """A ``known_at`` from the form: a local time in the municipality's
    time zone unless it names its own offset."""
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise ValueError(f"”{text}” är ingen tidpunkt (ÅÅÅÅ-MM-DDTTT:MM).") from None
    if not FIRST_DAY.year < moment.year <= LAST_DAY.year:
        raise ValueError(
            f"Välj en tidpunkt mellan {FIRST_DAY.year + 1} och {LAST_DAY.year}."
        )
    return moment if moment.tzinfo else moment.replace(tzinfo=ZoneInfo(timezone))
