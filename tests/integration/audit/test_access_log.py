"""Reading personal data leaves exactly one access-log entry — who, which
case, which endpoint, why (a purpose code, and a note sealed under the
person's key) — or is refused and reads nothing. On SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from eventsourcing.persistence import PersistenceError
from fastapi.testclient import TestClient

from infra.auth import mint_dev_token
from infra.settings import Settings
from infra.views import ViewStore
from services.audit.access_log import AccessLog, _schema
from services.bootstrap import Boende, bootstrap
from services.http import access as access_log_module
from services.http.access import access_log_of
from services.http.app import create_app
from services.privacy.rights import erase
from tests.conftest import envelope

ENDPOINT = "GET /v1/cases/{case_id}/applicant"
PERSONNUMMER = "19850317-1236"  # the example filing's applicant


@pytest.fixture
def running(store_settings: Settings) -> Iterator[Boende]:
    boende = bootstrap(store_settings.model_copy(update={"auth": "jwt"}))
    yield boende
    boende.close()


@pytest.fixture
def client(running: Boende) -> TestClient:
    return TestClient(create_app(running))


def token(boende: Boende, sub: str, *roles: str) -> dict[str, str]:
    minted = mint_dev_token(boende.settings, sub, roles, timedelta(hours=1))
    return {"Authorization": f"Bearer {minted}"}


def file_case(client: TestClient, boende: Boende, case_id: str) -> None:
    body = envelope(
        "application_filed", case_id, actor={"committee": "IFN", "user": "ifn-1"}
    )
    response = client.post(
        "/v1/submissions", json=body, headers=token(boende, "ifn-1", "ifn_officer")
    )
    assert response.status_code == 201, response.text


def read(
    client: TestClient, boende: Boende, case_id: str, sub: str, purpose: Any
) -> Any:
    headers = token(boende, sub, "ifn_officer")
    if purpose is not None:  # UTF-8, as clients send å, ä, ö
        headers["X-Purpose"] = purpose.encode() if isinstance(purpose, str) else purpose
    return client.get(f"/v1/cases/{case_id}/applicant", headers=headers)


def entries(client: TestClient, boende: Boende, **params: Any) -> dict[str, Any]:
    response = client.get(
        "/v1/audit/access", params=params, headers=token(boende, "rev-1", "auditor")
    )
    assert response.status_code == 200, response.text
    return response.json()  # type: ignore[no-any-return]


def test_each_read_is_logged_once_with_who_what_and_why(
    client: TestClient, running: Boende
) -> None:
    file_case(client, running, "c-log-1")
    purpose = "handläggning"
    response = read(client, running, "c-log-1", "handlaggare-9", purpose.encode())
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["applicant"]["personnummer"] == PERSONNUMMER
    assert body["erased"] is False
    [entry] = entries(client, running)["entries"]
    assert entry["id"] == body["access_id"]
    assert (entry["sub"], entry["case_id"]) == ("handlaggare-9", "c-log-1")
    assert (entry["endpoint"], entry["purpose"]) == (ENDPOINT, purpose)
    read(client, running, "c-log-1", "handlaggare-9", "rättelse".encode())
    assert len(entries(client, running)["entries"]) == 2  # one per read


@pytest.mark.parametrize(
    "purpose",
    [None, "", "   ", "x" * 201, "a\x01b", "utredning av ansökan", "tillsyn x"],
)
def test_without_a_purpose_nothing_is_read_or_logged(
    client: TestClient, running: Boende, purpose: str | None
) -> None:
    file_case(client, running, "c-log-2")
    response = read(client, running, "c-log-2", "handlaggare-9", purpose)
    assert response.status_code == 422
    assert response.json()["error"] == "purpose_required"
    assert PERSONNUMMER not in response.text and "applicant" not in response.json()
    assert response.json()["allowed"] == running.settings.purpose_codes
    assert "rättelse" in response.json()["message"]  # the codes are listed
    assert entries(client, running)["entries"] == []


def test_an_unknown_case_is_404_and_not_logged(
    client: TestClient, running: Boende
) -> None:
    response = read(client, running, "c-nobody", "handlaggare-9", "handläggning")
    assert response.status_code == 404
    assert entries(client, running)["entries"] == []


def test_if_the_access_cannot_be_logged_nothing_is_read(
    client: TestClient, running: Boende, monkeypatch: pytest.MonkeyPatch
) -> None:
    file_case(client, running, "c-log-3")

    def log_down(*_: Any) -> None:
        raise PersistenceError("access log unreachable")

    def never(*_: Any) -> None:
        raise AssertionError("the applicant was read without a log entry")

    monkeypatch.setattr(AccessLog, "record", log_down)
    monkeypatch.setattr(access_log_module, "applicant_of", never)
    response = read(client, running, "c-log-3", "handlaggare-9", "handläggning")
    assert response.status_code == 503
    assert PERSONNUMMER not in response.text


def test_an_erased_applicant_is_null_and_the_read_still_logged(
    client: TestClient, running: Boende
) -> None:
    file_case(client, running, "c-log-4")
    erase(running, PERSONNUMMER, "dataskydd-1")
    response = read(client, running, "c-log-4", "handlaggare-9", "handläggning")
    assert response.status_code == 200
    assert response.json()["applicant"] is None and response.json()["erased"] is True
    assert len(entries(client, running, case_id="c-log-4")["entries"]) == 1


def test_the_auditors_filters_and_pages(client: TestClient, running: Boende) -> None:
    for case_id in ("c-f-1", "c-f-2"):
        file_case(client, running, case_id)
    for sub, case_id in [("anna", "c-f-1"), ("bo", "c-f-1"), ("anna", "c-f-2")]:
        assert read(client, running, case_id, sub, "handläggning").status_code == 200
    by_case = entries(client, running, case_id="c-f-1")["entries"]
    assert [e["sub"] for e in by_case] == ["anna", "bo"]
    by_user = entries(client, running, user="anna")["entries"]
    assert [e["case_id"] for e in by_user] == ["c-f-1", "c-f-2"]
    both = entries(client, running, user="anna", case_id="c-f-2")["entries"]
    assert len(both) == 1
    today = datetime.now(UTC).date()
    yesterday, tomorrow = today - timedelta(days=1), today + timedelta(days=1)
    assert len(entries(client, running, **{"from": today, "to": today})["entries"]) == 3
    assert entries(client, running, **{"from": tomorrow})["entries"] == []
    assert entries(client, running, to=yesterday)["entries"] == []
    first = entries(client, running, limit=2)
    assert len(first["entries"]) == 2 and first["next_after"] is not None
    rest = entries(client, running, limit=2, after=first["next_after"])
    assert len(rest["entries"]) == 1 and rest["next_after"] is None
    ids = [e["id"] for e in first["entries"] + rest["entries"]]
    assert ids == sorted(ids) and len(set(ids)) == 3


@pytest.mark.parametrize("role", ["ifn_officer", "aln_officer", "oversight", "admin"])
def test_only_auditors_list_the_log(
    client: TestClient, running: Boende, role: str
) -> None:
    response = client.get("/v1/audit/access", headers=token(running, "x", role))
    assert response.status_code == 403
    assert client.get("/v1/audit/access").status_code == 401


def test_only_ifn_officers_read_applicants(client: TestClient, running: Boende) -> None:
    file_case(client, running, "c-log-5")
    for role in ("aln_officer", "oversight", "auditor", "admin"):
        response = client.get(
            "/v1/cases/c-log-5/applicant",
            headers={**token(running, "x", role), "X-Purpose": "nyfikenhet"},
        )
        assert response.status_code == 403
    assert entries(client, running)["entries"] == []


def test_the_table_refuses_updates_and_deletes(
    client: TestClient, running: Boende
) -> None:
    file_case(client, running, "c-log-6")
    read(client, running, "c-log-6", "handlaggare-9", "handläggning")
    store = access_log_of(client.app).store  # type: ignore[arg-type]
    for statement in (
        "UPDATE access_log SET purpose = 'nothing to see'",
        "DELETE FROM access_log",
    ):
        with (
            pytest.raises(Exception, match="append-only"),
            store.transaction(commit=True) as sql,
        ):
            sql.execute(statement)
    assert entries(client, running)["entries"][0]["purpose"] == "handläggning"


# -- purposes are codes; free text is a note, sealed under the person's key -------

NOTE = "ringde Anna Andersson om hyran"


def read_with_note(client: TestClient, boende: Boende, case_id: str) -> Any:
    headers = token(boende, "handlaggare-9", "ifn_officer") | {
        "X-Purpose": "handläggning".encode(),  # type: ignore[dict-item]
        "X-Purpose-Note": NOTE,
    }
    return client.get(f"/v1/cases/{case_id}/applicant", headers=headers)


def stored_rows(client: TestClient) -> list[dict[str, Any]]:
    store = access_log_of(client.app).store  # type: ignore[arg-type]
    with store.transaction(commit=False) as sql:
        return sql.all("SELECT * FROM access_log ORDER BY id")


def test_a_note_is_sealed_in_the_log_and_unreadable_after_erasure(
    client: TestClient, running: Boende
) -> None:
    file_case(client, running, "c-note-1")
    response = read_with_note(client, running, "c-note-1")
    assert response.status_code == 200, response.text
    [entry] = entries(client, running)["entries"]
    assert (entry["purpose"], entry["note"], entry["note_erased"]) == (
        "handläggning", NOTE, False,
    )  # fmt: skip
    # The stored bytes: a code and a ciphertext, the note nowhere in clear.
    [row] = stored_rows(client)
    assert row["purpose"] == "handläggning"
    assert "ciphertext" in row["purpose_note"]
    assert all("Anna" not in str(value) for value in row.values())
    if not running.settings.uses_postgres:
        files = running.settings.data_dir.glob("view_access_log.sqlite*")
        assert all(b"Anna" not in path.read_bytes() for path in files)
    erase(running, PERSONNUMMER, "dataskydd-1")
    [entry] = entries(client, running)["entries"]
    assert (entry["note"], entry["note_erased"]) == (None, True)
    assert stored_rows(client) == [row]  # append-only: the ciphertext stays


def test_notes_too_long_or_unprintable_are_refused(
    client: TestClient, running: Boende
) -> None:
    file_case(client, running, "c-note-2")
    for note in ("x" * 501, "a\x01b"):
        headers = token(running, "handlaggare-9", "ifn_officer") | {
            "X-Purpose": "tillsyn",
            "X-Purpose-Note": note,
        }
        response = client.get("/v1/cases/c-note-2/applicant", headers=headers)
        assert response.status_code == 422, note
        assert response.json()["error"] == "purpose_required"
    assert entries(client, running)["entries"] == []


def test_entries_from_before_codes_keep_their_free_text(
    client: TestClient, running: Boende
) -> None:
    """A table made before ``purpose_note`` existed, with a free-text
    purpose: the column is added, the old entry reads as it was."""
    old = ViewStore(running.settings, "access_log")
    try:
        with old.transaction(commit=True) as sql:
            for statement in _schema(old.postgres):
                sql.execute(statement)
            sql.execute(
                "INSERT INTO access_log (accessed_at, sub, case_id, endpoint, "
                "purpose) VALUES (?, ?, ?, ?, ?)",
                ["2026-01-02T10:00:00.000000Z", "anna", "c-old", ENDPOINT,
                 "utredning av ansökan"],
            )  # fmt: skip
    finally:
        old.close()
    [entry] = entries(client, running)["entries"]
    assert entry["purpose"] == "utredning av ansökan"
    assert (entry["note"], entry["note_erased"]) == (None, False)
