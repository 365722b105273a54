"""Hemlöshetskartläggningen, situation 3 (``GET /oversikt/hemloshet``):
households, adults and children living in social contracts on a day
(``as_of``) or in Socialstyrelsen's mapping week (``week``, e.g. 2025-W14),
in total and by gender, household type and age band. The figures are
``GET /v1/oversight/households``'s own answer, got by calling its function
(``services.http.figures.households.households``): the page and the API
cannot differ.
"""

from __future__ import annotations

from datetime import date
from typing import Any, Final

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from services.bootstrap import Boende
from services.errors import InvalidRequest
from services.http.authz import PAGES
from services.http.deps import get_audit_log
from services.http.figures import households
from services.http.pages.web import render, source_of
from services.reporting.charts import Series, bar_chart

router = APIRouter(include_in_schema=False)

PATH: Final = f"{PAGES}/hemloshet"
#: The breakdowns: (the answer's key, the label list, the column's name).
BREAKDOWNS: Final = (
    ("by_gender", "gender", "Kön"),
    ("by_household_type", "household_type", "Hushållstyp"),
    ("by_age_band", "age_band", "Ålder"),
)


@router.get(PATH)
def households_page(
    request: Request, as_of: str | None = None, week: str | None = None
) -> HTMLResponse:
    """The mapping's figures for a day or a week (empty fields: today)."""
    boende: Boende = request.app.state.boende
    form = {"as_of": as_of or "", "week": week or ""}
    try:
        day = date.fromisoformat(as_of) if as_of else None
        answer: dict[str, Any] = households.households(
            boende,
            get_audit_log(request),
            as_of=day,
            week=week or None,
            known_at=None,
            min_position=None,
        )
    except ValueError:
        return _error(request, form, "Dagen ska skrivas som ÅÅÅÅ-MM-DD.")
    except InvalidRequest as error:
        return _error(
            request, form, f"Ange en dag eller en vecka, inte båda ({error.message})."
        )
    return render(
        request,
        "hemloshet.html",
        title="Hemlöshetskartläggningen (situation 3)",
        sources=[source_of("Hushåll i sociala kontrakt (households)", answer)],
        answer=answer,
        form=form,
        breakdowns=BREAKDOWNS,
        chart=_chart(answer),
        error=None,
    )


def _error(request: Request, form: dict[str, str], message: str) -> HTMLResponse:
    return render(
        request,
        "hemloshet.html",
        title="Hemlöshetskartläggningen (situation 3)",
        status=422,
        answer=None,
        form=form,
        breakdowns=BREAKDOWNS,
        error=message,
    )


def _chart(answer: dict[str, Any]) -> str:
    """Households, adults and children per age band, side by side."""
    bands = answer["by_age_band"]
    return bar_chart(
        "Boende i sociala kontrakt per åldersgrupp",
        f"Hushåll, vuxna och barn per den sökandes åldersgrupp, {answer['first_day']}"
        f" till {answer['last_day']}. Samma siffror står i tabellen under diagrammet.",
        list(bands),
        [
            Series(name, [bands[b][key] for b in bands])
            for key, name in (
                ("households", "Hushåll"),
                ("adults", "Vuxna"),
                ("children", "Barn"),
            )
        ],
    )
