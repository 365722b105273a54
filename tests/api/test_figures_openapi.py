"""The seed figures and the landlord register document themselves: every
parameter with an example, every answer a schema under ``components`` with
an example that is itself a valid answer (``services.http.figures.
models``; that real answers validate: ``tests/integration/
test_figures_csv.py``)."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient
from pydantic import BaseModel

from infra.settings import Settings
from services.bootstrap import bootstrap
from services.http.app import create_app
from services.http.figures import models

#: Each figure's operation and the model its JSON answer is.
FIGURES: dict[str, type[BaseModel]] = {
    "/v1/oversight/households": models.HouseholdsAnswer,
    "/v1/oversight/first-hand": models.FirstHandAnswer,
    "/v1/oversight/rents": models.RentsAnswer,
    "/v1/oversight/vacancy": models.VacancyAnswer,
}
#: The parameters each takes, besides format, lang, Accept and min_position.
PARAMETERS = {
    "/v1/oversight/households": {"as_of", "week", "known_at", "public"},
    "/v1/oversight/first-hand": {"from", "to", "as_of", "by", "known_at"},
    "/v1/oversight/rents": {"as_of", "by", "known_at"},
    "/v1/oversight/vacancy": {"from", "to", "period", "by", "known_at"},
    "/v1/oversight/landlords": set(),
}
SHARED = {"format", "lang", "accept", "min_position"}


@pytest.fixture(scope="module")
def document(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    running = bootstrap(Settings(data_dir=tmp_path_factory.mktemp("doc") / "var"))
    try:
        answer: dict[str, Any] = (
            TestClient(create_app(running)).get("/openapi.json").json()
        )
        return answer
    finally:
        running.close()


def examples_of(parameter: dict[str, Any]) -> list[Any]:
    """A parameter's examples, wherever OpenAPI lets it put them."""
    found = [e["value"] for e in parameter.get("examples", {}).values()]
    schema = parameter.get("schema", {})
    found += [parameter["example"]] if "example" in parameter else []
    return found + list(schema.get("examples", []))


@pytest.mark.parametrize("path", sorted(PARAMETERS))
def test_every_parameter_has_an_example(document: dict[str, Any], path: str) -> None:
    operation = document["paths"][path]["get"]
    parameters = {p["name"].lower(): p for p in operation["parameters"]}
    assert set(parameters) == PARAMETERS[path] | SHARED
    for name, parameter in parameters.items():
        assert examples_of(parameter), (path, name)
        assert parameter.get("description") or name == "accept", (path, name)
    assert "text/csv" in operation["responses"]["200"]["content"]


@pytest.mark.parametrize("path", sorted(FIGURES))
def test_every_answer_is_a_schema_under_components_with_an_example(
    document: dict[str, Any], path: str
) -> None:
    ok = document["paths"][path]["get"]["responses"]["200"]["content"]
    reference = ok["application/json"]["schema"]["$ref"]
    name = FIGURES[path].__name__
    assert reference == f"#/components/schemas/{name}"
    schema = document["components"]["schemas"][name]
    assert schema["examples"] and ok["application/json"]["example"]
    assert schema["additionalProperties"] is False
    # every schema it refers to is there too, none inline
    schemas = document["components"]["schemas"]
    assert "$defs" not in str(schema)
    pending, seen = [name], set()
    while pending:
        current = pending.pop()
        seen.add(current)
        for ref in _refs(schemas[current]):
            referred = ref.removeprefix("#/components/schemas/")
            assert referred in schemas, (name, ref)
            pending += [] if referred in seen else [referred]
    assert len(seen) > 1


def _refs(schema: Any) -> list[str]:
    if isinstance(schema, dict):
        found = [schema["$ref"]] if isinstance(schema.get("$ref"), str) else []
        return found + [r for v in schema.values() for r in _refs(v)]
    if isinstance(schema, list):
        return [r for v in schema for r in _refs(v)]
    return []


@pytest.mark.parametrize("model", sorted(FIGURES.values(), key=lambda m: m.__name__))
def test_each_example_is_a_valid_answer(model: type[BaseModel]) -> None:
    extra = model.model_config.get("json_schema_extra")
    assert isinstance(extra, dict)
    for example in extra["examples"]:
        model.model_validate(example)
    with pytest.raises(ValueError, match="Extra inputs"):
        model.model_validate({**extra["examples"][0], "no_such_figure": 1})


def test_the_old_operation_ids_stay(document: dict[str, Any]) -> None:
    """Clients generated before CSV keep their method names."""
    ids = {path: document["paths"][path]["get"]["operationId"] for path in PARAMETERS}
    assert ids == {
        "/v1/oversight/households": "households_v1_oversight_households_get",
        "/v1/oversight/first-hand": "first_hand_v1_oversight_first_hand_get",
        "/v1/oversight/rents": "rents_v1_oversight_rents_get",
        "/v1/oversight/vacancy": "vacancy_v1_oversight_vacancy_get",
        "/v1/oversight/landlords": "landlords_v1_oversight_landlords_get",
    }
