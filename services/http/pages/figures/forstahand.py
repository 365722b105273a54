"""Vägen till förstahandskontrakt (``GET /oversikt/forstahand``): of the
social contracts executed from ``from`` to ``to``, per execution quarter
(and per landlord or district, ``by``), how many had become first-hand
leases, had ended or were still second-hand on ``as_of``. The figures are
``GET /v1/oversight/first-hand``'s own answer, got by calling its function
(``services.http.figures.first_hand.first_hand``): the page and the API
cannot differ.
"""

from __future__ import annotations

from datetime import date
from typing import Any, Final, Literal

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from services.bootstrap import Boende
from services.errors import InvalidRequest
from services.http.authz import PAGES
from services.http.deps import get_audit_log
from services.http.figures import first_hand
from services.http.pages.web import render, source_of
from services.reporting.charts import Series, bar_chart

router = APIRouter(include_in_schema=False)

PATH: Final = f"{PAGES}/forstahand"
TITLE: Final = "Vägen till förstahandskontrakt"
GROUPINGS: Final = {
    "none": "Totalt",
    "landlord": "Per hyresvärd",
    "district": "Per område",
}


def _day(text: str | None) -> date | None:
    return date.fromisoformat(text) if text else None


@router.get(PATH)
def first_hand_page(
    request: Request,
    as_of: str | None = None,
    by: Literal["none", "landlord", "district"] = "none",
) -> HTMLResponse:
    """The cohorts' outcomes, a row per quarter (and group); ``from`` and
    ``to`` are read from the query (Python keywords)."""
    boende: Boende = request.app.state.boende
    query = dict(request.query_params)
    form = {k: query.get(k, "") for k in ("from", "to", "as_of")} | {"by": by}
    try:
        answer: dict[str, Any] = first_hand.first_hand(
            boende,
            get_audit_log(request),
            start=_day(query.get("from")),
            end=_day(query.get("to")),
            as_of=_day(as_of),
            by=by,
            min_position=None,
        )
    except ValueError:
        return _page(request, form, None, "Dagarna ska skrivas som ÅÅÅÅ-MM-DD.")
    except InvalidRequest as error:
        return _page(
            request, form, None, f"Frågan kunde inte besvaras ({error.message})."
        )
    return _page(request, form, answer, None)


def _page(
    request: Request,
    form: dict[str, str],
    answer: dict[str, Any] | None,
    error: str | None,
) -> HTMLResponse:
    return render(
        request,
        "forstahand.html",
        title=TITLE,
        sources=[]
        if answer is None
        else [source_of("Vägen till förstahandskontrakt (first-hand)", answer)],
        status=422 if error else 200,
        answer=answer,
        form=form,
        groupings=GROUPINGS,
        chart=None if answer is None else _chart(answer),
        error=error,
    )


#: The outcomes stacked in the chart, with their Swedish names.
OUTCOMES: Final = (
    ("converted", "Förstahandskontrakt"),
    ("terminated", "Uppsagda"),
    ("still_second_hand", "Fortfarande andrahand"),
)


def _chart(answer: dict[str, Any]) -> str:
    """Each quarter's outcomes (all groups together), as stacked bars."""
    quarters = sorted({c["cohort"] for c in answer["cohorts"]})
    return bar_chart(
        "Utfall per kvartal kontrakten verkställdes",
        f"Kontrakt verkställda {answer['from']} till {answer['to']}, per kvartal, "
        f"staplade efter utfall den {answer['as_of']}. Samma siffror står i "
        "tabellen under diagrammet.",
        quarters,
        [
            Series(
                name,
                [
                    sum(c[key] for c in answer["cohorts"] if c["cohort"] == q)
                    for q in quarters
                ],
            )
            for key, name in OUTCOMES
        ],
        stacked=True,
    )
