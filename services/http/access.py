"""The personal-data reads and their record: ``GET /v1/cases/{case_id}/applicant``
(``ifn_officer``), and the auditors' ``GET /v1/audit/access`` and
``GET /v1/audit/purges``.

- The applicant read needs the header ``X-Purpose`` (422 ``purpose_required``
  without it). The access is logged first, in a transaction of its own
  (``services.audit.access_log``); only once that has committed is the
  applicant decrypted and returned. If logging fails nothing is read (503).
- ``/v1/audit/access``: the log, filtered by case, user and UTC day, page by
  page by id; ``/v1/audit/purges``: the retention purges
  (``services.audit.purges``), paged alike.
"""

from __future__ import annotations

import threading
from dataclasses import asdict
from typing import Annotated, Any

from eventsourcing.application import AggregateNotFoundError
from eventsourcing.persistence import PersistenceError
from fastapi import APIRouter, FastAPI, Header, Query, Request

from domain.case import case_id_to_uuid
from infra import metrics
from infra.person_keys import person_keys_of
from services.audit.access_log import AccessLog
from services.audit.purges import purge_runs
from services.bootstrap import Boende
from services.errors import NotFoundError, ServiceError, StoreUnavailable
from services.http.authz import PrincipalDep, route_key
from services.http.deps import PAGE_RESPONSES, BoendeDep, DayPageDep
from services.privacy.rights import applicant_of

MAX_PURPOSE_CHARS = 200
#: Purposes counted by name in ``boende_personal_data_reads_total``; any
#: other stated purpose is counted as ``other``. The header is free text, and
#: free text can name a person: it never becomes a metric label.
PURPOSE_CODES = frozenset(
    {"handläggning", "ivo_rapportering", "registerutdrag", "tillsyn", "rättelse"}
)


class PurposeRequired(ServiceError):
    code = "purpose_required"


_creating = threading.Lock()


def access_log_of(app: FastAPI) -> AccessLog:
    """The app's access log, made on first use and closed with its Boende."""
    with _creating:
        log: AccessLog | None = getattr(app.state, "access_log", None)
        if log is None:
            boende: Boende = app.state.boende
            log = AccessLog(boende.settings)
            boende.closers.append(log.close)
            app.state.access_log = log
    return log


def purpose_label(purpose: str) -> str:
    """The metric label of a stated purpose: a known code, else ``other``."""
    code = purpose.strip().lower()
    return code if code in PURPOSE_CODES else "other"


def stated_purpose(header: str | None) -> str:
    """The ``X-Purpose`` header's text, or 422 ``purpose_required``."""
    text = _utf8(header or "").strip()
    if not text or len(text) > MAX_PURPOSE_CHARS or not text.isprintable():
        raise PurposeRequired(
            "reading personal data needs a stated purpose: the header X-Purpose, "
            f"1 to {MAX_PURPOSE_CHARS} printable characters "
            "(UTF-8; e.g. 'X-Purpose: utredning av ansokan')",
            header="X-Purpose",
        )
    return text


def _utf8(latin1: str) -> str:
    """HTTP header text arrives decoded as Latin-1; most clients send UTF-8
    (å, ä, ö), so decode it as that when it is."""
    try:
        return latin1.encode("latin-1").decode("utf-8")
    except UnicodeError:
        return latin1


router = APIRouter()
PurposeHeader = Annotated[
    str | None,
    Header(alias="X-Purpose", description="why you read it; logged (required)"),
]


@router.get(
    "/v1/cases/{case_id}/applicant",
    tags=["cases"],
    summary="The applicant (personal data): logged, with a stated purpose",
    responses={
        404: {"description": "not_found: unknown case"},
        422: {"description": "purpose_required: no X-Purpose header"},
        503: {"description": "unavailable: the access could not be logged"},
    },
)
def applicant(
    case_id: str,
    request: Request,
    boende: BoendeDep,
    principal: PrincipalDep,
    x_purpose: PurposeHeader = None,
) -> dict[str, Any]:
    """``personnummer`` and ``name``; ``applicant`` is null (and ``erased``
    true) once the person's data has been erased. Logged before it is read:
    ``access_id`` is the log entry."""
    purpose = stated_purpose(x_purpose)
    _require_case(boende, case_id)
    try:
        entry = access_log_of(request.app).record(
            principal.sub, case_id, route_key(request), purpose
        )
    except PersistenceError:
        raise StoreUnavailable(
            "the access log is unreachable, so nothing was read; retry later"
        ) from None
    # Decrypts through infra.person_keys.PersonKeys.decrypt_applicant.
    found = applicant_of(boende, case_id)
    metrics.PERSONAL_DATA_READS.labels(purpose_label(purpose)).inc()
    return {
        "case_id": case_id,
        "applicant": found,
        "erased": found is None,
        "access_id": entry.id,
    }


def _require_case(boende: Boende, case_id: str) -> None:
    try:
        boende.app.repository.get(case_id_to_uuid(case_id))
    except AggregateNotFoundError:
        raise NotFoundError(f"no case {case_id}") from None
    except PersistenceError:
        raise StoreUnavailable("the event store is unreachable; retry later") from None


@router.get(
    "/v1/audit/access",
    tags=["audit"],
    summary="The access log: who read whose personal data, when and why",
    responses=PAGE_RESPONSES,
)
def access(
    request: Request,
    page: DayPageDep,
    case_id: Annotated[str | None, Query(max_length=64)] = None,
    user: Annotated[str | None, Query(max_length=256)] = None,
) -> dict[str, Any]:
    """Entries after id ``after``, in id order, on the UTC days ``from`` to
    ``to``. ``next_after`` is the next page's ``after``, or null when
    nothing more matches."""
    log = access_log_of(request.app)
    try:
        found = log.entries(page, case_id, user)
    except PersistenceError:
        raise StoreUnavailable("the access log is unreachable") from None
    return page.answer([asdict(entry) for entry in found], case_id=case_id, user=user)


@router.get(
    "/v1/audit/purges",
    tags=["audit"],
    summary="The retention purges of personal-data keys: when, who, how many",
    responses=PAGE_RESPONSES,
)
def purges(boende: BoendeDep, page: DayPageDep) -> dict[str, Any]:
    """Purge runs after id ``after``, oldest first, on the UTC days ``from``
    to ``to`` (of ``purged_at``). Each entry: ``id``, ``purged_at``,
    ``purged_by``, ``rule``, ``cases_before`` (keys of cases whose last fact
    was before this day were deleted), ``unused_before`` (keys of no case
    unused since before this time were deleted), ``case_keys_deleted`` and
    ``orphan_keys_deleted``. ``next_after`` is the next page's ``after``, or
    null when nothing more matches."""
    table = person_keys_of(boende.app).table
    try:
        found = purge_runs(table, page)
    except PersistenceError:
        raise StoreUnavailable("the purge record is unreachable") from None
    return page.answer([asdict(run) for run in found])
