"""The HTTP application: routers per audience, one error handler, and
:func:`run`, how ``boende serve`` starts it.

Endpoints that touch the store are plain ``def``: the ``eventsourcing``
library is synchronous, so FastAPI runs them in its thread pool.
"""

from __future__ import annotations

import asyncio
import contextvars
import logging
import subprocess
import sys
import threading
import traceback
from collections.abc import AsyncIterator
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import asynccontextmanager
from datetime import timedelta
from typing import Any

from eventsourcing.persistence import PersistenceError
from fastapi import APIRouter, Depends, FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.requests import ClientDisconnect

from domain.errors import DomainError
from infra import http_server, metrics
from infra.auth import ROLES, AuthConfigError, mint_dev_token
from infra.http_server import bounded_protocol
from infra.settings import Settings
from infra.store import bound_waits
from services.bootstrap import Boende, bootstrap
from services.errors import (
    STATUS_BY_CODE,
    ServiceError,
    StoreUnavailable,
)
from services.http import (
    access,
    audit_trail,
    authz,
    bulk,
    cases,
    figures,
    oversight,
    pages,
    proofs,
    reports,
    submissions,
    timeliness,
)
from services.http.deps import (
    BoendeDep,
    document_min_position,
    refuse_unknown_query_parameters,
)
from services.http.models.common import Health, Ready
from services.http.observe import Observe, request_id_of
from services.http.openapi import with_components, with_error_bodies

log = logging.getLogger(__name__)


health = APIRouter(tags=["health"])


@health.get("/healthz", summary="The process is up", response_model=Health)
async def healthz() -> dict[str, str]:
    # async: answered on the event loop, no thread-pool hop (the bench's
    # bare-stack ceiling).
    return {"status": "ok"}


@health.get(
    "/readyz",
    summary="The event store answers",
    response_model=Ready,
    response_model_exclude_unset=True,
    responses={503: {"description": "unavailable: the store did not answer in time"}},
)
async def readyz(boende: BoendeDep) -> dict[str, Any]:
    """200 with the log's position, or 503 within ``BOENDE_STORE_WAIT_SECONDS``
    when the store does not answer: the probe runs in a thread of its own (one
    at a time, shared by the callers meanwhile), never in the request pool."""
    wait = boende.settings.store_wait_seconds
    probe = asyncio.wrap_future(_probe(boende))
    try:
        position = await asyncio.wait_for(asyncio.shield(probe), wait)
    except (PersistenceError, TimeoutError):
        raise StoreUnavailable(
            f"the event store did not answer within {wait} s"
        ) from None
    return {"status": "ready", "position": position}


_PROBE = ThreadPoolExecutor(1, thread_name_prefix="readyz")
_probes: dict[int, Future[int]] = {}
_probing = threading.Lock()


def _probe(boende: Boende) -> Future[int]:
    """The probe under way, or a new one: a store that hangs holds one
    thread, not one per caller."""
    with _probing:
        running = _probes.get(id(boende))
        if running is None or running.done():
            # Its log lines name the request that started it.
            context = contextvars.copy_context()
            running = _PROBE.submit(context.run, _log_position, boende)
            _probes[id(boende)] = running
        return running


def _log_position(boende: Boende) -> int:
    return boende.app.recorder.max_notification_id() or 0


def error_response(
    error: DomainError | ServiceError, request: Request | None = None
) -> JSONResponse:
    # A refusal may carry its own status (``position_not_recorded``: 409).
    status = STATUS_BY_CODE.get(error.code) or int(getattr(error, "status", 500))
    body = {"error": error.code, "message": error.message, **error.details}
    headers = _HEADERS_BY_STATUS.get(status)
    return _refusal(request, body, status, headers)


def _refusal(
    request: Request | None,
    body: dict[str, Any],
    status: int,
    headers: dict[str, str] | None = None,
) -> JSONResponse:
    """The error body, with the request's id (``services.http.observe``)."""
    request_id = request_id_of(request.scope) if request is not None else None
    if request_id:
        body = {**body, "request_id": request_id}
        headers = {**(headers or {}), "X-Request-ID": request_id}
    return JSONResponse(body, status_code=status, headers=headers)


_HEADERS_BY_STATUS = {401: {"WWW-Authenticate": "Bearer"}, 503: {"Retry-After": "2"}}


def install_error_handlers(app: FastAPI) -> None:
    """Map every refusal to DOMAIN.md's error table, and nothing to a bare 500."""

    @app.exception_handler(DomainError)
    async def _domain(request: Request, error: DomainError) -> JSONResponse:
        return error_response(error, request)

    @app.exception_handler(ServiceError)
    async def _service(request: Request, error: ServiceError) -> JSONResponse:
        return error_response(error, request)

    @app.exception_handler(RequestValidationError)
    async def _request(request: Request, error: RequestValidationError) -> JSONResponse:
        details = [
            {"loc": ".".join(str(p) for p in e["loc"]), "problem": e["msg"]}
            for e in error.errors()
        ]
        body = {
            "error": "invalid_request",
            "message": "invalid request",
            "details": details,
        }
        return _refusal(request, body, 422)

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, error: StarletteHTTPException) -> JSONResponse:
        code = {404: "not_found", 405: "method_not_allowed"}.get(
            error.status_code, "error"
        )
        body = {"error": code, "message": str(error.detail)}
        # A 405's ``Allow`` (RFC 9110 §15.5.6) names the methods there are.
        return _refusal(request, body, error.status_code, dict(error.headers or {}))

    @app.exception_handler(ClientDisconnect)
    async def _gone(request: Request, _: ClientDisconnect) -> JSONResponse:
        # The client left (or was cut off by the read timeout) mid-body:
        # nothing was read, nothing recorded, and no one hears the answer.
        body = {"error": "request_timeout", "message": "the body did not arrive"}
        return _refusal(request, body, 408)

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, error: Exception) -> JSONResponse:
        # The type and where it was raised, not the exception's text: that
        # may quote the input it failed on (a personnummer, a name).
        log.error(
            "unexpected %s\n%s",
            type(error).__name__,
            "".join(traceback.format_tb(error.__traceback__)).rstrip(),
            extra={"request_id": request_id_of(request.scope)},
        )
        body = {
            "error": "internal_error",
            "message": "unexpected error; see the server log",
        }
        return _refusal(request, body, 500)


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
        # Every route: authz's guard (middleware below), then the query's names.
        dependencies=[Depends(refuse_unknown_query_parameters)],
        title="Boende",
        version="1",
        description="Case log and oversight for social housing (sociala kontrakt).",
        docs_url=None,  # /docs and /redoc without a CDN: services.http.pages.docs
        redoc_url=None,
    )
    app.state.boende = boende
    # Outages: the read models' pool fails fast and reconnects at once
    # (infra.store); a submission's wait in the queue is the committer's own
    # (BOENDE_SUBMISSION_WAIT_SECONDS, services.bootstrap).
    for view in boende.views.values():
        bound_waits(view.datastore)
    for router in (
        submissions.router,
        *bulk.ROUTERS,  # POST /v1/submissions/batch
        cases.router,
        oversight.router,
        audit_trail.router,
        proofs.router,
        timeliness.router,
        *reports.ROUTERS,
        *figures.ROUTERS,
        access.router,
        *pages.ROUTERS,  # the oversight web for people, and /docs, /redoc
        health,
        authz.startup,  # last: refuses to start with unsafe auth settings
    ):
        app.include_router(router)
    install_error_handlers(app)
    pages.install(app)  # a page refusal: to the login page, or a page
    # Every route, even one added later: who may call it (authz.ROUTES).
    app.add_middleware(authz.Authorization)
    app.add_middleware(Observe)  # request ids, access-log lines, request metrics
    build = app.openapi  # FastAPI's own, which caches what it builds

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            app.openapi_schema = with_error_bodies(
                lambda: with_components(
                    authz.document_bearer(document_min_position(build()))
                )
            )
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
    return app


def run(settings: Settings) -> int:
    """Serve the API until stopped (``boende serve``). One worker: the app in
    this process, which follows the log too unless
    ``BOENDE_RUN_PROJECTIONS=false``. ``BOENDE_WEB_WORKERS`` N > 1: N uvicorn
    processes, each building the app with :func:`worker_app`, and one
    ``boende project`` beside them for the read models. 2 when the settings
    are unsafe or contradictory (the server does not start)."""
    import uvicorn

    if refusal := _refusal_to_start(settings):
        print(f"boende serve: {refusal}", file=sys.stderr)
        return 2
    workers = settings.web_workers
    boende = bootstrap(settings, follow=settings.run_projections and workers == 1)
    where = (
        "PostgreSQL" if settings.database_url else f"SQLite under {settings.data_dir}/"
    )
    print(f"Boende serving on http://{settings.host}:{settings.port} (store: {where})")
    print(f"API docs: http://{settings.host}:{settings.port}/docs")
    print(f"Oversight web: http://{settings.host}:{settings.port}/oversikt")
    print_development_tokens(settings)
    options: dict[str, Any] = {
        "host": settings.host,
        "port": settings.port,
        "log_level": "warning",
        "log_config": None,  # uvicorn's lines go through infra.logs (JSON too)
        "access_log": False,  # services.http.observe writes the access lines
        "timeout_keep_alive": 5,
        "loop": "auto",  # uvloop when installed (uvicorn[standard])
    }
    if workers == 1:
        if metrics.serve(settings.metrics_port, settings.metrics_host):
            where = f"{settings.metrics_host}:{settings.metrics_port}"
            print(f"metrics: http://{where}/metrics")
        # Slow clients: each request whole within the read timeout, at most
        # so many connections (infra.http_server); idle keep-alive 5 s.
        limits = (settings.http_read_timeout_seconds, settings.http_max_connections)
        app = create_app(boende, close_on_shutdown=True)
        uvicorn.run(app, http=bounded_protocol(*limits), **options)
        return 0
    boende.close()  # the schema is in place; each worker opens its own
    follower = _start_follower(settings)
    try:
        uvicorn.run(
            f"{__name__}:worker_app",
            factory=True,
            workers=workers,
            http=http_server.protocol_path(),
            # A worker opens the store under the schema lock (and may find a
            # read model to rebuild): uvicorn's 5 s ping killed slow starts.
            timeout_worker_healthcheck=60,
            **options,
        )
    finally:
        if follower is not None:
            _stop(follower)
    return 0


def _refusal_to_start(settings: Settings) -> str | None:
    try:
        authz.check_configuration(settings)  # refuses unsafe token settings
    except AuthConfigError as error:
        return str(error)
    if settings.environment == "production" and settings.today is not None:
        return (
            "BOENDE_TODAY fixes the day for tests; production takes today "
            "from the clock: unset it"
        )
    if settings.web_workers > 1 and settings.metrics_port is not None:
        return (
            "BOENDE_METRICS_PORT serves one process's metrics: with "
            "BOENDE_WEB_WORKERS above 1 unset it (or run one worker per "
            "process behind a balancer, each with its own metrics port)"
        )
    return None


def worker_app() -> FastAPI:
    """One ``boende serve --workers N`` process's app (uvicorn's factory):
    its own Boende from the environment, never following the log."""
    settings = Settings()
    http_server.configure(
        settings.http_read_timeout_seconds, settings.http_max_connections
    )
    return create_app(bootstrap(settings, follow=False), close_on_shutdown=True)


def _start_follower(settings: Settings) -> subprocess.Popen[bytes] | None:
    """The one ``boende project`` beside the workers (the same environment),
    unless ``BOENDE_RUN_PROJECTIONS=false``."""
    if not settings.run_projections:
        return None
    command = [sys.executable, "-m", "services.cli.main", "project"]
    print("read models: one 'boende project' beside the workers", flush=True)
    return subprocess.Popen(command)


def _stop(child: subprocess.Popen[bytes]) -> None:
    if child.poll() is None:
        child.terminate()  # SIGTERM: it finishes its batch and stops
        try:
            child.wait(30)
        except subprocess.TimeoutExpired:
            child.kill()
            child.wait()


DEV_TOKEN_LIFETIME = timedelta(hours=12)


def print_development_tokens(settings: Settings) -> None:
    """In development, with the development key, one token of each role."""
    if settings.auth == "off":
        print("auth: off - every request is allowed (tests, local experiments)")
    elif settings.environment == "development" and not (
        settings.jwks_path or settings.jwt_public_key_path
    ):
        print("Development tokens, 12 h (more: boende token --role ROLE --sub NAME):")
        for role in ROLES:
            token = mint_dev_token(settings, f"dev-{role}", [role], DEV_TOKEN_LIFETIME)
            print(f"  {role:<12} {token}")
    sys.stdout.flush()
