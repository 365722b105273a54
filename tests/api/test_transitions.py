"""Every cell of DOMAIN.md's transition tables, through the HTTP API.

The expected tables are written out here from DOMAIN.md, independently of the
code's own table, so a wrong entry in either shows up as a failure.
"""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.conftest import Ids, envelope, later

CASE_EVENTS = [
    "application_filed",
    "application_withdrawn",
    "application_granted",
    "application_rejected",
    "delay_reason_recorded",
    "grant_cancelled",
    "contract_executed",
    "follow_up_recorded",
    "converted_to_first_hand",
    "contract_terminated",
]

# DOMAIN.md: state -> {event type: new state}
CASE_TABLE: dict[str, dict[str, str]] = {
    "filed": {
        "application_withdrawn": "withdrawn",
        "application_granted": "granted",
        "application_rejected": "rejected",
    },
    "withdrawn": {},
    "granted": {
        "delay_reason_recorded": "granted",
        "grant_cancelled": "cancelled",
        "contract_executed": "executed",
    },
    "rejected": {"application_granted": "granted"},  # on appeal only
    "cancelled": {},
    "executed": {
        "follow_up_recorded": "executed",
        "converted_to_first_hand": "converted",
        "contract_terminated": "terminated",
    },
    "converted": {},
    "terminated": {},
}

# How to bring a case into each state (after application_filed).
PATHS: dict[str, list[str]] = {
    "filed": [],
    "withdrawn": ["application_withdrawn"],
    "granted": ["application_granted"],
    "rejected": ["application_rejected"],
    "cancelled": ["application_granted", "grant_cancelled"],
    "executed": ["application_granted", "contract_executed"],
    "converted": [
        "application_granted",
        "contract_executed",
        "converted_to_first_hand",
    ],
    "terminated": ["application_granted", "contract_executed", "contract_terminated"],
}

APPEAL = {"basis": "appeal"}


class CaseBuilder:
    def __init__(self, client: TestClient, ids: Ids) -> None:
        self.client = client
        self.ids = ids
        self.day = 0

    def post(self, body: dict[str, Any]) -> Any:
        return self.client.post("/v1/submissions", json=body)

    def submit(self, event_type: str, case_id: str, apartment_id: str) -> Any:
        self.day += 1
        payload: dict[str, Any] = {}
        if event_type == "contract_executed":
            payload = {"apartment_id": apartment_id}
        if event_type == "application_granted":
            payload = APPEAL  # valid from filed as well as from rejected
        return self.post(
            envelope(event_type, case_id, later(self.day), payload=payload)
        )

    def case_in(self, state: str) -> tuple[str, str]:
        case_id, apartment_id = self.ids.next("c"), self.ids.next("a")
        assert (
            self.post(envelope("apartment_acquired", apartment_id)).status_code == 201
        )
        assert self.post(envelope("application_filed", case_id)).status_code == 201
        for step in PATHS[state]:
            response = self.submit(step, case_id, apartment_id)
            assert response.status_code == 201, response.json()
        assert self.client.get(f"/v1/cases/{case_id}").json()["state"] == state
        return case_id, apartment_id


@pytest.mark.parametrize("state", list(CASE_TABLE))
@pytest.mark.parametrize("event_type", CASE_EVENTS)
def test_case_transition(
    client: TestClient, ids: Ids, state: str, event_type: str
) -> None:
    builder = CaseBuilder(client, ids)
    case_id, apartment_id = builder.case_in(state)
    before = client.get(f"/v1/cases/{case_id}").json()
    response = builder.submit(event_type, case_id, apartment_id)
    after = client.get(f"/v1/cases/{case_id}").json()
    if event_type in CASE_TABLE[state]:
        assert response.status_code == 201, response.json()
        assert after["state"] == CASE_TABLE[state][event_type]
        assert after["version"] == before["version"] + 1
    else:
        assert response.status_code == 409, response.json()
        body = response.json()
        assert body["error"] == "transition_not_allowed"
        assert body["state"] == state
        assert sorted(body["allowed"]) == sorted(CASE_TABLE[state])
        assert after == before


def test_rejected_is_granted_only_on_appeal(client: TestClient, ids: Ids) -> None:
    builder = CaseBuilder(client, ids)
    case_id, _ = builder.case_in("rejected")
    plain = envelope("application_granted", case_id, later(30))
    response = client.post("/v1/submissions", json=plain)
    assert response.status_code == 409
    assert response.json()["error"] == "transition_not_allowed"
    appeal = envelope("application_granted", case_id, later(30), payload=APPEAL)
    assert client.post("/v1/submissions", json=appeal).status_code == 201


# DOMAIN.md: apartment state -> {submittable event: new state}; the other
# three states are reached through a case's facts.
APARTMENT_TABLE: dict[str, dict[str, str]] = {
    "available": {"apartment_returned": "returned"},
    "occupied": {},
    "returned": {},
    "transferred": {},
}
APARTMENT_VIA_CASE = {"occupied": "executed", "transferred": "converted"}


@pytest.mark.parametrize("state", list(APARTMENT_TABLE))
@pytest.mark.parametrize("event_type", ["apartment_acquired", "apartment_returned"])
def test_apartment_transition(
    client: TestClient, ids: Ids, state: str, event_type: str
) -> None:
    builder = CaseBuilder(client, ids)
    if state in APARTMENT_VIA_CASE:
        _, apartment_id = builder.case_in(APARTMENT_VIA_CASE[state])
    else:
        apartment_id = ids.next("a")
        assert (
            builder.post(envelope("apartment_acquired", apartment_id)).status_code
            == 201
        )
        if state == "returned":
            returned = envelope("apartment_returned", apartment_id, later(1))
            assert builder.post(returned).status_code == 201
    assert client.get(f"/v1/apartments/{apartment_id}").json()["state"] == state
    response = builder.post(envelope(event_type, apartment_id, later(200)))
    if event_type in APARTMENT_TABLE[state]:
        assert response.status_code == 201, response.json()
        after = client.get(f"/v1/apartments/{apartment_id}").json()
        assert after["state"] == APARTMENT_TABLE[state][event_type]
    else:
        assert response.status_code == 409, response.json()
        assert response.json()["error"] == "transition_not_allowed"
        assert response.json()["allowed"] == list(APARTMENT_TABLE[state])


@pytest.mark.parametrize(
    ("ending", "apartment_after"),
    [("contract_terminated", "available"), ("converted_to_first_hand", "transferred")],
)
def test_case_facts_move_the_apartment_in_the_same_save(
    client: TestClient, ids: Ids, ending: str, apartment_after: str
) -> None:
    builder = CaseBuilder(client, ids)
    case_id, apartment_id = builder.case_in("executed")
    apartment = client.get(f"/v1/apartments/{apartment_id}").json()
    assert (apartment["state"], apartment["tenant_case_id"]) == ("occupied", case_id)
    response = builder.submit(ending, case_id, apartment_id)
    assert response.status_code == 201
    apartment = client.get(f"/v1/apartments/{apartment_id}").json()
    assert apartment["state"] == apartment_after
    # The apartment's fact comes just before the case's, and the response
    # points at the later one, so reading at that position sees both.
    assert apartment["history"][-1]["type"].startswith("apartment_")
