"""Signing in and out of the oversight web.

- ``GET /oversikt/logga-in``: the login page. With ``BOENDE_OIDC_ISSUER``, a
  link to the municipality's identity provider; in development, also one
  button per role that signs in with the development token key (production
  refuses it, like ``boende token``).
- ``GET /oversikt/logga-in/oidc`` and ``/svar``: the OpenID Connect round
  trip (``services.http.pages.oidc``); a signed pending cookie carries its
  state, nonce and PKCE verifier between the two.
- ``POST /oversikt/logga-ut``: signs out.

The session is a signed cookie (``infra.sessions``): HttpOnly, SameSite=Lax,
Secure in production, limited to ``/oversikt``, ending with the token it came
from. Both forms carry a CSRF token (``web.check_csrf``).
"""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated

import jwt
from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from infra.auth import ROLES, DevelopmentKeyRefused, load_or_create_dev_key, mint
from infra.sessions import PENDING_COOKIE, PENDING_SECONDS, SESSION_COOKIE, Session
from infra.settings import Settings
from services.errors import NotFoundError
from services.http.authz import PAGES, PageForbidden, session_principal, sessions_of
from services.http.pages.oidc import Oidc, SignInFailed
from services.http.pages.web import LOGIN, CsrfToken, check_csrf, render, safe_next

router = APIRouter(include_in_schema=False)

#: A development sign-in lasts as long as a development token (``boende serve``).
DEVELOPMENT_SESSION = timedelta(hours=12)
Next = Annotated[str | None, Query(alias="nasta", max_length=2000)]


@router.get(LOGIN)
def login_page(
    request: Request, target: Next = None, utloggad: bool = False
) -> HTMLResponse:
    """The ways to sign in that this installation offers."""
    return _login_page(request, safe_next(target), signed_out=utloggad)


def _login_page(
    request: Request,
    target: str,
    *,
    error: str | None = None,
    status: int = 200,
    signed_out: bool = False,
) -> HTMLResponse:
    settings: Settings = request.app.state.boende.settings
    return render(
        request,
        "login.html",
        title="Logga in",
        status=status,
        target=target,
        oidc=settings.oidc_issuer is not None,
        development=settings.environment == "development",
        roles=ROLES,
        error=error,
        signed_out=signed_out,
        already=session_principal(request),
    )


@router.post(f"{LOGIN}/utveckling")
def development_login(
    request: Request,
    csrf_token: CsrfToken = "",
    role: Annotated[str, Form(max_length=64)] = "",
    target: Annotated[str, Form(alias="nasta", max_length=2000)] = PAGES,
) -> Response:
    """Sign in with one role, by the development token key: never in
    production (403)."""
    check_csrf(request, csrf_token)
    settings: Settings = request.app.state.boende.settings
    if settings.environment != "development":
        raise PageForbidden("Utvecklingsinloggningen finns inte i produktion.")
    if role not in ROLES:
        return _login_page(request, safe_next(target), error="Okänd roll.", status=422)
    try:
        key = load_or_create_dev_key(settings)
    except DevelopmentKeyRefused as refused:
        raise PageForbidden(str(refused)) from None
    token = mint(key, f"dev-{role}", [role], DEVELOPMENT_SESSION)
    claims = jwt.decode(token, key.public_key(), algorithms=["EdDSA"])
    session = Session(
        claims["sub"], frozenset(claims["roles"]), claims["exp"], "development"
    )
    return _signed_in(request, session, target)


@router.get(f"{LOGIN}/oidc")
def oidc_start(request: Request, target: Next = None) -> Response:
    """To the identity provider; 404 when none is configured."""
    oidc = _oidc(request)
    try:
        url, pending = oidc.start(_redirect_uri(request))
    except SignInFailed as failed:
        return _login_page(request, safe_next(target), error=str(failed), status=503)
    pending["next"] = safe_next(target)
    response = RedirectResponse(url, 303)
    _set_cookie(
        request,
        response,
        PENDING_COOKIE,
        sessions_of(request.app).seal_pending(pending),
        PENDING_SECONDS,
    )
    return response


@router.get(f"{LOGIN}/svar")
def oidc_answer(
    request: Request,
    code: Annotated[str | None, Query(max_length=4096)] = None,
    state: Annotated[str | None, Query(max_length=512)] = None,
    error: Annotated[str | None, Query(max_length=256)] = None,
) -> Response:
    """The identity provider's answer: a session, or the login page saying
    why not (400)."""
    oidc = _oidc(request)
    pending = sessions_of(request.app).open_pending(request.cookies.get(PENDING_COOKIE))
    target = pending.get("next", PAGES) if pending else PAGES
    try:
        if error or not code:
            raise SignInFailed("Inloggningen avbröts hos identitetsleverantören.")
        if pending is None or pending.get("state") != state:
            raise SignInFailed(
                "Inloggningen hann gå ut eller hör inte till den här webbläsaren."
            )
        session = oidc.finish(pending, code, _redirect_uri(request))
    except SignInFailed as failed:
        response: Response = _login_page(request, target, error=str(failed), status=400)
    else:
        response = _signed_in(request, session, target)
    response.delete_cookie(PENDING_COOKIE, path=PAGES)
    return response


@router.post(f"{PAGES}/logga-ut")
def logout(request: Request, csrf_token: CsrfToken = "") -> Response:
    """Sign out: the session cookie is gone, back to the login page."""
    check_csrf(request, csrf_token)
    response = RedirectResponse(f"{LOGIN}?utloggad=true", 303)
    response.delete_cookie(SESSION_COOKIE, path=PAGES)
    return response


def _signed_in(request: Request, session: Session, target: str) -> Response:
    if not session.roles:
        return _login_page(
            request,
            safe_next(target),
            error="Inloggningen lyckades, men du har ingen roll i Boende.",
            status=403,
        )
    response = RedirectResponse(safe_next(target), 303)
    value = sessions_of(request.app).seal(session)
    _set_cookie(request, response, SESSION_COOKIE, value, session.seconds_left())
    return response


def _set_cookie(
    request: Request, response: Response, name: str, value: str, max_age: int
) -> None:
    settings: Settings = request.app.state.boende.settings
    response.set_cookie(
        name,
        value,
        max_age=max_age,
        httponly=True,
        samesite="lax",
        secure=settings.environment == "production",
        path=PAGES,
    )


def _oidc(request: Request) -> Oidc:
    settings: Settings = request.app.state.boende.settings
    if settings.oidc_issuer is None:
        raise NotFoundError("no identity provider is configured (BOENDE_OIDC_ISSUER)")
    oidc: Oidc | None = getattr(request.app.state, "oidc", None)
    if oidc is None:
        oidc = request.app.state.oidc = Oidc(settings)
    return oidc


def _redirect_uri(request: Request) -> str:
    settings: Settings = request.app.state.boende.settings
    if settings.public_url:
        return f"{settings.public_url.rstrip('/')}{LOGIN}/svar"
    return str(request.url_for("oidc_answer"))
