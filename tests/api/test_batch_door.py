"""``POST /v1/submissions/batch``: one result per envelope, in order, each
decided exactly as the single door decides it alone.

The oracle is the single door itself: the same envelopes sent one by one to
a second, fresh store must get the same statuses, codes, messages and
positions as the batch's results. Then the caps (413), the media types
(415), bodies that are not a batch (422), tokens, and a writer that is gone
(503, nothing recorded)."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from infra.auth import mint_dev_token
from infra.settings import Settings
from services.bootstrap import Boende, bootstrap
from services.http.app import create_app
from services.http.bulk.answers import BatchAnswer
from tests.conftest import envelope, later

BATCH = "/v1/submissions/batch"
NDJSON = {"Content-Type": "application/x-ndjson"}


@pytest.fixture
def make(tmp_path: Path) -> Iterator[Any]:
    """``make(**settings)``: a client on a fresh store of its own."""
    started: list[Boende] = []

    def build(**overrides: Any) -> TestClient:
        data_dir = tmp_path / f"var{len(started)}"
        boende = bootstrap(Settings(data_dir=data_dir, **overrides))
        started.append(boende)
        return TestClient(create_app(boende))

    yield build
    for boende in started:
        boende.close()


def ndjson(envelopes: list[Any]) -> bytes:
    return b"".join(
        (e if isinstance(e, bytes) else json.dumps(e).encode()) + b"\n"
        for e in envelopes
    )


def post_batch(client: TestClient, envelopes: list[Any], kind: str) -> Any:
    if kind == "ndjson":
        return client.post(BATCH, content=ndjson(envelopes), headers=NDJSON)
    return client.post(BATCH, json=envelopes)


def alone(client: TestClient, envelopes: list[Any]) -> list[dict[str, Any]]:
    """Each envelope through the single door, as a batch result would say."""
    said = []
    for index, env in enumerate(envelopes):
        raw = env if isinstance(env, bytes) else json.dumps(env).encode()
        response = client.post(
            "/v1/submissions",
            content=raw,
            headers={"Content-Type": "application/json"},
        )
        said.append({"index": index, "status": response.status_code, **response.json()})
    return said


def comparable(result: dict[str, Any]) -> dict[str, Any]:
    """What must be equal: all but the request's id and the batch's own words."""
    dropped = {"request_id", "outcome", "submission_id"}
    return {k: v for k, v in result.items() if k not in dropped}


def mixed(ids: str = "m") -> list[Any]:
    """A history with a bit of everything a committee can get wrong."""
    filed = envelope("application_filed", f"c-{ids}-1")
    granted = envelope("application_granted", f"c-{ids}-1", later(10))
    acquired = envelope("apartment_acquired", f"a-{ids}-1", later(5))
    executed = envelope(
        "contract_executed",
        f"c-{ids}-1",
        later(20),
        payload={"apartment_id": f"a-{ids}-1", "lease_starts_on": later(30)},
    )
    other = envelope("application_filed", f"c-{ids}-2")
    return [
        filed,
        granted,  # depends on the filing, in the same batch
        envelope("application_granted", f"c-{ids}-1", later(11)),  # 409 twice
        envelope("application_granted", f"c-{ids}-unknown"),  # 404
        {**envelope("application_filed", f"c-{ids}-3"), "extra": 1},  # 422
        {"type": "application_filed"},  # 422, no submission_id to tell
        filed,  # a repeat: the first result
        {**filed, "occurred_on": later(1)},  # the same id, another body: 409
        acquired,
        executed,
        other,
        envelope("application_rejected", f"c-{ids}-2", later(-5)),  # out of order
        envelope("application_granted", f"c-{ids}-2", later(15)),
        envelope(  # the apartment is occupied now
            "contract_executed",
            f"c-{ids}-2",
            later(25),
            payload={"apartment_id": f"a-{ids}-1", "lease_starts_on": later(30)},
        ),
    ]


@pytest.mark.parametrize("kind", ["ndjson", "json"])
def test_a_mixed_batch_is_decided_as_one_by_one(make: Any, kind: str) -> None:
    envelopes = mixed()
    batched = post_batch(make(), envelopes, kind)
    assert batched.status_code == 200, batched.text
    answer = batched.json()
    BatchAnswer.model_validate(answer)
    expected = alone(make(), envelopes)
    assert [comparable(r) for r in answer["results"]] == [
        comparable(r) for r in expected
    ]
    statuses = [r["status"] for r in answer["results"]]
    assert statuses[:8] == [201, 201, 409, 404, 422, 422, 200, 409]
    assert statuses[8:] == [201, 201, 201, 409, 201, 409]
    errors = [r.get("error") for r in answer["results"]]
    assert errors[7] == "submission_id_conflict"
    assert errors[11:] == ["date_out_of_order", None, "apartment_unavailable"]
    assert [r["outcome"] for r in answer["results"][:2]] == ["recorded"] * 2
    assert answer["results"][6]["outcome"] == "repeat"
    assert answer["results"][6]["position"] == answer["results"][0]["position"]
    assert (answer["recorded"], answer["repeats"], answer["refused"]) == (6, 1, 7)
    assert answer["refusals"] == {
        "apartment_unavailable": 1,
        "date_out_of_order": 1,
        "invalid_submission": 2,
        "not_found": 1,
        "submission_id_conflict": 1,
        "transition_not_allowed": 1,
    }


def test_results_keep_the_batch_order_and_the_log_follows_it(make: Any) -> None:
    client = make()
    envelopes = [envelope("application_filed", f"c-order-{n}") for n in range(40)]
    answer = post_batch(client, envelopes, "ndjson").json()
    assert [r["index"] for r in answer["results"]] == list(range(40))
    assert [r["submission_id"] for r in answer["results"]] == [
        e["submission_id"] for e in envelopes
    ]
    positions = [r["position"] for r in answer["results"]]
    assert positions == sorted(positions) and len(set(positions)) == 40


def test_a_batch_sent_again_is_all_repeats(make: Any) -> None:
    client = make()
    envelopes = mixed("again")
    first = post_batch(client, envelopes, "ndjson").json()
    second = post_batch(client, envelopes, "json").json()
    assert second["recorded"] == 0
    assert second["repeats"] == first["recorded"] + first["repeats"]
    for before, now in zip(first["results"], second["results"], strict=True):
        if before["outcome"] in ("recorded", "repeat"):
            assert now["outcome"] == "repeat" and now["status"] == 200
            assert now["position"] == before["position"]


def test_one_envelope_twice_in_a_batch_is_recorded_once(make: Any) -> None:
    filed = envelope("application_filed", "c-twice")
    answer = post_batch(make(), [filed, filed], "ndjson").json()
    assert [r["outcome"] for r in answer["results"]] == ["recorded", "repeat"]
    assert answer["results"][0]["position"] == answer["results"][1]["position"]


# -- caps ------------------------------------------------------------------------------


def test_more_envelopes_than_the_cap_is_413_and_records_nothing(make: Any) -> None:
    client = make(batch_max=3)
    envelopes = [envelope("application_filed", f"c-cap-{n}") for n in range(4)]
    for kind in ("ndjson", "json"):
        response = post_batch(client, envelopes, kind)
        assert response.status_code == 413, response.text
        body = response.json()
        assert body["error"] == "payload_too_large"
        assert body["max_envelopes"] == 3 and "BOENDE_BATCH_MAX" in body["message"]
    assert post_batch(client, envelopes[:3], "ndjson").json()["recorded"] == 3
    assert client.get("/v1/cases/c-cap-3").status_code == 404


def test_a_body_over_the_byte_cap_is_413(make: Any) -> None:
    client = make(batch_max=2, max_body_bytes=1024)  # cap: 2 x (1024 + 2)
    padded = envelope("application_filed", "c-big", payload={"applicant": {
        "personnummer": "19850317-1236", "name": "x" * 1500}})  # fmt: skip
    response = post_batch(client, [padded, padded], "ndjson")
    assert response.status_code == 413
    assert response.json()["limit"] == 2052
    assert "BOENDE_BATCH_MAX" in response.json()["message"]


def test_an_envelope_over_the_single_limit_is_refused_alone(make: Any) -> None:
    client = make(max_body_bytes=1024)
    padded = envelope("application_filed", "c-big", payload={"applicant": {
        "personnummer": "19850317-1236", "name": "x" * 1500}})  # fmt: skip
    fine = envelope("application_filed", "c-fine")
    answer = post_batch(client, [padded, fine], "json").json()
    assert [r["status"] for r in answer["results"]] == [413, 201]
    assert answer["results"][0]["error"] == "payload_too_large"
    assert "x" * 20 not in json.dumps(answer)  # never the value sent


# -- what is not a batch ---------------------------------------------------------------


@pytest.mark.parametrize(
    "content_type", [None, "text/plain", "application/xml", "multipart/form-data"]
)
def test_other_media_types_are_415(make: Any, content_type: str | None) -> None:
    headers = {"Content-Type": content_type} if content_type else {}
    body = ndjson([envelope("application_filed", "c-415")])
    response = make().post(BATCH, content=body, headers=headers)
    assert response.status_code == 415, response.text
    assert response.json()["error"] == "unsupported_media_type"


def test_media_type_parameters_and_case_are_accepted(make: Any) -> None:
    client = make()
    body = ndjson([envelope("application_filed", "c-params")])
    headers = {"Content-Type": "Application/X-NDJSON; charset=utf-8"}
    assert client.post(BATCH, content=body, headers=headers).status_code == 200


@pytest.mark.parametrize(
    ("body", "problem"),
    [
        (b"", "no envelope"),
        (b"\n\n  \n", "no envelope"),
        (b"[]", "no envelope"),
        (b'{"type": "application_filed"}', "must be a JSON array"),
        (b"[{}, {]", "element 1"),
        (b"[{} {}]", "expected ','"),
        (b"[{}] []", "more after"),
        (b"\xff[]", "not UTF-8"),
    ],
)
def test_a_body_that_is_not_a_batch_is_422(
    make: Any, body: bytes, problem: str
) -> None:
    client = make()
    headers = {"Content-Type": "application/json" if body.strip() else NDJSON[
        "Content-Type"]}  # fmt: skip
    response = client.post(BATCH, content=body, headers=headers)
    assert response.status_code == 422, response.text
    assert response.json()["error"] == "invalid_submission"
    assert problem in json.dumps(response.json()["details"])


def test_a_broken_array_records_nothing(make: Any) -> None:
    client = make()
    good = json.dumps(envelope("application_filed", "c-broken"))
    response = client.post(
        BATCH,
        content=f"[{good}, {{".encode(),
        headers={"Content-Type": "application/json"},
    )
    assert response.status_code == 422
    assert client.get("/v1/cases/c-broken").status_code == 404


def test_a_stopped_writer_is_503_and_nothing_is_recorded(make: Any) -> None:
    client = make()
    client.app.state.boende.committer.close()  # type: ignore[attr-defined]
    envelopes = [envelope("application_filed", "c-503"), {"type": "x"}]
    response = post_batch(client, envelopes, "ndjson")
    assert response.status_code == 503, response.text
    assert response.json()["error"] == "unavailable"
    assert response.headers["retry-after"]
    assert "nothing of this batch was recorded" in response.json()["message"]


# -- tokens ----------------------------------------------------------------------------


def token(
    settings: Settings, sub: str, role: str, committee: str | None = None
) -> dict[str, str]:
    minted = mint_dev_token(
        settings, sub, [role], timedelta(hours=1), committee=committee
    )
    return {"Authorization": f"Bearer {minted}", **NDJSON}


def test_tokens_are_checked_per_batch_and_per_envelope(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path / "var", auth="jwt")
    boende = bootstrap(settings)
    try:
        client = TestClient(create_app(boende))
        filing = envelope("application_filed", "c-auth-1")
        acquired = envelope("apartment_acquired", "a-auth-1")
        body = ndjson([filing, acquired])
        assert client.post(BATCH, content=body, headers=NDJSON).status_code == 401
        oversight = token(settings, "board", "oversight")
        assert client.post(BATCH, content=body, headers=oversight).status_code == 403
        case_system = token(settings, "ifn-system", "case_system", "IFN")
        answer = client.post(BATCH, content=body, headers=case_system).json()
        assert [r["status"] for r in answer["results"]] == [201, 403]
        assert answer["results"][1]["error"] == "forbidden"
        assert client.get("/v1/audit/events", headers=token(
            settings, "aud", "auditor")).status_code == 200  # fmt: skip
        officer = token(settings, "handlaggare-17", "ifn_officer")
        mine = envelope("application_filed", "c-auth-2")  # names handlaggare-17
        someone_else = {**envelope("application_filed", "c-auth-3"),
                        "actor": {"committee": "IFN", "user": "another"}}  # fmt: skip
        answer = client.post(
            BATCH, content=ndjson([mine, someone_else]), headers=officer
        ).json()
        assert [r["status"] for r in answer["results"]] == [201, 403]
    finally:
        boende.close()


def test_the_door_is_documented(make: Any) -> None:
    spec = make().get("/openapi.json").json()
    operation = spec["paths"][BATCH]["post"]
    content = operation["requestBody"]["content"]
    assert set(content) == {"application/json", "application/x-ndjson"}
    assert all("example" in media for media in content.values())
    assert {"200", "401", "403", "413", "415", "422", "503"} <= set(
        operation["responses"]
    )
    answer = operation["responses"]["200"]["content"]["application/json"]
    BatchAnswer.model_validate(answer["example"])
    lines = content["application/x-ndjson"]["example"].splitlines()
    assert [json.loads(line)["type"] for line in lines] == [
        "application_filed",
        "application_granted",
    ]


def test_an_unparseable_line_is_refused_without_quoting_it(make: Any) -> None:
    secret = "19850317-1236 Anna Andersson"
    answer = post_batch(make(), [secret.encode()], "ndjson").json()
    assert answer["results"][0]["status"] == 422
    assert "Andersson" not in json.dumps(answer) and "19850317" not in json.dumps(
        answer
    )


def test_results_name_the_submission_id_of_every_readable_envelope(make: Any) -> None:
    sid = str(uuid.uuid4())
    bad = {**envelope("application_granted", "c-none"), "submission_id": sid}
    answer = post_batch(make(), [bad], "json").json()
    assert answer["results"][0]["submission_id"] == sid
