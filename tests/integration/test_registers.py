"""Registers (issue 11, item 6) on SQLite and PostgreSQL: the landlord
register built from the log (first name, renames with their day), figures
grouped by organisation number, old facts without one grouped by name, and
the district code list (an unknown district refused, listing the codes)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from eventsourcing.persistence import StoredEvent
from fastapi.testclient import TestClient

from domain.apartment import Apartment
from domain.facts import Stamp
from infra.settings import Settings
from projections.landlords import register
from services.bootstrap import Boende, bootstrap
from services.http.app import create_app
from services.projecting.rebuild import rebuild_together
from services.submission.examples import EXAMPLE_ORG_NO
from tests.conftest import Ids, envelope
from tests.integration.test_unexecuted import Cases

KB, HEMMET = "556012-3456", "802012-3454"
DEFAULT_CODES = [
    "centrum",
    "norrby",
    "söderberga",
    "västerdal",
    "österäng",
    "björkhaga",
    "ekbacken",
]


@pytest.fixture
def api(boende: Boende) -> Iterator[TestClient]:
    with TestClient(create_app(boende)) as client:
        yield client


def acquire(c: Cases, key: str, day: str, landlord: str, org_no: str | None) -> None:
    c.post(
        "apartment_acquired",
        key,
        day,
        landlord=landlord,
        landlord_org_no=org_no,
        district="norrby",
    )


def catch_up(boende: Boende) -> None:
    for runner in boende.runners:
        runner.catch_up()


def test_the_register_keeps_the_first_name_and_the_renames(
    boende: Boende, api: TestClient, ids: Ids
) -> None:
    c = Cases(boende, api, ids)
    acquire(c, "A1", "2021-01-10", "Kommunbostäder AB", KB)
    acquire(c, "A2", "2021-02-01", " kommunbostäder  ab", KB)  # no rename
    acquire(c, "A3", "2021-03-01", "KB Bostäder AB", "5560123456")  # renamed
    acquire(c, "A4", "2021-01-05", "Stiftelsen Hemmet", HEMMET)
    acquire(c, "A5", "2021-04-01", "Kommunbostäder AB", KB)  # its old name again
    acquire(c, "A6", "2021-04-02", "Anders Hyr", None)  # a sole trader: not listed
    catch_up(boende)

    with boende.views["landlords"].transaction(commit=False) as sql:
        listed = register(sql)

    assert listed == [
        {
            "org_no": KB,
            "first_name": "Kommunbostäder AB",
            "first_seen_on": "2021-01-10",
            "name": "Kommunbostäder AB",
            "renames": [
                {"name": "KB Bostäder AB", "renamed_on": "2021-03-01"},
                {"name": "Kommunbostäder AB", "renamed_on": "2021-04-01"},
            ],
            "apartments": 4,
        },
        {
            "org_no": HEMMET,
            "first_name": "Stiftelsen Hemmet",
            "first_seen_on": "2021-01-05",
            "name": "Stiftelsen Hemmet",
            "renames": [],
            "apartments": 1,
        },
    ]
    answer = api.get("/v1/oversight/landlords").json()
    assert answer["landlords"] == listed
    assert answer["as_of_position"] == c.position
    assert {"tree_size", "root_hash"} <= set(answer)
    rebuild_together([boende.runner("landlords")])  # a rebuild equals the live model
    with boende.views["landlords"].transaction(commit=False) as sql:
        assert register(sql) == listed
    stock = api.get("/v1/oversight/apartments").json()["by_landlord"]
    assert {name: (g["landlord_org_no"], g["total"]) for name, g in stock.items()} == {
        "Kommunbostäder AB": (KB, 4),  # one landlord under its three spellings
        "Stiftelsen Hemmet": (HEMMET, 1),
        "Anders Hyr": (None, 1),
    }


def version_1(boende: Boende, event: Any) -> StoredEvent:
    """``event`` stored as Boende stored acquisitions before organisation
    numbers: no ``landlord_org_no`` and no ``class_version``."""
    mapper = boende.app.mapper
    stored = mapper.to_stored_event(event)
    state = stored.state
    if mapper.cipher:
        state = mapper.cipher.decrypt(state)
    if mapper.compressor:
        state = mapper.compressor.decompress(state)
    fields = mapper.transcoder.decode(state)
    assert fields.pop("class_version") == 2
    del fields["landlord_org_no"]
    state = mapper.transcoder.encode(fields)
    if mapper.compressor:
        state = mapper.compressor.compress(state)
    if mapper.cipher:
        state = mapper.cipher.encrypt(state)
    return StoredEvent(
        originator_id=stored.originator_id,
        originator_version=stored.originator_version,
        topic=stored.topic,
        state=state,
    )


def record_old_acquisition(boende: Boende, key: str, landlord: str, day: str) -> None:
    today = boende.service.today()  # the service's clock, not the calendar's
    stamp = Stamp(f"old-{key}", "ALN", "aln-1", date.fromisoformat(day), today)
    flat = Apartment.acquire(stamp, key, landlord, "Norrby", 2, 6000)
    (event,) = flat.collect_events()
    boende.app.recorder.insert_events([version_1(boende, event)])


def test_old_facts_without_a_number_are_grouped_by_their_name(
    boende: Boende, api: TestClient, ids: Ids
) -> None:
    """Two acquisitions recorded as version 1 (no number) under two
    spellings of one name are one landlord; a new fact of the same name with
    a number is another. The old apartment is still read (upcast) and a
    contract executed into it is grouped with it."""
    record_old_acquisition(boende, "OLD1", "Hem HB", "2022-01-03")
    record_old_acquisition(boende, "OLD2", " hem  hb ", "2022-01-04")
    c = Cases(boende, api, ids)
    acquire(c, "NEW1", "2022-01-05", "Hem HB", "916512-3457")
    c.filed("P", "2022-01-01")
    c.granted("P", "2022-01-02")
    c.post(
        "contract_executed",
        c.case_ids["P"],
        "2022-02-01",
        apartment_id="OLD1",
        lease_starts_on="2022-02-01",
    )
    catch_up(boende)

    assert api.get("/v1/apartments/OLD1").json()["state"] == "occupied"
    stock = api.get("/v1/oversight/apartments").json()["by_landlord"]
    assert {name: (g["landlord_org_no"], g["total"]) for name, g in stock.items()} == {
        "Hem HB": ("916512-3457", 1),
        # The old ones, by name (the first spelling seen), told apart.
        "Hem HB (utan organisationsnummer)": (None, 2),
    }
    rents = api.get(
        "/v1/oversight/rents", params={"as_of": "2022-03-01", "by": "landlord"}
    ).json()["groups"]
    assert [(g["landlord_org_no"], g["apartments"], g["occupied"]) for g in rents] == [
        ("916512-3457", 1, 0),
        (None, 2, 1),
    ]
    cohorts = api.get(
        "/v1/oversight/first-hand",
        params={"from": "2022-01-01", "to": "2022-12-31", "by": "landlord"},
    ).json()["cohorts"]
    assert [(g["landlord"], g["landlord_org_no"], g["executed"]) for g in cohorts] == [
        ("Hem HB", None, 1)
    ]
    with boende.views["landlords"].transaction(commit=False) as sql:
        assert [row["org_no"] for row in register(sql)] == ["916512-3457"]


def post(api: TestClient, key: str, **payload: Any) -> Any:
    body = envelope("apartment_acquired", key, "2021-03-15", payload=payload)
    return api.post("/v1/submissions", json=body)


def test_an_unknown_district_is_refused_listing_the_codes(
    api: TestClient,
) -> None:
    refused = post(api, "A1", district="Atlantis")

    assert refused.status_code == 422
    body = refused.json()
    assert body["error"] == "invalid_submission"
    assert body["allowed"] == DEFAULT_CODES
    (detail,) = body["details"]
    assert detail["loc"] == "payload.district"
    assert all(code in detail["problem"] for code in DEFAULT_CODES)
    assert api.get("/v1/apartments/A1").status_code == 404  # nothing recorded


def test_a_district_by_name_in_any_case_records_its_code(api: TestClient) -> None:
    assert post(api, "A1", district="  SÖDERBERGA ").status_code == 201
    assert api.get("/v1/apartments/A1").json()["district"] == "söderberga"


def test_a_sole_traders_number_is_refused_and_never_repeated(
    api: TestClient,
) -> None:
    refused = post(api, "A1", landlord_org_no="850317-1236")
    assert refused.status_code == 422
    assert refused.json()["details"][0]["loc"] == "payload.landlord_org_no"
    assert "850317" not in refused.text
    mistyped = post(api, "A2", landlord_org_no="556677-8898")
    assert mistyped.status_code == 422 and "Luhn" in mistyped.text
    assert post(api, "A3", landlord_org_no=EXAMPLE_ORG_NO).status_code == 201


def test_an_installations_own_district_list(tmp_path: Any) -> None:
    data_dir = tmp_path / "var"
    data_dir.mkdir()
    (data_dir / "stadsdelar.txt").write_text(
        "# Kommunens stadsdelar\n01;Centrum\n02;Norra Hamnen\n", encoding="utf-8"
    )
    settings = Settings(data_dir=data_dir, districts_file=Path("stadsdelar.txt"))
    running = bootstrap(settings)
    try:
        with TestClient(create_app(running)) as api:
            assert post(api, "A1", district="norra hamnen").status_code == 201
            assert api.get("/v1/apartments/A1").json()["district"] == "02"
            refused = post(api, "A2", district="norrby")
            assert refused.json()["allowed"] == ["01", "02"]
    finally:
        running.close()


def test_a_district_list_that_cannot_be_read_stops_the_start(tmp_path: Any) -> None:
    data_dir = tmp_path / "var"
    data_dir.mkdir()
    (data_dir / "bad.txt").write_text("01;Centrum\n01;Norr\n", encoding="utf-8")
    with pytest.raises(ValueError, match="line 2"):
        bootstrap(Settings(data_dir=data_dir, districts_file=Path("bad.txt")))
    with pytest.raises(ValueError, match="BOENDE_DISTRICTS_FILE"):
        bootstrap(Settings(data_dir=data_dir, districts_file=Path("missing.txt")))
