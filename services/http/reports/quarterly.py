"""The quarterly report of unexecuted decisions, to IVO and the council:
``GET /v1/reports/unexecuted?quarter=2021Q3``; JSON, or CSV when the
request's ``Accept`` prefers ``text/csv``.

Cases appear only under their pseudonymous reference (``infra.keys``). The
JSON answer carries ``as_of_position``, ``tree_size`` and ``root_hash``; a CSV
answer carries them in the headers ``X-As-Of-Position``, ``X-Tree-Size`` and
``X-Root-Hash``.
"""

from __future__ import annotations

import csv
import io
from collections import Counter
from typing import Annotated, Any

from fastapi import APIRouter, Header, Query
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
from services.http.reports.formats import CSV_MEDIA_TYPE, prefers_csv, quarter_of
from services.projecting.answers import answer
from services.reporting.suppression import public_report

router = APIRouter(prefix="/v1/reports", tags=["reports"])


@router.get(
    "/unexecuted",
    summary="The quarterly report of unexecuted decisions (IVO, the council)",
    response_model=None,
    responses={
        200: {
            "description": "JSON by default; CSV (comma-separated, a header "
            "row, LF line ends) when Accept prefers text/csv. JSON carries "
            "as_of_position, tree_size and root_hash; CSV the headers below",
            "content": {"text/csv": {}},
            "headers": {
                "X-As-Of-Position": {
                    "description": "CSV: the log position the report reflects",
                    "schema": {"type": "integer"},
                },
                "X-Tree-Size": {
                    "description": "CSV: events in the log up to that position",
                    "schema": {"type": "integer"},
                },
                "X-Root-Hash": {
                    "description": "CSV: the Merkle root (hex) of that log",
                    "schema": {"type": "string"},
                },
            },
        },
        422: {
            "description": "invalid_request: quarter is not like 2021Q3, or "
            "has not begun (a quarter entirely in the future)"
        },
    },
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
    known_at: KnownAt = None,
    min_position: MinPosition = None,
    accept: Annotated[str | None, Header()] = None,
    public: Annotated[
        bool,
        Query(description="section totals only, 1-4 as <5; always JSON, no rows"),
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
    headers = {"Vary": "Accept"}
    if prefers_csv(accept) and not public:
        headers["X-As-Of-Position"] = str(result["as_of_position"])
        headers["X-Tree-Size"] = str(result["tree_size"])
        headers["X-Root-Hash"] = result["root_hash"]
        headers["Content-Disposition"] = (
            f'attachment; filename="unexecuted_{quarter}.csv"'
        )
        return Response(
            report_csv(result["rows"]), headers=headers, media_type=CSV_MEDIA_TYPE
        )
    totals = Counter(row["section"] for row in result["rows"])
    body = {
        **period.as_json(),
        "known_at": known,
        "columns": list(unexecuted_view.REPORT_COLUMNS),
        "totals": {section: totals[section] for section in unexecuted_view.SECTIONS},
        **result,
    }
    return JSONResponse(public_report(body) if public else body, headers=headers)


def report_csv(rows: list[dict[str, Any]]) -> str:
    """The report as CSV: comma-separated, a header row of the column names,
    one line per row ending in LF, empty fields for missing values."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(unexecuted_view.REPORT_COLUMNS)
    for row in rows:
        writer.writerow(
            "" if row[c] is None else row[c] for c in unexecuted_view.REPORT_COLUMNS
        )
    return out.getvalue()
