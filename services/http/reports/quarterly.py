"""The quarterly report of unexecuted decisions, to IVO and the council:
``GET /v1/reports/unexecuted?quarter=2021Q3``; JSON, or CSV
(``?format=csv`` or ``Accept: text/csv``) in Swedish or English
(``?lang=``; ``formats``, docs/reports.md).

Cases appear only under their pseudonymous reference (``infra.keys``). The
JSON answer carries ``as_of_position``, ``tree_size`` and ``root_hash``; a CSV
file carries them in its first lines and in the headers ``X-As-Of-Position``,
``X-Tree-Size`` and ``X-Root-Hash``. A quarter not yet ended is preliminary
and counted to today; one not yet begun is 422 (``formats.quarter_of``).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from typing import Annotated, Any

from fastapi import APIRouter, Query
from fastapi.responses import JSONResponse, Response

from projections import unexecuted as unexecuted_view
from services.http.deps import (
    AuditDep,
    BoendeDep,
    KnownAt,
    MinPosition,
    known_at_utc,
    pseudonym_reference,
    today_of,
)
from services.http.models.common import checked
from services.http.models.reports import QuarterlyReport
from services.http.reports.formats import (
    TableFormatDep,
    csv_response,
    provenance_of,
    quarter_of,
    table_responses,
)
from services.projecting.answers import answer
from services.reporting.suppression import public_report
from services.reporting.tables import Column, Table

router = APIRouter(prefix="/v1/reports", tags=["reports"])

#: The report's columns (``REPORT_COLUMNS``) and the code list of each.
REPORT_TABLE: tuple[Column, ...] = tuple(
    Column(name, codes)
    for name, codes in zip(
        unexecuted_view.REPORT_COLUMNS,
        (
            "section",
            None,
            None,
            None,
            "intervention",
            "gender",
            "delay_reason",
            "report_status",
            None,
            "cancel_reason",
            None,
        ),
        strict=True,
    )
)
#: ``public=true``: the section totals, each shown or suppressed.
PUBLIC_TABLE = (Column("section", "section"), Column("count", "suppression"))


@router.get(
    "/unexecuted",
    summary="The quarterly report of unexecuted decisions (IVO, the council)",
    response_model=QuarterlyReport,
    response_model_exclude_unset=True,
    responses=table_responses(
        "The report: one row per decision (public=true: the section totals)",
        "quarter not like 2021Q3, or not yet begun",
    ),
)
def unexecuted_report(
    boende: BoendeDep,
    audit: AuditDep,
    quarter: Annotated[
        str,
        Query(
            description="the quarter, e.g. 2021Q3; one not yet ended is "
            "preliminary and counted to today, one not yet begun is 422"
        ),
    ],
    table: TableFormatDep,
    known_at: KnownAt = None,
    min_position: MinPosition = None,
    public: Annotated[
        bool,
        Query(description="section totals only, 1-4 as <5; no rows"),
    ] = False,
) -> Response:
    """Rows in three sections (``new``, ``earlier_resolved``,
    ``earlier_standing``) with the columns of ``REPORT_COLUMNS``; see
    ``projections.unexecuted.quarterly_report``. A quarter not yet ended is
    ``preliminary`` and counted to today (``counted_to``); one that has not
    begun is 422 (``formats.quarter_of``)."""
    period = quarter_of(quarter, today_of(boende))
    known = known_at_utc(known_at)
    reference = pseudonym_reference(boende)
    result = answer(
        boende.views["unexecuted"],
        lambda sql: {
            "rows": unexecuted_view.quarterly_report(
                sql, quarter, reference, known, period.counted_to
            )
        },
        min_position,
        boende.settings.read_wait_seconds,
        audit,
    )
    totals = Counter(row["section"] for row in result["rows"])
    body = {
        **period.as_json(),
        "known_at": known,
        "columns": list(unexecuted_view.REPORT_COLUMNS),
        "totals": {section: totals[section] for section in unexecuted_view.SECTIONS},
        **result,
    }
    if public:
        body = public_report(body, boende.settings.suppression_threshold)
    if not table.csv:
        return JSONResponse(checked(QuarterlyReport, body), headers={"Vary": "Accept"})
    provenance = provenance_of(
        "unexecuted_quarterly",
        body,
        quarter=quarter,
        known_at=known,
        preliminary=period.preliminary,
        counted_to=period.counted_to,
        public=True if public else None,
    )
    name = f"unexecuted_{quarter}{'_public' if public else ''}.csv"
    return csv_response(report_table(body), provenance, name, table.lang)


def report_table(body: Mapping[str, Any]) -> Table:
    """The report's JSON answer as a table: its rows, or (``public``) its
    section totals."""
    if body.get("public"):
        return Table.of(
            PUBLIC_TABLE,
            ({"section": s, "count": n} for s, n in body["totals"].items()),
        )
    return Table.of(REPORT_TABLE, body["rows"])
