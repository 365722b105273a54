"""Who submitted is authenticated, not claimed (DOMAIN.md), on a real SQLite
file and a real PostgreSQL: a person's token names only itself; a case
system's token names its own committee's officers; every recorded fact
carries ``submitted_by`` (the token's ``sub`` and ``iss``) beside
``actor.user``, the audit trail and ``boende audit show`` show both, and
``boende.events`` and the oversight answers carry neither token name."""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient

from domain.case import case_id_to_uuid
from infra.auth import DEV_ISSUER, mint_dev_token
from infra.settings import Settings
from services.audit.content import content
from services.audit.readable import describe
from services.bootstrap import Boende, bootstrap
from services.http.app import create_app
from services.kafka.codec import encode_event
from services.submission.service import parse
from tests.conftest import Ids, envelope, later

HOUR = timedelta(hours=1)


@pytest.fixture
def settings(store_settings: Settings) -> Settings:
    return store_settings.model_copy(update={"auth": "jwt"})


@pytest.fixture
def running(settings: Settings) -> Iterator[Boende]:
    boende = bootstrap(settings)
    yield boende
    boende.close()


@pytest.fixture
def client(running: Boende) -> Iterator[TestClient]:
    with TestClient(create_app(running)) as c:
        yield c


def bearer(
    settings: Settings, sub: str, role: str, committee: str | None = None
) -> dict[str, str]:
    token = mint_dev_token(settings, sub, [role], HOUR, committee=committee)
    return {"Authorization": f"Bearer {token}"}


def as_user(committee: str, user: str) -> dict[str, Any]:
    return {"actor": {"committee": committee, "user": user}}


def trail(
    client: TestClient, settings: Settings, running: Boende, case_id: str
) -> list[Any]:
    for runner in running.runners:
        runner.catch_up()
    auditor = bearer(settings, "revisor-1", "auditor")
    response = client.get(f"/v1/audit/cases/{case_id}", headers=auditor)
    assert response.status_code == 200, response.text
    events: list[Any] = response.json()["events"]
    return events


def test_a_person_naming_another_officer_is_refused_and_nothing_recorded(
    client: TestClient, settings: Settings, running: Boende, ids: Ids
) -> None:
    officer_a = bearer(settings, "officer-a", "ifn_officer")
    case_id = ids.next("c")
    claimed = envelope("application_filed", case_id, **as_user("IFN", "chef-bob"))
    refused = client.post("/v1/submissions", json=claimed, headers=officer_a)
    assert refused.status_code == 403, refused.text
    assert refused.json()["error"] == "forbidden"
    assert "may only name itself" in refused.json()["message"]
    assert running.app.recorder.max_notification_id() in (None, 0)
    own = envelope("application_filed", case_id, **as_user("IFN", "officer-a"))
    assert (
        client.post("/v1/submissions", json=own, headers=officer_a).status_code == 201
    )
    [filed] = trail(client, settings, running, case_id)
    assert filed["user"] == "officer-a"
    assert filed["submitted_by"] == {"sub": "officer-a", "iss": DEV_ISSUER}


def test_a_case_system_names_its_committees_officers_and_the_trail_shows_both(
    client: TestClient, settings: Settings, running: Boende, ids: Ids
) -> None:
    treserva = bearer(settings, "treserva-ifn", "case_system", committee="IFN")
    case_id = ids.next("c")
    filing = envelope("application_filed", case_id, **as_user("IFN", "chef-bob"))
    grant = envelope(
        "application_granted", case_id, later(3), **as_user("IFN", "handlaggare-17")
    )
    for body in (filing, grant):
        response = client.post("/v1/submissions", json=body, headers=treserva)
        assert response.status_code == 201, response.text
    events = trail(client, settings, running, case_id)
    assert [(e["user"], e["submitted_by"]) for e in events] == [
        ("chef-bob", {"sub": "treserva-ifn", "iss": DEV_ISSUER}),
        ("handlaggare-17", {"sub": "treserva-ifn", "iss": DEV_ISSUER}),
    ]
    assert all("submitted_by" not in e["withheld"] for e in events)
    # Stored on the fact itself, and shown by the bundle reader.
    stored = running.app.recorder.select_events(case_id_to_uuid(case_id))
    state = json.loads(stored[1].state)
    assert state["user"] == "handlaggare-17"
    assert state["submitted_by"] == {"sub": "treserva-ifn", "iss": DEV_ISSUER}
    line = {
        "position": 2,
        "topic": stored[1].topic,
        "originator_id": str(stored[1].originator_id),
        "originator_version": stored[1].originator_version,
        "state": base64.b64encode(stored[1].state).decode(),
    }
    shown = describe(json.dumps(line).encode())
    assert "  actor       IFN / handlaggare-17" in shown
    assert f"  submitted   treserva-ifn (issuer {DEV_ISSUER})" in shown
    # Not for downstream systems: boende.events leaves it out.
    event: Any = running.app.mapper.to_domain_event(stored[1])
    assert event.submitted_by == {"sub": "treserva-ifn", "iss": DEV_ISSUER}
    _, value, _ = encode_event(2, event)
    assert b"treserva-ifn" not in value and b"submitted_by" not in value


def test_a_case_system_bound_to_aln_may_not_submit_for_ifn(
    client: TestClient, settings: Settings, running: Boende, ids: Ids
) -> None:
    aln_system = bearer(settings, "fastighet-aln", "case_system", committee="ALN")
    as_ifn = envelope("application_filed", ids.next("c"), **as_user("IFN", "x"))
    refused = client.post("/v1/submissions", json=as_ifn, headers=aln_system)
    assert refused.status_code == 403, refused.text
    assert "bound to ALN" in refused.json()["message"]
    # As its own committee, an IFN fact is still not ALN's to send (DOMAIN.md).
    as_aln = envelope("application_filed", ids.next("c"), **as_user("ALN", "x"))
    refused = client.post("/v1/submissions", json=as_aln, headers=aln_system)
    assert refused.status_code == 403, refused.text
    assert refused.json()["message"] == (
        "committee ALN may not submit application_filed"
    )
    unbound = bearer(settings, "no-binding", "case_system")
    refused = client.post("/v1/submissions", json=as_ifn, headers=unbound)
    assert refused.status_code == 403, refused.text
    assert running.app.recorder.max_notification_id() in (None, 0)


def test_old_facts_without_submitted_by_still_load_and_say_so(
    running: Boende, ids: Ids
) -> None:
    """A fact recorded before ``submitted_by`` existed (its state lacks the
    key) loads, answers None, and the trail shows null."""
    case_id = ids.next("c")
    filing = parse(json.dumps(envelope("application_filed", case_id)).encode(), 1 << 16)
    running.service.submit(filing)  # no door: no submitter given
    [stored] = running.app.recorder.select_events(case_id_to_uuid(case_id))
    state = json.loads(stored.state)
    del state["submitted_by"]  # as a fact from before was stored
    old = stored.__class__(
        originator_id=stored.originator_id,
        originator_version=stored.originator_version,
        topic=stored.topic,
        state=json.dumps(state).encode(),
    )
    event: Any = running.app.mapper.to_domain_event(old)
    assert event.submitted_by is None
    assert event.user == filing.actor.user
    shown = content(event, "case")
    assert shown["submitted_by"] is None and "submitted_by" not in shown["withheld"]
