"""The executive board's oversight endpoints (KS: *uppsiktsplikt*): counts,
flows, the apartment stock and the landlord register.

Aggregates only: no personnummer, name or anything else that identifies a
person. Every answer carries ``as_of_position``, and the ``tree_size`` and
``root_hash`` of the log up to it (``services.projecting.answers``).

Each route answers JSON, or a CSV file (``?format=csv`` or ``Accept:
text/csv``; Swedish or English, ``?lang=``) of its table
(``services.reporting.figure_tables``; the negotiation and the file:
``services.http.reports.formats``; docs/reports.md); ``public=true`` too,
with the figures suppressed as they are published. The functions ``counts``,
``flows`` and ``apartments`` answer the JSON (the oversight web's pages call
them); the routes are ``*_route``.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query
from fastapi.responses import Response

from projections import apartments as apartments_view
from projections import counts as counts_view
from projections import flows as flows_view
from projections import landlords as landlords_view
from services.audit.log import AuditLog
from services.errors import InvalidRequest
from services.http.deps import (
    AuditDep,
    BoendeDep,
    Day,
    KnownAt,
    MinPosition,
    Public,
    known_at_utc,
    periods_between,
    today_of,
)
from services.http.models.oversight import (
    ApartmentStock,
    Counts,
    Flows,
    Landlords,
)
from services.http.reports.formats import (
    TableFormatDep,
    csv_response,
    provenance_of,
    table_responses,
)
from services.projecting.answers import answer
from services.reporting.figure_tables import (
    apartments_table,
    counts_table,
    flows_table,
    landlords_table,
)
from services.reporting.flow_suppression import public_flows_in_detail
from services.reporting.suppression import public_counts
from services.reporting.tables import Coded

#: ``by=``: the case figures also per gender, intervention or basis.
By = Annotated[
    Literal["gender", "intervention", "basis"] | None,
    Query(
        description="also per the applicant's gender, the intervention or the "
        "grant's basis (none before a grant), under groups; not with public"
    ),
]

router = APIRouter(prefix="/v1/oversight", tags=["oversight"])


def refuse_public_breakdowns(public: bool, by: str | None) -> None:
    """Breakdowns are not published: their groups would need protecting
    against each other and their sum (``services.reporting``)."""
    if public and by:
        raise InvalidRequest(
            "public figures come without breakdowns: leave out by, or public",
            details=[{"loc": "by", "problem": "not with public=true"}],
        )


def counts(
    boende: BoendeDep,
    audit: AuditDep,
    as_of: Annotated[
        Day | None, Query(description="effective date; default today")
    ] = None,
    known_at: Annotated[
        datetime | None, Query(description="only facts recorded by then; default now")
    ] = None,
    min_position: MinPosition = None,
    public: Public = False,
    by: By = None,
) -> dict[str, Any]:
    """On ``as_of``, as known at ``known_at``; with ``as_of_position`` and the
    ``tree_size`` and ``root_hash`` (hex) of the log up to it. With ``by``,
    ``groups`` holds the case figures per code, each case (with all its
    facts) in the group it is in on ``as_of``."""
    refuse_public_breakdowns(public, by)
    day = as_of or today_of(boende)
    known = known_at_utc(known_at)
    result = answer(
        boende.views["counts"],
        lambda sql: counts_view.counts(sql, day, known, by),
        min_position,
        boende.settings.read_wait_seconds,
        audit,
    )
    body = {"as_of": day.isoformat(), "known_at": known, **result}
    threshold = boende.settings.suppression_threshold
    return public_counts(body, threshold) if public else body


def flows(
    boende: BoendeDep,
    audit: AuditDep,
    start: Annotated[Day | None, Query(alias="from")] = None,
    end: Annotated[Day | None, Query(alias="to")] = None,
    period: Literal["month", "quarter", "year"] = "month",
    known_at: datetime | None = None,
    min_position: MinPosition = None,
    public: Public = False,
    by: By = None,
) -> dict[str, Any]:
    """Per period: the case facts, delays and follow-ups, apartments
    acquired and returned, and under ``by_reason`` the cancellations,
    terminations, delays and follow-ups by reason; with ``by``, the case
    facts per code under ``groups`` (a fact in the group its case was in at
    that fact). With ``as_of_position`` and the ``tree_size`` and
    ``root_hash`` (hex) of the log up to it."""
    refuse_public_breakdowns(public, by)
    end = end or today_of(boende)
    start, end = periods_between(start or date(end.year - 1, end.month, 1), end, period)
    known = known_at_utc(known_at)

    def periods(sql: Any) -> dict[str, Any]:
        rows = flows_view.flows(sql, start, end, period, known)
        more = flows_view.flow_details(sql, start, end, period, known, by)
        return {
            "periods": [{**row, **extra} for row, extra in zip(rows, more, strict=True)]
        }

    result = answer(
        boende.views["counts"],
        periods,
        min_position,
        boende.settings.read_wait_seconds,
        audit,
    )
    body = {
        "from": start.isoformat(),
        "to": end.isoformat(),
        "period": period,
        **result,
    }
    threshold = boende.settings.suppression_threshold
    return public_flows_in_detail(body, threshold) if public else body


def apartments(
    boende: BoendeDep,
    as_of: Annotated[
        Day | None, Query(description="effective date; default today")
    ] = None,
    min_position: MinPosition = None,
    audit: AuditLog | None = None,
) -> dict[str, Any]:
    """The stock on ``as_of`` (default today): each apartment's state after
    its last fact dated on or before it; vacancy days count effective dates
    up to it. Landlords by organisation number where known. With ``audit``,
    the ``tree_size`` and ``root_hash`` (hex) of the log up to
    ``as_of_position``."""
    today = today_of(boende)
    day = as_of or today
    result = answer(
        boende.views["apartments"],
        lambda sql: apartments_view.stock(sql, day),
        min_position,
        boende.settings.read_wait_seconds,
        audit,
    )
    return {"today": today.isoformat(), "as_of": day.isoformat(), **result}


@router.get(
    "/landlords",
    summary="The landlord register: organisation numbers, names, renames",
    response_model=Landlords,
    response_model_exclude_unset=True,
    responses=table_responses(
        "The register; CSV: LANDLORDS_TABLE, one row per name a landlord has "
        "had, the apartments on the row of its name now"
    ),
)
def landlords(
    boende: BoendeDep,
    audit: AuditDep,
    table: TableFormatDep,
    min_position: MinPosition = None,
) -> dict[str, Any] | Response:
    """Every landlord ALN has acquired an apartment from under an
    organisation number: the first name seen in the log and its day, the
    name now, each later name with its day, and the apartments acquired.
    A sole trader (no number) is not listed; figures group it by name."""
    body = answer(
        boende.views["landlords"],
        lambda sql: {"landlords": landlords_view.register(sql)},
        min_position,
        boende.settings.read_wait_seconds,
        audit,
    )
    if not table.csv:
        return body
    provenance = provenance_of("landlords", body)
    return csv_response(landlords_table(body), provenance, "landlords.csv", table.lang)


# -- the routes: JSON or CSV --------------------------------------------------------

AsOf = Annotated[Day | None, Query(description="effective date; default today")]


@router.get(
    "/counts",
    summary="Cases and apartments by state; cumulative totals",
    operation_id="counts_v1_oversight_counts_get",
    response_model=Counts,
    response_model_exclude_unset=True,
    responses=table_responses(
        "Cases and apartments by state, and totals; CSV: COUNTS_TABLE, one "
        "row per figure",
        "a bad as_of or known_at; by with public",
    ),
)
def counts_route(
    boende: BoendeDep,
    audit: AuditDep,
    table: TableFormatDep,
    as_of: AsOf = None,
    known_at: KnownAt = None,
    min_position: MinPosition = None,
    public: Public = False,
    by: By = None,
) -> dict[str, Any] | Response:
    """On ``as_of``, as known at ``known_at``; with ``as_of_position`` and the
    ``tree_size`` and ``root_hash`` (hex) of the log up to it. With ``by``,
    ``groups`` holds the case figures per code, each case (with all its
    facts) in the group it is in on ``as_of``."""
    body = counts(boende, audit, as_of, known_at, min_position, public, by)
    if not table.csv:
        return body
    provenance = provenance_of(
        "counts",
        body,
        as_of=body["as_of"],
        known_at=body["known_at"],
        by=by,
        public=public or None,
    )
    name = f"counts_{body['as_of']}{f'_by_{by}' if by else ''}"
    name += "_public.csv" if public else ".csv"
    return csv_response(counts_table(body), provenance, name, table.lang)


@router.get(
    "/flows",
    summary="Facts per month, quarter or year, by effective date",
    operation_id="flows_v1_oversight_flows_get",
    response_model=Flows,
    response_model_exclude_unset=True,
    responses=table_responses(
        "Facts per period; CSV: one row per period, a column per kind of "
        "fact, per kind and reason, and with by per group and case fact",
        "a bad date, from after to, more than 240 periods; by with public",
    ),
)
def flows_route(
    boende: BoendeDep,
    audit: AuditDep,
    table: TableFormatDep,
    start: Annotated[Day | None, Query(alias="from")] = None,
    end: Annotated[Day | None, Query(alias="to")] = None,
    period: Literal["month", "quarter", "year"] = "month",
    known_at: KnownAt = None,
    min_position: MinPosition = None,
    public: Public = False,
    by: By = None,
) -> dict[str, Any] | Response:
    """Per period: the case facts, delays and follow-ups, apartments
    acquired and returned, and under ``by_reason`` the cancellations,
    terminations, delays and follow-ups by reason; with ``by``, the case
    facts per code under ``groups`` (a fact in the group its case was in at
    that fact). With ``as_of_position`` and the ``tree_size`` and
    ``root_hash`` (hex) of the log up to it."""
    body = flows(boende, audit, start, end, period, known_at, min_position, public, by)
    if not table.csv:
        return body
    provenance = provenance_of(
        "flows",
        body,
        **{"from": body["from"], "to": body["to"]},
        period=Coded("period", period),
        known_at=known_at_utc(known_at),
        by=by,
        public=public or None,
    )
    name = f"flows_{body['from']}_{body['to']}_{period}{f'_by_{by}' if by else ''}"
    name += "_public.csv" if public else ".csv"
    return csv_response(flows_table(body, by), provenance, name, table.lang)


@router.get(
    "/apartments",
    summary="Apartment stock by state, landlord and district; vacancy days",
    operation_id="apartments_v1_oversight_apartments_get",
    response_model=ApartmentStock,
    response_model_exclude_unset=True,
    responses=table_responses(
        "The stock on a day; CSV: APARTMENTS_TABLE, one row per figure",
        "a bad as_of",
    ),
)
def apartments_route(
    boende: BoendeDep,
    audit: AuditDep,
    table: TableFormatDep,
    as_of: AsOf = None,
    min_position: MinPosition = None,
) -> dict[str, Any] | Response:
    """The stock on ``as_of`` (default today): each apartment's state after
    its last fact dated on or before it; vacancy days count effective dates
    up to it. Landlords by organisation number where known. With
    ``as_of_position`` and the ``tree_size`` and ``root_hash`` (hex) of the
    log up to it."""
    body = apartments(boende, as_of, min_position, audit)
    if not table.csv:
        return body
    provenance = provenance_of("apartments", body, as_of=body["as_of"])
    name = f"apartments_{body['as_of']}.csv"
    return csv_response(apartments_table(body), provenance, name, table.lang)
