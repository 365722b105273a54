"""The council's statistical report (*kommunfullmäktiges statistikrapport*):
``GET /v1/reports/council?quarter=2025Q3`` for the oversight role.

Granted decisions unexecuted past three months at the quarter's end, and
those executed late during it, by intervention, gender and IVO's waiting
bands (``projections.council`` counts and defines the months), with
subtotals and totals, suppressed as one table per measure
(``services.reporting.council``, ``services.reporting.suppression``): the
report is published, so it is always ``public``. Counts only, nothing that
names a case or a person.

JSON with ``as_of_position``, ``tree_size`` and ``root_hash``, or CSV
(``?format=csv`` or ``Accept: text/csv``; ``?lang=sv|en``) with the same
provenance in its first lines (``formats``). A quarter not yet ended is
``preliminary`` and counted to today; one not yet begun is 422. The
printable page for the council renders this JSON (the oversight web).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated, Any

from fastapi import APIRouter, Query
from fastapi.responses import JSONResponse, Response

from projections.council import council_cells
from services.http.deps import (
    AuditDep,
    BoendeDep,
    KnownAt,
    MinPosition,
    known_at_utc,
    today_of,
)
from services.http.models.common import checked
from services.http.models.reports import CouncilReport
from services.http.reports.formats import (
    TableFormatDep,
    csv_response,
    provenance_of,
    quarter_of,
    table_responses,
)
from services.projecting.answers import answer
from services.reporting.council import COLUMNS, TOTAL, council_tables
from services.reporting.tables import Coded, Column, Table

router = APIRouter(prefix="/v1/reports", tags=["reports"])

#: The CSV: one line per row of each table, the measure first.
CSV_COLUMNS = (
    Column("measure", "council_measure"),
    Column("intervention", "intervention"),
    Column("gender", "gender"),
    *(Column(column, "suppression") for column in COLUMNS),
)


@router.get(
    "/council",
    summary="The council's statistical report: unexecuted and late, by "
    "intervention, gender and months waited, small counts suppressed",
    response_model=CouncilReport,
    response_model_exclude_unset=True,
    responses=table_responses(
        "Per measure (unexecuted at quarter end, executed late in the "
        "quarter) a table of intervention and gender by waiting band, with "
        "totals; counts 1-4 as <5 and as few others suppressed as keep them "
        "from being worked out",
        "quarter not like 2021Q3, or not yet begun",
    ),
)
def council_report(
    boende: BoendeDep,
    audit: AuditDep,
    quarter: Annotated[
        str,
        Query(
            description="the quarter, e.g. 2025Q3; one not yet ended is "
            "preliminary and counted to today, one not yet begun is 422"
        ),
    ],
    table: TableFormatDep,
    known_at: KnownAt = None,
    min_position: MinPosition = None,
) -> Response:
    """The quarter's two tables (``tables.unexecuted``,
    ``tables.executed_late``), each a list of rows with ``intervention``,
    ``gender`` (``total`` in subtotal and total rows) and a figure per
    waiting band and ``total``: a count, ``"<5"`` or ``"suppressed"``."""
    period = quarter_of(quarter, today_of(boende))
    known = known_at_utc(known_at)
    threshold = boende.settings.suppression_threshold
    result = answer(
        boende.views["unexecuted"],
        lambda sql: {
            "cells": council_cells(sql, period.start, period.counted_to, known)
        },
        min_position,
        boende.settings.read_wait_seconds,
        audit,
    )
    cells = result.pop("cells")
    body = {
        **period.as_json(),
        "known_at": known,
        **council_tables(cells, threshold),
        **result,
    }
    if not table.csv:
        return JSONResponse(checked(CouncilReport, body), headers={"Vary": "Accept"})
    provenance = provenance_of(
        "council",
        body,
        quarter=quarter,
        known_at=known,
        preliminary=period.preliminary,
        counted_to=period.counted_to,
        threshold=threshold,
    )
    return csv_response(
        council_table(body), provenance, f"council_{quarter}.csv", table.lang
    )


def council_table(body: Mapping[str, Any]) -> Table:
    """The report's JSON answer as one CSV table: each table's rows after
    the other, a total written as the ``measure`` list's ``total``."""

    def code(value: str) -> Any:
        return Coded("measure", TOTAL) if value == TOTAL else value

    return Table.of(
        CSV_COLUMNS,
        (
            {
                **row,
                "measure": measure,
                "intervention": code(row["intervention"]),
                "gender": code(row["gender"]),
            }
            for measure, rows in body["tables"].items()
            for row in rows
        ),
    )
