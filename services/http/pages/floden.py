"""Flöden (``GET /oversikt/floden``): how many applications were filed,
granted, executed, converted, terminated and cancelled per month, quarter or
year, as a chart and its table.

The figures are ``GET /v1/oversight/flows``'s own answer, got by calling its
function (``services.http.oversight.flows``) with the page's period, days and
``known_at``: the page and the API cannot differ. The apartment flows
(acquired, returned per period) are shown with their own chart and table
when the answer has them (``projections.flows``), and the page says so when
it does not.

With ``by`` (``gender``, ``intervention`` or ``basis``; ``none``, the
default, for none) the page asks the same function with the API's ``by`` and
shows, after the totals, each group's case flows as a chart and its table
(the answer's ``groups``: a fact counts in the group its case was in at that
fact, so the groups add up to the totals).

:class:`PeriodForm` is the period picker that the per-period pages share
(this one and ``handlaggningstider``).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date, datetime
from typing import Annotated, Any, Final, Literal, cast, get_args
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse

from services.bootstrap import Boende
from services.errors import InvalidRequest
from services.http import oversight
from services.http.authz import PAGES
from services.http.deps import FIRST_DAY, LAST_DAY, MAX_PERIODS, get_audit_log
from services.http.pages.web import render, source_of
from services.reporting.charts import Series, bar_chart, line_chart
from services.reporting.figure_tables import group_code
from services.reporting.labels import label

router = APIRouter(include_in_schema=False)

PATH: Final = f"{PAGES}/floden"
#: The flows drawn in the chart, in the legend's order (all are in the table).
CHARTED: Final = (
    "filed",
    "granted",
    "executed",
    "converted",
    "terminated",
    "cancelled",
)
TABLED: Final = (*CHARTED[:2], "rejected", "withdrawn", *CHARTED[2:])
APARTMENT_FLOWS: Final = ("apartments_acquired", "apartments_returned")
PERIODS: Final = ("month", "quarter", "year")
#: What the form offers to break the flows down by: ``none``, then the API's
#: ``by`` (``oversight.By``), in the form's order.
BREAKDOWNS: Final = ("none", "gender", "intervention", "basis")
assert BREAKDOWNS[1:] == get_args(get_args(get_args(oversight.By)[0])[0])
Period = Literal["month", "quarter", "year"]
Text = Annotated[str | None, Query(max_length=40)]


@dataclass(frozen=True)
class PeriodForm:
    """The period picker: ``period`` and the days ``from`` and ``to`` as the
    person typed them, and as the JSON functions take them (``None``: their
    default, the last twelve months up to today). ``error`` is what was
    wrong, in Swedish, when the form cannot be read."""

    period: Period
    start: date | None
    end: date | None
    known_at: datetime | None
    text: dict[str, str]
    error: str | None = None


def period_form(
    period: str | None,
    start: str | None,
    end: str | None,
    known_at: str | None = None,
    timezone: str = "Europe/Stockholm",
) -> PeriodForm:
    """The form's values checked: a period of :data:`PERIODS`, ISO days
    within the API's bounds, ``from`` not after ``to``."""
    text = {
        "period": period or "month",
        "from": start or "",
        "to": end or "",
        "known_at": known_at or "",
    }
    try:
        if text["period"] not in PERIODS:
            raise ValueError("Välj period: månad, kvartal eller år.")
        first = parse_day(start, "Från") if start else None
        last = parse_day(end, "Till") if end else None
        if first and last and first > last:
            raise ValueError("”Från” får inte vara efter ”Till”.")
        moment = parse_moment(known_at, timezone) if known_at else None
    except ValueError as error:
        return PeriodForm("month", None, None, None, text, str(error))
    return PeriodForm(cast(Period, text["period"]), first, last, moment, text)


def parse_day(text: str, name: str) -> date:
    try:
        day = date.fromisoformat(text)
    except ValueError:
        raise ValueError(f"”{name}”: {text} är inget datum (ÅÅÅÅ-MM-DD).") from None
    if not FIRST_DAY <= day <= LAST_DAY:
        raise ValueError(f"”{name}”: välj en dag mellan {FIRST_DAY} och {LAST_DAY}.")
    return day


def parse_moment(text: str, timezone: str) -> datetime:
    """A local time in the municipality's time zone unless it names its own."""
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise ValueError(f"{text} är ingen tidpunkt (ÅÅÅÅ-MM-DDTTT:MM).") from None
    if not FIRST_DAY.year <= moment.year <= LAST_DAY.year:
        raise ValueError(f"Välj en tidpunkt mellan {FIRST_DAY} och {LAST_DAY}.")
    return moment if moment.tzinfo else moment.replace(tzinfo=ZoneInfo(timezone))


def too_long(error: InvalidRequest) -> str:
    """The API's refusal of a range, in Swedish, for the page."""
    if "max_periods" in error.details:
        return (
            f"Intervallet är för långt: en sida visar högst {MAX_PERIODS} perioder. "
            "Välj ett kortare intervall eller en längre period."
        )
    return f"Frågan kunde inte besvaras ({error.message})."


@router.get(PATH)
def flows_page(
    request: Request,
    period: Text = None,
    start: Annotated[str | None, Query(alias="from", max_length=40)] = None,
    end: Annotated[str | None, Query(alias="to", max_length=40)] = None,
    known_at: Text = None,
    by: Text = None,
) -> HTMLResponse:
    """The flows per ``period`` from ``from`` to ``to`` (default: the last
    twelve months up to today), as known at ``known_at`` (default now), and
    with ``by`` also per group."""
    boende: Boende = request.app.state.boende
    form = period_form(period, start, end, known_at, boende.settings.timezone)
    form = replace(form, text={**form.text, "by": by or "none"})
    wrong = form.error or breakdown_error(form.text["by"])
    if wrong:
        return _page(request, form, status=422, error=wrong)
    grouped = None if form.text["by"] == "none" else form.text["by"]
    try:
        flows = oversight.flows(
            boende,
            get_audit_log(request),
            start=form.start,
            end=form.end,
            period=form.period,
            known_at=form.known_at,
            min_position=None,
            public=False,
            by=cast(oversight.By, grouped),
        )
    except InvalidRequest as error:
        return _page(request, form, status=422, error=too_long(error))
    return _page(request, form, flows=flows)


def breakdown_error(by: str) -> str | None:
    """What is wrong with ``by``, in Swedish; None when it is one of
    :data:`BREAKDOWNS`."""
    if by in BREAKDOWNS:
        return None
    names = [label("breakdown_by", code).lower() for code in BREAKDOWNS]
    return f"Välj uppdelning: {', '.join(names[:-1])} eller {names[-1]}."


def _page(
    request: Request,
    form: PeriodForm,
    *,
    flows: dict[str, Any] | None = None,
    status: int = 200,
    error: str | None = None,
) -> HTMLResponse:
    periods = flows["periods"] if flows else []
    apartments = bool(periods) and all(k in periods[0] for k in APARTMENT_FLOWS)
    by = form.text["by"]
    return render(
        request,
        "floden.html",
        title="Flöden",
        sources=[source_of("Flöden per period (counts)", flows)] if flows else [],
        status=status,
        error=error,
        form=form.text,
        breakdowns=BREAKDOWNS,
        by=by,
        groups=groups_of(flows, by) if flows and by != "none" else [],
        periods=periods,
        columns=TABLED,
        answer=flows,
        chart=chart_of(periods, flows["period"]) if flows else None,
        apartment_columns=APARTMENT_FLOWS,
        apartment_chart=apartment_chart_of(periods, flows["period"])
        if flows and apartments
        else None,
    )


@dataclass(frozen=True)
class Group:
    """One group of a breakdown: its code, its Swedish name, its case flows
    per period (``{"period": ..., "filed": ..., ...}``) and their chart."""

    code: str
    name: str
    periods: list[dict[str, Any]]
    chart: str


def groups_of(flows: dict[str, Any], by: str) -> list[Group]:
    """The answer's ``groups`` turned round: per group, its flows per period,
    in the answer's order (every code of the breakdown, zero or not). A group
    a period does not name had no facts in it."""
    periods = flows["periods"]
    codes = dict.fromkeys(code for p in periods for code in p.get("groups", {}))
    groups = []
    for code in codes:
        coded = group_code(by, code)
        name = label(coded.codes, coded.code)
        rows = [
            {
                "period": p["period"],
                **dict.fromkeys(TABLED, 0),
                **p["groups"].get(code, {}),
            }
            for p in periods
        ]
        groups.append(Group(code, name, rows, chart_of(rows, flows["period"], name)))
    return groups


def chart_of(periods: list[dict[str, Any]], period: str, group: str = "") -> str:
    """The flows of ``periods`` as a line chart, one line per flow; of one
    ``group`` of a breakdown when named."""
    name = label("period", period).lower()
    return line_chart(
        f"Flöden per {name}" + (f": {group}" if group else ""),
        f"Antal ansökningar, beslut och kontrakt per {name}"
        + (f" i gruppen ”{group}”" if group else "")
        + ", "
        f"från {periods[0]['period']} till {periods[-1]['period']}. "
        "Samma siffror står i tabellen under diagrammet.",
        [p["period"] for p in periods],
        [Series(label("column", c), [p[c] for p in periods]) for c in CHARTED],
    )


def apartment_chart_of(periods: list[dict[str, Any]], period: str) -> str:
    """Apartments acquired and returned per period, as bars side by side."""
    name = label("period", period).lower()
    return bar_chart(
        f"Lägenheter anskaffade och återlämnade per {name}",
        f"Antal lägenheter som kommunen anskaffat och lämnat tillbaka per {name}, "
        f"från {periods[0]['period']} till {periods[-1]['period']}. "
        "Samma siffror står i tabellen under diagrammet.",
        [p["period"] for p in periods],
        [Series(label("column", c), [p[c] for p in periods]) for c in APARTMENT_FLOWS],
    )
