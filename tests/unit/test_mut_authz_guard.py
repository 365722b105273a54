"""The authorization middleware (``services/http/authz.py``: ``Authorization``,
``bearer_credentials``, ``document_bearer``), driven as plain ASGI: a scope
in, the messages it sends out, and the scope the app behind it receives. The
route is found as the router would find it (first match of path and method,
a path without parameters remembered), the caller reaches the route's
request state, a refusal is answered by the app's own handler for its class,
and the OpenAPI document puts the bearer scheme on every route but the
public ones."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, PlainTextResponse
from fastapi.security import HTTPAuthorizationCredentials
from starlette.routing import BaseRoute, Match, Mount

from infra.auth import Verifier, load_or_create_dev_key, load_verifier, mint
from infra.settings import Settings
from services.errors import ServiceError
from services.http.authz import (
    ANONYMOUS,
    BEARER,
    UNCHECKED,
    Authorization,
    Forbidden,
    Unauthenticated,
    bearer_credentials,
    document_bearer,
)


class NoPath(BaseRoute):
    """A route of the router's own kind that has no ``path_regex``."""

    def matches(self, scope: Any) -> tuple[Match, dict[str, Any]]:
        return Match.NONE, {}


def noop() -> None:
    """A route's endpoint: never called here (the app behind the guard is
    the recorder, not the router)."""


def routed(verifier: Verifier | None) -> FastAPI:
    """An app with a few of the table's routes, and a handler per refusal
    class: Unauthenticated its own, every other ServiceError the general one."""
    app = FastAPI()
    app.state.boende = SimpleNamespace(settings=None)
    app.state.verifier = verifier
    app.router.routes.append(NoPath())  # a route with no path to match
    app.router.routes.append(Mount("/v1/cases/static", app=PlainTextResponse("x")))
    app.get("/healthz")(noop)
    app.post("/v1/cases/{case_id}")(noop)  # not in the table: the GET is
    app.get("/v1/cases/{case_id}")(noop)
    app.get("/v1/audit/events")(noop)

    @app.exception_handler(Unauthenticated)
    async def unauthenticated(request: Request, error: ServiceError) -> JSONResponse:
        return JSONResponse({"401": error.message}, status_code=401)

    @app.exception_handler(ServiceError)
    async def refused(request: Request, error: ServiceError) -> JSONResponse:
        headers = {"X-Path": request.url.path}  # the handler gets the request
        return JSONResponse({error.code: error.message}, 403, headers)

    return app


class Behind:
    """The app behind the guard: keeps each scope it gets and the body it
    reads (the guard passes the request's ``receive`` on), answers 204."""

    def __init__(self) -> None:
        self.scopes: list[dict[str, Any]] = []
        self.bodies: list[bytes] = []

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        self.scopes.append(scope)
        self.bodies.append((await receive())["body"])
        await send({"type": "http.response.start", "status": 204, "headers": []})
        await send({"type": "http.response.body", "body": b""})


def scope_of(
    app: FastAPI, method: str, path: str, *headers: tuple[bytes, bytes]
) -> dict[str, Any]:
    return {
        "type": "http",
        "app": app,
        "method": method,
        "path": path,
        "headers": list(headers),
        "query_string": b"",
    }


def run(guard: Authorization, scope: dict[str, Any]) -> list[dict[str, Any]]:
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b"the body", "more_body": False}

    async def send(message: Any) -> None:
        sent.append(message)

    asyncio.run(guard(scope, receive, send))
    return sent


def answer(sent: list[dict[str, Any]]) -> tuple[int, bytes]:
    return sent[0]["status"], b"".join(m.get("body", b"") for m in sent[1:])


@pytest.fixture
def keyed(tmp_path: Path) -> tuple[Verifier, Settings]:
    settings = Settings(data_dir=tmp_path / "var", auth="jwt")
    load_or_create_dev_key(settings)
    return load_verifier(settings), settings


def bearer_header(settings: Settings, *roles: str) -> tuple[bytes, bytes]:
    token = mint(load_or_create_dev_key(settings), "anna", list(roles), timedelta(1))
    return b"authorization", f"Bearer {token}".encode()


def test_a_caller_with_the_role_reaches_the_route_with_its_principal(
    keyed: tuple[Verifier, Settings],
) -> None:
    verifier, settings = keyed
    app, behind = routed(verifier), Behind()
    header = bearer_header(settings, "ifn_officer")
    scope = scope_of(app, "GET", "/v1/cases/c-1", header)
    assert answer(run(Authorization(behind), scope)) == (204, b"")
    assert behind.bodies == [b"the body"]
    (seen,) = behind.scopes
    assert seen is scope  # the scope itself goes on, not the guard's copy
    assert "route" not in seen  # the router sets it, not the guard
    principal = seen["state"]["principal"]  # where the route's request reads it
    assert (principal.sub, principal.roles) == ("anna", frozenset({"ifn_officer"}))


def test_a_public_route_and_auth_off_leave_their_principal() -> None:
    app, behind = routed(None), Behind()
    run(Authorization(behind), scope_of(app, "GET", "/healthz"))
    run(Authorization(behind), scope_of(app, "GET", "/v1/audit/events"))
    assert [s["state"]["principal"] for s in behind.scopes] == [ANONYMOUS, UNCHECKED]


def test_a_state_already_in_the_scope_is_the_one_used() -> None:
    app, behind = routed(None), Behind()
    state: dict[str, Any] = {"from": "lifespan"}
    run(Authorization(behind), scope_of(app, "GET", "/healthz") | {"state": state})
    assert behind.scopes[0]["state"] is state
    assert state == {"from": "lifespan", "principal": ANONYMOUS}


def test_a_refusal_is_answered_by_the_handler_for_its_class(
    keyed: tuple[Verifier, Settings],
) -> None:
    verifier, settings = keyed
    app, behind = routed(verifier), Behind()
    guard = Authorization(behind)
    no_token = run(guard, scope_of(app, "GET", "/v1/cases/c-1"))
    assert answer(no_token) == (
        401,
        b'{"401":"an Authorization: Bearer token is required"}',
    )
    wrong_role = scope_of(app, "GET", "/v1/cases/c-1", bearer_header(settings, "x"))
    refused = run(guard, wrong_role)
    assert (b"x-path", b"/v1/cases/c-1") in refused[0]["headers"]
    assert answer(refused) == (
        403,
        b'{"forbidden":"GET /v1/cases/{case_id} needs one of the roles ifn_officer"}',
    )
    not_in_table = scope_of(app, "POST", "/v1/cases/c-1")
    assert answer(run(guard, not_in_table)) == (
        403,
        b'{"forbidden":"POST /v1/cases/{case_id} has no entry in the '
        b'authorization table"}',
    )
    assert behind.scopes == []  # nothing refused reaches the app


def test_no_route_goes_on_untouched_for_the_router_to_refuse() -> None:
    """A path no route has (404), a method the path has not (405), a
    mount's path (it has no methods: the router's business)."""
    app, behind = routed(Verifier.__new__(Verifier)), Behind()
    guard = Authorization(behind)
    for method, path in [
        ("GET", "/nowhere"),
        ("DELETE", "/v1/audit/events"),
        ("GET", "/v1/cases/static/x.css"),
    ]:
        scope = scope_of(app, method, path)
        assert answer(run(guard, scope)) == (204, b""), path
        assert "state" not in scope
    assert guard.static == {}


def test_other_scopes_pass_untouched() -> None:
    behind = Behind()
    scope = {"type": "lifespan"}  # no app, method or path to read
    run(Authorization(behind), scope)
    assert behind.scopes == [{"type": "lifespan"}]
    assert behind.bodies == [b"the body"]  # its receive, untouched


def test_the_first_matching_route_in_the_router_s_order() -> None:
    app, behind = routed(None), Behind()
    guard = Authorization(behind)
    route = guard.matched(app, "GET", "/v1/cases/c-1")
    assert route is not None and route.path == "/v1/cases/{case_id}"
    assert route.methods == {"GET"}
    post = guard.matched(app, "POST", "/v1/cases/c-1")
    assert post is not None and post.methods == {"POST"}
    assert guard.matched(app, "PUT", "/v1/cases/c-1") is None


def test_a_path_without_parameters_is_remembered_and_new_routes_are_seen() -> None:
    app = routed(None)
    guard = Authorization(Behind())
    health = guard.matched(app, "GET", "/healthz")
    guard.matched(app, "GET", "/v1/cases/c-1")
    assert guard.static == {("GET", "/healthz"): health}
    assert guard.routes_seen == len(app.routes)
    assert [r.path for r in guard.routes][-3:] == [
        "/v1/cases/{case_id}",
        "/v1/cases/{case_id}",
        "/v1/audit/events",
    ]
    remembered = guard.routes
    assert guard.matched(app, "GET", "/healthz") is health
    assert guard.routes is remembered  # the same routes: not listed again
    app.get("/v1/late")(noop)  # a route added after the first request
    late = guard.matched(app, "GET", "/v1/late")
    assert late is not None and late.path == "/v1/late"
    assert guard.static == {("GET", "/v1/late"): late}  # listed anew, cache too
    assert guard.routes_seen == len(app.routes)


def test_a_remembered_path_is_answered_from_the_table() -> None:
    app = routed(None)
    guard = Authorization(Behind())
    marker: Any = SimpleNamespace(path="/healthz")
    guard.matched(app, "GET", "/v1/audit/events")  # routes listed
    guard.static[("GET", "/healthz")] = marker
    assert guard.matched(app, "GET", "/healthz") is marker


def test_a_fresh_guard_has_seen_no_routes() -> None:
    behind = Behind()
    guard = Authorization(behind)
    assert (guard.app, guard.routes, guard.static) == (behind, [], {})
    assert guard.routes_seen == -1


# -- the bearer header ---------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "credentials"),
    [
        (b"Bearer abc.def", ("Bearer", "abc.def")),
        (b"bearer  abc.def ", ("bearer", "abc.def")),
        (b"BEARER abc", ("BEARER", "abc")),
        (b"Basic abc", None),
        (b"Bearer ", None),
        (b"Bearer    ", None),
        (b"Bearer", None),
        (b"", None),
    ],
)
def test_the_bearer_token_as_fastapi_reads_it(
    value: bytes, credentials: tuple[str, str] | None
) -> None:
    scope = {"headers": [(b"accept", b"*/*"), (b"authorization", value)]}
    expected = (
        None
        if credentials is None
        else HTTPAuthorizationCredentials(
            scheme=credentials[0], credentials=credentials[1]
        )
    )
    assert bearer_credentials(scope) == expected


def test_the_first_authorization_header_decides() -> None:
    scope = {
        "headers": [
            (b"authorization", b"Basic x"),
            (b"authorization", b"Bearer later"),
        ]
    }
    assert bearer_credentials(scope) is None
    assert bearer_credentials({"headers": [(b"x-authorization", b"Bearer t")]}) is None
    assert bearer_credentials({"headers": []}) is None
    latin = {"headers": [(b"authorization", "Bearer tø".encode("latin-1"))]}
    assert bearer_credentials(latin) == HTTPAuthorizationCredentials(
        scheme="Bearer", credentials="tø"
    )


# -- the OpenAPI document ------------------------------------------------------


def test_the_document_names_the_scheme_on_every_route_but_the_public_ones() -> None:
    schema: dict[str, Any] = {
        "components": {"schemas": {"Error": {}}},
        "paths": {
            "/healthz": {"get": {"operationId": "health"}},
            "/v1/cases/{case_id}": {"get": {}, "delete": {}},  # no DELETE: guarded
            "/v1/not-in-the-table": {"post": {}},
        },
    }
    document = document_bearer(schema)
    assert document is schema
    assert document == {
        "components": {
            "schemas": {"Error": {}},
            "securitySchemes": {
                "HTTPBearer": {
                    "type": "http",
                    "description": "a JWT: `boende serve` prints development "
                    "ones; see README",
                    "scheme": "bearer",
                }
            },
        },
        "paths": {
            "/healthz": {"get": {"operationId": "health"}},
            "/v1/cases/{case_id}": {
                "get": {"security": [{"HTTPBearer": []}]},
                "delete": {"security": [{"HTTPBearer": []}]},
            },
            "/v1/not-in-the-table": {"post": {"security": [{"HTTPBearer": []}]}},
        },
    }
    document["components"]["securitySchemes"]["HTTPBearer"]["scheme"] = "x"
    assert BEARER["scheme"] == "bearer"  # a copy in each document


def test_a_document_without_components_or_paths_gets_the_scheme() -> None:
    assert document_bearer({}) == {
        "components": {"securitySchemes": {"HTTPBearer": dict(BEARER)}}
    }


def test_forbidden_is_not_unauthenticated() -> None:
    """(The handler test above relies on it: a 403 goes to the general one.)"""
    assert not issubclass(Forbidden, Unauthenticated)
