"""Who may call what (``services/http/authz.py``): why a bearer token is
refused reaches the caller word for word; the table's public routes, roles
and missing routes; auth off; the committee a token may submit as; the
verifier loaded once; production refusing auth off."""

from __future__ import annotations

import asyncio
import time
from datetime import timedelta
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from fastapi.security import HTTPAuthorizationCredentials

from infra.auth import (
    ROLES,
    AuthConfigError,
    Principal,
    TokenRefused,
    Verifier,
    load_or_create_dev_key,
    load_verifier,
    mint,
)
from infra.sessions import SESSION_COOKIE, Session, load_sessions
from infra.settings import Settings
from services.http.authz import (
    ANONYMOUS,
    UNCHECKED,
    Forbidden,
    LoginRequired,
    PageForbidden,
    Unauthenticated,
    authenticate,
    authorize,
    check_configuration,
    current_principal,
    is_page,
    may_see,
    route_key,
    session_principal,
    sessions_of,
    verifier_of,
)


def bearer(token: str) -> HTTPAuthorizationCredentials:
    return HTTPAuthorizationCredentials(scheme="Bearer", credentials=token)


@pytest.fixture
def keyed(tmp_path: Path) -> tuple[Verifier, Settings]:
    settings = Settings(data_dir=tmp_path / "var", auth="jwt")
    load_or_create_dev_key(settings)
    return load_verifier(settings), settings


@pytest.mark.parametrize("credentials", [None, bearer("   ")])
def test_no_token_is_refused_saying_what_is_required(
    keyed: tuple[Verifier, Settings], credentials: HTTPAuthorizationCredentials | None
) -> None:
    with pytest.raises(Unauthenticated) as refusal:
        authenticate(keyed[0], credentials)
    assert refusal.value.message == "an Authorization: Bearer token is required"
    assert str(refusal.value) == refusal.value.message


def test_a_refused_token_says_why(keyed: tuple[Verifier, Settings]) -> None:
    verifier, settings = keyed
    expired = mint(
        load_or_create_dev_key(settings), "anna", ["auditor"], timedelta(hours=-1)
    )
    with pytest.raises(TokenRefused) as why:
        verifier.verify(expired)
    with pytest.raises(Unauthenticated) as refusal:
        authenticate(verifier, bearer(expired))
    assert refusal.value.message == str(why.value)
    assert "expired" in refusal.value.message


def test_a_good_token_names_its_caller(keyed: tuple[Verifier, Settings]) -> None:
    verifier, settings = keyed
    token = mint(load_or_create_dev_key(settings), "anna", ["auditor"], timedelta(1))
    principal = authenticate(verifier, bearer(f" {token} "))
    assert (principal.sub, principal.roles) == ("anna", frozenset({"auditor"}))


# -- authorize, and the rest of the module ---------------------------------------
#
# A request here is what authorize reads of one: the matched route's method
# and path template, the app (its state: the verifier, the settings) and the
# request state it leaves the caller in.


def app_with(verifier: Verifier | str | None, settings: Settings | None = None) -> Any:
    state = SimpleNamespace(boende=SimpleNamespace(settings=settings))
    if verifier != "not loaded":
        state.verifier = verifier
    return SimpleNamespace(state=state)


def request(method: str, template: str | None, app: Any = None) -> Any:
    scope: dict[str, Any] = {}
    if template is not None:
        scope["route"] = SimpleNamespace(path=template)
    return SimpleNamespace(method=method, scope=scope, app=app, state=SimpleNamespace())


def token(settings: Settings, *roles: str) -> HTTPAuthorizationCredentials:
    key = load_or_create_dev_key(settings)
    return bearer(mint(key, "anna", list(roles), timedelta(hours=1)))


def test_the_route_key_is_the_method_and_the_path_template() -> None:
    assert route_key(request("GET", "/v1/cases/{case_id}")) == (
        "GET /v1/cases/{case_id}"
    )
    assert route_key(request("POST", None)) == "POST None"


def test_a_public_route_passes_anyone_without_a_token(
    keyed: tuple[Verifier, Settings],
) -> None:
    call = request("GET", "/healthz", app_with(keyed[0]))
    asyncio.run(authorize(call, None))
    assert call.state.principal == ANONYMOUS
    assert Principal("anonymous", frozenset(), authenticated=False) == ANONYMOUS


def test_with_auth_off_the_caller_holds_every_role() -> None:
    for template in ("/v1/audit/events", "/v1/not-in-the-table"):
        call = request("GET", template, app_with(None))
        asyncio.run(authorize(call, None))
        assert call.state.principal == UNCHECKED
    assert UNCHECKED.roles == frozenset(ROLES)
    assert UNCHECKED.sub == "anonymous (auth off)"
    assert not UNCHECKED.authenticated


def test_a_route_missing_from_the_table_is_refused_to_everyone(
    keyed: tuple[Verifier, Settings],
) -> None:
    verifier, settings = keyed
    call = request("GET", "/v1/secret", app_with(verifier))
    with pytest.raises(Forbidden) as refusal:
        asyncio.run(authorize(call, token(settings, *ROLES)))
    assert refusal.value.message == (
        "GET /v1/secret has no entry in the authorization table"
    )
    assert refusal.value.code == "forbidden"


def test_a_route_needs_one_of_its_roles(keyed: tuple[Verifier, Settings]) -> None:
    verifier, settings = keyed
    call = request("POST", "/v1/audit/tree-heads", app_with(verifier))
    with pytest.raises(Forbidden) as refusal:
        asyncio.run(authorize(call, token(settings, "oversight", "ifn_officer")))
    assert refusal.value.message == (
        "POST /v1/audit/tree-heads needs one of the roles admin, auditor"
    )
    assert refusal.value.details == {"roles": ["admin", "auditor"]}
    assert call.state.principal.sub == "anna"  # known, then refused
    for role in ("admin", "auditor"):
        allowed = request("POST", "/v1/audit/tree-heads", app_with(verifier))
        asyncio.run(authorize(allowed, token(settings, "oversight", role)))
        assert allowed.state.principal.roles == frozenset({"oversight", role})
        assert allowed.state.principal.authenticated


def test_a_protected_route_without_a_token_is_401(
    keyed: tuple[Verifier, Settings],
) -> None:
    call = request("GET", "/v1/oversight/counts", app_with(keyed[0]))
    with pytest.raises(Unauthenticated) as refusal:
        asyncio.run(authorize(call, None))
    assert refusal.value.code == "unauthenticated"


def test_the_verifier_is_loaded_once_from_the_settings(tmp_path: Path) -> None:
    app = app_with("not loaded", Settings(data_dir=tmp_path / "var", auth="off"))
    assert verifier_of(app) is None
    assert app.state.verifier is None
    app.state.boende.settings = None  # a second load would fail
    assert verifier_of(app) is None
    jwt = Settings(data_dir=tmp_path / "jwt", auth="jwt")
    load_or_create_dev_key(jwt)
    loaded = app_with("not loaded", jwt)
    verifier = verifier_of(loaded)
    assert isinstance(verifier, Verifier)
    assert verifier_of(loaded) is verifier


def test_production_refuses_auth_off_in_its_own_words(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path / "var", auth="off", environment="production")
    with pytest.raises(AuthConfigError) as refusal:
        check_configuration(settings)
    assert str(refusal.value) == (
        "BOENDE_AUTH=off is for tests and local experiments; "
        "production always checks bearer tokens"
    )
    development = Settings(data_dir=tmp_path / "var", auth="off")
    assert check_configuration(development) is None


def test_the_principal_is_what_authorize_left() -> None:
    call = request("GET", "/healthz")
    call.state.principal = UNCHECKED
    assert asyncio.run(current_principal(call)) is UNCHECKED
    call.state.principal = "anna"
    with pytest.raises(Forbidden) as refusal:
        asyncio.run(current_principal(call))
    assert refusal.value.message == (
        "this route is not behind the authorization dependency"
    )
    with pytest.raises(Forbidden):
        asyncio.run(current_principal(request("GET", "/healthz")))


# -- the oversight web's pages: a session cookie instead of a token ------------------


def page_request(template: str, app: Any, cookie: str | None = None) -> Any:
    call = request("GET", template, app)
    call.cookies = {} if cookie is None else {SESSION_COOKIE: cookie}
    return call


def signed_in(settings: Settings, *roles: str, seconds: int = 600) -> str:
    session = Session(
        "anna", frozenset(roles), int(time.time()) + seconds, "development"
    )
    return load_sessions(settings).seal(session)


def test_which_paths_are_pages() -> None:
    assert is_page("GET /oversikt")
    assert is_page("GET /oversikt/floden")
    assert is_page("POST /oversikt/logga-ut")
    assert not is_page("GET /oversikten")
    assert not is_page("GET /v1/oversikt")
    assert not is_page("GET oversikt/x")
    assert not is_page("/oversikt")  # a key always starts with its method


def test_a_page_without_a_session_asks_to_sign_in(
    keyed: tuple[Verifier, Settings],
) -> None:
    verifier, settings = keyed
    app = app_with(verifier, settings)
    for cookie in (None, "forged"):
        call = page_request("/oversikt/floden", app, cookie)
        with pytest.raises(LoginRequired) as refusal:
            asyncio.run(authorize(call, None))
        assert refusal.value.message == "sign in to see this page"


def test_a_page_takes_the_session_and_checks_its_roles(
    keyed: tuple[Verifier, Settings],
) -> None:
    verifier, settings = keyed
    app = app_with(verifier, settings)
    call = page_request("/oversikt", app, signed_in(settings, "oversight"))
    asyncio.run(authorize(call, None))
    assert call.state.principal == Principal("anna", frozenset({"oversight"}))
    wrong = page_request("/oversikt", app, signed_in(settings, "auditor"))
    with pytest.raises(PageForbidden) as refusal:
        asyncio.run(authorize(wrong, None))
    assert refusal.value.message == "GET /oversikt needs one of the roles oversight"
    expired = page_request(
        "/oversikt", app, signed_in(settings, "oversight", seconds=-5)
    )
    with pytest.raises(LoginRequired):
        asyncio.run(authorize(expired, None))


def test_a_bearer_token_on_a_page_is_checked_as_anywhere(
    keyed: tuple[Verifier, Settings],
) -> None:
    verifier, settings = keyed
    app = app_with(verifier, settings)
    call = page_request("/oversikt", app, signed_in(settings, "oversight"))
    with pytest.raises(Forbidden) as refusal:
        asyncio.run(authorize(call, token(settings, "auditor")))
    assert not isinstance(refusal.value, PageForbidden)
    assert call.state.principal.roles == frozenset({"auditor"})


def test_a_json_route_never_reads_the_cookie(
    keyed: tuple[Verifier, Settings],
) -> None:
    verifier, settings = keyed
    app = app_with(verifier, settings)
    call = page_request("/v1/oversight/counts", app, signed_in(settings, "oversight"))
    with pytest.raises(Unauthenticated) as refusal:
        asyncio.run(authorize(call, None))
    assert not isinstance(refusal.value, LoginRequired)


def test_what_a_principal_may_see() -> None:
    oversight = Principal("anna", frozenset({"oversight"}))
    assert may_see(oversight, "GET /oversikt")
    assert not may_see(oversight, "GET /v1/audit/events")
    assert may_see(oversight, "GET /healthz")
    assert not may_see(oversight, "GET /nowhere")
    assert may_see(UNCHECKED, "GET /v1/audit/events")
    assert not may_see(UNCHECKED, "GET /nowhere")
    anonymous = Principal("x", frozenset({"oversight"}), authenticated=False)
    assert may_see(anonymous, "GET /v1/audit/events")  # auth off: every route


def test_the_session_signer_is_loaded_once(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path / "var", auth="jwt")
    app = app_with(None, settings)
    sessions = sessions_of(app)
    assert app.state.sessions is sessions
    app.state.boende.settings = None  # a second load would fail
    assert sessions_of(app) is sessions
    cookie = sessions.seal(Session("bo", frozenset({"auditor"}), 2**40, "oidc"))
    call = page_request("/oversikt", app, cookie)
    assert session_principal(call) == Principal("bo", frozenset({"auditor"}))
    assert session_principal(page_request("/oversikt", app)) is None


def test_a_session_key_production_refuses_stops_the_start_in_its_words(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from infra import keyfiles
    from services.http import authz

    def refused(settings: Settings) -> Any:
        raise keyfiles.KeyFileError("no development session key in production")

    verifier: Any = object()
    monkeypatch.setattr(authz, "load_verifier", lambda settings: verifier)
    monkeypatch.setattr(authz, "load_sessions", refused)
    settings = Settings(data_dir=tmp_path / "var", auth="jwt")
    with pytest.raises(AuthConfigError) as refusal:
        check_configuration(settings)
    assert str(refusal.value) == "no development session key in production"
    monkeypatch.setattr(authz, "load_sessions", lambda settings: None)
    assert check_configuration(settings) is verifier


# -- people's sign-in: refused at start when unsafe ---------------------------------


@pytest.fixture
def starts(monkeypatch: pytest.MonkeyPatch) -> Any:
    """``check_configuration`` with the token and session keys stubbed: only
    the sign-in's own checks decide."""
    from services.http import authz

    verifier: Any = object()
    monkeypatch.setattr(authz, "load_verifier", lambda settings: verifier)
    monkeypatch.setattr(authz, "load_sessions", lambda settings: None)

    def start(tmp_path: Path, **fields: Any) -> Any:
        settings = Settings(data_dir=tmp_path / "var", auth="jwt", **fields)
        return check_configuration(settings) is verifier

    return start


def test_a_client_secret_file_that_is_not_there_stops_the_start(
    starts: Any, tmp_path: Path
) -> None:
    missing = tmp_path / "secret.txt"
    with pytest.raises(AuthConfigError) as refusal:
        starts(tmp_path, oidc_client_secret=missing)
    assert str(refusal.value) == f"BOENDE_OIDC_CLIENT_SECRET: no file {missing}"
    missing.write_text("s3cret\n")
    assert starts(tmp_path, oidc_client_secret=missing)
    assert starts(tmp_path)


REFUSED_HTTP = (
    "BOENDE_OIDC_ISSUER must be https in production: the authorization "
    "code and the tokens would cross the network in clear"
)


@pytest.mark.parametrize(
    ("environment", "issuer", "refusal"),
    [
        ("production", "http://idp.kommun.se/realm", REFUSED_HTTP),
        ("production", "https://idp.kommun.se/realm", None),
        ("production", "http://127.0.0.1:8080/realm", None),
        ("production", "http://localhost:8080/realm", None),
        ("production", "http://[::1]:8080/realm", None),
        ("production", None, None),
        ("development", "http://idp.kommun.se/realm", None),
    ],
)
def test_production_signs_people_in_over_https_only(
    starts: Any,
    tmp_path: Path,
    environment: str,
    issuer: str | None,
    refusal: str | None,
) -> None:
    fields: dict[str, Any] = {"environment": environment, "oidc_issuer": issuer}
    if issuer:
        fields["oidc_client_id"] = "boende"
    try:
        started = starts(tmp_path, **fields)
    except AuthConfigError as error:
        started = str(error)
    assert started == (refusal or True)
