"""The personal-data reads and their record: ``GET /v1/cases/{case_id}/applicant``
(``ifn_officer``), and the auditors' ``GET /v1/audit/access`` and
``GET /v1/audit/purges``.

- The applicant read needs the header ``X-Purpose``: a code of the
  configured list (``BOENDE_PURPOSE_CODES``; 422 ``purpose_required``
  listing them otherwise), with an optional free-text ``X-Purpose-Note``
  (UTF-8, at most 500 printable characters). The access is logged first, in
  a transaction of its own (``services.audit.access_log``), the note sealed
  under the key of the case's person (kept only while that key exists: the
  note of a read of an erased person is not kept); only once that has
  committed is the applicant decrypted and returned. If logging fails
  nothing is read (503). The case read with notes and the IVO report state
  and log their purpose the same way (:func:`stated_purpose`,
  :func:`log_read`).
- ``/v1/audit/access``: the log, filtered by case, user and UTC day, page by
  page by id; each entry's ``note`` opened while the person's key exists
  (null, with ``note_erased``, once erased); ``/v1/audit/purges``: the
  retention purges (``services.audit.purges``), paged alike.
"""

from __future__ import annotations

import threading
from dataclasses import asdict, dataclass
from typing import Annotated, Any

from eventsourcing.application import AggregateNotFoundError
from eventsourcing.persistence import PersistenceError
from fastapi import APIRouter, FastAPI, Header, Query, Request

from domain.case import case_id_to_uuid
from domain.personnummer import parse_personnummer
from infra import crypto, metrics
from infra.person_keys import person_keys_of
from services.audit.access_log import Access, AccessLog
from services.audit.purges import purge_runs
from services.bootstrap import Boende
from services.errors import NotFoundError, ServiceError, StoreUnavailable
from services.http.authz import PrincipalDep, route_key
from services.http.deps import PAGE_RESPONSES, BoendeDep, DayPageDep, today_of
from services.http.models.audit import AccessPage, PurgesPage
from services.http.models.cases import ApplicantRead
from services.http.openapi import required_headers
from services.privacy.rights import applicant_of

MAX_NOTE_CHARS = 500
NOTE_HEADER = "X-Purpose-Note"


class PurposeRequired(ServiceError):
    code = "purpose_required"


@dataclass(frozen=True)
class Purpose:
    """Why personal data is read: a ``code`` of the configured list, and
    the reader's free-text ``note``, if any (personal data: sealed before
    it is stored)."""

    code: str
    note: str | None = None


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


def purpose_label(purpose: Purpose) -> str:
    """The metric label of a stated purpose: its code (never the note)."""
    return purpose.code


def stated_purpose(request: Request, header: str | None) -> Purpose:
    """The ``X-Purpose`` code and the ``X-Purpose-Note``, or 422
    ``purpose_required`` listing the allowed codes. The refusal never
    repeats what was sent: it may be free text about a person."""
    codes: list[str] = request.app.state.boende.settings.purpose_codes
    code = _utf8(header or "").strip().lower()
    if code not in codes:
        raise PurposeRequired(
            "reading personal data needs a stated purpose: the header X-Purpose "
            f"with one of the codes {', '.join(codes)}; say more, if needed, "
            f"in the header {NOTE_HEADER} (free text, kept sealed)",
            header="X-Purpose",
            allowed=codes,
        )
    note = _utf8(request.headers.get(NOTE_HEADER.lower()) or "").strip() or None
    if note is not None and (len(note) > MAX_NOTE_CHARS or not note.isprintable()):
        raise PurposeRequired(
            f"the header {NOTE_HEADER} takes at most {MAX_NOTE_CHARS} printable "
            "characters (UTF-8)",
            header=NOTE_HEADER,
            allowed=codes,
        )
    return Purpose(code, note)


def log_read(request: Request, sub: str, case_id: str, purpose: Purpose) -> Access:
    """Log one read of ``case_id``'s personal data and commit it, the note
    sealed under the key of the case's person (not kept once that key is
    erased); raises ``PersistenceError`` when the log or the store fails."""
    boende: Boende = request.app.state.boende
    sealed = None if purpose.note is None else _sealed(boende, case_id, purpose.note)
    return access_log_of(request.app).record(
        sub, case_id, route_key(request), purpose.code, sealed
    )


def _sealed(boende: Boende, case_id: str, note: str) -> dict[str, Any] | None:
    """``note`` under the key of ``case_id``'s person, as the submission
    service seals a case's notes; None for an unknown case or an erased key."""
    try:
        case: Any = boende.app.repository.get(case_id_to_uuid(case_id))
    except AggregateNotFoundError:
        return None
    stored = case.applicant
    keys = person_keys_of(boende.app).batch(())
    if crypto.is_sealed(stored):
        sealed = keys.seal_note(case_id, stored["key_id"], None, note)
    else:  # an applicant recorded in clear, before encryption: give it a key
        number = parse_personnummer(stored["personnummer"], today_of(boende))
        sealed = keys.seal_note(case_id, None, number.canonical, note)
    keys.store_new()
    return sealed


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
    Header(
        alias="X-Purpose",
        description="why you read it, a code of BOENDE_PURPOSE_CODES (default: "
        "handläggning, ivo_rapportering, registerutdrag, tillsyn, rättelse); "
        "logged (required). Free text: the header X-Purpose-Note, kept sealed",
    ),
]


@router.get(
    "/v1/cases/{case_id}/applicant",
    tags=["cases"],
    summary="The applicant (personal data): logged, with a stated purpose",
    response_model=ApplicantRead,
    response_model_exclude_unset=True,
    # Read by ``stated_purpose``, to refuse with 422 purpose_required.
    openapi_extra=required_headers("X-Purpose"),
    responses={
        404: {"description": "not_found: unknown case"},
        422: {
            "description": "purpose_required: no X-Purpose code of the list "
            "(the answer lists them), or an X-Purpose-Note too long"
        },
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
    purpose = stated_purpose(request, x_purpose)
    _require_case(boende, case_id)
    try:
        entry = log_read(request, principal.sub, case_id, purpose)
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
    response_model=AccessPage,
    response_model_exclude_unset=True,
    responses=PAGE_RESPONSES,
)
def access(
    request: Request,
    page: DayPageDep,
    case_id: Annotated[str | None, Query(max_length=64)] = None,
    user: Annotated[str | None, Query(max_length=256)] = None,
) -> dict[str, Any]:
    """Entries after id ``after``, in id order, on the UTC days ``from`` to
    ``to``. ``purpose`` is a code (free text only in entries from before
    codes were required); ``note`` the reader's note, opened while the
    person's key exists, null with ``note_erased`` once it is erased.
    ``next_after`` is the next page's ``after``, or null when nothing more
    matches."""
    log = access_log_of(request.app)
    boende: Boende = request.app.state.boende
    try:
        found = log.entries(page, case_id, user)
        shown = [_shown(boende, entry) for entry in found]
    except PersistenceError:
        raise StoreUnavailable("the access log is unreachable") from None
    return page.answer(shown, case_id=case_id, user=user)


def _shown(boende: Boende, entry: Access) -> dict[str, Any]:
    """An entry as the auditor sees it: the note opened, never the sealed form."""
    shown = asdict(entry)
    sealed = shown.pop("purpose_note")
    note = None
    if sealed is not None:
        note = person_keys_of(boende.app).decrypt_note(sealed, entry.case_id)
    return shown | {"note": note, "note_erased": sealed is not None and note is None}


@router.get(
    "/v1/audit/purges",
    tags=["audit"],
    summary="The retention purges of personal-data keys: when, who, how many",
    response_model=PurgesPage,
    response_model_exclude_unset=True,
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
