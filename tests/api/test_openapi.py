"""The API documents itself: every event type has an example at /docs."""

from __future__ import annotations

import json
from typing import Any

from fastapi.testclient import TestClient

from services.submission.envelope import SUBMISSION, SUBMISSION_TYPES


def test_openapi_has_an_example_per_event_type(client: TestClient) -> None:
    spec = client.get("/openapi.json").json()
    body = spec["paths"]["/v1/submissions"]["post"]["requestBody"]["content"]
    examples = body["application/json"]["examples"]
    assert set(examples) == set(SUBMISSION_TYPES)
    for example in examples.values():
        SUBMISSION.validate_json(json.dumps(example["value"]))  # each one is valid
    assert client.get("/docs").status_code == 200


def test_health_and_readiness(client: TestClient) -> None:
    assert client.get("/healthz").json() == {"status": "ok"}
    ready = client.get("/readyz").json()
    assert ready["status"] == "ready" and ready["position"] == 0


def test_the_audit_listings_are_documented_alike(client: TestClient) -> None:
    """``/v1/audit/purges`` documents the same paging and day parameters, and
    the same refusals, as ``/v1/audit/access``."""
    paths = client.get("/openapi.json").json()["paths"]
    purges, access = paths["/v1/audit/purges"]["get"], paths["/v1/audit/access"]["get"]
    assert purges["tags"] == ["audit"] and "purge" in purges["summary"]
    assert "orphan_keys_deleted" in purges["description"]

    def params(operation: dict[str, Any]) -> dict[str, Any]:
        return {p["name"]: p for p in operation["parameters"]}

    assert params(purges) == {
        name: p
        for name, p in params(access).items()
        if name in {"from", "to", "after", "limit"}
    }
    limit = params(purges)["limit"]["schema"]
    assert (limit["minimum"], limit["maximum"], limit["default"]) == (1, 1000, 100)
    assert purges["responses"]["422"] == access["responses"]["422"]
    assert "invalid_request" in purges["responses"]["422"]["description"]


def test_every_refusal_is_documented_as_the_error_body_sent(
    client: TestClient,
) -> None:
    """Clients generated from the document parse refusals as they come:
    ``{"error", "message", ...}``, never FastAPI's ``{"detail": [...]}``."""
    document = client.get("/openapi.json").json()
    schemas = document["components"]["schemas"]
    assert "HTTPValidationError" not in schemas
    assert set(schemas["Error"]["required"]) == {"error", "message"}
    refusals = [
        (path, status, response)
        for path, operations in document["paths"].items()
        for operation in operations.values()
        for status, response in operation["responses"].items()
        if status[0] in "45"
    ]
    assert len(refusals) > 20  # every route with parameters has a 422
    for path, status, response in refusals:
        body = response["content"]["application/json"]["schema"]
        assert body == {"$ref": "#/components/schemas/Error"}, (path, status)
    # and the 422 a client gets really is that shape
    refused = client.get("/v1/oversight/counts", params={"as_of": "someday"})
    assert refused.status_code == 422
    assert {"error", "message"} <= set(refused.json())
