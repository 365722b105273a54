"""Auditors read the record of retention purges through the API, on SQLite
and PostgreSQL.

Each ``boende gdpr purge`` appends one row to ``person_key_purges``: the
only record of the keys of no case it deletes. ``GET /v1/audit/purges``
lists those rows, oldest first, filtered by UTC day and paged by id, and
reads like ``GET /v1/audit/access``: the same parameters, bounds, answer
frame and refusals. No answer holds a personnummer, a person reference or a
key id.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient

from infra.auth import mint_dev_token
from infra.person_keys import person_keys_of
from infra.settings import Settings
from infra.signing import utc_timestamp
from services.bootstrap import Boende, bootstrap
from services.http.app import create_app
from services.privacy import rights as gdpr
from tests.conftest import Ids
from tests.integration.privacy.test_crypto_shredding import OFFICER
from tests.integration.privacy.test_orphan_keys import (
    LATER,
    OLD,
    RECENT,
    STRANDED,
    strand_a_key,
    submit,
)

CUTOFF = date(2018, 1, 1)
SECOND_OFFICER = "dataskydd-8"
PURGES, ACCESS = "/v1/audit/purges", "/v1/audit/access"


@pytest.fixture
def running(store_settings: Settings) -> Iterator[Boende]:
    boende = bootstrap(store_settings.model_copy(update={"auth": "jwt"}))
    yield boende
    boende.close()


@pytest.fixture
def client(running: Boende) -> Iterator[TestClient]:
    with TestClient(create_app(running)) as c:
        yield c


def token(boende: Boende, role: str) -> dict[str, str]:
    minted = mint_dev_token(boende.settings, "rev-1", [role], timedelta(hours=1))
    return {"Authorization": f"Bearer {minted}"}


def listing(
    client: TestClient, boende: Boende, params: dict[str, Any], path: str = PURGES
) -> Any:
    return client.get(path, params=params, headers=token(boende, "auditor"))


def purges(client: TestClient, boende: Boende, **params: Any) -> dict[str, Any]:
    response = listing(client, boende, params)
    assert response.status_code == 200, response.text
    return response.json()  # type: ignore[no-any-return]


def purge_at(boende: Boende, now: datetime) -> gdpr.Erasure:
    """A purge run with the clock at ``now`` (deletes nothing: every key was
    used after ``now`` less the grace period)."""
    return gdpr.purge(boende, CUTOFF, OFFICER, now=now)


def test_two_purges_are_listed_with_their_cutoffs_and_counts(
    client: TestClient, running: Boende, ids: Ids
) -> None:
    keys = person_keys_of(running.app)
    submit(running, ids, OLD, "2015-03-15")  # past retention at the cutoff
    submit(running, ids, RECENT, "2024-03-15")
    stranded = strand_a_key(running, ids, STRANDED)
    rows = [keys.table.by_person(keys.person_ref(n)) for n in (OLD, RECENT, STRANDED)]
    secrets = {s for row in rows if row for s in (row.key_id, row.person_ref)}
    assert stranded in secrets and len(secrets) == 6

    # Today: the 2015 case's key goes; the stranded key is in its grace.
    first_at = datetime.now(UTC)
    first = gdpr.purge(running, CUTOFF, OFFICER, now=first_at)
    # A day on, another officer: the stranded key goes, as an orphan.
    second = gdpr.purge(running, CUTOFF, SECOND_OFFICER, now=LATER)
    assert (first.keys_deleted, first.orphan_keys_deleted) == (1, 0)
    assert (second.keys_deleted, second.orphan_keys_deleted) == (0, 1)

    body = purges(client, running)
    assert body["from"] is None and body["to"] is None
    assert (body["after"], body["limit"], body["next_after"]) == (0, 100, None)
    old_run, orphan_run = body["entries"]
    assert old_run["id"] < orphan_run["id"]
    assert old_run == {
        "id": old_run["id"],
        "purged_at": utc_timestamp(first_at),
        "purged_by": OFFICER,
        "rule": "retention",
        "cases_before": "2018-01-01",
        "unused_before": utc_timestamp(first_at - gdpr.ORPHAN_KEY_GRACE),
        "case_keys_deleted": 1,
        "orphan_keys_deleted": 0,
    }
    assert orphan_run == {
        "id": orphan_run["id"],
        "purged_at": utc_timestamp(LATER),
        "purged_by": SECOND_OFFICER,
        "rule": "retention",
        "cases_before": "2018-01-01",
        "unused_before": utc_timestamp(LATER - gdpr.ORPHAN_KEY_GRACE),
        "case_keys_deleted": 0,
        "orphan_keys_deleted": 1,
    }
    # The same rows as the table's own reader gives, with their ids.
    assert [{k: v for k, v in run.items() if k != "id"} for run in body["entries"]] == [
        vars(p) for p in keys.table.purges()
    ]

    # The answer reads like the access log's: the same frame.
    access = listing(client, running, {}, ACCESS).json()
    assert set(access) - set(body) == {"case_id", "user"}

    # Nothing of any person, in any answer: filtered, paged, or refused.
    answers = [
        listing(client, running, {}).text,
        listing(client, running, {"limit": 1}).text,
        listing(client, running, {"after": old_run["id"]}).text,
        listing(client, running, {"from": LATER.date()}).text,
        listing(client, running, {"limit": 0}).text,
    ]
    for answer in answers:
        for number in (OLD, RECENT, STRANDED):  # 12 and 10 digits, dash or not
            for form in (number, number[2:]):
                assert form not in answer and form.replace("-", "") not in answer
        for secret in secrets:
            assert secret not in answer


def test_filters_by_utc_day_both_days_inclusive(
    client: TestClient, running: Boende
) -> None:
    last_moment = datetime(2025, 1, 10, 23, 59, 59, 999999, tzinfo=UTC)
    purge_at(running, datetime(2025, 1, 9, 12, tzinfo=UTC))
    purge_at(running, last_moment)
    purge_at(running, last_moment + timedelta(microseconds=1))

    def days(**params: Any) -> list[str]:
        return [
            e["purged_at"][:10] for e in purges(client, running, **params)["entries"]
        ]

    ninth, tenth, eleventh = date(2025, 1, 9), date(2025, 1, 10), date(2025, 1, 11)
    assert days(**{"from": tenth, "to": tenth}) == ["2025-01-10"]
    assert days(**{"from": tenth}) == ["2025-01-10", "2025-01-11"]
    assert days(to=tenth) == ["2025-01-09", "2025-01-10"]
    assert days(**{"from": ninth, "to": eleventh}) == [
        "2025-01-09",
        "2025-01-10",
        "2025-01-11",
    ]
    assert days(**{"from": date(2025, 1, 12)}) == []
    assert days(to=date(2025, 1, 8)) == []
    answer = purges(client, running, **{"from": tenth, "to": eleventh})
    assert (answer["from"], answer["to"]) == ("2025-01-10", "2025-01-11")


def test_pages_by_id_with_next_after(client: TestClient, running: Boende) -> None:
    for day in range(1, 6):
        purge_at(running, datetime(2025, 2, day, 8, tzinfo=UTC))
    every = purges(client, running)["entries"]
    assert len(every) == 5

    first = purges(client, running, limit=2)
    assert [e["id"] for e in first["entries"]] == [e["id"] for e in every[:2]]
    assert first["next_after"] == every[1]["id"] and first["limit"] == 2
    second = purges(client, running, limit=2, after=first["next_after"])
    assert second["entries"] == every[2:4] and second["after"] == every[1]["id"]
    third = purges(client, running, limit=2, after=second["next_after"])
    assert third["entries"] == every[4:] and third["next_after"] is None

    # Exactly a page left: no next page is promised.
    last_two = purges(client, running, limit=2, after=every[2]["id"])
    assert last_two["entries"] == every[3:] and last_two["next_after"] is None
    assert purges(client, running, after=every[-1]["id"])["entries"] == []

    # Walking one at a time visits each run once, in order; days filter too.
    seen, after = [], 0
    while after is not None:
        page = purges(client, running, limit=1, after=after)
        seen += page["entries"]
        after = page["next_after"]
    assert seen == every
    window = {"from": date(2025, 2, 2), "to": date(2025, 2, 4), "limit": 2}
    page = purges(client, running, **window)
    assert page["entries"] == every[1:3] and page["next_after"] == every[2]["id"]
    rest = purges(client, running, **window, after=page["next_after"])
    assert rest["entries"] == every[3:4] and rest["next_after"] is None


BAD = [
    {"limit": 0},
    {"limit": 1001},
    {"limit": "ten"},
    {"after": -1},
    {"after": "x"},
    {"from": "2024-02-30"},
    {"to": "yesterday"},
    {"from": "2024-05-02", "to": "2024-05-01"},
    {"from": "x", "limit": 0},
]


@pytest.mark.parametrize(
    "params", BAD, ids=lambda p: "&".join(f"{k}={v}" for k, v in p.items())
)
def test_bad_parameters_are_refused_like_the_access_log_refuses_them(
    client: TestClient, running: Boende, params: dict[str, Any]
) -> None:
    response = listing(client, running, params)
    assert response.status_code == 422, response.text
    body = response.json()
    assert body["error"] == "invalid_request" and body["message"]
    assert body["details"] and all(
        {"loc", "problem"} <= set(d) for d in body["details"]
    )
    assert "entries" not in body
    access = listing(client, running, params, ACCESS)
    same = {k: v for k, v in access.json().items() if k != "request_id"}
    assert body.pop("request_id") != access.json()["request_id"]  # one per request
    assert (access.status_code, same) == (422, body)


@pytest.mark.parametrize("role", ["ifn_officer", "aln_officer", "oversight", "admin"])
def test_only_auditors_read_the_purges(
    client: TestClient, running: Boende, role: str
) -> None:
    response = client.get(PURGES, headers=token(running, role))
    assert response.status_code == 403 and response.json()["error"] == "forbidden"
    assert client.get(PURGES).status_code == 401
