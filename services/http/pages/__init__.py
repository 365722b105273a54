"""The oversight web: server-rendered pages in Swedish for the executive
board, its analysts and the auditors, under ``/oversikt``.

One module per page; ``web`` holds what every page shares (the templates,
the base layout's navigation and provenance footer, the CSRF tokens, the
stylesheets); ``login`` and ``oidc`` sign people in and out; ``docs`` serves
Swagger UI and ReDoc without any third-party host. A page gathers its figures
by calling the JSON endpoints' own functions (``services.http.oversight``,
``services.http.timeliness``, ...), so a page and the API can never disagree.

Part of the HTTP door: it imports like ``services.http`` (bootstrap,
capabilities, projections, infra, domain), and the rest of the door imports
only :data:`ROUTERS` and :func:`install` from here (``services.http.app``).
Who may open which page is decided by ``services.http.authz.ROUTES``.
"""

from fastapi import FastAPI

from services.http.pages import (
    bostadsbestand,
    docs,
    ej_verkstallda,
    floden,
    handlaggningstider,
    login,
    oversikt,
    revision,
    utskrift,
    web,
)
from services.http.pages.figures import ROUTERS as FIGURE_ROUTERS

__all__ = [
    "ROUTERS",
    "bostadsbestand",
    "docs",
    "ej_verkstallda",
    "floden",
    "handlaggningstider",
    "install",
    "login",
    "oversikt",
    "revision",
    "utskrift",
    "web",
]

#: Every router of the oversight web, included by ``services.http.app``.
ROUTERS = (
    web.router,
    docs.router,
    login.router,
    oversikt.router,
    floden.router,
    handlaggningstider.router,
    bostadsbestand.router,
    ej_verkstallda.router,
    revision.router,
    utskrift.router,
    *FIGURE_ROUTERS,
)


def install(app: FastAPI) -> None:
    """The pages' answers to a refusal: to the login page, or a page."""
    web.install_refusal_pages(app)
