"""The access log: every read of personal data — who (the token's ``sub``),
which case, when, through which endpoint, and the stated purpose — and the
two endpoints that touch it.

- ``GET /v1/cases/{case_id}/applicant`` (``ifn_officer``): the applicant's
  personnummer and name. The header ``X-Purpose`` is required (422
  ``purpose_required`` without it). The access is logged first, in a
  transaction of its own; only once that has committed is the applicant
  decrypted and returned. If logging fails nothing is read (503).
- ``GET /v1/audit/access`` (``auditor``): the log, filtered by case, user and
  UTC day, page by page by id.

The table ``access_log`` lives in the store's engine (``ViewStore``
"access_log": ``<data_dir>/view_access_log.sqlite``, or a table of the
store's PostgreSQL database). It is append-only: this module only inserts
and selects, and triggers refuse UPDATE and DELETE (a guard against slips).
"""

from __future__ import annotations

import threading
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from typing import Annotated, Any

from eventsourcing.application import AggregateNotFoundError
from eventsourcing.persistence import PersistenceError
from fastapi import APIRouter, FastAPI, Header, Query, Request

from domain.case import case_id_to_uuid
from infra.settings import Settings
from infra.views import ViewStore
from projections.base import utc_text
from services.api_deps import BoendeDep
from services.authz import PrincipalDep, route_key
from services.bootstrap import Boende
from services.day_pages import PAGE_RESPONSES, DayPage, DayPageDep
from services.errors import NotFoundError, ServiceError, StoreUnavailable
from services.gdpr import applicant_of

MAX_PURPOSE_CHARS = 200
_PG_LOCK = 0x41_43_43_45_53_53  # "ACCESS": one process creates the table


class PurposeRequired(ServiceError):
    code = "purpose_required"


@dataclass(frozen=True)
class Access:
    """One logged read of personal data."""

    id: int
    accessed_at: str  # UTC, like 2024-05-01T12:00:00.000000Z
    sub: str
    case_id: str
    endpoint: str
    purpose: str


class AccessLog:
    """The append-only log of personal-data reads."""

    def __init__(self, settings: Settings) -> None:
        self.store = ViewStore(settings, "access_log")
        with self.store.transaction(commit=True) as sql:
            if self.store.postgres:
                sql.execute("SELECT pg_advisory_xact_lock(?)", [_PG_LOCK])
            for statement in _schema(self.store.postgres):
                sql.execute(statement)

    def record(self, sub: str, case_id: str, endpoint: str, purpose: str) -> Access:
        """Append one entry and commit it; the entry as stored."""
        at = utc_text(datetime.now(UTC))
        with self.store.transaction(commit=True) as sql:
            row = sql.one(
                "INSERT INTO access_log (accessed_at, sub, case_id, endpoint, purpose)"
                " VALUES (?, ?, ?, ?, ?) RETURNING id",
                [at, sub, case_id, endpoint, purpose],
            )
        assert row is not None
        return Access(int(row["id"]), at, sub, case_id, endpoint, purpose)

    def entries(
        self,
        page: DayPage,
        case_id: str | None = None,
        user: str | None = None,
    ) -> list[Access]:
        """The entries of ``page`` (up to ``page.fetch``), in id order,
        filtered by case and user when given."""
        where, params = page.conditions("accessed_at")
        for column, value in (("case_id", case_id), ("sub", user)):
            if value is not None:
                where.append(f"{column} = ?")
                params.append(value)
        with self.store.transaction(commit=False) as sql:
            rows = sql.all(
                f"SELECT {_COLUMNS} FROM access_log WHERE {' AND '.join(where)} "
                "ORDER BY id LIMIT ?",
                [*params, page.fetch],
            )
        return [_access(row) for row in rows]

    def close(self) -> None:
        self.store.close()


_COLUMNS = "id, accessed_at, sub, case_id, endpoint, purpose"


def _access(row: dict[str, Any]) -> Access:
    return Access(
        int(row["id"]),
        row["accessed_at"],
        row["sub"],
        row["case_id"],
        row["endpoint"],
        row["purpose"],
    )


def _schema(postgres: bool) -> list[str]:
    # AUTOINCREMENT: SQLite never reuses an id, like a PostgreSQL sequence.
    id_column = "BIGSERIAL" if postgres else "INTEGER PRIMARY KEY AUTOINCREMENT"
    if postgres:
        id_column += " PRIMARY KEY"
    table = (
        f"CREATE TABLE IF NOT EXISTS access_log (id {id_column}, "
        "accessed_at TEXT NOT NULL, sub TEXT NOT NULL, case_id TEXT NOT NULL, "
        "endpoint TEXT NOT NULL, purpose TEXT NOT NULL)"
    )
    indexes = [
        "CREATE INDEX IF NOT EXISTS access_log_by_case ON access_log (case_id, id)",
        "CREATE INDEX IF NOT EXISTS access_log_by_sub ON access_log (sub, id)",
    ]
    return [table, *indexes, *(_pg_guards() if postgres else _sqlite_guards())]


def _sqlite_guards() -> list[str]:
    return [
        f"CREATE TRIGGER IF NOT EXISTS access_log_no_{op.lower()} BEFORE {op} "
        "ON access_log BEGIN SELECT RAISE(ABORT, 'access_log is append-only'); END"
        for op in ("UPDATE", "DELETE")
    ]


def _pg_guards() -> list[str]:
    return [
        "CREATE OR REPLACE FUNCTION boende_access_log_append_only() RETURNS trigger "
        "LANGUAGE plpgsql AS $$ BEGIN "
        "RAISE EXCEPTION 'access_log is append-only'; END $$",
        "CREATE OR REPLACE TRIGGER access_log_append_only BEFORE UPDATE OR DELETE "
        "ON access_log FOR EACH ROW EXECUTE FUNCTION boende_access_log_append_only()",
        "CREATE OR REPLACE TRIGGER access_log_no_truncate BEFORE TRUNCATE "
        "ON access_log FOR EACH STATEMENT "
        "EXECUTE FUNCTION boende_access_log_append_only()",
    ]


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


# -- the endpoints -------------------------------------------------------------

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
