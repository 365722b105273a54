"""Signing in and out of the oversight web, through the app (TestClient):
the session cookie and what it may not be, CSRF on every form, the
development login refused in production, page access from the one table,
and /docs and /redoc with nothing from a third-party host."""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from fastapi import FastAPI
from fastapi.testclient import TestClient

from infra import keyfiles
from infra.auth import AuthConfigError
from infra.sessions import (
    CSRF_COOKIE,
    SESSION_COOKIE,
    Session,
    load_sessions,
    session_key_path,
)
from infra.settings import Settings
from services.bootstrap import Boende, bootstrap
from services.http.app import create_app
from services.http.authz import check_configuration
from services.http.pages.oidc import roles_of
from services.http.pages.web import safe_next

LOGIN = "/oversikt/logga-in"


@pytest.fixture(scope="module")
def running(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Boende]:
    data_dir = tmp_path_factory.mktemp("pages") / "var"
    boende = bootstrap(Settings(data_dir=data_dir, auth="jwt"))
    yield boende
    boende.close()


@pytest.fixture(scope="module")
def app(running: Boende) -> FastAPI:
    return create_app(running)


@pytest.fixture
def browser(app: FastAPI) -> TestClient:
    """A browser of its own (its own cookies) for each test."""
    return TestClient(app, follow_redirects=False)


def csrf_token(client: TestClient) -> str:
    found = re.search(r'name="csrf_token" value="([^"]+)"', client.get(LOGIN).text)
    assert found, "the login page has no CSRF token"
    return found.group(1)


def sign_in(client: TestClient, role: str, target: str = "/oversikt") -> object:
    form = {"csrf_token": csrf_token(client), "role": role, "nasta": target}
    return client.post(f"{LOGIN}/utveckling", data=form)


def test_the_development_login_sets_a_strict_session_cookie(
    browser: TestClient,
) -> None:
    response = sign_in(browser, "oversight", "/oversikt?as_of=2026-01-31")
    assert response.status_code == 303  # type: ignore[attr-defined]
    assert response.headers["location"] == "/oversikt?as_of=2026-01-31"  # type: ignore[attr-defined]
    cookie = response.headers["set-cookie"]  # type: ignore[attr-defined]
    assert cookie.startswith(f"{SESSION_COOKIE}=")
    for attribute in ("HttpOnly", "Max-Age=43200", "Path=/oversikt", "SameSite=lax"):
        assert attribute in cookie
    assert "Secure" not in cookie  # development serves plain http on loopback
    page = browser.get("/oversikt")
    assert page.status_code == 200
    assert "Uppsikt (kommunstyrelsen)" in page.text and "Logga ut" in page.text


def test_no_session_goes_to_the_login_page_and_comes_back(browser: TestClient) -> None:
    response = browser.get("/oversikt?as_of=2026-01-31")
    assert response.status_code == 303
    assert (
        response.headers["location"]
        == f"{LOGIN}?nasta=%2Foversikt%3Fas_of%3D2026-01-31"
    )


@pytest.mark.parametrize(
    "cookie",
    ["", "garbage", "eyJzdWIiOiJ4In0.forged-signature"],
)
def test_a_forged_or_empty_session_is_no_session(
    browser: TestClient, cookie: str
) -> None:
    browser.cookies.set(SESSION_COOKIE, cookie, path="/oversikt")
    assert browser.get("/oversikt").status_code == 303


def test_an_expired_session_is_no_session(app: FastAPI, browser: TestClient) -> None:
    sessions = load_sessions(app.state.boende.settings)
    past = Session(
        "dev-oversight", frozenset({"oversight"}), int(time.time()) - 1, "development"
    )
    browser.cookies.set(SESSION_COOKIE, sessions.seal(past), path="/oversikt")
    assert browser.get("/oversikt").status_code == 303
    live = Session(
        "dev-oversight", frozenset({"oversight"}), int(time.time()) + 60, "development"
    )
    browser.cookies.set(SESSION_COOKIE, sessions.seal(live), path="/oversikt")
    assert browser.get("/oversikt").status_code == 200


def test_a_session_with_other_roles_gets_a_403_page(browser: TestClient) -> None:
    sign_in(browser, "auditor")
    response = browser.get("/oversikt")
    assert response.status_code == 403
    assert response.headers["content-type"].startswith("text/html")
    assert "Åtkomst nekad" in response.text and "forbidden" in response.text
    assert "Sidan kräver rollen Uppsikt (kommunstyrelsen)." in response.text


def test_a_bearer_token_on_a_page_is_checked_like_anywhere(browser: TestClient) -> None:
    response = browser.get("/oversikt", headers={"Authorization": "Bearer not.a.jwt"})
    assert response.status_code == 401
    assert response.json()["error"] == "unauthenticated"


@pytest.mark.parametrize("token", ["", "forged", "from-another-browser"])
def test_the_login_form_needs_this_browsers_csrf_token(
    app: FastAPI, browser: TestClient, token: str
) -> None:
    csrf_token(browser)  # this browser has its CSRF cookie
    if token == "from-another-browser":
        token = csrf_token(TestClient(app))
    form = {"csrf_token": token, "role": "oversight"}
    response = browser.post(f"{LOGIN}/utveckling", data=form)
    assert response.status_code == 403
    assert SESSION_COOKIE not in response.headers.get("set-cookie", "")


def test_logout_needs_the_csrf_token_and_ends_the_session(browser: TestClient) -> None:
    sign_in(browser, "oversight")
    assert (
        browser.post("/oversikt/logga-ut", data={"csrf_token": "x"}).status_code == 403
    )
    assert browser.get("/oversikt").status_code == 200  # still signed in
    response = browser.post(
        "/oversikt/logga-ut", data={"csrf_token": csrf_token(browser)}
    )
    assert response.status_code == 303
    assert response.headers["location"] == f"{LOGIN}?utloggad=true"
    assert browser.get("/oversikt").status_code == 303


def test_an_unknown_role_is_refused(browser: TestClient) -> None:
    response = sign_in(browser, "superuser")
    assert response.status_code == 422  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    ("target", "goes_to"),
    [
        ("/oversikt/floden?period=year", "/oversikt/floden?period=year"),
        ("https://evil.example/", "/oversikt"),
        ("//evil.example/oversikt", "/oversikt"),
        ("/v1/oversight/counts", "/oversikt"),
        ("/oversikt\\@evil.example", "/oversikt"),
        (None, "/oversikt"),
    ],
)
def test_after_signing_in_only_our_pages(target: str | None, goes_to: str) -> None:
    assert safe_next(target) == goes_to


def test_pages_answer_with_safe_headers(browser: TestClient) -> None:
    page = browser.get(LOGIN)
    policy = page.headers["content-security-policy"]
    assert "default-src 'self'" in policy and "frame-ancestors 'none'" in policy
    assert page.headers["x-frame-options"] == "DENY"
    assert page.headers["cache-control"] == "no-store"
    assert 'lang="sv"' in page.text


# -- production -----------------------------------------------------------------


def test_production_refuses_the_development_login(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path / "var", environment="production", auth="off")
    boende = bootstrap(settings)
    try:
        client = TestClient(create_app(boende), follow_redirects=False)
        page = client.get(LOGIN)
        assert "Utvecklingsinloggning" not in page.text
        assert "BOENDE_OIDC_ISSUER" in page.text  # no way in: the operator is told
        # A valid CSRF pair (production's cookie is Secure: not sent over http).
        client.cookies.set(CSRF_COOKIE, "a-secret", path="/oversikt")
        token = load_sessions(settings).csrf_token("a-secret")
        form = {"csrf_token": token, "role": "oversight"}
        response = client.post(f"{LOGIN}/utveckling", data=form)
        assert response.status_code == 403
        assert "Utvecklingsinloggningen finns inte i produktion." in response.text
        assert not (tmp_path / "var" / "keys" / "jwt_dev.key").exists()
    finally:
        boende.close()


def test_production_refuses_a_development_session_key(tmp_path: Path) -> None:
    development = Settings(data_dir=tmp_path / "var")
    load_sessions(development)  # a developer's key, left in the data dir
    pub = tmp_path / "idp.pem"
    pub.write_bytes(
        Ed25519PrivateKey.generate()
        .public_key()
        .public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )
    )
    production = development.model_copy(
        update={"environment": "production", "auth": "jwt", "jwt_public_key_path": pub}
    )
    with pytest.raises(AuthConfigError, match="session"):
        check_configuration(production)
    session_key_path(development.data_dir).unlink()
    assert check_configuration(production) is not None  # makes its own
    assert keyfiles.read(session_key_path(development.data_dir)).origin == "production"


# -- claims to roles ------------------------------------------------------------


@pytest.mark.parametrize(
    ("claims", "claim", "mapping", "roles"),
    [
        ({"roles": ["oversight", "auditor"]}, "roles", {}, {"oversight", "auditor"}),
        ({"roles": "oversight auditor"}, "roles", {}, {"oversight", "auditor"}),
        ({"roles": ["root", "oversight"]}, "roles", {}, {"oversight"}),
        (
            {"groups": ["KS-uppsikt"]},
            "groups",
            {"KS-uppsikt": "oversight"},
            {"oversight"},
        ),
        (
            {"realm_access": {"roles": ["revisor"]}},
            "realm_access.roles",
            {"revisor": "auditor"},
            {"auditor"},
        ),
        ({"groups": ["KS-uppsikt"]}, "groups", {"KS-uppsikt": "root"}, set()),
        ({"sub": "x"}, "roles", {}, set()),
        ({"roles": 7}, "roles", {}, set()),
    ],
)
def test_claims_map_to_boendes_roles_only(
    claims: dict[str, object], claim: str, mapping: dict[str, str], roles: set[str]
) -> None:
    settings = Settings(oidc_roles_claim=claim, oidc_role_map=mapping)
    assert roles_of(claims, settings) == roles


# -- /docs and /redoc without the internet ------------------------------------------


@pytest.mark.parametrize("path", ["/docs", "/redoc"])
def test_the_api_documentation_names_no_other_host(
    browser: TestClient, path: str
) -> None:
    html = browser.get(path).text
    addresses = re.findall(r"""(?:src|href)\s*=\s*["']([^"']+)""", html)
    assert addresses, "the page loads nothing at all?"
    assert [a for a in addresses if not a.startswith("/")] == []
    assert not re.search(r"https?://(?!127\.0\.0\.1)", html), html
    for address in addresses:
        assert browser.get(address).status_code == 200, address


def test_swagger_ui_sends_the_document_to_no_validator(browser: TestClient) -> None:
    assert '"validatorUrl": null' in browser.get("/docs").text


def test_redoc_is_served_without_its_cdn_logo(browser: TestClient) -> None:
    bundle = browser.get("/docs/assets/redoc.standalone.js").content
    assert len(bundle) > 100_000
    assert b"cdn.redoc.ly" not in bundle


def test_only_the_bundled_documentation_files(browser: TestClient) -> None:
    for name in ("core.py", "..%2F__init__.py", "swagger-ui.css.map"):
        assert browser.get(f"/docs/assets/{name}").status_code == 404
    for name in ("..%2Fweb.py", ".hidden.css", "boende.py"):
        assert browser.get(f"/oversikt/static/{name}").status_code == 404
    css = browser.get("/oversikt/static/boende.css")
    assert css.status_code == 200 and css.headers["content-type"].startswith("text/css")


def test_production_refuses_an_unsafe_oidc_configuration(tmp_path: Path) -> None:
    pem = tmp_path / "idp.pem"
    pem.write_bytes(
        Ed25519PrivateKey.generate()
        .public_key()
        .public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )
    )
    production = Settings(
        data_dir=tmp_path / "var",
        environment="production",
        auth="jwt",
        jwt_public_key_path=pem,
        oidc_client_id="boende",
    )
    plain = production.model_copy(update={"oidc_issuer": "http://idp.kommun.example"})
    with pytest.raises(AuthConfigError, match="https"):
        check_configuration(plain)
    missing = production.model_copy(
        update={
            "oidc_issuer": "https://idp.kommun.example",
            "oidc_client_secret": tmp_path / "no-such-file",
        }
    )
    with pytest.raises(AuthConfigError, match="BOENDE_OIDC_CLIENT_SECRET"):
        check_configuration(missing)
    loopback = production.model_copy(update={"oidc_issuer": "http://127.0.0.1:9400"})
    assert check_configuration(loopback) is not None
