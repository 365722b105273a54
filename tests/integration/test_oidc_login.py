"""OpenID Connect sign-in against a real provider process
(``oidc-provider-mock`` on loopback), production settings: the authorization
request carries a PKCE S256 challenge of the verifier the pending cookie
keeps, the session cookie is Secure, and an answer that does not belong to
this browser's sign-in makes no session."""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from fastapi.testclient import TestClient

from infra.sessions import PENDING_COOKIE, SESSION_COOKIE, load_sessions
from infra.settings import Settings
from services.bootstrap import bootstrap
from services.http.app import create_app
from tests.browser.browsing import BOARD_MEMBER, OidcProvider

START = "/oversikt/logga-in/oidc"


@pytest.fixture(scope="module")
def provider(tmp_path_factory: pytest.TempPathFactory) -> Iterator[OidcProvider]:
    running = OidcProvider(tmp_path_factory.mktemp("oidc") / "provider.log")
    yield running
    running.stop()


@pytest.fixture
def production(tmp_path: Path, provider: OidcProvider) -> Settings:
    """Production: the identity provider's key for bearer tokens (here any
    Ed25519 key), the OIDC client with its secret in a file."""
    pem = (
        Ed25519PrivateKey.generate()
        .public_key()
        .public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )
    )
    (tmp_path / "idp.pem").write_bytes(pem)
    (tmp_path / "secret").write_text("client-secret\n")
    return Settings(
        data_dir=tmp_path / "var",
        environment="production",
        auth="jwt",
        jwt_public_key_path=tmp_path / "idp.pem",
        oidc_issuer=provider.url,
        oidc_client_id="boende",
        oidc_client_secret=tmp_path / "secret",
        public_url="https://boende.kommun.example",
    )


@pytest.fixture
def client(production: Settings) -> Iterator[TestClient]:
    boende = bootstrap(production)
    with TestClient(create_app(boende), follow_redirects=False) as browser:
        yield browser
    boende.close()


def s256(verifier: str) -> str:
    digest = hashlib.sha256(verifier.encode()).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def authorize_at_provider(location: str, sub: str) -> str:
    """The person signs in at the provider: its answer to our redirect_uri."""
    answer = httpx.post(location, data={"sub": sub}, follow_redirects=False)
    assert answer.status_code == 302, answer.text
    return answer.headers["location"]


def our_path(redirect: str) -> str:
    parts = urlsplit(redirect)
    assert f"{parts.scheme}://{parts.netloc}" == "https://boende.kommun.example"
    return f"{parts.path}?{parts.query}"


def test_a_board_member_signs_in_with_pkce_and_gets_a_secure_session(
    client: TestClient, production: Settings, provider: OidcProvider
) -> None:
    start = client.get(START, params={"nasta": "/oversikt?as_of=2026-01-31"})
    assert start.status_code == 303
    location = start.headers["location"]
    query = parse_qs(urlsplit(location).query)
    assert location.startswith(f"{provider.url}/oauth2/authorize")
    assert query["redirect_uri"] == [
        "https://boende.kommun.example/oversikt/logga-in/svar"
    ]
    assert query["code_challenge_method"] == ["S256"]
    pending = load_sessions(production).open_pending(start.cookies[PENDING_COOKIE])
    assert pending is not None
    assert query["code_challenge"] == [s256(pending["verifier"])]
    assert query["state"] == [pending["state"]] and query["nonce"] == [pending["nonce"]]
    assert "Secure" in start.headers["set-cookie"]

    back = authorize_at_provider(location, BOARD_MEMBER["sub"])
    client.cookies.set(PENDING_COOKIE, start.cookies[PENDING_COOKIE], path="/oversikt")
    done = client.get(our_path(back))
    assert done.status_code == 303, done.text
    assert done.headers["location"] == "/oversikt?as_of=2026-01-31"
    cookie = next(
        c for c in done.headers.get_list("set-cookie") if c.startswith(SESSION_COOKIE)
    )
    for attribute in ("HttpOnly", "Secure", "SameSite=lax", "Path=/oversikt"):
        assert attribute in cookie
    session = load_sessions(production).open(cookie.split(";")[0].split("=", 1)[1])
    assert session is not None
    assert session.roles == frozenset({"oversight"}) and session.via == "oidc"
    assert session.sub == BOARD_MEMBER["sub"]


def test_an_answer_to_another_browsers_sign_in_makes_no_session(
    client: TestClient,
) -> None:
    start = client.get(START)
    back = authorize_at_provider(start.headers["location"], BOARD_MEMBER["sub"])
    client.cookies.clear()  # the answer arrives in a browser that did not start it
    done = client.get(our_path(back))
    assert done.status_code == 400
    assert SESSION_COOKIE not in done.headers.get("set-cookie", "")
    assert "hör inte till den här webbläsaren" in done.text


def test_a_person_without_a_role_in_boende_is_told_so(
    client: TestClient,
) -> None:
    start = client.get(START)
    back = authorize_at_provider(start.headers["location"], "someone-else")
    client.cookies.set(PENDING_COOKIE, start.cookies[PENDING_COOKIE], path="/oversikt")
    done = client.get(our_path(back))
    assert done.status_code == 403
    assert "ingen roll i Boende" in done.text
    assert SESSION_COOKIE not in done.headers.get("set-cookie", "")


def test_a_denied_sign_in_is_said_on_the_login_page(client: TestClient) -> None:
    start = client.get(START)
    client.cookies.set(PENDING_COOKIE, start.cookies[PENDING_COOKIE], path="/oversikt")
    done = client.get(
        "/oversikt/logga-in/svar", params={"error": "access_denied", "state": "x"}
    )
    assert done.status_code == 400
    assert "avbröts" in done.text


def test_without_an_issuer_there_is_no_oidc_sign_in(tmp_path: Path) -> None:
    boende = bootstrap(Settings(data_dir=tmp_path / "var", auth="jwt"))
    try:
        client = TestClient(create_app(boende), follow_redirects=False)
        assert client.get(START).status_code == 404
        assert "kommunens inloggning" not in client.get("/oversikt/logga-in").text
    finally:
        boende.close()
