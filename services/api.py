"""The HTTP application: routers per audience, one error handler.

Endpoints that touch the store are plain ``def``: the ``eventsourcing``
library is synchronous, so FastAPI runs them in its thread pool.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Annotated, Any

from eventsourcing.application import AggregateNotFoundError
from eventsourcing.persistence import PersistenceError
from fastapi import APIRouter, Depends, FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from domain.apartment import Apartment, apartment_id_to_uuid
from domain.case import HousingCase, case_id_to_uuid
from domain.errors import DomainError
from services import (
    access_log,
    apartments_api,
    audit_api,
    audit_proof_api,
    authz,
    key_purges,
    oversight_api,
    reports_api,
)
from services.api_deps import BoendeDep
from services.bootstrap import Boende
from services.envelope import SUBMISSION
from services.errors import (
    STATUS_BY_CODE,
    NotFoundError,
    PayloadTooLarge,
    ServiceError,
    StoreUnavailable,
)
from services.examples import OPENAPI_EXAMPLES
from services.openapi_errors import with_error_bodies
from services.submissions import Accepted, parse
from services.views import apartment_view, case_view

log = logging.getLogger(__name__)


async def read_body(request: Request) -> bytes:
    """The raw body, refused with 413 as soon as it passes the limit."""
    limit: int = request.app.state.boende.settings.max_body_bytes
    declared = request.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > limit:
        raise _too_large(int(declared), limit)
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > limit:
            raise _too_large(len(body), limit)
    return bytes(body)


def _too_large(size: int, limit: int) -> ServiceError:
    return PayloadTooLarge(
        f"body is over the {limit}-byte limit", limit=limit, size=size
    )


submissions = APIRouter(prefix="/v1", tags=["submissions"])


@submissions.post(
    "/submissions",
    status_code=201,
    summary="Record one fact of a case or an apartment",
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {
                "application/json": {
                    "schema": SUBMISSION.json_schema(
                        ref_template="#/components/schemas/{model}"
                    ),
                    "examples": OPENAPI_EXAMPLES,
                }
            },
        }
    },
    responses={
        200: {"description": "A repeat of a recorded submission: the first result"},
        201: {"description": "Recorded: the global log position and new version"},
        403: {"description": "forbidden: the committee may not submit this type"},
        404: {"description": "not_found: unknown case or apartment"},
        409: {
            "description": "transition_not_allowed, submission_id_conflict, "
            "concurrent_update, apartment_unavailable or date_out_of_order"
        },
        413: {"description": "payload_too_large"},
        422: {"description": "invalid_submission, with details per field"},
        503: {"description": "unavailable: nothing was recorded; retry"},
    },
)
async def submit(
    body: Annotated[bytes, Depends(read_body)],
    boende: BoendeDep,
    principal: authz.PrincipalDep,
) -> JSONResponse:
    """Validate and record a submission (DOMAIN.md's envelope).

    ``async`` although the store is synchronous: this endpoint never touches
    the store itself, it hands the envelope to the group-commit writer thread
    and awaits the answer without holding a worker thread."""
    sub = parse(body, boende.settings.max_body_bytes)
    authz.require_committee(principal, sub.actor.committee)
    outcome = await boende.committer.submit_async(sub)
    if not isinstance(outcome, Accepted):
        raise outcome
    return JSONResponse(outcome.as_json(), status_code=200 if outcome.repeated else 201)


cases = APIRouter(prefix="/v1", tags=["cases"])


@cases.get("/cases/{case_id}", summary="A case's current state and history")
def get_case(case_id: str, boende: BoendeDep) -> dict[str, Any]:
    case = _load(boende, case_id_to_uuid(case_id), f"no case {case_id}")
    assert isinstance(case, HousingCase)
    return case_view(case)


@cases.get("/apartments/{apartment_id}", summary="An apartment's state and history")
def get_apartment(apartment_id: str, boende: BoendeDep) -> dict[str, Any]:
    apartment = _load(
        boende, apartment_id_to_uuid(apartment_id), f"no apartment {apartment_id}"
    )
    assert isinstance(apartment, Apartment)
    return apartment_view(apartment)


def _load(boende: Boende, aggregate_id: Any, missing: str) -> Any:
    try:
        return boende.app.repository.get(aggregate_id)
    except AggregateNotFoundError:
        raise NotFoundError(missing) from None
    except PersistenceError:
        raise StoreUnavailable("the event store is unreachable; retry later") from None


health = APIRouter(tags=["health"])


@health.get("/healthz", summary="The process is up")
def healthz() -> dict[str, str]:
    return {"status": "ok"}


@health.get("/readyz", summary="The event store answers")
def readyz(boende: BoendeDep) -> dict[str, Any]:
    try:
        position = boende.app.recorder.max_notification_id() or 0
    except PersistenceError:
        raise StoreUnavailable("the event store is unreachable") from None
    return {"status": "ready", "position": position}


def error_response(error: DomainError | ServiceError) -> JSONResponse:
    status = STATUS_BY_CODE.get(error.code, 500)
    body = {"error": error.code, "message": error.message, **error.details}
    headers = _HEADERS_BY_STATUS.get(status)
    return JSONResponse(body, status_code=status, headers=headers)


_HEADERS_BY_STATUS = {401: {"WWW-Authenticate": "Bearer"}, 503: {"Retry-After": "2"}}


def install_error_handlers(app: FastAPI) -> None:
    """Map every refusal to DOMAIN.md's error table, and nothing to a bare 500."""

    @app.exception_handler(DomainError)
    async def _domain(_: Request, error: DomainError) -> JSONResponse:
        return error_response(error)

    @app.exception_handler(ServiceError)
    async def _service(_: Request, error: ServiceError) -> JSONResponse:
        return error_response(error)

    @app.exception_handler(RequestValidationError)
    async def _request(_: Request, error: RequestValidationError) -> JSONResponse:
        details = [
            {"loc": ".".join(str(p) for p in e["loc"]), "problem": e["msg"]}
            for e in error.errors()
        ]
        return JSONResponse(
            {
                "error": "invalid_request",
                "message": "invalid request",
                "details": details,
            },
            status_code=422,
        )

    @app.exception_handler(StarletteHTTPException)
    async def _http(_: Request, error: StarletteHTTPException) -> JSONResponse:
        code = {404: "not_found", 405: "method_not_allowed"}.get(
            error.status_code, "error"
        )
        return JSONResponse(
            {"error": code, "message": str(error.detail)}, status_code=error.status_code
        )

    @app.exception_handler(Exception)
    async def _unexpected(_: Request, error: Exception) -> JSONResponse:
        log.error("unexpected %s", type(error).__name__, exc_info=error)
        return JSONResponse(
            {
                "error": "internal_error",
                "message": "unexpected error; see the server log",
            },
            status_code=500,
        )


def create_app(boende: Boende, *, close_on_shutdown: bool = False) -> FastAPI:
    """The HTTP app on ``boende``; with ``close_on_shutdown`` (``boende serve``)
    the server's shutdown also stops the writer and the projection follower."""

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        yield
        if close_on_shutdown:
            boende.close()

    app = FastAPI(
        lifespan=lifespan,
        dependencies=[Depends(authz.authorize)],  # every route: services.authz
        title="Boende",
        version="1",
        description="Case log and oversight for social housing (sociala kontrakt).",
    )
    app.state.boende = boende
    for router in (
        submissions,
        cases,
        oversight_api.router,
        apartments_api.router,
        audit_api.router,
        audit_proof_api.router,
        reports_api.oversight,
        reports_api.reports,
        access_log.router,
        key_purges.router,
        health,
        authz.startup,  # last: refuses to start with unsafe auth settings
    ):
        app.include_router(router)
    install_error_handlers(app)
    build = app.openapi  # FastAPI's own, which caches what it builds

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            app.openapi_schema = with_error_bodies(build)
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
    return app
