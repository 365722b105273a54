"""Handläggningstider (``GET /oversikt/handlaggningstider``): where the
process waits. Per month, quarter or year, the days from filing to decision,
from decision to moving in, and from moving in to a first-hand lease:
median and 90th percentile, one chart and one table per interval.

The figures are ``GET /v1/oversight/lead-times``'s own answer, got by
calling its function (``services.http.timeliness.lead_times``): the page and
the API cannot differ. An interval counts in the period of its later date.
"""

from __future__ import annotations

from typing import Annotated, Any, Final

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse

from services.bootstrap import Boende
from services.errors import InvalidRequest
from services.http import timeliness
from services.http.authz import PAGES
from services.http.deps import get_audit_log
from services.http.pages.floden import PeriodForm, period_form, too_long
from services.http.pages.web import render, source_of
from services.reporting.charts import Series, line_chart
from services.reporting.labels import label

router = APIRouter(include_in_schema=False)

PATH: Final = f"{PAGES}/handlaggningstider"
INTERVALS: Final = (
    "filing_to_decision",
    "decision_to_execution",
    "execution_to_first_hand",
)
#: What each interval's table shows, in order (``lead_times.summary``).
MEASURES: Final = ("count", "median_days", "p90_days", "max_days")
Text = Annotated[str | None, Query(max_length=40)]


@router.get(PATH)
def lead_times_page(
    request: Request,
    period: Text = None,
    start: Annotated[str | None, Query(alias="from", max_length=40)] = None,
    end: Annotated[str | None, Query(alias="to", max_length=40)] = None,
) -> HTMLResponse:
    """Lead times per ``period`` from ``from`` to ``to`` (default: the last
    twelve months up to today)."""
    boende: Boende = request.app.state.boende
    form = period_form(period, start, end, None, boende.settings.timezone)
    if form.error:
        return _page(request, form, status=422, error=form.error)
    try:
        found = timeliness.lead_times(
            boende,
            start=form.start,
            end=form.end,
            period=form.period,
            min_position=None,
            audit=get_audit_log(request),
        )
    except InvalidRequest as error:
        return _page(request, form, status=422, error=too_long(error))
    return _page(request, form, answer=found)


def _page(
    request: Request,
    form: PeriodForm,
    *,
    answer: dict[str, Any] | None = None,
    status: int = 200,
    error: str | None = None,
) -> HTMLResponse:
    return render(
        request,
        "handlaggningstider.html",
        title="Handläggningstider",
        sources=[source_of("Handläggningstider (lead_times)", answer)]
        if answer
        else [],
        status=status,
        error=error,
        form=form.text,
        answer=answer,
        measures=MEASURES,
        intervals=[_interval(answer, code) for code in INTERVALS] if answer else [],
    )


def _interval(answer: dict[str, Any], code: str) -> dict[str, Any]:
    """One interval's rows per period, and its chart (median and p90)."""
    periods = answer["periods"]
    name = label("interval", code)
    unit = label("period", answer["period"]).lower()
    chart = line_chart(
        f"{name}: dagar per {unit}",
        f"{name}, median och 90:e percentil i dagar per {unit}, "
        f"från {periods[0]['period']} till {periods[-1]['period']}; en period "
        "utan avslutade intervall saknar värde. Samma siffror står i tabellen "
        "under diagrammet.",
        [p["period"] for p in periods],
        [
            Series(label("column", m), [p[code][m] for p in periods])
            for m in ("median_days", "p90_days")
        ],
    )
    rows = [{"period": p["period"], **p[code]} for p in periods]
    return {"code": code, "name": name, "chart": chart, "rows": rows}
