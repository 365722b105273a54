"""Who may call what: ONE table from route to roles, and the middleware
that enforces it.

``create_app`` installs :class:`Authorization`, plain ASGI middleware:
before FastAPI reads anything of the request, :func:`authorize` takes the
matched route's method and path template and looks them up in
:data:`ROUTES`: a public route passes; otherwise the bearer token must
verify (401 ``unauthenticated``, with ``WWW-Authenticate: Bearer``) and
carry one of the route's roles (403 ``forbidden``). A route missing from
the table is refused to everyone (403), and
``tests/api/test_authorization_matrix.py`` fails until it is added.

The oversight web's pages (under :data:`PAGES`, ``services.http.pages``) take
a person's signed session cookie (``infra.sessions``) when no bearer token is
sent: a visit with neither is :class:`LoginRequired` (the pages answer 303 to
the login page), a session with the wrong roles :class:`PageForbidden` (403,
as a page). A bearer token on a page is checked as on any route (scripts,
benchmarks). The JSON routes never read the cookie, so no form of another
site can act through it there.

With ``BOENDE_AUTH=off`` (tests and local experiments; production refuses to
start with it) nothing is checked and the caller is an unauthenticated
principal holding every role.
"""

from __future__ import annotations

import threading
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Annotated, Any, Final, Literal
from urllib.parse import urlsplit

from fastapi import APIRouter, Depends, FastAPI, Request
from fastapi.routing import RouteContext, iter_route_contexts
from fastapi.security import HTTPAuthorizationCredentials
from starlette.concurrency import run_in_threadpool
from starlette.types import ASGIApp, Receive, Scope, Send

from infra import keyfiles
from infra.auth import (
    ROLES,
    AuthConfigError,
    Principal,
    TokenRefused,
    Verifier,
    load_verifier,
)
from infra.sessions import SESSION_COOKIE, Sessions, load_sessions
from infra.settings import Settings
from services.errors import ServiceError

IFN: Final = "ifn_officer"  # submits case events, reads cases (and applicants)
ALN: Final = "aln_officer"  # submits apartment events and contract_executed
OVERSIGHT: Final = "oversight"  # oversight figures: aggregates, no personal data
AUDITOR: Final = "auditor"  # audit trail, proofs, the access log, purges
ADMIN: Final = "admin"  # operations: projections, erase/purge (CLI today)
#: A committee's case system: submits for that committee's officers
#: (claim ``committee``; ``services.submission.submitters``).
CASE_SYSTEM: Final = "case_system"
PUBLIC: Final = "public"
PAGES: Final = "/oversikt"  # the oversight web for people (services.http.pages)

Access = frozenset[str] | Literal["public"]

#: Every route of the app: "METHOD /path/template" -> the roles allowed.
ROUTES: Final[dict[str, Access]] = {
    "GET /healthz": PUBLIC,
    "GET /readyz": PUBLIC,
    "GET /docs": PUBLIC,
    "GET /docs/oauth2-redirect": PUBLIC,
    "GET /redoc": PUBLIC,
    "GET /openapi.json": PUBLIC,
    # + who may name whom: services.submission.submitters
    "POST /v1/submissions": frozenset({IFN, ALN, CASE_SYSTEM}),
    "POST /v1/submissions/batch": frozenset({IFN, ALN, CASE_SYSTEM}),  # alike
    "GET /v1/cases/{case_id}": frozenset({IFN}),
    "GET /v1/cases/{case_id}/applicant": frozenset({IFN}),  # logged, X-Purpose
    "GET /v1/apartments/{apartment_id}": frozenset({ALN}),
    "GET /v1/oversight/counts": frozenset({OVERSIGHT}),
    "GET /v1/oversight/flows": frozenset({OVERSIGHT}),
    "GET /v1/oversight/apartments": frozenset({OVERSIGHT}),
    "GET /v1/oversight/lead-times": frozenset({OVERSIGHT}),
    "GET /v1/oversight/unexecuted": frozenset({OVERSIGHT}),
    "GET /v1/oversight/households": frozenset({OVERSIGHT}),
    "GET /v1/oversight/first-hand": frozenset({OVERSIGHT}),
    "GET /v1/oversight/rents": frozenset({OVERSIGHT}),
    "GET /v1/oversight/vacancy": frozenset({OVERSIGHT}),
    "GET /v1/oversight/landlords": frozenset({OVERSIGHT}),
    "GET /v1/reports/unexecuted": frozenset({OVERSIGHT}),
    "GET /v1/reports/ivo": frozenset({IFN}),  # personal data: logged, X-Purpose
    "GET /v1/reports/council": frozenset({OVERSIGHT}),  # counts, suppressed
    "GET /v1/audit/cases/{case_id}": frozenset({AUDITOR}),
    "GET /v1/audit/events": frozenset({AUDITOR}),
    "GET /v1/audit/access": frozenset({AUDITOR}),
    "GET /v1/audit/purges": frozenset({AUDITOR}),  # person_key_purges
    "GET /v1/audit/public-key": PUBLIC,  # auditors verify offline with it
    "GET /v1/audit/tree-head": frozenset({AUDITOR}),
    "POST /v1/audit/tree-heads": frozenset({AUDITOR, ADMIN}),
    "GET /v1/audit/proof/inclusion": frozenset({AUDITOR}),
    "GET /v1/audit/proof/consistency": frozenset({AUDITOR}),
    # The oversight web: a session cookie, not a bearer token (see above).
    # Logging in and out are forms with a CSRF token (services.http.pages).
    "GET /oversikt/static/{name}": PUBLIC,  # stylesheets
    "GET /docs/assets/{name}": PUBLIC,  # Swagger UI and ReDoc, served offline
    "GET /oversikt/logga-in": PUBLIC,
    "POST /oversikt/logga-in/utveckling": PUBLIC,  # development only
    "GET /oversikt/logga-in/oidc": PUBLIC,  # to the identity provider
    "GET /oversikt/logga-in/svar": PUBLIC,  # its answer (redirect_uri)
    "POST /oversikt/logga-ut": PUBLIC,
    "GET /oversikt": frozenset({OVERSIGHT}),
    "GET /oversikt/floden": frozenset({OVERSIGHT}),
    "GET /oversikt/handlaggningstider": frozenset({OVERSIGHT}),
    "GET /oversikt/bostadsbestand": frozenset({OVERSIGHT}),
    "GET /oversikt/forstahand": frozenset({OVERSIGHT}),
    "GET /oversikt/hyror": frozenset({OVERSIGHT}),
    "GET /oversikt/hemloshet": frozenset({OVERSIGHT}),
    "GET /oversikt/ej-verkstallda": frozenset({OVERSIGHT}),
    "GET /oversikt/ej-verkstallda/kvartalsrapport.csv": frozenset({OVERSIGHT}),
    "GET /oversikt/ej-verkstallda/kvartalsrapport.pdf": frozenset({OVERSIGHT}),
    "GET /oversikt/ej-verkstallda/fullmaktige.csv": frozenset({OVERSIGHT}),
    "GET /oversikt/ej-verkstallda/fullmaktige.pdf": frozenset({OVERSIGHT}),
    "GET /oversikt/ivo": frozenset({IFN}),
    "GET /oversikt/ivo/individrapport.pdf": frozenset({IFN}),  # logged
    "GET /oversikt/revision": frozenset({AUDITOR}),
    "POST /oversikt/revision/signera": frozenset({AUDITOR, ADMIN}),  # CSRF form
}

UNCHECKED = Principal("anonymous (auth off)", frozenset(ROLES), authenticated=False)
ANONYMOUS = Principal("anonymous", frozenset(), authenticated=False)


class Unauthenticated(ServiceError):
    code = "unauthenticated"


class Forbidden(ServiceError):
    code = "forbidden"


class LoginRequired(Unauthenticated):
    """A page visited without a session: 303 to the login page."""


class PageForbidden(Forbidden):
    """A page the signed-in person's roles do not open: 403, as a page."""


#: The scheme as /docs shows it (:func:`document_bearer`, the "Authorize"
#: button); the guard reads the header itself (:func:`bearer_credentials`).
BEARER = {
    "type": "http",
    "description": "a JWT: `boende serve` prints development ones; see README",
    "scheme": "bearer",
}


class Authorization:
    """The app's authorization, as plain ASGI middleware (no FastAPI
    dependency to solve on every request): it finds the route the router
    will take — in the app's routes, in the router's order, the first whose
    path and method match; a path without parameters from a small table
    once seen —, runs :func:`authorize` on it and answers a refusal through
    the app's own exception handlers (the error table's JSON, or the pages'
    redirect to the login page). A request no route matches goes on to the
    router (404, 405) untouched."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self.routes: list[RouteContext] = []
        self.static: dict[tuple[str, str], RouteContext] = {}
        self.routes_seen = -1

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        app = scope["app"]
        route = self.matched(app, scope["method"], scope["path"])
        if route is not None:
            scope.setdefault("state", {})  # shared with the route's request
            request = Request({**scope, "route": route}, receive)
            try:
                await authorize(request, bearer_credentials(scope))
            except ServiceError as refusal:
                await _refuse(app, Request(scope, receive), refusal, send)
                return
        await self.app(scope, receive, send)

    def matched(self, app: FastAPI, method: str, path: str) -> RouteContext | None:
        """The route (its ``path`` the template) for ``method path``, or None."""
        if len(app.routes) != self.routes_seen:  # first call, or routes added
            self.routes = list(iter_route_contexts(app.routes))
            self.static, self.routes_seen = {}, len(app.routes)
        route = self.static.get((method, path))
        if route is not None:
            return route
        for route in self.routes:
            regex = getattr(route, "path_regex", None)
            match = regex.match(path) if regex is not None else None
            if match and method in (route.methods or ()):
                if not match.groupdict():
                    self.static[(method, path)] = route
                return route
        return None


async def _refuse(
    app: Any, request: Request, refusal: ServiceError, send: Send
) -> None:
    """``refusal`` answered by the app's handler for its class."""
    handlers = app.exception_handlers
    kind = next(k for k in type(refusal).__mro__ if k in handlers)
    response = await handlers[kind](request, refusal)
    await response(request.scope, request.receive, send)


def bearer_credentials(scope: Scope) -> HTTPAuthorizationCredentials | None:
    """The ``Authorization: Bearer`` header's token, read as FastAPI's
    ``HTTPBearer(auto_error=False)`` reads it (None when absent or another
    scheme)."""
    for name, value in scope["headers"]:
        if name == b"authorization":
            scheme, _, token = value.decode("latin-1").partition(" ")
            if scheme.lower() != "bearer" or not token.strip():
                return None
            return HTTPAuthorizationCredentials(
                scheme=scheme, credentials=token.strip()
            )
    return None


def document_bearer(schema: dict[str, Any]) -> dict[str, Any]:
    """The OpenAPI document with the bearer scheme on each route that needs
    a token (the "Authorize" button at /docs), none on the public ones."""
    name = "HTTPBearer"
    schemes = schema.setdefault("components", {}).setdefault("securitySchemes", {})
    schemes[name] = dict(BEARER)
    for path, operations in schema.get("paths", {}).items():
        for method, operation in operations.items():
            if ROUTES.get(f"{method.upper()} {path}") != PUBLIC:
                operation["security"] = [{name: []}]
    return schema


def route_key(request: Request) -> str:
    """The matched route as ``METHOD /path/template``, the table's key."""
    template = getattr(request.scope.get("route"), "path", None)
    return f"{request.method} {template}"


async def authorize(
    request: Request, credentials: HTTPAuthorizationCredentials | None
) -> None:
    """Authenticate and check the table (:class:`Guard`, every route); leaves
    the caller in ``request.state.principal``."""
    key = route_key(request)
    access = ROUTES.get(key)
    if access == PUBLIC:
        request.state.principal = ANONYMOUS
        return
    verifier = verifier_of(request.app)
    if verifier is None:
        request.state.principal = UNCHECKED
        return
    if access is None:
        raise Forbidden(f"{key} has no entry in the authorization table")
    browser = is_page(key) and credentials is None
    principal = session_principal(request) if browser else None
    if browser and principal is None:
        raise LoginRequired("sign in to see this page")
    principal = principal or authenticate(verifier, credentials)
    request.state.principal = principal
    if not principal.roles & access:
        raise (PageForbidden if browser else Forbidden)(
            f"{key} needs one of the roles {', '.join(sorted(access))}",
            roles=sorted(access),
        )


def is_page(key: str) -> bool:
    """Whether ``METHOD /path`` is one of the oversight web's pages."""
    path = key.partition(" ")[2]
    return path == PAGES or path.startswith(PAGES + "/")


def may_see(principal: Principal, key: str) -> bool:
    """Whether ``principal`` may call the route ``METHOD /path/template``
    (the pages' navigation shows only these)."""
    access = ROUTES.get(key)
    if access == PUBLIC or not principal.authenticated:
        return access is not None
    return access is not None and bool(principal.roles & access)


def session_principal(request: Request) -> Principal | None:
    """The person of the request's session cookie, if it holds a live one."""
    session = sessions_of(request.app).open(request.cookies.get(SESSION_COOKIE))
    return None if session is None else Principal(session.sub, session.roles)


def authenticate(
    verifier: Verifier, credentials: HTTPAuthorizationCredentials | None
) -> Principal:
    """The principal of an ``Authorization: Bearer <JWT>`` header, or 401."""
    if credentials is None or not credentials.credentials.strip():
        raise Unauthenticated("an Authorization: Bearer token is required")
    try:
        return verifier.verify(credentials.credentials.strip())
    except TokenRefused as refused:
        raise Unauthenticated(str(refused)) from None


async def current_principal(request: Request) -> Principal:
    """The caller, as :func:`authorize` found them."""
    principal = getattr(request.state, "principal", None)
    if not isinstance(principal, Principal):
        raise Forbidden("this route is not behind the authorization dependency")
    return principal


PrincipalDep = Annotated[Principal, Depends(current_principal)]


# -- the verifier, and refusing to start ------------------------------------------

_loading = threading.Lock()


def check_configuration(settings: Settings) -> Verifier | None:
    """The verifier (None with ``auth=off``); :class:`AuthConfigError` when
    the service must not start: ``off`` or the development key in production,
    or no key configured there."""
    if settings.auth == "off":
        if settings.environment == "production":
            raise AuthConfigError(
                "BOENDE_AUTH=off is for tests and local experiments; "
                "production always checks bearer tokens"
            )
        return None
    verifier = load_verifier(settings)
    try:
        load_sessions(settings)  # production refuses a development session key
    except keyfiles.KeyFileError as error:
        raise AuthConfigError(str(error)) from None
    _check_oidc(settings)
    return verifier


def _check_oidc(settings: Settings) -> None:
    """People's sign-in (``services.http.pages.oidc``): the client secret
    file must be readable, and production talks to its provider over https."""
    secret = settings.oidc_client_secret
    if secret is not None and not secret.is_file():
        raise AuthConfigError(f"BOENDE_OIDC_CLIENT_SECRET: no file {secret}")
    issuer = urlsplit(settings.oidc_issuer or "")
    loopback = issuer.hostname in ("127.0.0.1", "::1", "localhost")
    if (
        settings.environment == "production"
        and issuer.scheme == "http"
        and not loopback
    ):
        raise AuthConfigError(
            "BOENDE_OIDC_ISSUER must be https in production: the authorization "
            "code and the tokens would cross the network in clear"
        )


def verifier_of(app: FastAPI) -> Verifier | None:
    """The app's verifier, loaded once (by the startup check, or the first
    request when the app is served without its lifespan)."""
    if not hasattr(app.state, "verifier"):
        with _loading:
            if not hasattr(app.state, "verifier"):
                app.state.verifier = check_configuration(app.state.boende.settings)
    verifier: Verifier | None = app.state.verifier
    return verifier


def sessions_of(app: FastAPI) -> Sessions:
    """The app's session cookie signer, loaded once."""
    if not hasattr(app.state, "sessions"):
        with _loading:
            if not hasattr(app.state, "sessions"):
                app.state.sessions = load_sessions(app.state.boende.settings)
    sessions: Sessions = app.state.sessions
    return sessions


@asynccontextmanager
async def _refuse_unsafe_start(app: FastAPI) -> AsyncIterator[None]:
    await run_in_threadpool(verifier_of, app)
    yield


#: No routes: included last by ``create_app`` for its lifespan, which loads
#: the token keys before serving, so a server configured unsafely never
#: starts (after the other routers' startup checks).
startup = APIRouter(lifespan=_refuse_unsafe_start)
