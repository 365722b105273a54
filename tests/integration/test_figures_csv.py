"""CSV for the seed figures and the landlord register, end to end
(``/v1/oversight/households``, ``/first-hand``, ``/rents``, ``/vacancy``,
``/landlords``; docs/reports.md).

Rents and the register on SQLite and PostgreSQL with hand-checked files in
Swedish; every figure from a simulated municipality, each file read back by
Python's csv module (``delimiter=';'``, ``encoding='utf-8-sig'`` in
Swedish) and checked against the JSON answer of the same request through
the labels; the negotiation, its refusals and the provenance, alike on
every route.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from typing import Any

import pytest
from fastapi.testclient import TestClient

from infra.settings import Settings
from services.bootstrap import Boende, bootstrap
from services.http.app import create_app
from services.reporting.labels import label
from services.reporting.tables import read_table
from services.simulation.player import generate, send
from tests.api.test_figures_openapi import FIGURES
from tests.conftest import Ids
from tests.integration.test_csv import english_rows, swedish_rows, text
from tests.integration.test_registers import HEMMET, KB, acquire
from tests.integration.test_rents import history as rents_history
from tests.integration.test_unexecuted import Cases

#: The routes of this file, with a query each for the simulated municipality.
FIGURE_ROUTES = {
    "/v1/oversight/households": {"as_of": "2022-06-30"},
    "/v1/oversight/first-hand": {"from": "2021-01-01", "to": "2022-12-31"},
    "/v1/oversight/rents": {"as_of": "2022-06-30"},
    "/v1/oversight/vacancy": {"from": "2021-01-01", "to": "2022-12-31"},
    "/v1/oversight/landlords": {},
}
FIRST_HAND_BY = ("none", "landlord", "district")
RENTS_BY = ("none", "landlord", "district", "rooms")


@pytest.fixture
def api(boende: Boende) -> Iterator[TestClient]:
    with TestClient(create_app(boende)) as client:
        yield client


def csv_body(api: TestClient, path: str, **params: str) -> bytes:
    response = api.get(path, params={**params, "format": "csv"})
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "text/csv; charset=utf-8"
    return response.content


def after_provenance(content: bytes) -> str:
    lines = content.decode("utf-8-sig").splitlines(keepends=True)
    return "".join(line for line in lines if not line.startswith("# "))


# -- hand-checked files, on both engines --------------------------------------------

ALN, HOUSEHOLDS = (
    "ALN betalar hyresvärden (kr per månad)",
    "Hushållen betalar (kr per månad)",
)
#: ``test_rents.history`` on 2025-02-01 per landlord, in Swedish, by hand:
#: Bo AB's one apartment lived in at 6200 against 6000; hem HB's empty.
RENTS_SV = (
    ";".join(
        [
            "Hyresvärd",
            "Organisationsnummer",
            "Lägenheter",
            "Uthyrda",
            *(
                f"{w}: {p}"
                for w in (ALN, HOUSEHOLDS)
                for p in ("median", "lägsta", "högsta", "summa")
            ),
            "Hushållen minus ALN (kr per månad)",
            "Hushållen minus ALN per uthyrd lägenhet (kr per månad)",
        ]
    )
    + "\n"
    + "Bo AB;556999-0012;1;1;6000;6000;6000;6000;6200;6200;6200;6200;200;200\n"
    + "hem HB;916512-3457;1;0;9300;9300;9300;9300;;;;0;0;\n"
)


def test_rents_per_landlord_in_swedish_equal_the_hand_checked_file(
    boende: Boende, api: TestClient, ids: Ids
) -> None:
    c = Cases(boende, api, ids)
    rents_history(c)
    params = {"as_of": "2025-02-01", "by": "landlord", "min_position": str(c.position)}
    response = api.get("/v1/oversight/rents", params={**params, "format": "csv"})
    assert response.headers["content-disposition"] == (
        'attachment; filename="rents_2025-02-01_by_landlord.csv"'
    )
    assert response.content.startswith("\ufeff# Rapport: Hyror\n".encode())
    assert after_provenance(response.content) == RENTS_SV
    assert swedish_rows(response.content) == [
        line.split(";") for line in RENTS_SV.splitlines()
    ]
    back = read_table(response.content, "sv")
    assert (back.provenance["as_of"], back.provenance["by"]) == (
        "2025-02-01",
        "landlord",
    )
    assert back.provenance["as_of_position"] == str(c.position)


#: ``test_registers``' register in Swedish, by hand: one row per name a
#: landlord has had, the apartments on the row of its name now.
LANDLORDS_SV = f"""\
Organisationsnummer;Namn;Namnet från;Namnets ursprung;Nuvarande namn;Lägenheter
{KB};Kommunbostäder AB;2021-01-10;Första namnet i loggen;nej;
{KB};KB Bostäder AB;2021-03-01;Namnbyte;nej;
{KB};Kommunbostäder AB;2021-04-01;Namnbyte;ja;4
{HEMMET};Stiftelsen Hemmet;2021-01-05;Första namnet i loggen;ja;1
"""


def test_the_landlord_register_in_swedish_equals_the_hand_checked_file(
    boende: Boende, api: TestClient, ids: Ids
) -> None:
    c = Cases(boende, api, ids)
    acquire(c, "A1", "2021-01-10", "Kommunbostäder AB", KB)
    acquire(c, "A3", "2021-03-01", "KB Bostäder AB", "5560123456")
    acquire(c, "A4", "2021-01-05", "Stiftelsen Hemmet", HEMMET)
    acquire(c, "A5", "2021-04-01", "Kommunbostäder AB", KB)
    acquire(c, "A6", "2021-04-02", "Anders Hyr", None)
    acquire(c, "A7", "2021-04-03", "Kommunbostäder AB", KB)
    c.catch_up()
    content = csv_body(api, "/v1/oversight/landlords", min_position=str(c.position))
    assert after_provenance(content) == LANDLORDS_SV
    en = english_rows(csv_body(api, "/v1/oversight/landlords", lang="en"))
    assert en[0] == ["org_no", "name", "named_on", "name_kind", "current", "apartments"]
    assert en[-1] == [HEMMET, "Stiftelsen Hemmet", "2021-01-05", "first", "true", "1"]
    # the apartments sum to the register's, whatever the renames
    assert sum(int(row[5] or 0) for row in en[1:]) == 5


# -- every figure against its JSON, from a simulated municipality (SQLite) ---------


@pytest.fixture(scope="module")
def simulated(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    settings = Settings(data_dir=tmp_path_factory.mktemp("figures-csv") / "var")
    running = bootstrap(settings)
    with TestClient(create_app(running)) as client:
        envelopes = generate(24, seed=7, start=date(2021, 1, 1))
        assert send(envelopes, client, concurrency=4).unexpected == 0
        for runner in running.runners:
            runner.catch_up()
        yield client
    running.close()


def both(client: TestClient, path: str, **params: str) -> tuple[Any, Any, Any]:
    """The JSON answer, the Swedish rows and the English rows of one query,
    the provenance of both files the JSON's."""
    as_json = client.get(path, params=params).json()
    sv = client.get(path, params={**params, "format": "csv", "lang": "sv"})
    en = client.get(path, params={**params, "format": "csv", "lang": "en"})
    assert sv.status_code == en.status_code == 200, (sv.text, en.text)
    for response, lang in ((sv, "sv"), (en, "en")):
        assert response.headers["x-as-of-position"] == str(as_json["as_of_position"])
        assert response.headers["x-root-hash"] == as_json["root_hash"]
        back = read_table(response.content, lang)  # type: ignore[arg-type]
        assert back.provenance["root_hash"] == as_json["root_hash"]
    return as_json, swedish_rows(sv.content), english_rows(en.content)


def flat(row: dict[str, Any]) -> dict[str, Any]:
    """A JSON row as the CSV's columns: a figure's parts one level down
    (``days_to_conversion.median_days``), bands and reasons likewise."""
    out: dict[str, Any] = {}
    for name, value in row.items():
        if not isinstance(value, dict):
            out[name] = value
            continue
        prefix = "terminated" if name == "terminated_by_reason" else name
        for part, inner in value.items():
            if isinstance(inner, dict):
                out |= {f"{prefix}.{code}": n for code, n in inner.items()}
            else:
                out[f"{prefix}.{part}"] = inner
    return out


def test_households(simulated: Any) -> None:
    path = "/v1/oversight/households"
    as_json, sv, en = both(simulated, path, **FIGURE_ROUTES[path])
    assert en[0] == ["breakdown", "group", "households", "adults", "children"]
    assert sv[0] == ["Uppdelning", "Grupp", "Hushåll", "Vuxna", "Barn"]
    figures = ("households", "adults", "children")
    total = ["total", "", *(str(as_json[f]) for f in figures)]
    lists = {"by_gender": "gender", "by_household_type": "household_type"}
    lists |= {"by_age_band": "age_band"}
    assert en[1:] == [total] + [
        [breakdown, code, *(str(group[f]) for f in figures)]
        for breakdown in lists
        for code, group in as_json[breakdown].items()
    ]
    assert sv[1] == ["Totalt", "", *total[2:]]
    assert sv[2] == ["Per kön", "Kvinna", *en[2][2:]]
    assert sv[-1][:2] == ["Per åldersgrupp", "65 år eller äldre"]
    assert as_json["households"] > 0
    week = simulated.get(path, params={"week": "2022-W14", "format": "csv"})
    assert week.headers["content-disposition"].endswith('households_2022-W14.csv"')
    assert read_table(week.content, "sv").provenance["week"] == "2022-W14"


@pytest.mark.parametrize("by", FIRST_HAND_BY)
def test_first_hand(simulated: Any, by: str) -> None:
    path = "/v1/oversight/first-hand"
    as_json, sv, en = both(simulated, path, **FIGURE_ROUTES[path], by=by)
    rows = [flat(cohort) for cohort in as_json["cohorts"]]
    assert en[0] == list(rows[0])
    assert en[1:] == [[text(v) for v in row.values()] for row in rows]
    assert sv[1:] == [[text(v, "sv") for v in row.values()] for row in rows]
    assert "Avslutade kontrakt: Flyttat" in sv[0]
    assert "Övergått inom 12 månader: andel" in sv[0]
    assert "Dagar i kontraktet, de som bor kvar: 36 månader eller mer" in sv[0]
    assert sum(c["converted"] for c in as_json["cohorts"]) > 0
    assert sum(c["terminated"] for c in as_json["cohorts"]) > 0


@pytest.mark.parametrize("by", RENTS_BY)
def test_rents(simulated: Any, by: str) -> None:
    path = "/v1/oversight/rents"
    as_json, sv, en = both(simulated, path, **FIGURE_ROUTES[path], by=by)
    rows = [flat(group) for group in as_json["groups"]]
    assert en[0] == list(rows[0])
    assert en[1:] == [[text(v) for v in row.values()] for row in rows]
    assert sv[1:] == [[text(v, "sv") for v in row.values()] for row in rows]
    assert sv[0][-1] == "Hushållen minus ALN per uthyrd lägenhet (kr per månad)"
    assert sum(g["occupied"] for g in as_json["groups"]) > 0


@pytest.mark.parametrize("by", ["none", "district"])
def test_vacancy(simulated: Any, by: str) -> None:
    path = "/v1/oversight/vacancy"
    params = {**FIGURE_ROUTES[path], "period": "quarter", "by": by}
    as_json, sv, en = both(simulated, path, **params)
    assert en[0] == list(as_json["periods"][0])
    assert en[1:] == [[text(v) for v in p.values()] for p in as_json["periods"]]
    assert sv[1:] == en[1:]  # periods, names and whole numbers read alike
    assert sv[0][0] == "Period" and sv[0][-2:] == ["Vakanta dagar", "Kostnad (kr)"]
    assert sum(p["vacant_days"] for p in as_json["periods"]) > 0
    response = simulated.get(path, params={**params, "format": "csv"})
    back = read_table(response.content, "sv")
    assert back.provenance["period"] == label("period", "quarter")
    assert back.provenance["counted_to"] == as_json["counted_to"]


def test_landlords(simulated: Any) -> None:
    as_json, sv, en = both(simulated, "/v1/oversight/landlords")
    names = [
        (landlord["org_no"], name)
        for landlord in as_json["landlords"]
        for name in [
            landlord["first_name"],
            *(r["name"] for r in landlord["renames"]),
        ]
    ]
    assert [(row[0], row[1]) for row in en[1:]] == names
    assert sum(int(row[5] or 0) for row in sv[1:]) == sum(
        landlord["apartments"] for landlord in as_json["landlords"]
    )
    assert len(as_json["landlords"]) > 0


# -- the negotiation, alike on every route ----------------------------------------


@pytest.mark.parametrize("path", sorted(FIGURE_ROUTES))
@pytest.mark.parametrize(
    ("params", "accept", "expected"),
    [
        ({}, None, "application/json"),
        ({}, "text/csv", "text/csv"),
        ({}, "text/csv;q=0.5, application/json", "application/json"),
        ({"format": "csv"}, "application/json", "text/csv"),
        ({"format": "json"}, "text/csv", "application/json"),
        ({"format": "csv", "lang": "en"}, None, "text/csv"),
    ],
)
def test_format_is_negotiated_alike_on_every_figure(
    simulated: TestClient,
    path: str,
    params: dict[str, str],
    accept: str | None,
    expected: str,
) -> None:
    headers = {"Accept": accept} if accept else {}
    response = simulated.get(
        path, params={**FIGURE_ROUTES[path], **params}, headers=headers
    )
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith(expected)
    assert response.headers.get_list("vary") == ["Accept"]
    if expected != "text/csv":
        return
    lang = params.get("lang", "sv")
    assert response.headers["content-language"] == lang
    assert response.content.startswith(b"\xef\xbb\xbf#" if lang == "sv" else b"#")
    assert response.headers["content-disposition"].startswith("attachment; filename=")
    back = read_table(response.content, lang)  # type: ignore[arg-type]
    assert back.provenance["as_of_position"] == response.headers["x-as-of-position"]
    assert back.provenance["tree_size"] == response.headers["x-tree-size"]
    assert back.provenance["root_hash"] == response.headers["x-root-hash"]
    assert back.provenance["generated_at"]


@pytest.mark.parametrize("path", sorted(FIGURE_ROUTES))
@pytest.mark.parametrize(
    ("params", "loc"),
    [
        ({"format": "xml"}, "query.format"),
        ({"format": "csv", "lang": "de"}, "query.lang"),
    ],
)
def test_an_unknown_format_or_language_is_refused(
    client: TestClient, path: str, params: dict[str, str], loc: str
) -> None:
    response = client.get(path, params={**FIGURE_ROUTES[path], **params})
    assert response.status_code == 422
    body = response.json()
    assert body["error"] == "invalid_request"
    assert [d["loc"] for d in body["details"]] == [loc]


# -- the answers are what the OpenAPI document says ---------------------------------


@pytest.mark.parametrize(
    ("path", "params"),
    [
        ("/v1/oversight/households", {}),
        ("/v1/oversight/households", {"week": "2022-W14"}),
        ("/v1/oversight/households", {"public": "true"}),
        *(("/v1/oversight/first-hand", {"by": b}) for b in FIRST_HAND_BY),
        *(("/v1/oversight/rents", {"by": b}) for b in RENTS_BY),
        *(("/v1/oversight/vacancy", {"by": b}) for b in RENTS_BY),
        ("/v1/oversight/vacancy", {"known_at": "2021-06-30T12:00:00+02:00"}),
    ],
)
def test_every_answer_is_what_its_schema_documents(
    simulated: TestClient, path: str, params: dict[str, str]
) -> None:
    """Unknown fields refused: a figure the model leaves out fails here. The
    fields only a public answer has (``public``, ``legend``) are there
    exactly when it was asked for."""
    model = FIGURES[path]
    query = {} if "week" in params else FIGURE_ROUTES[path]
    response = simulated.get(path, params={**query, **params})
    assert response.status_code == 200, response.text
    answer = response.json()
    model.model_validate(answer)
    documented = {f.alias or n for n, f in model.model_fields.items()}
    if "public" not in params:
        documented -= {"public", "legend"}
    assert set(answer) == documented
