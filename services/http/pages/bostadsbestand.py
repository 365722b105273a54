"""Bostadsbestånd (``GET /oversikt/bostadsbestand``): the municipality's
second-hand apartments today, by state, by landlord and by district, and how
many days they have stood empty.

The figures are ``GET /v1/oversight/apartments``'s own answer, got by calling
its function (``services.http.oversight.apartments``), and what empty
apartments cost is ``GET /v1/oversight/vacancy``'s (``services.http.figures.
rents.vacancy``, per quarter of the last twelve months): the page and the
API cannot differ. The stock is today's (the read model keeps no history of
it), so the page has no day picker.
"""

from __future__ import annotations

from typing import Any, Final

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from domain.collation import swedish_key
from services.bootstrap import Boende
from services.http import oversight
from services.http.authz import PAGES
from services.http.deps import get_audit_log
from services.http.figures import rents
from services.http.pages.web import render, source_of
from services.reporting.charts import Series, bar_chart
from services.reporting.labels import label

router = APIRouter(include_in_schema=False)

PATH: Final = f"{PAGES}/bostadsbestand"
#: The states in the tables' and the stacked bars' order.
STATES: Final = ("occupied", "available", "transferred", "returned")
GROUPS: Final = (("by_landlord", "hyresvärd"), ("by_district", "område"))


@router.get(PATH)
def stock_page(request: Request) -> HTMLResponse:
    """The apartment stock today, with a chart and a table per grouping."""
    boende: Boende = request.app.state.boende
    stock = oversight.apartments(boende, min_position=None)
    vacancy = rents.vacancy(
        boende,
        get_audit_log(request),
        start=None,
        end=None,
        period="quarter",
        by="none",
        min_position=None,
    )
    return render(
        request,
        "bostadsbestand.html",
        title="Bostadsbestånd",
        sources=[
            source_of("Lägenhetsbestånd (apartments)", stock),
            source_of("Tomma lägenheter och deras kostnad (vacancy)", vacancy),
        ],
        stock=stock,
        vacancy=vacancy,
        vacancy_chart=_vacancy_chart(vacancy),
        states=STATES,
        groups=[_group(stock, key, noun) for key, noun in GROUPS],
    )


def _group(stock: dict[str, Any], key: str, noun: str) -> dict[str, Any]:
    """One grouping's rows (largest first, then by name) and its chart."""
    groups: dict[str, dict[str, Any]] = stock[key]
    names = sorted(groups, key=lambda name: (-groups[name]["total"], swedish_key(name)))
    chart = bar_chart(
        f"Lägenheter per {noun} och status",
        f"Antal lägenheter per {noun} den {stock['today']}, staplade efter "
        "status. Samma siffror står i tabellen under diagrammet.",
        names,
        [
            Series(
                label("apartment_state", state),
                [groups[n]["by_state"].get(state, 0) for n in names],
            )
            for state in STATES
        ],
        stacked=True,
    )
    rows = [{"name": n, **groups[n]} for n in names]
    return {"key": key, "noun": noun, "chart": chart, "rows": rows}


def _vacancy_chart(vacancy: dict[str, Any]) -> str:
    """What empty apartments cost per quarter, as bars."""
    periods = vacancy["periods"]
    return bar_chart(
        "Tomma lägenheters kostnad per kvartal",
        f"Kostnaden i kronor för lägenheter som stått tomma, per kvartal från "
        f"{vacancy['from']} till {vacancy['to']}. Samma siffror, och antalet "
        "tomma dagar, står i tabellen under diagrammet.",
        [p["period"] for p in periods],
        [Series("Kostnad (kr)", [p["cost_sek"] for p in periods])],
    )
