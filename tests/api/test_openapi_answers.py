"""The OpenAPI document describes every answer (issue 10, item 8): each JSON
route's answer is a pydantic model under ``components/schemas``, the
submission door's body refers to the envelope's models there, ``X-Purpose``
is required where a read refuses without it, and the refusals of a token
are on every route that needs one. The answers sent are what the models say:
FastAPI checks them, and a key the model does not know is refused."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from pydantic import BaseModel, ValidationError

from infra.settings import Settings
from services.bootstrap import Boende, bootstrap
from services.http.app import create_app
from services.http.models import audit, cases, common, oversight, reports, submissions
from services.http.models.common import checked
from services.simulation.player import plan, send
from services.submission.envelope import SUBMISSION_TYPES

REF = "#/components/schemas/"
PROVENANCE = ["as_of_position", "tree_size", "root_hash"]


@pytest.fixture(scope="module")
def document(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    boende = bootstrap(Settings(data_dir=tmp_path_factory.mktemp("var")), follow=False)
    yield TestClient(create_app(boende)).get("/openapi.json").json()
    boende.close()


def operations(document: dict[str, Any]) -> Iterator[tuple[str, str, dict[str, Any]]]:
    for path, methods in document["paths"].items():
        for method, operation in methods.items():
            yield path, method, operation


def test_every_json_answer_is_a_named_schema(document: dict[str, Any]) -> None:
    schemas = document["components"]["schemas"]
    answers = 0
    for path, method, operation in operations(document):
        for status, response in operation["responses"].items():
            if status[0] != "2":
                continue
            schema = response["content"]["application/json"]["schema"]
            assert set(schema) == {"$ref"}, (method, path, status, schema)
            assert schema["$ref"].removeprefix(REF) in schemas
            answers += 1
    assert answers >= 29  # every JSON route: services/http, reports, figures


def test_every_reference_resolves_under_components(document: dict[str, Any]) -> None:
    text = json.dumps(document)
    assert "$defs" not in text  # nothing a generator has to find inline
    schemas = document["components"]["schemas"]
    refs = {part.split('"')[0] for part in text.split('"$ref": "')[1:]}
    assert refs and all(ref.removeprefix(REF) in schemas for ref in refs), refs
    # One model per name: FastAPI would spell a clash as a module path.
    assert not [name for name in schemas if "__" in name]


def test_the_submission_body_refers_to_the_envelope_models(
    document: dict[str, Any],
) -> None:
    body = document["paths"]["/v1/submissions"]["post"]["requestBody"]
    assert body["required"] is True
    content = body["content"]["application/json"]
    assert content["schema"] == {"$ref": f"{REF}Submission"}
    assert set(content["examples"]) == set(SUBMISSION_TYPES)
    submission = document["components"]["schemas"]["Submission"]
    mapping = submission["discriminator"]["mapping"]
    assert set(mapping) == set(SUBMISSION_TYPES)
    assert {option["$ref"] for option in submission["oneOf"]} == set(mapping.values())
    filed = document["components"]["schemas"]["ApplicationFiled"]
    assert filed["properties"]["actor"] == {"$ref": f"{REF}Actor"}
    responses = document["paths"]["/v1/submissions"]["post"]["responses"]
    for status in ("200", "201"):
        answer = responses[status]["content"]["application/json"]["schema"]
        assert answer == {"$ref": f"{REF}SubmissionRecorded"}


def test_x_purpose_is_required_where_a_read_refuses_without_it(
    document: dict[str, Any],
) -> None:
    def purpose(path: str) -> dict[str, Any]:
        (header,) = [
            p
            for p in document["paths"][path]["get"]["parameters"]
            if p["in"] == "header" and p["name"] == "X-Purpose"
        ]
        return header

    assert purpose("/v1/cases/{case_id}/applicant")["required"] is True
    assert purpose("/v1/reports/ivo")["required"] is True
    # The case read takes it only to show the notes.
    assert purpose("/v1/cases/{case_id}")["required"] is False
    for _, _, operation in operations(document):
        assert not any(key.startswith("x-") for key in operation)


def test_every_route_that_needs_a_token_documents_its_refusals(
    document: dict[str, Any],
) -> None:
    secured = [
        (path, operation)
        for path, _, operation in operations(document)
        if "security" in operation
    ]
    assert len(secured) > 20
    for path, operation in secured:
        assert {"401", "403"} <= set(operation["responses"]), path
    public = document["paths"]["/v1/audit/public-key"]["get"]
    assert "security" not in public and "401" not in public["responses"]


ANSWER_MODULES = (audit, cases, common, oversight, reports, submissions)


def test_an_answer_with_a_key_the_model_does_not_know_is_refused() -> None:
    models = [
        value
        for module in ANSWER_MODULES
        for value in vars(module).values()
        if isinstance(value, type)
        and issubclass(value, BaseModel)
        and value.__module__ == module.__name__
    ]
    assert len(models) > 40
    assert all(model.model_config.get("extra") == "forbid" for model in models)
    body = {"status": "ready", "position": 3}
    assert checked(common.Ready, body) is body  # sent as it is
    with pytest.raises(ValidationError):
        checked(common.Ready, body | {"surprise": 1})
    with pytest.raises(ValidationError):
        checked(common.Ready, {"status": "ready"})


@pytest.fixture(scope="module")
def simulated(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    """Four months of a simulated municipality, every read model caught up."""
    boende: Boende = bootstrap(
        Settings(data_dir=Path(tmp_path_factory.mktemp("sim")) / "var")
    )
    world = plan(4, seed=3)
    with TestClient(create_app(boende)) as client:
        assert send(world.envelopes, client, 2).unexpected == 0
        for runner in boende.runners:
            runner.catch_up()
        assert client.post("/v1/audit/tree-heads").status_code == 201
        yield client
    boende.close()


def test_every_answer_is_what_its_model_says(simulated: TestClient) -> None:
    """A 200 here means FastAPI (or ``checked``) found the answer to be its
    model; keys a route leaves out stay out (``exclude_unset``)."""
    client = simulated
    purpose = {"X-Purpose": "tillsyn"}
    events = client.get("/v1/audit/events", params={"limit": 1000}).json()["events"]
    case = next(e["aggregate_id"] for e in events if e["aggregate_type"] == "case")
    apartment = next(
        e["aggregate_id"] for e in events if e["aggregate_type"] == "apartment"
    )
    plain = client.get(f"/v1/cases/{case}").json()
    assert "notes_access_id" not in plain
    assert "notes_access_id" in client.get(f"/v1/cases/{case}", headers=purpose).json()
    counts = client.get("/v1/oversight/counts").json()
    assert "groups" not in counts and "public" not in counts
    # In the order the route builds it (a CSV's columns follow it).
    assert list(counts)[:5] == ["as_of", "known_at", *PROVENANCE]
    flows = client.get("/v1/oversight/flows").json()
    assert list(flows)[:6] == ["from", "to", "period", *PROVENANCE]
    assert list(flows["periods"][0])[:2] == ["period", "filed"]
    assert (
        "groups" in client.get("/v1/oversight/counts", params={"by": "gender"}).json()
    )
    trail = client.get(f"/v1/audit/cases/{case}").json()
    assert "iss" not in trail["events"][0]["submitted_by"]  # auth off: no issuer
    for path, params, headers in [
        (f"/v1/cases/{case}/applicant", {}, purpose),
        (f"/v1/apartments/{apartment}", {}, {}),
        ("/v1/oversight/counts", {"public": "true"}, {}),
        ("/v1/oversight/flows", {"by": "intervention"}, {}),
        ("/v1/oversight/flows", {"public": "true", "period": "quarter"}, {}),
        ("/v1/oversight/apartments", {}, {}),
        ("/v1/oversight/landlords", {}, {}),
        ("/v1/oversight/lead-times", {"period": "quarter"}, {}),
        ("/v1/oversight/unexecuted", {}, {}),
        ("/v1/oversight/unexecuted", {"due_within": "60"}, {}),
        ("/v1/reports/unexecuted", {"quarter": "2026Q3"}, {}),
        ("/v1/reports/unexecuted", {"quarter": "2026Q3", "public": "true"}, {}),
        ("/v1/reports/ivo", {"quarter": "2026Q3"}, purpose),
        ("/v1/reports/council", {"quarter": "2026Q3"}, {}),
        ("/v1/audit/access", {}, {}),
        ("/v1/audit/purges", {}, {}),
        ("/v1/audit/public-key", {}, {}),
        ("/v1/audit/tree-head", {}, {}),
        ("/v1/audit/proof/inclusion", {"position": "2"}, {}),
        ("/v1/audit/proof/consistency", {"from_size": "1"}, {}),
        ("/healthz", {}, {}),
        ("/readyz", {}, {}),
    ]:
        answer = client.get(path, params=params, headers=headers)
        assert answer.status_code == 200, (path, params, answer.text)
