"""``/docs`` (Swagger UI) and ``/redoc`` (ReDoc) without the internet.

FastAPI's own pages load both from a CDN, so they are blank on a municipal
network without outside access. Here the app is made with ``docs_url`` and
``redoc_url`` off and these routes serve the same pages with their
JavaScript and stylesheet from the pinned ``fastapi-offline`` package
(Swagger UI 5, ReDoc 2, as files inside the wheel): no third-party host, no
Google fonts, no validator badge. ReDoc's sidebar always shows Redocly's logo
from their CDN; the bundle is served with that one address replaced by an
empty inline image (``tests/browser`` fails on any request off 127.0.0.1).
"""

from __future__ import annotations

from functools import cache
from importlib import resources

from fastapi import APIRouter, Request
from fastapi.openapi.docs import (
    get_redoc_html,
    get_swagger_ui_html,
    get_swagger_ui_oauth2_redirect_html,
    swagger_ui_default_parameters,
)
from fastapi.responses import HTMLResponse, Response

from services.errors import NotFoundError

router = APIRouter(include_in_schema=False)

ASSETS = "/docs/assets"
TITLE = "Boende API"
_FILES = resources.files("fastapi_offline") / "static"
_TYPES = {
    "swagger-ui-bundle.js": "text/javascript; charset=utf-8",
    "swagger-ui.css": "text/css; charset=utf-8",
    "redoc.standalone.js": "text/javascript; charset=utf-8",
    "favicon.png": "image/png",
}
REDOCLY_LOGO = b"https://cdn.redoc.ly/redoc/logo-mini.svg"
EMPTY_IMAGE = b"data:image/svg+xml,%3Csvg xmlns='http://www.w3.org/2000/svg'/%3E"


@router.get("/docs")
def swagger_ui(request: Request) -> HTMLResponse:
    return get_swagger_ui_html(
        openapi_url=request.app.openapi_url,
        title=TITLE,
        swagger_js_url=f"{ASSETS}/swagger-ui-bundle.js",
        swagger_css_url=f"{ASSETS}/swagger-ui.css",
        swagger_favicon_url=f"{ASSETS}/favicon.png",
        oauth2_redirect_url="/docs/oauth2-redirect",
        # No validator: Swagger UI would send the document to validator.swagger.io.
        swagger_ui_parameters={**swagger_ui_default_parameters, "validatorUrl": None},
    )


@router.get("/docs/oauth2-redirect")
def swagger_ui_redirect() -> HTMLResponse:
    return get_swagger_ui_oauth2_redirect_html()


@router.get("/redoc")
def redoc(request: Request) -> HTMLResponse:
    return get_redoc_html(
        openapi_url=request.app.openapi_url,
        title=TITLE,
        redoc_js_url=f"{ASSETS}/redoc.standalone.js",
        redoc_favicon_url=f"{ASSETS}/favicon.png",
        with_google_fonts=False,
    )


@router.get(f"{ASSETS}/{{name}}")
def asset(name: str) -> Response:
    """One of the bundled files, by its name; 404 for any other."""
    media_type = _TYPES.get(name)
    if media_type is None:
        raise NotFoundError(f"no documentation asset {name!r}")
    return Response(
        _redoc() if name == "redoc.standalone.js" else (_FILES / name).read_bytes(),
        media_type=media_type,
        headers={"Cache-Control": "public, max-age=86400"},
    )


@cache
def _redoc() -> bytes:
    """ReDoc's bundle without the one address it fetches from a CDN."""
    return (
        (_FILES / "redoc.standalone.js").read_bytes().replace(REDOCLY_LOGO, EMPTY_IMAGE)
    )
