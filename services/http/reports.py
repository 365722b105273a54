"""Lead times and the three-month rule, for the executive board and IVO.

- ``GET /v1/oversight/lead-times``: days from filing to decision, decision to
  execution and execution to first-hand lease, per period.
- ``GET /v1/oversight/unexecuted``: decisions unexecuted past three months
  (*ej verkställda beslut*) on a day.
- ``GET /v1/reports/unexecuted?quarter=2021Q3``: the quarterly report to IVO
  and the council; JSON, or CSV when the request's ``Accept`` prefers
  ``text/csv``.

Cases appear only under their pseudonymous reference (``infra.keys``), never
with their case id, personnummer or name. Every JSON answer carries
``as_of_position``; a CSV answer carries it in the ``X-As-Of-Position`` header.
The quarterly report also carries the log it came from, ``tree_size`` and
``root_hash`` (in CSV: ``X-Tree-Size`` and ``X-Root-Hash``).
"""

from __future__ import annotations

import csv
import io
from collections import Counter
from datetime import date, datetime
from functools import partial
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Header, Query
from fastapi.responses import JSONResponse, Response

from infra.keys import pseudonym, pseudonym_key
from projections import lead_times as lead_times_view
from projections import unexecuted as unexecuted_view
from services.bootstrap import Boende
from services.errors import InvalidRequest
from services.http.deps import (
    AuditDep,
    BoendeDep,
    Day,
    MinPosition,
    known_at_utc,
    periods_between,
    today_of,
)
from services.projecting.answers import answer
from services.reporting.suppression import public_report

oversight = APIRouter(prefix="/v1/oversight", tags=["oversight"])
reports = APIRouter(prefix="/v1/reports", tags=["reports"])

KnownAt = Annotated[
    datetime | None, Query(description="only facts recorded by then; default now")
]
CSV_MEDIA_TYPE = "text/csv; charset=utf-8"


@oversight.get("/lead-times", summary="Lead times in days per month, quarter or year")
def lead_times(
    boende: BoendeDep,
    start: Annotated[Day | None, Query(alias="from")] = None,
    end: Annotated[Day | None, Query(alias="to")] = None,
    period: Literal["month", "quarter", "year"] = "month",
    min_position: MinPosition = None,
) -> dict[str, Any]:
    """Per period, for each interval: ``count``, ``median_days``, ``p90_days``
    (nearest rank) and ``max_days``; an interval counts in the period of its
    later date. Default: the last twelve months up to today."""
    end = end or today_of(boende)
    start, end = periods_between(start or date(end.year - 1, end.month, 1), end, period)
    result = answer(
        boende.views["lead_times"],
        lambda sql: {"periods": lead_times_view.lead_times(sql, start, end, period)},
        min_position,
        boende.settings.read_wait_seconds,
    )
    return {
        "from": start.isoformat(),
        "to": end.isoformat(),
        "period": period,
        **result,
    }


@oversight.get("/unexecuted", summary="Decisions unexecuted past three months on a day")
def unexecuted(
    boende: BoendeDep,
    as_of: Annotated[
        Day | None, Query(description="effective date; default today")
    ] = None,
    known_at: KnownAt = None,
    min_position: MinPosition = None,
) -> dict[str, Any]:
    """Each decision past its three-month deadline and neither executed nor
    ended on ``as_of``: reference, decision day, deadline, days waiting,
    intervention, gender and latest delay reason."""
    day = as_of or today_of(boende)
    known = known_at_utc(known_at)
    reference = _reference(boende)
    result = answer(
        boende.views["unexecuted"],
        lambda sql: {
            "decisions": unexecuted_view.unexecuted(sql, day, reference, known)
        },
        min_position,
        boende.settings.read_wait_seconds,
    )
    count = len(result["decisions"])
    return {"as_of": day.isoformat(), "known_at": known, "count": count, **result}


@reports.get(
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
        422: {"description": "invalid_request: quarter is not like 2021Q3"},
    },
)
def unexecuted_report(
    boende: BoendeDep,
    audit: AuditDep,
    quarter: Annotated[str, Query(description="the quarter, e.g. 2021Q3")],
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
    ``projections.unexecuted.quarterly_report``."""
    start, end = _quarter(quarter)
    known = known_at_utc(known_at)
    reference = _reference(boende)
    result = answer(
        boende.views["unexecuted"],
        lambda sql: {
            "rows": unexecuted_view.quarterly_report(sql, quarter, reference, known)
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
        "quarter": quarter,
        "from": start.isoformat(),
        "to": end.isoformat(),
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


def prefers_csv(accept: str | None) -> bool:
    """Whether ``Accept`` gives ``text/csv`` a higher quality than
    ``application/json``; a tie, or no header, means JSON."""
    ranges = [_media_range(part) for part in (accept or "").split(",")]
    return _quality(ranges, "text/csv") > _quality(ranges, "application/json")


def _media_range(text: str) -> tuple[str, float]:
    media_type, *params = (part.strip().lower() for part in text.split(";"))
    for param in params:
        name, _, value = param.partition("=")
        if name.strip() == "q":
            try:
                return media_type, float(value)
            except ValueError:
                return media_type, 0.0
    return media_type, 1.0


def _quality(ranges: list[tuple[str, float]], media_type: str) -> float:
    """The quality of the most specific range that matches ``media_type``."""
    patterns = ["*/*", media_type.split("/")[0] + "/*", media_type]
    matches = [(patterns.index(r), q) for r, q in ranges if r in patterns]
    return max(matches)[1] if matches else 0.0


def _quarter(quarter: str) -> tuple[date, date]:
    try:
        return unexecuted_view.quarter_bounds(quarter)
    except ValueError:
        raise InvalidRequest(
            f"quarter must be a year and a quarter like 2021Q3, not {quarter!r}",
            details=[{"loc": "quarter", "problem": "not like 2021Q3"}],
        ) from None


def _reference(boende: Boende) -> unexecuted_view.Reference:
    """Case id -> pseudonymous reference under this installation's key."""
    settings = boende.settings
    return partial(pseudonym, pseudonym_key(settings.data_dir, settings.environment))
