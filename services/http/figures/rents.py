"""``GET /v1/oversight/rents`` and ``GET /v1/oversight/vacancy``: the rent
ALN pays and the households pay, the difference, and what empty apartments
cost; see ``projections.rents``.

JSON, or a CSV file of its table (``services.reporting.figure_tables``;
the negotiation and the file: ``services.http.reports.formats``). The
functions ``rents`` and ``vacancy`` answer the JSON (the oversight web's
pages call them); the routes are ``*_route``."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Query
from fastapi.responses import Response

from projections import rents as rents_view
from projections.base import END_OF_TIME
from services.bootstrap import Boende
from services.http.deps import (
    AuditDep,
    BoendeDep,
    Day,
    KnownAt,
    MinPosition,
    known_at_utc,
    periods_between,
    today_of,
)
from services.http.figures.models import RentsAnswer, VacancyAnswer, figure_responses
from services.http.reports.formats import TableFormatDep, csv_response, provenance_of
from services.projecting.answers import answer
from services.reporting.figure_tables import rents_table, vacancy_table
from services.reporting.tables import Coded

router = APIRouter(prefix="/v1/oversight", tags=["oversight"])

By = Literal["none", "landlord", "district", "rooms"]
AsOf = Annotated[
    Day | None,
    Query(
        description="effective date; default today",
        openapi_examples={"a day": {"value": "2025-04-01"}},
    ),
]
RentsBy = Annotated[
    By,
    Query(
        description="one group per landlord, district or rooms",
        openapi_examples={"per landlord": {"value": "landlord"}},
    ),
]
Start = Annotated[
    Day | None,
    Query(
        alias="from",
        description="first day; default the first of the month a year before to",
        openapi_examples={"a quarter": {"value": "2025-01-01"}},
    ),
]
End = Annotated[
    Day | None,
    Query(
        alias="to",
        description="last day; default today",
        openapi_examples={"a quarter": {"value": "2025-03-31"}},
    ),
]
Period = Annotated[
    Literal["month", "quarter", "year"],
    Query(
        description="one row per month, quarter or year",
        openapi_examples={"per month": {"value": "month"}},
    ),
]
VacancyBy = Annotated[
    By,
    Query(
        description="one row per period and group",
        openapi_examples={"per district": {"value": "district"}},
    ),
]


def rents(
    boende: BoendeDep,
    audit: AuditDep,
    as_of: AsOf = None,
    by: RentsBy = "none",
    min_position: MinPosition = None,
    known_at: KnownAt = None,
) -> dict[str, Any]:
    """Over the apartments in stock on ``as_of``: the monthly rent ALN pays
    the landlords (median, lowest, highest, sum); over those lived in: what
    the households pay, and the difference households minus ALN per month in
    total and per apartment (negative: the municipality's subsidy); as known
    at ``known_at``."""
    day = as_of or today_of(boende)
    known = known_at_utc(known_at)
    result = answer(
        boende.views["tenancies"],
        lambda sql: {"groups": rents_view.rents(sql, day, by, known or END_OF_TIME)},
        min_position,
        boende.settings.read_wait_seconds,
        audit,
    )
    return {"as_of": day.isoformat(), "by": by, "known_at": known, **result}


def vacancy(
    boende: BoendeDep,
    audit: AuditDep,
    start: Start = None,
    end: End = None,
    period: Period = "month",
    by: VacancyBy = "none",
    min_position: MinPosition = None,
    known_at: KnownAt = None,
) -> dict[str, Any]:
    """Per period from ``from`` to ``to`` (default: the last twelve months):
    the days apartments stood available and their cost, each day at the
    apartment's monthly rent divided by the days of its month; a vacancy
    still open counts to ``counted_to``: today, or with ``known_at`` the
    municipality's day of it (what was known then could not see further),
    never beyond."""
    known = known_at_utc(known_at)  # first: refuses a time out of range
    counted_to = counted_to_of(boende, known_at)
    end = end or counted_to
    start, end = periods_between(start or date(end.year - 1, end.month, 1), end, period)
    result = answer(
        boende.views["tenancies"],
        lambda sql: {
            "periods": rents_view.vacancy(
                sql, start, end, period, by, counted_to, known or END_OF_TIME
            )
        },
        min_position,
        boende.settings.read_wait_seconds,
        audit,
    )
    return {
        "from": start.isoformat(),
        "to": end.isoformat(),
        "period": period,
        "by": by,
        "known_at": known,
        "counted_to": counted_to.isoformat(),
        **result,
    }


def counted_to_of(boende: Boende, known_at: datetime | None) -> date:
    """Today; with ``known_at`` (a time zone given), its day in the
    municipality's calendar, if that is earlier."""
    today = today_of(boende)
    if known_at is None or known_at.tzinfo is None:
        return today
    zone = ZoneInfo(boende.settings.timezone)
    return min(today, known_at.astimezone(zone).date())


@router.get(
    "/rents",
    summary="Rents on a day: what ALN pays, what households pay, the difference",
    operation_id="rents_v1_oversight_rents_get",
    response_model=None,
    responses=figure_responses(
        RentsAnswer,
        "Per group: apartments, those lived in, what ALN and the households "
        "pay and the difference; CSV: one row per group",
        "a bad as_of or known_at",
    ),
)
def rents_route(
    boende: BoendeDep,
    audit: AuditDep,
    table: TableFormatDep,
    as_of: AsOf = None,
    by: RentsBy = "none",
    known_at: KnownAt = None,
    min_position: MinPosition = None,
) -> dict[str, Any] | Response:
    """Over the apartments in stock on ``as_of``: the monthly rent ALN pays
    the landlords (median, lowest, highest, sum); over those lived in: what
    the households pay, and the difference households minus ALN per month in
    total and per apartment (negative: the municipality's subsidy); as known
    at ``known_at``."""
    body = rents(boende, audit, as_of, by, min_position, known_at)
    if not table.csv:
        return body
    provenance = provenance_of(
        "rents",
        body,
        as_of=body["as_of"],
        by=None if by == "none" else by,
        known_at=body["known_at"],
    )
    name = f"rents_{body['as_of']}" + (f"_by_{by}.csv" if by != "none" else ".csv")
    return csv_response(rents_table(body), provenance, name, table.lang)


@router.get(
    "/vacancy",
    summary="Vacant apartment-days and their cost per period",
    operation_id="vacancy_v1_oversight_vacancy_get",
    response_model=None,
    responses=figure_responses(
        VacancyAnswer,
        "Per period (and group): vacant apartment-days and their cost; CSV: "
        "one row per period (and group)",
        "a bad date or known_at, from after to, more than 240 periods",
    ),
)
def vacancy_route(
    boende: BoendeDep,
    audit: AuditDep,
    table: TableFormatDep,
    start: Start = None,
    end: End = None,
    period: Period = "month",
    by: VacancyBy = "none",
    known_at: KnownAt = None,
    min_position: MinPosition = None,
) -> dict[str, Any] | Response:
    """Per period from ``from`` to ``to`` (default: the last twelve months):
    the days apartments stood available and their cost, each day at the
    apartment's monthly rent divided by the days of its month; a vacancy
    still open counts to ``counted_to``: today, or with ``known_at`` the
    municipality's day of it, never beyond."""
    body = vacancy(boende, audit, start, end, period, by, min_position, known_at)
    if not table.csv:
        return body
    provenance = provenance_of(
        "vacancy",
        body,
        **{"from": body["from"], "to": body["to"]},
        period=Coded("period", period),
        by=None if by == "none" else by,
        known_at=body["known_at"],
        counted_to=body["counted_to"],
    )
    name = f"vacancy_{body['from']}_{body['to']}_{period}"
    name += f"_by_{by}.csv" if by != "none" else ".csv"
    return csv_response(vacancy_table(body), provenance, name, table.lang)
