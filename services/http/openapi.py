"""The OpenAPI document describes refusals as they are sent.

Every refusal is ``{"error": CODE, "message": ..., ...details}`` (DOMAIN.md,
``services.http.app``'s one exception handler), but FastAPI documents its own
``{"detail": [...]}`` body for 422 and nothing for the other statuses. A
committee service generating a client from ``/openapi.json`` would then
parse the wrong shape; here every 4xx and 5xx response of every operation
refers to one ``Error`` schema instead.

The document also holds every schema under ``components`` (a request body
that arrives with inline ``$defs``, the submission envelope's, is hoisted
there: code generators resolve no other ``$ref``), the 401 and 403 of every
route that needs a token, and the headers a route requires although it reads
them itself to refuse with its own code (``X-Purpose``).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

ERROR_REF = "#/components/schemas/Error"
#: FastAPI's own validation-error schemas, which nothing answers with.
FASTAPI_ERROR_SCHEMAS = ("HTTPValidationError", "ValidationError")


class Error(BaseModel):
    """A refusal: nothing was recorded or read."""

    model_config = ConfigDict(extra="allow", title="Error")

    error: str = Field(
        description="machine-readable code (DOMAIN.md's error table)",
        examples=["transition_not_allowed"],
    )
    message: str = Field(description="what was refused and why, for a person")
    details: list[dict[str, Any]] | None = Field(
        default=None,
        description="422: each field path and its problem (never the value)",
    )
    request_id: str | None = Field(
        default=None,
        description="the request's id (also the X-Request-ID header): quote it "
        "to the operator, who finds it on every log line of the request",
    )


#: ``openapi_extra`` of a route that requires headers it reads itself (to
#: refuse their absence with its own code): they are documented as required.
REQUIRED_HEADERS = "x-required-headers"

#: The refusals of every route that needs a token (``services.http.authz``).
TOKEN_REFUSALS = {
    "401": "unauthenticated: no valid bearer token",
    "403": "forbidden: the token has none of the route's roles",
}


def required_headers(*names: str) -> dict[str, Any]:
    """A route's ``openapi_extra``: these headers are required."""
    return {REQUIRED_HEADERS: list(names)}


def with_components(schema: dict[str, Any]) -> dict[str, Any]:
    """``schema`` with each request body's inline ``$defs`` (and the body's
    own schema, by its title) under ``components``, the token refusals of
    every secured operation, and the required headers marked required."""
    components = schema.setdefault("components", {}).setdefault("schemas", {})
    for operations in schema.get("paths", {}).values():
        for operation in operations.values():
            for media in operation.get("requestBody", {}).get("content", {}).values():
                if "schema" in media:
                    media["schema"] = _hoisted(media["schema"], components)
            if "security" in operation:
                responses = operation.setdefault("responses", {})
                for status, description in TOKEN_REFUSALS.items():
                    responses.setdefault(status, {"description": description})
            required = set(operation.pop(REQUIRED_HEADERS, ()))
            for parameter in operation.get("parameters", []):
                if parameter["in"] == "header" and parameter["name"] in required:
                    parameter["required"] = True
    return schema


def _hoisted(body: dict[str, Any], components: dict[str, Any]) -> dict[str, Any]:
    """A body schema as a ``$ref`` to ``components``, its ``$defs`` there too
    (a name already taken by another schema is a bug: refused loudly)."""
    if "$defs" not in body:
        return body
    body = dict(body)
    named = {**body.pop("$defs"), body.pop("title"): body}
    for name, definition in named.items():
        if components.setdefault(name, definition) != definition:
            raise ValueError(f"two different schemas named {name}")
    return {"$ref": f"#/components/schemas/{next(reversed(named))}"}


def with_error_bodies(build: Callable[[], dict[str, Any]]) -> dict[str, Any]:
    """The document ``build`` makes, with every refusal's body as ``Error``."""
    schema = build()
    components = schema.setdefault("components", {}).setdefault("schemas", {})
    components["Error"] = Error.model_json_schema(
        ref_template="#/components/schemas/{model}"
    )
    for operations in schema.get("paths", {}).values():
        for operation in operations.values():
            for status, response in operation.get("responses", {}).items():
                if status[0] in "45":
                    response["content"] = {
                        "application/json": {"schema": {"$ref": ERROR_REF}}
                    }
    for name in FASTAPI_ERROR_SCHEMAS:
        components.pop(name, None)
    return schema
