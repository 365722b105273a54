"""The audit trail (``/v1/audit``) on a real SQLite file and a real PostgreSQL.

A scripted case — filed, granted, delayed, executed into an apartment by ALN,
followed up, terminated — is recorded over HTTP with the read models caught
up after every submission; the trail must list every fact with the positions,
actors and submission ids the store recorded, and a rebuild from the log must
give exactly the same rows and answers.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient

from domain.apartment import apartment_id_to_uuid
from domain.case import case_id_to_uuid
from infra.settings import Settings
from projections.base import utc_text
from services.bootstrap import Boende, bootstrap
from services.http.app import create_app
from services.projecting.rebuild import rebuild_together
from services.submission.examples import EXAMPLE_PERSONNUMMER, PAYLOADS
from tests.conftest import Ids, envelope, later

APPLICANT_NAME = PAYLOADS["application_filed"]["applicant"]["name"]


@pytest.fixture
def boende(store_settings: Settings) -> Iterator[Boende]:
    """Boende on both engines, waiting at most 0.2 s for a lagging read model."""
    running = bootstrap(store_settings.model_copy(update={"read_wait_seconds": 0.2}))
    yield running
    running.close()


@pytest.fixture
def client(boende: Boende) -> TestClient:
    return TestClient(create_app(boende))


def catch_up(boende: Boende) -> None:
    for runner in boende.runners:
        runner.catch_up()


@dataclass
class Script:
    """What the test submitted, and what the store answered."""

    boende: Boende
    client: TestClient
    sent: list[dict[str, Any]] = field(default_factory=list)

    def record(self, body: dict[str, Any]) -> dict[str, Any]:
        response = self.client.post("/v1/submissions", json=body)
        assert response.status_code == 201, response.text
        self.sent.append({**response.json(), "body": body})
        catch_up(self.boende)  # the live read model grows event by event
        return self.sent[-1]


def actor(committee: str, user: str) -> dict[str, str]:
    return {"committee": committee, "user": user}


def scripted_case(script: Script, ids: Ids) -> tuple[str, str]:
    """Record one case's whole life, an apartment, and a neighbouring case."""
    case_id, other_id, apartment_id = ids.next("c"), ids.next("c"), ids.next("apt")
    ifn_17, ifn_2 = actor("IFN", "handlaggare-17"), actor("IFN", "handlaggare-2")
    steps: list[tuple[str, str, int, dict[str, str], dict[str, Any]]] = [
        ("apartment_acquired", apartment_id, 0, actor("ALN", "anskaffare-1"), {}),
        ("application_filed", case_id, 0, ifn_17, {}),
        ("application_filed", other_id, 1, actor("IFN", "handlaggare-9"), {}),
        ("application_granted", case_id, 10, ifn_2, {}),
        ("delay_reason_recorded", case_id, 20, ifn_2, {}),
        (
            "contract_executed",
            case_id,
            30,
            actor("ALN", "bostad-3"),
            {"apartment_id": apartment_id, "lease_starts_on": later(30)},
        ),
        ("follow_up_recorded", case_id, 60, ifn_2, {}),
        ("contract_terminated", case_id, 90, ifn_17, {}),
    ]
    for event_type, key, day, who, payload in steps:
        body = envelope(event_type, key, later(day), actor=who, payload=payload)
        script.record(body)
    return case_id, apartment_id


def log_position(boende: Boende, aggregate_id: Any, version: int) -> int:
    """Where the store put an aggregate's version (read from the log itself)."""
    for n in boende.app.recorder.select_notifications(0, 10_000):
        if n.originator_id == aggregate_id and n.originator_version == version:
            return n.id
    raise AssertionError(f"{aggregate_id} v{version} is not in the log")


def recorded_at(boende: Boende, position: int) -> str:
    (n,) = boende.app.recorder.select_notifications(position, 1)
    event: Any = boende.app.mapper.to_domain_event(n)
    return utc_text(event.timestamp)


def expected_trail(script: Script, case_id: str, apartment_id: str) -> list[Any]:
    """The case's facts, plus its apartment's occupied and vacated facts."""
    rows = []
    apartment_versions = {"contract_executed": 2, "contract_terminated": 3}
    for sent in script.sent:
        body = sent["body"]
        if body.get("case_id") != case_id:
            continue
        rows.append(("case", case_id, sent["version"], body["type"], sent))
        if body["type"] in apartment_versions:
            version = apartment_versions[body["type"]]
            kind = {2: "apartment_occupied", 3: "apartment_vacated"}[version]
            rows.append(("apartment", apartment_id, version, kind, sent))
    expected = [
        {
            "position": (
                sent["position"]
                if kind == "case"
                else log_position(script.boende, apartment_id_to_uuid(key), version)
            ),
            "aggregate_type": kind,
            "aggregate_id": key,
            "version": version,
            "type": event_type,
            "occurred_on": sent["body"]["occurred_on"],
            "committee": sent["body"]["actor"]["committee"],
            "user": sent["body"]["actor"]["user"],
            "submission_id": sent["body"]["submission_id"],
        }
        for kind, key, version, event_type, sent in rows
    ]
    # The store decides whether a consequence lands just before or just after
    # its cause in the one save; the trail follows the log either way.
    return sorted(expected, key=lambda row: row["position"])


def assert_no_personal_data(text: str) -> None:
    assert EXAMPLE_PERSONNUMMER not in text
    assert EXAMPLE_PERSONNUMMER.replace("-", "") not in text
    assert APPLICANT_NAME not in text


def all_rows(boende: Boende) -> list[dict[str, Any]]:
    with boende.views["audit"].transaction(commit=False) as sql:
        return sql.all("SELECT * FROM audit_events ORDER BY position")


def walk(client: TestClient, limit: int, **filters: str) -> list[dict[str, Any]]:
    """Every page of ``/v1/audit/events`` from the start, following next_after."""
    events: list[dict[str, Any]] = []
    after = 0
    while True:
        params = {**filters, "after": str(after), "limit": str(limit)}
        page = client.get("/v1/audit/events", params=params)
        assert page.status_code == 200, page.text
        body = page.json()
        assert len(body["events"]) <= limit
        assert_no_personal_data(page.text)
        events += body["events"]
        if body["next_after"] is None:
            return events
        assert body["next_after"] == body["events"][-1]["position"]
        after = body["next_after"]


@pytest.fixture
def script(boende: Boende, client: TestClient) -> Script:
    return Script(boende, client)


def test_case_trail_lists_every_fact_and_its_apartments_in_log_order(
    boende: Boende, client: TestClient, script: Script, ids: Ids
) -> None:
    case_id, apartment_id = scripted_case(script, ids)

    response = client.get(f"/v1/audit/cases/{case_id}")

    assert response.status_code == 200, response.text
    body = response.json()
    assert body["case_id"] == case_id
    assert body["as_of_position"] == boende.app.recorder.max_notification_id()
    trail = body["events"]
    not_provenance = ("recorded_at", "payload", "withheld", "submitted_by")
    provenance = [
        {k: v for k, v in r.items() if k not in not_provenance} for r in trail
    ]
    assert provenance == expected_trail(script, case_id, apartment_id)
    # Sent with BOENDE_AUTH=off: the trail says nobody was authenticated.
    assert {str(r["submitted_by"]) for r in trail} == {
        str({"sub": "anonymous (auth off)"})
    }
    by_submission: dict[str, set[str]] = {}
    for row in trail:
        by_submission.setdefault(row["submission_id"], set()).add(row["type"])
    assert list(by_submission.values()) == [
        {"application_filed"},
        {"application_granted"},
        {"delay_reason_recorded"},
        {"contract_executed", "apartment_occupied"},
        {"follow_up_recorded"},
        {"contract_terminated", "apartment_vacated"},
    ]
    assert [row["position"] for row in trail] == sorted(r["position"] for r in trail)
    assert all(
        row["recorded_at"] == recorded_at(boende, row["position"]) for row in trail
    )
    # Cross-check against the aggregate's own version numbering in the log.
    case_uuid = case_id_to_uuid(case_id)
    case_rows = [row for row in trail if row["aggregate_type"] == "case"]
    assert [row["position"] for row in case_rows] == [
        log_position(boende, case_uuid, v) for v in range(1, 7)
    ]
    assert_no_personal_data(response.text)


NOTE = "Test Testsson ringde från 070-123 45 67 om lägenheten"


def test_case_trail_shows_what_each_fact_said_without_the_person(
    client: TestClient, script: Script, ids: Ids
) -> None:
    """Each fact's non-personal payload fields (an allow-list per type),
    and the names of the fields withheld: never the applicant, gender,
    birth year, a note or a free-text reason."""
    case_id, rejected_id, apartment_id = ids.next("c"), ids.next("c"), ids.next("a")
    steps: list[tuple[str, str, int, dict[str, Any]]] = [
        ("apartment_acquired", apartment_id, 0, {}),
        ("application_filed", case_id, 0, {}),
        ("application_granted", case_id, 10, {}),
        ("delay_reason_recorded", case_id, 20, {"note": NOTE}),
        ("contract_executed", case_id, 30, {"apartment_id": apartment_id}),
        ("follow_up_recorded", case_id, 60, {"note": NOTE}),
        ("contract_terminated", case_id, 90, {}),
        ("application_filed", rejected_id, 0, {}),
        ("application_rejected", rejected_id, 5, {"reason": NOTE}),
    ]
    for event_type, key, day, payload in steps:
        script.record(envelope(event_type, key, later(day), payload=payload))

    response = client.get(f"/v1/audit/cases/{case_id}")
    assert response.status_code == 200, response.text
    said = {row["type"]: row for row in response.json()["events"]}
    assert said["application_filed"]["payload"] == {
        "household": {"adults": 1, "children": 2}
    }
    assert said["application_filed"]["withheld"] == [
        "applicant",
        "birth_year",
        "gender",
    ]
    assert said["application_granted"]["payload"] == {
        "decision_id": "IFN-2021-311",
        "intervention": "socialt_kontrakt",
        "basis": "assessment",
    }
    assert said["delay_reason_recorded"]["payload"]["reason"] == (
        "no_apartment_available"
    )
    assert said["delay_reason_recorded"]["withheld"] == ["note"]
    assert said["contract_executed"]["payload"] == {
        "apartment_id": apartment_id,
        "monthly_rent_sek": 6400,
        "lease_starts_on": "2021-05-01",
    }
    for consequence in ("apartment_occupied", "apartment_vacated"):
        assert said[consequence]["payload"] == {"case_id": case_id}
        assert said[consequence]["withheld"] == []
    assert said["follow_up_recorded"]["payload"] == {"outcome": "on_track"}
    assert said["follow_up_recorded"]["withheld"] == ["note"]
    assert said["contract_terminated"]["payload"] == {"reason": "moved_out"}
    assert_no_personal_data(response.text)
    assert "Testsson" not in response.text and "070-123" not in response.text

    rejected = client.get(f"/v1/audit/cases/{rejected_id}")
    row = rejected.json()["events"][-1]
    assert row["type"] == "application_rejected"
    assert row["payload"] == {"decision_id": "IFN-2021-312"}
    assert row["withheld"] == ["reason"]
    assert "Testsson" not in rejected.text
    assert_no_personal_data(rejected.text)


def test_the_allow_list_names_every_fact_and_nothing_personal() -> None:
    """A new kind of fact must be decided on; no allowed field is personal."""
    from projections.audit import APARTMENT_FACTS, CASE_FACTS
    from services.audit.content import SHOWN

    facts: list[Any] = [*CASE_FACTS, *APARTMENT_FACTS]
    assert {fact.type_name for fact in facts} == set(SHOWN)
    personal = {"applicant", "personnummer", "name", "gender", "birth_year", "note"}
    free_text = {"application_withdrawn", "application_rejected", "apartment_returned"}
    for event_type, fields in SHOWN.items():
        assert not personal & set(fields), event_type
        if event_type in free_text:
            assert "reason" not in fields, event_type


def test_events_walk_every_event_exactly_once(
    boende: Boende, client: TestClient, script: Script, ids: Ids
) -> None:
    scripted_case(script, ids)
    scripted_case(script, ids)
    last = boende.app.recorder.max_notification_id()
    assert last == 20  # 2 x (8 submissions + occupied + vacated)

    for limit in (1, 3, 7, 20, 1000):
        positions = [e["position"] for e in walk(client, limit)]
        assert positions == list(range(1, last + 1))

    everything = walk(client, 1000)
    assert {e["aggregate_type"] for e in everything} == {"case", "apartment"}
    page = client.get("/v1/audit/events", params={"after": last}).json()
    assert page["events"] == [] and page["next_after"] is None


def test_events_filter_by_committee_user_and_recorded_day(
    client: TestClient, script: Script, ids: Ids
) -> None:
    case_id, apartment_id = scripted_case(script, ids)

    def kinds(**filters: str) -> list[tuple[str, str]]:
        events = walk(client, 2, **filters)
        assert [e["position"] for e in events] == sorted(e["position"] for e in events)
        return sorted((e["type"], e["aggregate_id"]) for e in events)

    assert kinds(committee="ALN") == [
        ("apartment_acquired", apartment_id),
        ("apartment_occupied", apartment_id),  # a consequence of ALN's execution
        ("contract_executed", case_id),
    ]
    assert kinds(user="handlaggare-2") == [
        ("application_granted", case_id),
        ("delay_reason_recorded", case_id),
        ("follow_up_recorded", case_id),
    ]
    assert kinds(committee="IFN", user="handlaggare-17") == [
        ("apartment_vacated", apartment_id),  # a consequence of the termination
        ("application_filed", case_id),
        ("contract_terminated", case_id),
    ]
    assert kinds(committee="ALN", user="handlaggare-17") == []
    assert kinds(committee="KS") == []

    # Recorded days (UTC): all of today's events, even if the test straddles midnight.
    everything = walk(client, 1000)
    days = sorted({e["recorded_at"][:10] for e in everything})
    first, last = date.fromisoformat(days[0]), date.fromisoformat(days[-1])
    assert len(kinds(**{"from": days[0], "to": days[-1]})) == len(everything)
    for day in days:
        on_day = [e for e in everything if e["recorded_at"].startswith(day)]
        assert len(kinds(**{"from": day, "to": day})) == len(on_day)
    assert kinds(**{"from": str(last + timedelta(days=1))}) == []
    assert kinds(**{"to": str(first - timedelta(days=1))}) == []
    assert len(kinds(**{"to": days[-1]})) == len(everything)


@pytest.mark.parametrize(
    "params",
    [
        {"from": "2021-03-02", "to": "2021-03-01"},
        {"limit": "0"},
        {"limit": "1001"},
        {"after": "-1"},
        {"committee": "XYZ"},
    ],
)
def test_events_refuse_bad_parameters(
    client: TestClient, params: dict[str, str]
) -> None:
    response = client.get("/v1/audit/events", params=params)
    assert response.status_code == 422
    assert response.json()["error"] == "invalid_request"


def test_unknown_case_is_not_found(
    client: TestClient, script: Script, ids: Ids
) -> None:
    _, apartment_id = scripted_case(script, ids)
    for unknown in (ids.next("c"), apartment_id):
        response = client.get(f"/v1/audit/cases/{unknown}")
        assert response.status_code == 404
        assert response.json()["error"] == "not_found"


def test_min_position_waits_for_the_read_model_or_answers_503(
    boende: Boende, client: TestClient, ids: Ids
) -> None:
    case_id = ids.next("c")
    response = client.post(
        "/v1/submissions", json=envelope("application_filed", case_id)
    )
    position = response.json()["position"]

    # No runner is following: the read model stays behind, and says so quickly.
    for path in (f"/v1/audit/cases/{case_id}", "/v1/audit/events"):
        started = time.monotonic()
        lagging = client.get(path, params={"min_position": position + 5})
        assert time.monotonic() - started < 3
        assert lagging.status_code == 503
        assert lagging.headers["Retry-After"]
        assert lagging.json()["error"] == "projection_lagging"
        assert lagging.json()["min_position"] == position + 5

    catch_up(boende)
    answered = client.get(
        f"/v1/audit/cases/{case_id}", params={"min_position": position}
    )
    assert answered.status_code == 200
    assert answered.json()["as_of_position"] == position


def test_rebuild_gives_the_same_rows_and_answers(
    boende: Boende, client: TestClient, script: Script, ids: Ids
) -> None:
    case_id, _ = scripted_case(script, ids)
    other_case, _ = scripted_case(script, ids)

    def answers() -> list[Any]:
        return [
            client.get(f"/v1/audit/cases/{case_id}").json(),
            client.get(f"/v1/audit/cases/{other_case}").json(),
            client.get("/v1/audit/events", params={"limit": 7}).json(),
            client.get("/v1/audit/events", params={"committee": "ALN"}).json(),
            walk(client, 3),
        ]

    live_rows, live_answers = all_rows(boende), answers()
    assert len(live_rows) == boende.app.recorder.max_notification_id()
    assert_no_personal_data(repr(live_rows))

    replayed = rebuild_together([boende.runner("audit")])

    assert replayed == len(live_rows)
    assert all_rows(boende) == live_rows
    assert answers() == live_answers
