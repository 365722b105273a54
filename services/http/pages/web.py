"""What every page of the oversight web shares: the templates and the base
layout's context (navigation, who is signed in, the provenance footer), the
CSRF token of its forms, safe response headers, the answers to a refusal,
and the stylesheets.

A page module gathers its figures, then calls :func:`render` with its
template, its title and the :class:`Source` of each answer it shows; the base
layout (``templates/base.html``) puts the sources in the footer (log
position, tree size, root hash) with the time the page was made.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from importlib import resources
from typing import Annotated, Any
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from fastapi import APIRouter, FastAPI, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from jinja2 import Environment, PackageLoader, select_autoescape
from starlette.templating import Jinja2Templates

from infra.auth import Principal
from infra.sessions import CSRF_COOKIE, new_csrf_secret
from services.errors import NotFoundError
from services.http.authz import (
    PAGES,
    LoginRequired,
    PageForbidden,
    may_see,
    session_principal,
    sessions_of,
)
from services.reporting.labels import label

#: The pages, in the navigation's order: (path, name). A page shows in the
#: navigation once its route is in ``authz.ROUTES`` and the person may open it.
NAV = (
    (PAGES, "Översikt"),
    (f"{PAGES}/floden", "Flöden"),
    (f"{PAGES}/handlaggningstider", "Handläggningstider"),
    (f"{PAGES}/ej-verkstallda", "Ej verkställda beslut"),
    (f"{PAGES}/bostadsbestand", "Bostadsbestånd"),
    (f"{PAGES}/forstahand", "Förstahandskontrakt"),
    (f"{PAGES}/hyror", "Hyror"),
    (f"{PAGES}/hemloshet", "Hemlöshetskartläggningen"),
    (f"{PAGES}/revision", "Revision"),
    (f"{PAGES}/ivo", "IVO-rapport"),
)
LOGIN = f"{PAGES}/logga-in"

#: Every page's answers: no script or style from anywhere but here, no
#: framing, no referrer to other sites, nothing cached (the figures change).
SECURITY_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'self'; script-src 'self'; style-src 'self'; "
        "img-src 'self' data:; form-action 'self'; frame-ancestors 'none'; "
        "base-uri 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
    "Cache-Control": "no-store",
}


DASH = "\u2013"  # en dash: no figure


def swedish_number(value: int | float | None) -> str:
    """``12345`` as ``12 345`` (a no-break space groups the thousands)."""
    if value is None:
        return DASH
    if isinstance(value, float) and not value.is_integer():
        return f"{value:,.1f}".replace(",", "\u00a0").replace(".", ",")
    return f"{int(value):,}".replace(",", "\u00a0")


def signed_change(value: int | None) -> str:
    """``+3``, ``\u22122`` (a real minus sign) or ``±0``."""
    if value is None:
        return DASH
    if value == 0:
        return "±0"
    sign = "+" if value > 0 else "\u2212"
    return f"{sign}{swedish_number(abs(value))}"


_env = Environment(
    loader=PackageLoader("services.http.pages", "templates"),
    autoescape=select_autoescape(["html"]),
    trim_blocks=True,
    lstrip_blocks=True,
)
_env.globals["label"] = label
_env.filters["tal"] = swedish_number
_env.filters["forandring"] = signed_change
templates = Jinja2Templates(env=_env)


@dataclass(frozen=True)
class Source:
    """Where a page's figures come from: a read model's answer at a log
    position, with the Merkle tree of the log up to it (when the answer
    carries one: ``services.projecting.answers``)."""

    name: str
    position: int
    tree_size: int | None = None
    root_hash: str | None = None


def source_of(name: str, answer: Mapping[str, Any]) -> Source:
    """The :class:`Source` of an answer of the JSON API's functions."""
    return Source(
        name,
        int(answer["as_of_position"]),
        answer.get("tree_size"),
        answer.get("root_hash"),
    )


def render(
    request: Request,
    template: str,
    *,
    title: str,
    sources: Iterable[Source] = (),
    status: int = 200,
    **context: Any,
) -> HTMLResponse:
    """The page ``template`` on the base layout, with the CSRF cookie its
    forms need and the :data:`SECURITY_HEADERS`."""
    settings = request.app.state.boende.settings
    signed_in = session_principal(request)
    principal = _principal(request, signed_in)
    secret = request.cookies.get(CSRF_COOKIE) or new_csrf_secret()
    made_at = datetime.now(ZoneInfo(settings.timezone))
    response = templates.TemplateResponse(
        request,
        template,
        {
            "title": title,
            "nav": navigation(request, principal),
            "signed_in": signed_in,
            "csrf_token": sessions_of(request.app).csrf_token(secret),
            "sources": list(sources),
            "made_at": made_at.strftime("%Y-%m-%d %H:%M:%S"),
            "timezone": settings.timezone,
            **context,
        },
        status_code=status,
    )
    if request.cookies.get(CSRF_COOKIE) != secret:
        response.set_cookie(
            CSRF_COOKIE,
            secret,
            httponly=True,
            samesite="lax",
            secure=settings.environment == "production",
            path=PAGES,
        )
    response.headers.update(SECURITY_HEADERS)
    return response


def _principal(request: Request, signed_in: Principal | None) -> Principal | None:
    found = getattr(request.state, "principal", None)
    if isinstance(found, Principal) and found.roles:  # a token, or auth off
        return found
    return signed_in


def navigation(request: Request, principal: Principal | None) -> list[dict[str, Any]]:
    """The pages ``principal`` may open, the current one marked."""
    if principal is None:
        return []
    return [
        {"path": path, "name": name, "current": request.url.path == path}
        for path, name in NAV
        if may_see(principal, f"GET {path}")
    ]


def check_csrf(request: Request, token: str) -> None:
    """403 (as a page) unless the form's ``csrf_token`` belongs to the
    browser's CSRF cookie: another site's form cannot sign anyone in or out."""
    secret = request.cookies.get(CSRF_COOKIE)
    if not sessions_of(request.app).csrf_valid(secret, token):
        raise PageForbidden(
            "Formulärets kontrolltoken (CSRF) saknas eller hör inte till den "
            "här webbläsaren. Ladda om sidan och skicka formuläret igen."
        )


CsrfToken = Annotated[str, Form(max_length=512)]


def safe_next(target: str | None) -> str:
    """Where to go after signing in: a page of ours, never another site."""
    if target and re.fullmatch(rf"{PAGES}(/[\w\-/]*)?(\?[\w\-=&%.:+]*)?", target):
        return target
    return PAGES


def install_refusal_pages(app: FastAPI) -> None:
    """A page visit without a session goes to the login page (303) and comes
    back afterwards; a page the person's roles do not open is a 403 page."""

    @app.exception_handler(LoginRequired)
    async def _login(request: Request, _: LoginRequired) -> Response:
        target = request.url.path + (
            f"?{request.url.query}" if request.url.query else ""
        )
        return RedirectResponse(f"{LOGIN}?{urlencode({'nasta': target})}", 303)

    @app.exception_handler(PageForbidden)
    async def _forbidden(request: Request, error: PageForbidden) -> Response:
        roles = error.details.get("roles")  # authz: the page needs another role
        needs = " eller ".join(label("role", role) for role in roles or ())
        return render(
            request,
            "refusal.html",
            title="Åtkomst nekad",
            status=403,
            message=f"Sidan kräver rollen {needs}." if needs else error.message,
            code=error.code,
        )


# -- the stylesheets ------------------------------------------------------------

router = APIRouter(include_in_schema=False)
_STATIC = resources.files("services.http.pages") / "static"
_TYPES = {
    ".css": "text/css; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".svg": "image/svg+xml",
    ".png": "image/png",
}


@router.get(f"{PAGES}/static/{{name}}")
def static(name: str) -> Response:
    """A file of ``static/`` (installed with the package), by name only."""
    suffix = name[name.rfind(".") :] if "." in name else ""
    file = _STATIC / name
    if "/" in name or name.startswith(".") or suffix not in _TYPES:
        raise NotFoundError(f"no static file {name!r}")
    if not file.is_file():
        raise NotFoundError(f"no static file {name!r}")
    return Response(
        file.read_bytes(),
        media_type=_TYPES[suffix],
        headers={"Cache-Control": "public, max-age=3600", **_NOSNIFF},
    )


_NOSNIFF = {"X-Content-Type-Options": "nosniff"}
