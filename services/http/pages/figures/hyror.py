"""Hyror (``GET /oversikt/hyror``): what ALN pays the landlords and what the
households pay on a day (``as_of``), in total or per landlord, district or
number of rooms (``by``): ``GET /v1/oversight/rents``'s own answer, got by
calling its function (``services.http.figures.rents.rents``), so the page
and the API cannot differ; and what empty apartments cost per month over the
last twelve months (``GET /v1/oversight/vacancy``'s ``rents.vacancy``).
"""

from __future__ import annotations

from datetime import date
from typing import Any, Final, get_args

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from services.bootstrap import Boende
from services.http.authz import PAGES
from services.http.deps import get_audit_log
from services.http.figures import rents
from services.http.pages.web import render, source_of
from services.reporting.charts import Series, bar_chart

router = APIRouter(include_in_schema=False)

PATH: Final = f"{PAGES}/hyror"
#: The groupings the form offers, with their Swedish names.
GROUPINGS: Final = {
    "none": "Totalt",
    "landlord": "Per hyresvärd",
    "district": "Per område",
    "rooms": "Per antal rum",
}
assert set(GROUPINGS) == set(get_args(rents.By))


@router.get(PATH)
def rents_page(
    request: Request, as_of: date | None = None, by: rents.By = "none"
) -> HTMLResponse:
    """The rents on a day, with a table per group."""
    boende: Boende = request.app.state.boende
    answer: dict[str, Any] = rents.rents(
        boende, get_audit_log(request), as_of=as_of, by=by, min_position=None
    )
    vacancy = rents.vacancy(
        boende,
        get_audit_log(request),
        start=None,
        end=None,
        period="month",
        by="none",
        min_position=None,
    )
    return render(
        request,
        "hyror.html",
        title="Hyror",
        sources=[
            source_of("Hyror (rents)", answer),
            source_of("Tomma lägenheter och deras kostnad (vacancy)", vacancy),
        ],
        rents=answer,
        groupings=GROUPINGS,
        vacancy=vacancy,
        vacancy_chart=_vacancy_chart(vacancy),
    )


def _vacancy_chart(vacancy: dict[str, Any]) -> str:
    """What empty apartments cost per month, as bars."""
    periods = vacancy["periods"]
    return bar_chart(
        "Tomma lägenheters kostnad per månad",
        f"Kostnaden i kronor för lägenheter som stått tomma, per månad från "
        f"{vacancy['from']} till {vacancy['to']}. Samma siffror, och antalet "
        "tomma dagar, står i tabellen under diagrammet.",
        [p["period"] for p in periods],
        [Series("Kostnad (kr)", [p["cost_sek"] for p in periods])],
    )
