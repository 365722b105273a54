"""The auditors' endpoints (*revisorer*, IVO): who recorded what, and when.

Every row has its provenance — position, type, dates, committee, user,
submission id. A case's trail also has what each fact said: its
non-personal ``payload`` fields (an allow-list per event type,
``services.audit.content``) and the names of the fields ``withheld`` —
never the applicant, gender, birth year or free text. Every answer carries
``as_of_position``.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any, Literal

from eventsourcing.persistence import PersistenceError
from fastapi import APIRouter, Query

from infra.views import Sql
from projections import audit as audit_view
from services.audit.content import with_content
from services.errors import InvalidRequest, NotFoundError, StoreUnavailable
from services.http.deps import BoendeDep, Day, MinPosition
from services.http.models.audit import CaseTrail, EventsPage
from services.projecting.answers import answer

router = APIRouter(prefix="/v1/audit", tags=["audit"])


@router.get(
    "/cases/{case_id}",
    summary="A case's trail: its events and the apartment events it caused",
    response_model=CaseTrail,
    response_model_exclude_unset=True,
    responses={
        404: {"description": "not_found: the case is not in the audit trail"},
        503: {"description": "unavailable or projection_lagging; retry"},
    },
)
def case_trail(
    case_id: str, boende: BoendeDep, min_position: MinPosition = None
) -> dict[str, Any]:
    """Every event of the case, and every apartment event recorded by the
    case's submissions (same ``submission_id``), in log order; each with
    its non-personal ``payload`` fields and the names of those ``withheld``."""

    def query(sql: Sql) -> dict[str, Any]:
        trail = audit_view.case_trail(sql, case_id)
        if not trail:
            raise NotFoundError(f"no case {case_id} in the audit trail")
        return {"case_id": case_id, "events": trail}

    trail = answer(
        boende.views["audit"], query, min_position, boende.settings.read_wait_seconds
    )
    try:
        trail["events"] = with_content(boende.app, trail["events"])
    except PersistenceError:
        raise StoreUnavailable("the event store is unreachable") from None
    return trail


@router.get(
    "/events",
    summary="Every recorded event, filtered, page by page",
    response_model=EventsPage,
    response_model_exclude_unset=True,
    responses={503: {"description": "unavailable: the read model is unreachable"}},
)
def events(
    boende: BoendeDep,
    committee: Literal["IFN", "ALN", "KS"] | None = None,
    user: Annotated[str | None, Query(max_length=64)] = None,
    start: Annotated[
        Day | None,
        Query(alias="from", description="recorded on or after this UTC day"),
    ] = None,
    end: Annotated[
        Day | None,
        Query(alias="to", description="recorded on or before this UTC day"),
    ] = None,
    after: Annotated[
        int, Query(ge=0, description="cursor: the previous page's next_after")
    ] = 0,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    min_position: MinPosition = None,
) -> dict[str, Any]:
    """Events after position ``after`` in log order; ``from``/``to`` filter
    the recorded time by whole UTC days, both inclusive. ``next_after`` is
    the next page's ``after``, or null when nothing more matches."""
    if start and end and start > end:
        raise InvalidRequest(
            "from must not be after to",
            details=[{"loc": "from", "problem": "after to"}],
        )
    result = answer(
        boende.views["audit"],
        lambda sql: audit_view.events(sql, committee, user, start, end, after, limit),
        min_position,
        boende.settings.read_wait_seconds,
    )
    filters = {"committee": committee, "user": user, "after": after, "limit": limit}
    dates = {"from": _iso(start), "to": _iso(end)}
    return {**filters, **dates, **result}


def _iso(day: date | None) -> str | None:
    return day.isoformat() if day else None
