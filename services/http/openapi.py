"""The OpenAPI document describes refusals as they are sent.

Every refusal is ``{"error": CODE, "message": ..., ...details}`` (DOMAIN.md,
``services.http.app``'s one exception handler), but FastAPI documents its own
``{"detail": [...]}`` body for 422 and nothing for the other statuses. A
committee service generating a client from ``/openapi.json`` would then
parse the wrong shape; here every 4xx and 5xx response of every operation
refers to one ``Error`` schema instead.
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
