"""Bad input gets a clear, documented 4xx and changes nothing.

Each case posts something wrong and checks three things: the status and
error code of DOMAIN.md, that the log did not grow, and that no personal data
came back in the answer.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient

from services.bootstrap import Boende
from services.submission.examples import EXAMPLE_PERSONNUMMER
from tests.conftest import Ids, envelope, later, stockholm_today

Body = bytes | dict[str, Any]


def filed(**payload: Any) -> dict[str, Any]:
    return envelope("application_filed", "c-bad-1", payload=payload)


def without(body: dict[str, Any], *path: str) -> dict[str, Any]:
    node = body
    for key in path[:-1]:
        node = node[key]
    del node[path[-1]]
    return body


def with_applicant(personnummer: Any) -> dict[str, Any]:
    return filed(applicant={"personnummer": personnummer, "name": "Anna Andersson"})


SECRET_NAME = "Anna Andersson"

CASES: dict[str, tuple[Callable[[], Body], int, str]] = {
    "invalid json": (
        lambda: b'{"type": "application_filed",',
        422,
        "invalid_submission",
    ),
    "invalid utf-8": (lambda: b'{"type": "\xff\xfe"}', 422, "invalid_submission"),
    "empty body": (lambda: b"", 422, "invalid_submission"),
    "json array": (lambda: b"[]", 422, "invalid_submission"),
    "json null": (lambda: b"null", 422, "invalid_submission"),
    "unknown type": (
        lambda: {**filed(), "type": "application_lost"},
        422,
        "invalid_submission",
    ),
    "missing type": (lambda: without(filed(), "type"), 422, "invalid_submission"),
    "missing case_id": (lambda: without(filed(), "case_id"), 422, "invalid_submission"),
    "missing payload field": (
        lambda: without(filed(), "payload", "household"),
        422,
        "invalid_submission",
    ),
    "missing actor user": (
        lambda: without(filed(), "actor", "user"),
        422,
        "invalid_submission",
    ),
    "unknown top-level field": (
        lambda: {**filed(), "extra": 1},
        422,
        "invalid_submission",
    ),
    "unknown payload field": (lambda: filed(colour="blue"), 422, "invalid_submission"),
    "unknown actor field": (
        lambda: {**filed(), "actor": {"committee": "IFN", "user": "u", "role": "x"}},
        422,
        "invalid_submission",
    ),
    "wrong type: household as string": (
        lambda: filed(household="two adults"),
        422,
        "invalid_submission",
    ),
    "wrong type: birth_year as string": (
        lambda: filed(birth_year="1985"),
        422,
        "invalid_submission",
    ),
    "wrong type: rooms as float": (
        lambda: envelope("apartment_acquired", "a-bad", payload={"rooms": 2.5}),
        422,
        "invalid_submission",
    ),
    "no adults": (
        lambda: filed(household={"adults": 0, "children": 1}),
        422,
        "invalid_submission",
    ),
    "bad gender": (lambda: filed(gender="female"), 422, "invalid_submission"),
    "bad submission_id": (
        lambda: {**filed(), "submission_id": "not-a-uuid"},
        422,
        "invalid_submission",
    ),
    "bad case_id characters": (
        lambda: {**filed(), "case_id": "c 1/../x"},
        422,
        "invalid_submission",
    ),
    "case_id too long": (
        lambda: {**filed(), "case_id": "c" * 65},
        422,
        "invalid_submission",
    ),
    "bad date": (
        lambda: {**filed(), "occurred_on": "2021-02-30"},
        422,
        "invalid_submission",
    ),
    "future date": (
        lambda: {**filed(), "occurred_on": str(stockholm_today() + timedelta(days=1))},
        422,
        "invalid_submission",
    ),
    "personnummer bad luhn": (
        lambda: with_applicant("19850317-1234"),
        422,
        "invalid_submission",
    ),
    "personnummer bad format": (
        lambda: with_applicant("1985-03-17-1236"),
        422,
        "invalid_submission",
    ),
    "personnummer impossible date": (
        lambda: with_applicant("19851317-1236"),
        422,
        "invalid_submission",
    ),
    "personnummer as number": (
        lambda: with_applicant(198503171236),
        422,
        "invalid_submission",
    ),
    "committee KS submits": (
        lambda: {**filed(), "actor": {"committee": "KS", "user": "ks-1"}},
        403,
        "forbidden",
    ),
    "committee ALN files an application": (
        lambda: {**filed(), "actor": {"committee": "ALN", "user": "aln-1"}},
        403,
        "forbidden",
    ),
    "unknown committee": (
        lambda: {**filed(), "actor": {"committee": "XYZ", "user": "u"}},
        422,
        "invalid_submission",
    ),
    "unknown case": (
        lambda: envelope("application_granted", "c-never-filed"),
        404,
        "not_found",
    ),
    "unknown apartment": (
        lambda: envelope("apartment_returned", "a-never-acquired"),
        404,
        "not_found",
    ),
    "1 MB body": (
        lambda: json.dumps({**filed(), "pad": "x" * 1_000_000}).encode(),
        413,
        "payload_too_large",
    ),
}


@pytest.mark.parametrize("name", list(CASES))
def test_bad_input_is_refused_and_records_nothing(
    client: TestClient, sqlite_boende: Boende, name: str
) -> None:
    make, status, code = CASES[name]
    body = make()
    before = sqlite_boende.app.recorder.max_notification_id()
    if isinstance(body, bytes):
        response = client.post(
            "/v1/submissions",
            content=body,
            headers={"content-type": "application/json"},
        )
    else:
        response = client.post("/v1/submissions", json=body)
    assert response.status_code == status, response.text
    answer = response.json()
    assert answer["error"] == code
    assert answer["message"]
    if status == 422:
        assert answer["details"], "a 422 lists each field and problem"
        assert all({"loc", "problem"} <= set(d) for d in answer["details"])
    assert sqlite_boende.app.recorder.max_notification_id() == before
    assert "1985031" not in response.text, "no personnummer in an error"
    assert SECRET_NAME not in response.text, "no name in an error"


def test_422_details_name_each_field(client: TestClient) -> None:
    body = filed(household={"adults": 0, "children": -1}, colour="blue")
    details = client.post("/v1/submissions", json=body).json()["details"]
    locs = {d["loc"] for d in details}
    assert {
        "payload.household.adults",
        "payload.household.children",
        "payload.colour",
    } <= locs


def test_date_before_previous_fact_is_out_of_order(
    client: TestClient, ids: Ids
) -> None:
    case_id = ids.next("c")
    assert (
        client.post(
            "/v1/submissions", json=envelope("application_filed", case_id)
        ).status_code
        == 201
    )
    early = envelope("application_granted", case_id, later(-1))
    response = client.post("/v1/submissions", json=early)
    assert response.status_code == 409
    assert response.json()["error"] == "date_out_of_order"


def test_executing_into_an_occupied_apartment_is_refused(
    client: TestClient, ids: Ids
) -> None:
    apartment_id = ids.next("a")
    client.post("/v1/submissions", json=envelope("apartment_acquired", apartment_id))
    outcomes = []
    for _ in range(2):
        case_id = ids.next("c")
        for step, day in (("application_filed", 0), ("application_granted", 1)):
            client.post("/v1/submissions", json=envelope(step, case_id, later(day)))
        execute = envelope(
            "contract_executed",
            case_id,
            later(2),
            payload={"apartment_id": apartment_id},
        )
        outcomes.append(client.post("/v1/submissions", json=execute))
    assert outcomes[0].status_code == 201
    assert outcomes[1].status_code == 409
    assert outcomes[1].json()["error"] == "apartment_unavailable"


def test_the_personnummer_is_stored_canonically(client: TestClient, ids: Ids) -> None:
    short = EXAMPLE_PERSONNUMMER[2:]  # YYMMDD-NNNN
    case_id = ids.next("c")
    body = envelope(
        "application_filed", case_id, payload={"applicant": {"personnummer": short}}
    )
    assert client.post("/v1/submissions", json=body).status_code == 201


def test_unknown_route_and_method_use_the_error_shape(client: TestClient) -> None:
    assert client.get("/v1/nothing").json()["error"] == "not_found"
    response = client.get("/v1/submissions")
    assert response.status_code == 405
    assert response.json()["error"] == "method_not_allowed"
