"""Bad input gets a clear, documented 4xx and changes nothing.

Each case posts something wrong and checks three things: the status and
error code of DOMAIN.md, that the log did not grow, and that no personal data
came back in the answer.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from infra.settings import Settings
from services.bootstrap import Boende, bootstrap
from services.http.app import create_app
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


def with_applicant_name(name: str) -> dict[str, Any]:
    return filed(applicant={"personnummer": "19850317-1236", "name": name})


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
    "duplicate key": (
        lambda: json.dumps(filed())[:-1].encode() + b', "type": "application_filed"}',
        422,
        "invalid_submission",
    ),
    "duplicate key with data as the key": (
        lambda: b'{"19850317-1236": 1, "19850317-1236": 2}',
        422,
        "invalid_submission",
    ),
    "before the earliest day": (
        lambda: {**filed(), "occurred_on": "1989-12-31"},
        422,
        "invalid_submission",
    ),
    "the year 1": (
        lambda: {**filed(), "occurred_on": "0001-01-01"},
        422,
        "invalid_submission",
    ),
    "lease starting before the earliest day": (
        lambda: envelope(
            "contract_executed", "c-bad-2", payload={"lease_starts_on": "1970-01-01"}
        ),
        422,
        "invalid_submission",
    ),
    "NUL in a decision id": (
        lambda: envelope(
            "application_granted", "c-bad-3", payload={"decision_id": "IFN-1\x00"}
        ),
        422,
        "invalid_submission",
    ),
    "control characters in the name": (
        lambda: with_applicant_name(f"{SECRET_NAME}\x1b[31m"),
        422,
        "invalid_submission",
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


@pytest.mark.parametrize(
    "content_type", [None, "text/plain", "application/x-www-form-urlencoded"]
)
def test_a_body_that_is_not_declared_json_is_415(
    client: TestClient, content_type: str | None
) -> None:
    headers = {"content-type": content_type} if content_type else {}
    body = json.dumps(filed()).encode()
    response = client.post("/v1/submissions", content=body, headers=headers)
    assert response.status_code == 415
    assert response.json()["error"] == "unsupported_media_type"


def test_json_with_a_charset_is_json(client: TestClient, ids: Ids) -> None:
    body = json.dumps(envelope("application_filed", ids.next("c"))).encode()
    headers = {"content-type": "Application/JSON; charset=utf-8"}
    assert (
        client.post("/v1/submissions", content=body, headers=headers).status_code == 201
    )


def test_the_earliest_day_is_a_setting(tmp_path: Path, ids: Ids) -> None:
    later_start = Settings(data_dir=tmp_path / "var", earliest_day=date(2020, 1, 1))
    boende = bootstrap(later_start)
    try:
        client = TestClient(create_app(boende))
        old = envelope("application_filed", ids.next("c"), "2019-12-31")
        refused = client.post("/v1/submissions", json=old)
        assert refused.status_code == 422
        assert refused.json()["details"] == [
            {"loc": "occurred_on", "problem": "must not be before 2020-01-01"}
        ]
        fine = envelope("application_filed", ids.next("c"), "2020-01-01")
        assert client.post("/v1/submissions", json=fine).status_code == 201
    finally:
        boende.close()
