"""IVO's individual report (*individrapport*): ``GET /v1/reports/ivo?quarter=``,
for ``ifn_officer`` only; JSON, or CSV for Swedish Excel.

One row per granted decision to report to IVO that quarter (the three-month
rule, ``projections.unexecuted``): the person as IVO names them
(``ÅÅÅÅMMDD-T123``, ``services.privacy.ivo``), the decision id and day, the
intervention, the report kind (new, re-report, executed or ended otherwise,
with the day), the days waited, every recorded delay reason with its day,
offer day and note, and the case id for the rapporteur's own follow-up.

It is a read of personal data, like ``GET /v1/cases/{case_id}/applicant``
(``services.http.access``): it needs ``X-Purpose`` (422 without), and each
case in the report gets an entry in the access log, committed before any
birth date or note is decrypted; if logging fails nothing is read (503). A
quarter without decisions reads no one's data and logs nothing.

After a person's key is erased the row keeps everything but the birth date
and the notes: ``ivo_id`` and ``birth_date`` are null, ``ivo_digits`` stay,
and ``personal_data`` says ``erased``.
"""

from __future__ import annotations

from dataclasses import asdict
from typing import Annotated, Any

from eventsourcing.persistence import PersistenceError
from fastapi import APIRouter, Query, Request
from fastapi.responses import JSONResponse, Response

from domain.errors import NotFound
from infra import metrics
from projections.ivo import REPORT_KINDS, IvoDecision, ivo_decisions
from services.errors import StoreUnavailable
from services.http.access import (
    Purpose,
    PurposeHeader,
    log_read,
    purpose_label,
    stated_purpose,
)
from services.http.authz import PrincipalDep
from services.http.deps import (
    AuditDep,
    BoendeDep,
    KnownAt,
    MinPosition,
    known_at_utc,
    today_of,
)
from services.http.models.common import checked
from services.http.models.reports import IvoReport
from services.http.openapi import required_headers
from services.http.reports.formats import (
    TableFormatDep,
    csv_response,
    provenance_of,
    quarter_of,
    table_responses,
)
from services.privacy.ivo import IvoCase, IvoReader
from services.projecting.answers import answer
from services.reporting.labels import label
from services.reporting.tables import Column, Lang, Table

router = APIRouter(prefix="/v1/reports", tags=["reports"])

ROUTE_DOC = table_responses(
    "The report: one row per decision (personal data)",
    "quarter not like 2025Q3, or not yet begun",
    "purpose_required: no X-Purpose code of the list (the answer lists them)",
) | {
    503: {
        "description": "unavailable: the access could not be logged, or the "
        "store is unreachable; nothing was read"
    }
}


@router.get(
    "/ivo",
    summary="IVO's individual report (personal data: logged, with a purpose)",
    response_model=IvoReport,
    response_model_exclude_unset=True,
    responses=ROUTE_DOC,
    # Read by ``stated_purpose``, to refuse with 422 purpose_required.
    openapi_extra=required_headers("X-Purpose"),
)
def ivo_report(
    request: Request,
    boende: BoendeDep,
    audit: AuditDep,
    principal: PrincipalDep,
    quarter: Annotated[
        str,
        Query(
            description="the quarter, e.g. 2025Q3; one not yet ended is "
            "preliminary and counted to today, one not yet begun is 422"
        ),
    ],
    table: TableFormatDep,
    x_purpose: PurposeHeader = None,
    known_at: KnownAt = None,
    min_position: MinPosition = None,
) -> Response:
    """Rows by report kind (``new``, ``re_report``, ``executed``, ``ended``)
    as the quarterly report orders them; ``preliminary`` while the quarter
    runs (counted to today). See the module docstring."""
    purpose = stated_purpose(request, x_purpose)
    period = quarter_of(quarter, today_of(boende))
    known = known_at_utc(known_at)
    result = answer(
        boende.views["unexecuted"],
        lambda sql: {
            "decisions": ivo_decisions(sql, quarter, known, period.counted_to)
        },
        min_position,
        boende.settings.read_wait_seconds,
        audit,
    )
    decisions: list[IvoDecision] = result.pop("decisions")
    access_ids = _log_reads(request, principal.sub, decisions, purpose)
    cases = _read_cases(boende, decisions)
    if decisions:
        metrics.PERSONAL_DATA_READS.labels(purpose_label(purpose)).inc()
    rows = [ivo_row(d, cases[d.case_id]) for d in decisions]
    if table.csv:
        provenance = provenance_of(
            "ivo",
            result,
            quarter=quarter,
            known_at=known,
            preliminary=period.preliminary,
            counted_to=period.counted_to,
        )
        name = f"ivo_{quarter}.csv"
        response = csv_response(
            ivo_table(rows, table.lang), provenance, name, table.lang
        )
        response.headers["Cache-Control"] = "no-store"
        return response
    kinds = [row["report_kind"] for row in rows]
    body = {
        **period.as_json(),
        "known_at": known,
        "access_ids": access_ids,
        "totals": {kind: kinds.count(kind) for kind in REPORT_KINDS},
        "rows": rows,
        **result,
    }
    headers = {"Vary": "Accept", "Cache-Control": "no-store"}
    return JSONResponse(checked(IvoReport, body), headers=headers)


def ivo_row(decision: IvoDecision, case: IvoCase) -> dict[str, Any]:
    """One row of the report: the decision, and the person as IVO names them."""
    person = case.person
    row = asdict(decision)
    reasons = row.pop("delay_reasons")
    return {
        "ivo_id": person.ivo_id,
        "birth_date": person.birth_date.isoformat() if person.birth_date else None,
        "ivo_digits": person.digits,
        "gender_coded": person.gender_coded,
        "personal_data": person.personal_data,
        "decision_id": row["decision_id"],
        "decided_on": row["decided_on"],
        "deadline": row["deadline"],
        "intervention": row["intervention"],
        "gender": row["gender"],
        "report_kind": row["kind"],
        "report_kind_on": row["kind_on"],
        "end_reason": row["end_reason"],
        "days_waited": row["days_waited"],
        "delay_reasons": [
            {
                "reason": reason["reason"],
                "occurred_on": reason["occurred_on"],
                "offered_on": reason["offered_on"],
                "note": case.notes.get(reason["version"]),
            }
            for reason in reasons
        ],
        "case_id": row["case_id"],
    }


#: The CSV's columns, one line per decision; a decision's delay reasons,
#: offers and notes are each one field, a line per reason.
CSV_COLUMNS = (
    Column("ivo_id"),
    Column("birth_date"),
    Column("ivo_digits"),
    Column("gender", "gender"),
    Column("gender_coded"),
    Column("personal_data", "personal_data"),
    Column("decision_id"),
    Column("decided_on"),
    Column("deadline"),
    Column("intervention", "intervention"),
    Column("report_kind", "ivo_report_kind"),
    Column("report_kind_on"),
    Column("end_reason", "cancel_reason"),
    Column("days_waited"),
    Column("delay_reasons"),
    Column("notes"),
    Column("case_id"),
)


def ivo_table(rows: list[dict[str, Any]], lang: Lang) -> Table:
    """The report as a table: the delay reasons (day, reason, offer day) and
    the notes (day: text) each as one field, a line per reason."""
    return Table.of(
        CSV_COLUMNS,
        (
            row
            | {
                "delay_reasons": _lines(_reason(r, lang) for r in row["delay_reasons"]),
                "notes": _lines(
                    f"{r['occurred_on']}: {r['note']}"
                    for r in row["delay_reasons"]
                    if r["note"] is not None
                ),
            }
            for row in rows
        ),
    )


def _reason(reason: dict[str, Any], lang: Lang) -> str:
    code = reason["reason"]
    named = label("delay_reason", code) if lang == "sv" else code
    text = f"{reason['occurred_on']} {named}"
    if reason["offered_on"]:
        offered = "erbjudet" if lang == "sv" else "offered"
        text += f" ({offered} {reason['offered_on']})"
    return text


def _lines(texts: Any) -> str | None:
    return "\n".join(texts) or None


def _log_reads(
    request: Request, sub: str, decisions: list[IvoDecision], purpose: Purpose
) -> list[int]:
    """One access-log entry per case, each committed before anything is read."""
    try:
        return [log_read(request, sub, d.case_id, purpose).id for d in decisions]
    except PersistenceError:
        raise StoreUnavailable(
            "the access log is unreachable, so nothing was read; retry later"
        ) from None


def _read_cases(boende: Any, decisions: list[IvoDecision]) -> dict[str, IvoCase]:
    reader = IvoReader(boende)
    try:
        return {d.case_id: reader.read(d.case_id) for d in decisions}
    except PersistenceError:
        raise StoreUnavailable("the event store is unreachable; retry later") from None
    except NotFound:
        # The read model names a case the store does not hold (a read model
        # fed from another log): nothing to report it from.
        raise StoreUnavailable(
            "the three-month read model and the event store disagree; "
            "rebuild the read model (boende projections rebuild unexecuted)"
        ) from None
