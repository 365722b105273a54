"""Every oversight and report route refuses a query parameter it does not
take (422 ``invalid_request`` naming it) instead of answering as if it were
not there: a misspelt ``as_of`` must not give today's figures. The routes
are read from the app itself, so a new route is covered without a list."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.routing import iter_route_contexts
from fastapi.testclient import TestClient

from services.bootstrap import Boende
from services.http.app import create_app
from services.http.deps import STRICT_QUERY_PREFIXES


def strict_routes(app: Any) -> list[str]:
    """Every GET route under the checked prefixes (FastAPI keeps included
    routers lazily: their contexts carry the prefixed paths)."""
    return sorted(
        context.path or ""
        for context in iter_route_contexts(app.routes)
        if "GET" in (context.methods or ())
        and (context.path or "").startswith(STRICT_QUERY_PREFIXES)
    )


def openapi_query_names(app: Any, path: str) -> list[str]:
    """The query parameters OpenAPI documents for ``GET path``: an account
    of what the route takes that does not come from the check itself."""
    operation = app.openapi()["paths"][path]["get"]
    return sorted(
        p["name"] for p in operation.get("parameters", []) if p["in"] == "query"
    )


def test_the_figures_routes_are_found(sqlite_boende: Boende) -> None:
    paths = set(strict_routes(create_app(sqlite_boende)))
    assert {
        "/v1/oversight/counts",
        "/v1/oversight/apartments",
        "/v1/oversight/rents",
        "/v1/reports/unexecuted",
    } <= paths
    assert len(paths) >= 10


def test_every_oversight_and_report_route_refuses_an_unknown_parameter(
    sqlite_boende: Boende,
) -> None:
    app = create_app(sqlite_boende)
    client = TestClient(app)
    for path in strict_routes(app):
        response = client.get(
            path,
            params={"as_of": "2025-01-01", "asof": "2025-01-01", "zz_unknown": "1"}
            if "as_of" in openapi_query_names(app, path)
            else {"asof": "2025-01-01", "zz_unknown": "1"},
            headers={"X-Purpose": "tillsyn"},
        )
        assert response.status_code == 422, (path, response.text)
        body = response.json()
        assert body["error"] == "invalid_request", path
        assert "asof" in body["message"] and "zz_unknown" in body["message"]
        assert body["details"] == [
            {"loc": "asof", "problem": "unknown query parameter"},
            {"loc": "zz_unknown", "problem": "unknown query parameter"},
        ]
        assert body["allowed"] == openapi_query_names(app, path), path


@pytest.mark.parametrize(
    "params",
    [
        {},
        {"as_of": "2025-01-01"},
        {"as_of": "2025-01-01", "min_position": "1"},
        {"by": "landlord", "as_of": "2025-01-01"},
    ],
)
def test_known_parameters_still_answer(
    sqlite_boende: Boende, params: dict[str, str]
) -> None:
    client = TestClient(create_app(sqlite_boende))
    path = "/v1/oversight/rents" if "by" in params else "/v1/oversight/apartments"
    if "min_position" in params:  # nothing recorded yet: position 1 is ahead
        assert client.get(path, params=params).json()["error"] != "invalid_request"
        return
    assert client.get(path, params=params).status_code == 200


def test_other_routes_are_not_checked(sqlite_boende: Boende) -> None:
    client = TestClient(create_app(sqlite_boende))
    assert client.get("/healthz", params={"zz_unknown": "1"}).status_code == 200


def test_a_long_name_is_cut_short(sqlite_boende: Boende) -> None:
    client = TestClient(create_app(sqlite_boende))
    body = client.get("/v1/oversight/counts", params={"x" * 500: "1"}).json()
    assert body["details"] == [{"loc": "x" * 40, "problem": "unknown query parameter"}]
