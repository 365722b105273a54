"""CSV for every table Boende answers, end to end (docs/reports.md).

Counts on SQLite and PostgreSQL with a hand-checked file in Swedish; flows,
lead times, the apartment stock and the three-month list from a simulated
municipality, each file read back by Python's csv module (``delimiter=';'``,
``encoding='utf-8-sig'`` in Swedish) and checked against the JSON answer of
the same request through the labels; the negotiation (``format``, ``lang``,
``Accept``, ``BOENDE_REPORT_LANG``) and its refusals; the OpenAPI document.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from infra.settings import Settings
from services.bootstrap import Boende, bootstrap
from services.http.app import create_app
from services.reporting.labels import label
from services.reporting.tables import read_table
from services.simulation.player import generate, send
from tests.conftest import Ids, envelope

#: The routes that answer a table, with a query each.
TABLE_ROUTES = {
    "/v1/oversight/counts": {"as_of": "2021-03-01"},
    "/v1/oversight/flows": {"from": "2021-01-01", "to": "2021-06-30"},
    "/v1/oversight/lead-times": {"from": "2021-01-01", "to": "2021-06-30"},
    "/v1/oversight/apartments": {},
    "/v1/oversight/unexecuted": {"as_of": "2021-10-01"},
    "/v1/reports/unexecuted": {"quarter": "2021Q3"},
}


def swedish_rows(content: bytes) -> list[list[str]]:
    """A Swedish file as Excel's user would get it, by Python's csv module:
    ';', UTF-8 with BOM, the provenance lines skipped."""
    with io.TextIOWrapper(io.BytesIO(content), encoding="utf-8-sig", newline="") as f:
        lines = [line for line in f if not line.startswith("# ")]
    return list(csv.reader(lines, delimiter=";"))


def english_rows(content: bytes) -> list[list[str]]:
    text = content.decode("utf-8")
    lines = [line for line in text.splitlines(True) if not line.startswith("# ")]
    return list(csv.reader(lines))


# -- counts, hand-checked, on both engines -----------------------------------------


@pytest.fixture
def api(boende: Boende) -> Iterator[TestClient]:
    with TestClient(create_app(boende)) as client:
        yield client


def small_history(api: TestClient, boende: Boende, ids: Ids) -> int:
    """Two cases and an apartment by 2021-03-01; the last position."""
    c1, c2, a1 = ids.next("c"), ids.next("c"), ids.next("apt")
    position = 0
    for event_type, key, day, payload in [
        ("apartment_acquired", a1, "2021-01-05", {}),
        ("application_filed", c1, "2021-01-10", {}),
        ("application_filed", c2, "2021-01-15", {"gender": "man"}),
        ("application_granted", c1, "2021-02-01", {"decision_id": "IFN-1"}),
        ("application_rejected", c2, "2021-02-10", {}),
    ]:
        body = envelope(event_type, key, day, payload=payload)
        response = api.post("/v1/submissions", json=body)
        assert response.status_code == 201, response.text
        position = response.json()["position"]
    for runner in boende.runners:
        runner.catch_up()
    return int(position)


#: The counts of ``small_history`` on 2021-03-01 in Swedish, after the
#: provenance lines: written by hand from the history above.
COUNTS_SV = """\
Uppgift;Grupp;Kategori;Antal
Ärenden per status;;Inkommen;0
Ärenden per status;;Återkallad;0
Ärenden per status;;Beviljad, ej verkställd;1
Ärenden per status;;Avslagen;1
Ärenden per status;;Upphört före verkställighet;0
Ärenden per status;;Bor i socialt kontrakt;0
Ärenden per status;;Förstahandskontrakt;0
Ärenden per status;;Avslutat kontrakt;0
Ansökningar totalt;;;2
Beviljade totalt;;;1
Avslag totalt;;;1
Verkställda totalt;;;0
Övergått till förstahandskontrakt totalt;;;0
Avslutade kontrakt totalt;;;0
Lägenheter per status;;Ledig;1
Lägenheter per status;;Uthyrd;0
Lägenheter per status;;Återlämnad till hyresvärd;0
Lägenheter per status;;Överlåten till hyresgästen;0
"""


def test_counts_in_swedish_equal_the_hand_checked_file(
    api: TestClient, boende: Boende, ids: Ids
) -> None:
    position = small_history(api, boende, ids)
    params = {"as_of": "2021-03-01", "min_position": position}
    response = api.get("/v1/oversight/counts", params={**params, "format": "csv"})
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "text/csv; charset=utf-8"
    assert response.headers["content-disposition"] == (
        'attachment; filename="counts_2021-03-01.csv"'
    )
    content = response.content
    assert content.startswith("\ufeff# Rapport: Ärenden och lägenheter".encode())
    lines = content.decode("utf-8-sig").splitlines(keepends=True)
    head = [line for line in lines if line.startswith("# ")]
    assert "".join(lines[len(head) :]) == COUNTS_SV
    assert swedish_rows(content) == [line.split(";") for line in COUNTS_SV.splitlines()]
    # Provenance: the file's lines, the headers and the JSON agree.
    as_json = api.get("/v1/oversight/counts", params=params).json()
    back = read_table(content, "sv")
    assert back.provenance["as_of_position"] == str(position)
    assert response.headers["x-as-of-position"] == str(position)
    assert as_json["as_of_position"] == position
    for name in ("tree_size", "root_hash"):
        header = response.headers[f"x-{name.replace('_', '-')}"]
        assert back.provenance[name] == header == str(as_json[name])
    assert back.provenance["as_of"] == "2021-03-01"
    assert head[-1] == "# Per dag: 2021-03-01\n"


def test_counts_in_english_are_the_json_figures(
    api: TestClient, boende: Boende, ids: Ids
) -> None:
    position = small_history(api, boende, ids)
    params = {"as_of": "2021-03-01", "min_position": position, "lang": "en"}
    response = api.get(
        "/v1/oversight/counts", params=params, headers={"Accept": "text/csv"}
    )
    assert not response.content.startswith(b"\xef\xbb\xbf")
    header, *rows = english_rows(response.content)
    assert header == ["figure", "group", "category", "count"]
    as_json = api.get("/v1/oversight/counts", params=params).json()
    expected = [
        *(
            ["cases_by_state", "", s, str(n)]
            for s, n in as_json["cases_by_state"].items()
        ),
        ["filed_total", "", "", "2"],
        ["granted_total", "", "", "1"],
        ["rejected_total", "", "", "1"],
        ["executed_total", "", "", "0"],
        ["converted_total", "", "", "0"],
        ["terminated_total", "", "", "0"],
        *(
            ["apartments_by_state", "", s, str(n)]
            for s, n in as_json["apartments_by_state"].items()
        ),
    ]
    assert rows == expected


def test_public_counts_in_csv_keep_their_marks(
    api: TestClient, boende: Boende, ids: Ids
) -> None:
    """``public=true`` as CSV: the published figures, marks and all; in
    Swedish a withheld figure is SCB's ``..``."""
    position = small_history(api, boende, ids)
    params = {"as_of": "2021-03-01", "min_position": position, "public": "true"}
    public = api.get("/v1/oversight/counts", params=params).json()
    csv_params = {**params, "format": "csv"}
    en = api.get("/v1/oversight/counts", params={**csv_params, "lang": "en"})
    assert en.headers["content-disposition"].endswith('_public.csv"')
    rows = english_rows(en.content)
    assert ["cases_by_state", "", "granted", "<5"] in rows  # one: shown as <5
    for total in ("filed_total", "granted_total", "rejected_total"):
        assert [total, "", "", str(public[total])] in rows
    assert all(row[3] not in ("1", "2") for row in rows[1:])  # none gets through
    back = read_table(en.content, "en")
    assert back.provenance["public"] == "true"
    sv = swedish_rows(api.get("/v1/oversight/counts", params=csv_params).content)
    assert ["Ärenden per status", "", "Beviljad, ej verkställd", "<5"] in sv
    shown = {row[3] for row in sv[1:]}
    assert "<5" in shown
    assert "suppressed" not in shown
    withheld = label("suppression", "suppressed")
    assert (withheld in shown) == ("suppressed" in {row[3] for row in rows})


# -- every other table, from a simulated municipality (SQLite) --------------------


@pytest.fixture(scope="module")
def simulated(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    settings = Settings(data_dir=tmp_path_factory.mktemp("csv") / "var")
    running = bootstrap(settings)
    with TestClient(create_app(running)) as client:
        envelopes = generate(9, seed=7, start=date(2021, 1, 1))
        assert send(envelopes, client, concurrency=4).unexpected == 0
        for runner in running.runners:
            runner.catch_up()
        yield client
    running.close()


def both(client: TestClient, path: str, **params: str) -> tuple[Any, Any, Any]:
    """The JSON answer, the Swedish rows and the English rows of one query."""
    as_json = client.get(path, params=params).json()
    sv = client.get(path, params={**params, "format": "csv", "lang": "sv"})
    en = client.get(path, params={**params, "format": "csv", "lang": "en"})
    assert sv.status_code == en.status_code == 200, (sv.text, en.text)
    for response in (sv, en):
        assert response.headers["x-as-of-position"] == str(as_json["as_of_position"])
        assert response.headers["x-root-hash"] == as_json["root_hash"]
    return as_json, swedish_rows(sv.content), english_rows(en.content)


def text(value: Any, lang: str = "en") -> str:
    if value is None:
        return ""
    if isinstance(value, float) and not value.is_integer():
        return str(value).replace(".", ",") if lang == "sv" else str(value)
    return str(int(value)) if isinstance(value, float) else str(value)


def flat_flows(period: dict[str, Any]) -> dict[str, Any]:
    """A flows period as the CSV's columns: its counts, then per reason
    (``cancelled.moved_away``), then per group (``woman.filed``)."""
    flat = {k: v for k, v in period.items() if not isinstance(v, dict)}
    for name, counts in period.get("by_reason", {}).items():
        flat |= {f"{name}.{reason}": n for reason, n in counts.items()}
    for code, counts in period.get("groups", {}).items():
        flat |= {f"{code}.{name}": n for name, n in counts.items()}
    return flat


@pytest.mark.parametrize("by", [None, "gender", "intervention"])
def test_flows(simulated: TestClient, by: str | None) -> None:
    params = {**TABLE_ROUTES["/v1/oversight/flows"], **({"by": by} if by else {})}
    as_json, sv, en = both(simulated, "/v1/oversight/flows", **params)
    columns = list(flat_flows(as_json["periods"][0]))
    assert en[0] == columns
    assert sv[0][:3] == ["Period", "Inkomna ansökningar", "Beviljade"]
    assert "Beslut upphörda före verkställighet: Flyttat från kommunen" in sv[0]
    if by == "gender":
        assert "Kvinna: Inkomna ansökningar" in sv[0]
    if by == "intervention":
        assert "Före beslut: Inkomna ansökningar" in sv[0]
    expected = [[str(v) for v in flat_flows(p).values()] for p in as_json["periods"]]
    assert en[1:] == sv[1:] == expected
    assert len(expected) == 6 and any(row[1] != "0" for row in expected)


def test_public_flows_keep_their_marks(simulated: TestClient) -> None:
    params = {**TABLE_ROUTES["/v1/oversight/flows"], "public": "true"}
    as_json, sv, en = both(simulated, "/v1/oversight/flows", **params)
    expected = [[str(v) for v in flat_flows(p).values()] for p in as_json["periods"]]
    assert en[1:] == expected
    shown = {cell for row in expected for cell in row[1:]}
    assert "<5" in shown  # small monthly flows are suppressed, and come through
    withheld = label("suppression", "suppressed")
    assert sv[1:] == [
        [withheld if cell == "suppressed" else cell for cell in row] for row in expected
    ]


def test_counts_by_gender(simulated: TestClient) -> None:
    params = {"as_of": "2021-10-01", "by": "gender"}
    as_json, sv, en = both(simulated, "/v1/oversight/counts", **params)
    women = as_json["groups"]["woman"]
    assert ["filed_total", "woman", "", str(women["filed_total"])] in en
    for state, n in women["cases_by_state"].items():
        assert ["cases_by_state", "woman", state, str(n)] in en
        row = ["Ärenden per status", "Kvinna", label("case_state", state), str(n)]
        assert row in sv
    assert not any(r[0] == "apartments_by_state" and r[1] for r in en)
    assert len(en) == len(sv)


def test_lead_times(simulated: TestClient) -> None:
    params = TABLE_ROUTES["/v1/oversight/lead-times"]
    as_json, sv, en = both(simulated, "/v1/oversight/lead-times", **params)
    measures = ["count", "median_days", "p90_days", "max_days"]
    assert en[0] == ["period", "interval", *measures]
    assert sv[0] == [
        "Period",
        "Intervall",
        "Antal",
        "Median (dagar)",
        "90:e percentilen (dagar)",
        "Längst (dagar)",
    ]
    intervals = [k for k in as_json["periods"][0] if k != "period"]
    assert en[1:] == [
        [p["period"], name, *(text(p[name][m]) for m in measures)]
        for p in as_json["periods"]
        for name in intervals
    ]
    assert sv[1:] == [
        [
            p["period"],
            label("interval", name),
            *(text(p[name][m], "sv") for m in measures),
        ]
        for p in as_json["periods"]
        for name in intervals
    ]
    assert any(row[2] != "0" for row in en[1:])


def test_apartments(simulated: TestClient) -> None:
    as_json, sv, en = both(simulated, "/v1/oversight/apartments")
    assert en[0] == ["figure", "group", "category", "value"]
    assert sv[0] == ["Uppgift", "Grupp", "Kategori", "Värde"]
    assert en[1] == ["apartments_total", "", "", str(as_json["apartments_total"])]
    for state, n in as_json["by_state"].items():
        assert ["apartments_by_state", "", state, str(n)] in en
        sv_row = ["Lägenheter per status", "", label("apartment_state", state), str(n)]
        assert sv_row in sv
    for landlord, part in as_json["by_landlord"].items():
        assert ["apartments_by_landlord", landlord, "total", str(part["total"])] in en
        assert [
            "Lägenheter per hyresvärd",
            landlord,
            "Totalt",
            str(part["total"]),
        ] in sv
    current = as_json["vacancy_days"]["current"]
    for measure, value in current.items():
        assert ["current_vacancy_days", "", measure, text(value)] in en
        sv_row = [
            "Pågående vakanser (dagar)",
            "",
            label("measure", measure),
            text(value, "sv"),
        ]
        assert sv_row in sv
    total = str(as_json["vacancy_days"]["total_to_date"])
    assert en[-1] == ["vacant_days_to_date", "", "", total]
    assert len(sv) == len(en)


def test_the_three_month_list(simulated: TestClient) -> None:
    params = TABLE_ROUTES["/v1/oversight/unexecuted"]
    as_json, sv, en = both(simulated, "/v1/oversight/unexecuted", **params)
    columns = list(as_json["decisions"][0])
    assert en[0] == columns
    assert sv[0] == [label("column", c) for c in columns]
    assert en[1:] == [[text(d[c]) for c in columns] for d in as_json["decisions"]]
    lists = {
        "intervention": "intervention",
        "gender": "gender",
        "delay_reason": "delay_reason",
    }
    assert sv[1:] == [
        [label(lists[c], d[c]) if c in lists and d[c] else text(d[c]) for c in columns]
        for d in as_json["decisions"]
    ]
    assert len(sv) > 3


def test_the_due_soon_list(simulated: TestClient) -> None:
    params = {"as_of": "2021-06-01", "due_within": "30"}
    as_json, sv, en = both(simulated, "/v1/oversight/unexecuted", **params)
    columns = list(as_json["decisions"][0])
    assert "days_left" in columns
    assert en[0] == columns
    assert sv[0] == [label("column", c) for c in columns]
    assert en[1:] == [[text(d[c]) for c in columns] for d in as_json["decisions"]]
    response = simulated.get(
        "/v1/oversight/unexecuted", params={**params, "format": "csv"}
    )
    assert read_table(response.content, "sv").provenance["due_within"] == "30"


# -- the negotiation -------------------------------------------------------------------


@pytest.mark.parametrize("path", sorted(TABLE_ROUTES))
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
def test_format_is_negotiated_alike_on_every_table(
    simulated: TestClient,
    path: str,
    params: dict[str, str],
    accept: str | None,
    expected: str,
) -> None:
    headers = {"Accept": accept} if accept else {}
    response = simulated.get(
        path, params={**TABLE_ROUTES[path], **params}, headers=headers
    )
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith(expected)
    assert response.headers.get_list("vary") == ["Accept"]
    if expected == "text/csv":
        lang = params.get("lang", "sv")
        assert response.headers["content-language"] == lang
        assert response.content.startswith(b"\xef\xbb\xbf#" if lang == "sv" else b"#")
        assert response.headers["content-disposition"].startswith(
            "attachment; filename="
        )
        back = read_table(response.content, lang)  # type: ignore[arg-type]
        assert back.provenance["as_of_position"] == response.headers["x-as-of-position"]
        assert back.provenance["tree_size"] == response.headers["x-tree-size"]
        assert back.provenance["root_hash"] == response.headers["x-root-hash"]
        assert back.provenance["generated_at"]


@pytest.mark.parametrize("path", sorted(TABLE_ROUTES))
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
    response = client.get(path, params={**TABLE_ROUTES[path], **params})
    assert response.status_code == 422
    body = response.json()
    assert body["error"] == "invalid_request"
    assert [d["loc"] for d in body["details"]] == [loc]


def test_the_default_language_is_a_setting(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path / "var", report_lang="en")
    running = bootstrap(settings)
    try:
        client = TestClient(create_app(running))
        response = client.get("/v1/oversight/counts", params={"format": "csv"})
        assert response.headers["content-language"] == "en"
        header = english_rows(response.content)[0]
        assert header == ["figure", "group", "category", "count"]
        sv = client.get("/v1/oversight/counts", params={"format": "csv", "lang": "sv"})
        assert swedish_rows(sv.content)[0] == ["Uppgift", "Grupp", "Kategori", "Antal"]
    finally:
        running.close()


def test_report_lang_refuses_anything_but_sv_and_en(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="report_lang"):
        Settings(data_dir=tmp_path, report_lang="de")  # type: ignore[arg-type]


# -- the OpenAPI document ---------------------------------------------------------


@pytest.mark.parametrize("path", sorted(TABLE_ROUTES))
def test_every_table_documents_csv_its_parameters_and_headers(
    client: TestClient, path: str
) -> None:
    operation = client.get("/openapi.json").json()["paths"][path]["get"]
    params = {p["name"]: p for p in operation["parameters"]}
    assert params["format"]["schema"]["anyOf"][0]["enum"] == ["json", "csv"]
    assert params["lang"]["schema"]["anyOf"][0]["enum"] == ["sv", "en"]
    assert "accept" in {name.lower() for name in params}
    ok = operation["responses"]["200"]
    assert set(ok["content"]) == {"application/json", "text/csv"}
    assert {"X-As-Of-Position", "X-Tree-Size", "X-Root-Hash"} <= set(ok["headers"])
    assert "format" in operation["responses"]["422"]["description"]
