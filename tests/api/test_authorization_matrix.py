"""Every route of the app, for every role, no token and broken tokens: the
status each gets follows from the one table in ``services.http.authz``.

A route that is not in the table fails ``test_every_route_is_in_the_table``
(and is refused with 403 to everyone), so a new endpoint cannot ship without
deciding who may call it.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import re
import time
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from fastapi import FastAPI
from fastapi.routing import iter_route_contexts
from fastapi.testclient import TestClient

from infra.auth import (
    ROLES,
    AuthConfigError,
    dev_key_path,
    load_or_create_dev_key,
    mint,
    mint_dev_token,
)
from infra.settings import Settings
from services.bootstrap import Boende, bootstrap
from services.cli import main as cli
from services.http.app import create_app
from services.http.authz import PUBLIC, ROUTES, is_page
from tests.conftest import envelope

HOUR = timedelta(hours=1)


@pytest.fixture(scope="module")
def jwt_settings(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    return Settings(data_dir=tmp_path_factory.mktemp("authz") / "var", auth="jwt")


@pytest.fixture(scope="module")
def running(jwt_settings: Settings) -> Iterator[Boende]:
    boende = bootstrap(jwt_settings)
    yield boende
    boende.close()


@pytest.fixture(scope="module")
def app(running: Boende) -> FastAPI:
    return create_app(running)


@pytest.fixture(scope="module")
def client(app: FastAPI) -> Iterator[TestClient]:
    with TestClient(app) as c:  # runs the startup checks too
        yield c


def app_routes(app: FastAPI) -> set[str]:
    """ "METHOD /template" of every route the app serves (HEAD aside).

    FastAPI keeps included routers lazily in ``app.routes``; the route
    contexts resolve them with their prefixes. Cross-checked against the
    OpenAPI paths so that enumeration can never go quietly empty."""
    found = {
        f"{method} {context.path}"
        for context in iter_route_contexts(app.routes)
        for method in context.methods or ()
        if method != "HEAD"
    }
    documented = {
        f"{method.upper()} {path}"
        for path, operations in app.openapi()["paths"].items()
        for method in operations
    }
    assert documented and documented <= found
    return found


def test_every_route_is_in_the_table(app: FastAPI) -> None:
    routes = app_routes(app)
    assert routes - set(ROUTES) == set(), (
        "add these routes to services.http.authz.ROUTES"
    )
    assert set(ROUTES) - routes == set(), "these table entries have no route"


def test_a_route_missing_from_the_table_is_refused_and_noticed(
    running: Boende, jwt_settings: Settings
) -> None:
    app = create_app(running)

    @app.get("/v1/forgotten")
    def forgotten() -> dict[str, str]:
        return {"leaked": "yes"}

    assert "GET /v1/forgotten" in app_routes(app) - set(ROUTES)
    client = TestClient(app)
    for role in ROLES:
        response = client.get("/v1/forgotten", headers=bearer(jwt_settings, role))
        assert response.status_code == 403
        assert response.json()["error"] == "forbidden"
    assert client.get("/v1/forgotten").status_code == 403


# -- the matrix ------------------------------------------------------------------------


def cases() -> list[tuple[str, str]]:
    return sorted((key, role) for key in ROUTES for role in (*ROLES, "no token"))


def documented_statuses(app: FastAPI, route: str) -> set[int] | None:
    """The statuses OpenAPI documents for ``route``; None for the routes it
    does not describe (the documentation pages themselves)."""
    method, template = route.split(" ", 1)
    operation = app.openapi()["paths"].get(template, {}).get(method.lower())
    return None if operation is None else {int(s) for s in operation["responses"]}


def assert_let_through(app: FastAPI, route: str, response: Any) -> None:
    """An allowed caller gets past authorization to one of the route's own,
    documented answers: never 401/403, never a 5xx the route does not own."""
    status = response.status_code
    assert status not in (401, 403), response.text
    assert status < 500 or status == 503, response.text
    documented = documented_statuses(app, route)
    if documented is not None:
        assert status in documented, f"{status} is not documented: {response.text}"


@pytest.mark.parametrize(("route", "caller"), cases())
def test_the_matrix(
    app: FastAPI, client: TestClient, jwt_settings: Settings, route: str, caller: str
) -> None:
    access = ROUTES[route]
    headers = {} if caller == "no token" else bearer(jwt_settings, caller)
    response = call(client, route, headers, caller)
    if access == PUBLIC or (caller != "no token" and caller in access):
        assert_let_through(app, route, response)
    elif caller == "no token" and is_page(route):
        assert_sent_to_login(response)
    elif caller == "no token":
        assert_unauthenticated(response)
    else:
        assert response.status_code == 403, response.text
        assert response.json()["error"] == "forbidden"


BROKEN = ["expired", "wrong signature", "alg none", "HS256 with the public key"]


@pytest.mark.parametrize("broken", BROKEN)
@pytest.mark.parametrize(
    "route", sorted(key for key, access in ROUTES.items() if access != PUBLIC)
)
def test_broken_tokens_are_unauthenticated(
    client: TestClient, jwt_settings: Settings, route: str, broken: str
) -> None:
    token = broken_token(jwt_settings, broken, roles=list(ROLES))
    response = call(client, route, {"Authorization": f"Bearer {token}"}, "admin")
    assert_unauthenticated(response)


def test_malformed_authorization_headers(client: TestClient) -> None:
    for value in ("Bearer", "Bearer    ", "Basic dXNlcjpwdw==", "Bearer not.a.jwt"):
        response = client.get("/v1/oversight/counts", headers={"Authorization": value})
        assert_unauthenticated(response)


def test_public_routes_answer_without_a_token(client: TestClient) -> None:
    for path in ("/healthz", "/readyz", "/docs", "/redoc", "/openapi.json"):
        assert client.get(path).status_code == 200, path
    assert client.get("/v1/audit/public-key").json()["algorithm"] == "Ed25519"


# -- the committee of a submission must match the token --------------------------------


def test_a_submission_needs_its_committees_role(
    client: TestClient, jwt_settings: Settings
) -> None:
    ifn = bearer(jwt_settings, "ifn_officer")
    aln = bearer(jwt_settings, "aln_officer")
    filing = envelope("application_filed", "c-committee-1", **named("ifn_officer"))
    acquired = envelope(
        "apartment_acquired", "a-committee-1", **named("aln_officer", "ALN")
    )
    assert post(client, filing, aln).json()["error"] == "forbidden"
    assert post(client, acquired, ifn).json()["error"] == "forbidden"
    assert post(client, filing, ifn).status_code == 201
    assert post(client, acquired, aln).status_code == 201
    as_ks = {**filing, "actor": {"committee": "KS", "user": "ks-1"}}
    both = bearer(jwt_settings, "ifn_officer", "aln_officer")
    response = post(client, as_ks, both)
    assert response.status_code == 403 and response.json()["committee"] == "KS"


def test_a_token_with_both_officer_roles_submits_for_both(
    client: TestClient, jwt_settings: Settings
) -> None:
    both = bearer(jwt_settings, "ifn_officer", "aln_officer")
    me = "ifn_officer-aln_officer"
    filing = envelope("application_filed", "c-both-1", **named(me))
    acquired = envelope("apartment_acquired", "a-both-1", **named(me, "ALN"))
    assert post(client, filing, both).is_success
    assert post(client, acquired, both).is_success


def named(roles: str, committee: str = "IFN") -> dict[str, Any]:
    """The actor of an envelope naming the holder of ``bearer``'s token."""
    return {"actor": {"committee": committee, "user": f"test-{roles}"}}


# -- refusing to start -----------------------------------------------------------------


def test_production_will_not_start_without_a_configured_key(tmp_path: Path) -> None:
    production = Settings(data_dir=tmp_path / "var", environment="production")
    production = production.model_copy(update={"auth": "jwt"})
    boende = bootstrap(production)
    try:
        with (
            pytest.raises(AuthConfigError, match="BOENDE_JWT_PUBLIC_KEY_PATH"),
            TestClient(create_app(boende)),
        ):
            pass
    finally:
        boende.close()


@pytest.mark.parametrize(
    ("env", "refusal"),
    [
        ({"BOENDE_AUTH": "off"}, "BOENDE_AUTH=off"),
        ({"BOENDE_AUTH": "jwt"}, "BOENDE_JWKS_PATH"),
        (
            {"BOENDE_AUTH": "jwt", "BOENDE_JWT_PUBLIC_KEY_PATH": "DEV_PUB"},
            "development token key",
        ),
    ],
)
def test_boende_serve_refuses_unsafe_production_settings(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    env: dict[str, str],
    refusal: str,
) -> None:
    data_dir = tmp_path / "var"
    load_or_create_dev_key(Settings(data_dir=data_dir))  # a developer's key
    dev_pub = str(dev_key_path(Settings(data_dir=data_dir)).with_suffix(".pub"))
    monkeypatch.setenv("BOENDE_DATA_DIR", str(data_dir))
    monkeypatch.setenv("BOENDE_ENVIRONMENT", "production")
    for name, value in env.items():
        monkeypatch.setenv(name, dev_pub if value == "DEV_PUB" else value)
    assert cli.main(["serve"]) == 2
    assert refusal in capsys.readouterr().err


def test_boende_token_refuses_in_production(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("BOENDE_DATA_DIR", str(tmp_path / "var"))
    monkeypatch.setenv("BOENDE_ENVIRONMENT", "production")
    assert cli.main(["token", "--role", "auditor", "--sub", "x"]) == 2
    assert "production" in capsys.readouterr().err
    assert not (tmp_path / "var" / "keys").exists()


# -- helpers ---------------------------------------------------------------------------


def bearer(settings: Settings, *roles: str) -> dict[str, str]:
    """A token of ``sub`` test-<roles>; a case system's is bound to IFN."""
    committee = "IFN" if "case_system" in roles else None
    sub = f"test-{'-'.join(roles)}"
    token = mint_dev_token(settings, sub, roles, HOUR, committee=committee)
    return {"Authorization": f"Bearer {token}"}


def call(client: TestClient, route: str, headers: dict[str, str], caller: str) -> Any:
    method, template = route.split(" ", 1)
    path = re.sub(r"\{(\w+)\}", lambda m: f"{m.group(1)}-unknown", template)
    if method == "GET":
        return client.get(
            path,
            headers={**headers, "X-Purpose": "tillsyn"},
            follow_redirects=False,
        )
    if is_page(route):  # a form of the oversight web: with its CSRF token
        form = {"csrf_token": csrf_token(client), "role": "oversight"}
        return client.post(path, headers=headers, data=form, follow_redirects=False)
    body = json.dumps(submission_for(caller)).encode()
    json_headers = {**headers, "content-type": "application/json"}
    return client.request(method, path, headers=json_headers, content=body)


def submission_for(caller: str) -> dict[str, Any]:
    """An envelope the caller's committee may send, naming the caller as its
    officer, so that allowed roles get past the committee check (the check
    itself is tested above)."""
    actor = {"actor": {"committee": "IFN", "user": f"test-{caller}"}}
    if caller == "aln_officer":
        actor["actor"]["committee"] = "ALN"
        return envelope("apartment_acquired", f"a-{time.monotonic_ns()}", **actor)
    return envelope("application_filed", f"c-{time.monotonic_ns()}", **actor)


def post(client: TestClient, body: dict[str, Any], headers: dict[str, str]) -> Any:
    return client.post("/v1/submissions", json=body, headers=headers)


def csrf_token(client: TestClient) -> str:
    """The CSRF token of the login page's forms (its cookie is in the client)."""
    page = client.get("/oversikt/logga-in").text
    found = re.search(r'name="csrf_token" value="([^"]+)"', page)
    assert found, "the login page has no CSRF token"
    return found.group(1)


def assert_sent_to_login(response: Any) -> None:
    """A page visited without a session or token: to the login page, and back."""
    assert response.status_code == 303, response.text
    assert response.headers["location"].startswith("/oversikt/logga-in?nasta=")


def assert_unauthenticated(response: Any) -> None:
    assert response.status_code == 401, response.text
    assert response.json()["error"] == "unauthenticated"
    assert response.headers["WWW-Authenticate"].startswith("Bearer")


def broken_token(settings: Settings, kind: str, roles: list[str]) -> str:
    key = load_or_create_dev_key(settings)
    claims = {"sub": "mallory", "roles": roles, "exp": int(time.time()) + 3600}
    if kind == "expired":
        return mint(key, "mallory", roles, timedelta(hours=-1))
    if kind == "wrong signature":
        return mint(Ed25519PrivateKey.generate(), "mallory", roles, HOUR)
    if kind == "alg none":
        return unsigned_jwt({"alg": "none", "typ": "JWT"}, claims)
    public_pem = dev_key_path(settings).with_suffix(".pub").read_bytes()
    return hs256_jwt(claims, public_pem)


def b64url(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def unsigned_jwt(header: dict[str, Any], claims: dict[str, Any]) -> str:
    parts = [json.dumps(header).encode(), json.dumps(claims).encode()]
    return ".".join(b64url(p) for p in parts) + "."


def hs256_jwt(claims: dict[str, Any], secret: bytes) -> str:
    """The classic key-confusion forgery: HMAC "signed" with the public key."""
    signing_input = unsigned_jwt({"alg": "HS256", "typ": "JWT"}, claims)[:-1]
    mac = hmac.new(secret, signing_input.encode(), hashlib.sha256).digest()
    return f"{signing_input}.{b64url(mac)}"
