"""The API documents itself: every event type has an example at /docs."""

from __future__ import annotations

import json

from fastapi.testclient import TestClient

from services.envelope import SUBMISSION, SUBMISSION_TYPES


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
