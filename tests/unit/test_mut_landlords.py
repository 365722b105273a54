"""The landlord register (``projections.landlords``) on a scripted log of
acquisitions: first names, renames (a change of spaces or case is none),
apartments per organisation number, acquisitions without a number left out;
and the keys figures group landlords by."""

from __future__ import annotations

from types import SimpleNamespace

from domain.apartment import Apartment
from projections.landlords import (
    LandlordRegister,
    landlord_key,
    org_no_of,
    org_no_on,
    register,
    shown_name,
)
from tests.unit.test_mut_projections_base import Log, stamp, tables

KOMMUN, HEM, SOLO = "556000-0001", "556000-0002", "556000-0003"


def history() -> Log:
    log = Log()
    acquisitions = [
        ("2021-01-05", "Hem & Bo AB", HEM),  # 1: the first number seen is HEM's
        ("2021-01-10", "Kommunbostäder  AB ", KOMMUN),  # 2
        ("2021-02-01", "kommunbostäder ab", KOMMUN),  # 3: case only, no rename
        ("2021-04-01", "Bostads AB Kommunen", KOMMUN),  # 4: renamed
        ("2021-04-15", "Hem och Bo AB", HEM),  # 5: renamed
        ("2021-06-01", "  Kommunbostäder   AB", KOMMUN),  # 6: renamed back
        ("2021-07-01", "Anna Andersson Fastigheter", None),  # 7: no number
        ("2021-07-02", "Hem & Bo AB", ""),  # 8: an empty number is none
        ("2021-08-01", "Solo AB", SOLO),  # 9
    ]
    for n, (day, landlord, org_no) in enumerate(acquisitions, start=1):
        flat = Apartment.acquire(
            stamp(day, "ALN"), f"a-{n}", landlord, "Norr", 2, 6000, org_no
        )
        flat.return_to_landlord(stamp(day, "ALN"), None)  # not the register's
        log.take(flat, f"{day}T09:00:00")
    return log


def test_the_register() -> None:
    projection = LandlordRegister()
    with tables(projection) as sql:
        projection.process_batch(sql, history().records)
        got = register(sql)
    assert got == [
        {
            "org_no": KOMMUN,
            "first_name": "Kommunbostäder AB",
            "first_seen_on": "2021-01-10",
            "name": "Kommunbostäder AB",
            "renames": [
                {"name": "Bostads AB Kommunen", "renamed_on": "2021-04-01"},
                {"name": "Kommunbostäder AB", "renamed_on": "2021-06-01"},
            ],
            "apartments": 4,
        },
        {
            "org_no": HEM,
            "first_name": "Hem & Bo AB",
            "first_seen_on": "2021-01-05",
            "name": "Hem och Bo AB",
            "renames": [{"name": "Hem och Bo AB", "renamed_on": "2021-04-15"}],
            "apartments": 2,
        },
        {
            "org_no": SOLO,
            "first_name": "Solo AB",
            "first_seen_on": "2021-08-01",
            "name": "Solo AB",
            "renames": [],
            "apartments": 1,
        },
    ]
    assert [type(row["apartments"]) for row in got] == [int, int, int]


def test_the_rows_of_the_renames() -> None:
    projection = LandlordRegister()
    with tables(projection) as sql:
        for record in history().records:
            projection.process(sql, record)
        rows = sql.all("SELECT * FROM landlord_renames ORDER BY position")
    assert rows == [
        {"org_no": KOMMUN, "position": 7, "renamed_on": "2021-04-01",
         "name": "Bostads AB Kommunen"},
        {"org_no": HEM, "position": 9, "renamed_on": "2021-04-15",
         "name": "Hem och Bo AB"},
        {"org_no": KOMMUN, "position": 11, "renamed_on": "2021-06-01",
         "name": "Kommunbostäder AB"},
    ]  # fmt: skip


def test_an_empty_register() -> None:
    with tables(LandlordRegister()) as sql:
        assert register(sql) == []


def test_the_key_a_landlord_is_grouped_by() -> None:
    assert landlord_key(KOMMUN, "Kommunbostäder AB") == KOMMUN
    assert landlord_key(None, " Kommunbostäder  AB ") == "name:kommunbostäder ab"
    assert landlord_key("", "Hem & Bo AB") == "name:hem & bo ab"
    assert org_no_of(KOMMUN) == KOMMUN
    assert org_no_of("name:kommunbostäder ab") is None
    assert org_no_of("namn:x") == "namn:x"
    assert org_no_of(landlord_key(None, "name:x")) is None


def test_the_number_of_an_acquisition() -> None:
    assert org_no_on(SimpleNamespace()) is None  # relayed before the field
    assert org_no_on(SimpleNamespace(landlord_org_no=None)) is None
    assert org_no_on(SimpleNamespace(landlord_org_no=HEM)) == HEM


def test_a_name_as_shown() -> None:
    assert shown_name("  Hem \t och\n Bo  AB ") == "Hem och Bo AB"
    assert shown_name("Kommunbostäder AB") == "Kommunbostäder AB"
    assert shown_name("") == ""
