"""The three-month rule end to end, on SQLite and PostgreSQL.

Facts go in through the HTTP API; the read models are caught up explicitly
(never by sleeping); answers come from ``/v1/oversight/unexecuted`` and
``/v1/reports/unexecuted``. The quarterly report for 2021Q3 of a scripted
history (``lang=en``) must equal ``tests/data/unexecuted_2021Q3.csv``, written
by hand from the script below, byte for byte after the file's provenance
lines — except that the file names each case by its label, which the test
turns into the case's pseudonymous reference under the installation's key;
in Swedish (``lang=sv``) it is the same file with ';', a BOM, Swedish headers
and every code as its label. Running and future quarters: preliminary, 422.
"""

from __future__ import annotations

import csv
import hashlib
import hmac
import io
import stat
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from infra.keys import KeyFileError, pseudonym, pseudonym_key
from projections.unexecuted import three_month_deadline
from services.bootstrap import Boende
from services.http.app import create_app
from services.http.reports.quarterly import REPORT_TABLE
from services.projecting.rebuild import rebuild_together
from services.reporting.labels import label
from services.reporting.tables import read_table
from services.simulation.player import generate, send
from services.submission.examples import EXAMPLE_PERSONNUMMER, PAYLOADS
from tests.conftest import TODAY, Ids, envelope, view_rows

EXPECTED_CSV = Path(__file__).parent.parent / "data" / "unexecuted_2021Q3.csv"
APPLICANT_NAME = PAYLOADS["application_filed"]["applicant"]["name"]


@pytest.fixture
def api(boende: Boende) -> Iterator[TestClient]:
    with TestClient(create_app(boende)) as client:
        yield client


class Cases:
    """Scripted cases under short labels, recorded over HTTP in order."""

    def __init__(self, boende: Boende, client: TestClient, ids: Ids) -> None:
        self.boende, self.client, self.ids = boende, client, ids
        self.case_ids: dict[str, str] = {}
        self.position = 0

    def post(self, event_type: str, key: str, day: str, **payload: Any) -> None:
        body = envelope(event_type, key, day, payload=payload)
        response = self.client.post("/v1/submissions", json=body)
        assert response.status_code == 201, response.text
        self.position = response.json()["position"]

    def filed(self, label: str, day: str, gender: str = "woman") -> None:
        self.case_ids[label] = self.ids.next("c")
        self.post("application_filed", self.case_ids[label], day, gender=gender)

    def granted(
        self, label: str, day: str, intervention: str = "socialt_kontrakt", **kw: Any
    ) -> None:
        decision = f"IFN-{label}"
        self.post(
            "application_granted",
            self.case_ids[label],
            day,
            decision_id=decision,
            intervention=intervention,
            **kw,
        )

    def rejected(self, label: str, day: str) -> None:
        self.post("application_rejected", self.case_ids[label], day)

    def delayed(self, label: str, day: str, reason: str) -> None:
        self.post("delay_reason_recorded", self.case_ids[label], day, reason=reason)

    def executed(self, label: str, day: str) -> None:
        apartment = self.ids.next("apt")
        self.post("apartment_acquired", apartment, day)
        self.post(
            "contract_executed",
            self.case_ids[label],
            day,
            apartment_id=apartment,
            lease_starts_on=day,
        )

    def cancelled(
        self, label: str, day: str, reason: str = "own_housing_found"
    ) -> None:
        self.post("grant_cancelled", self.case_ids[label], day, reason=reason)

    def catch_up(self) -> None:
        for runner in self.boende.runners:
            runner.catch_up()

    def labels_of(self) -> dict[str, str]:
        """Pseudonymous reference -> label."""
        key = pseudonym_key(self.boende.settings.data_dir)
        return {pseudonym(key, cid): label for label, cid in self.case_ids.items()}


@pytest.fixture
def cases(boende: Boende, api: TestClient, ids: Ids) -> Cases:
    return Cases(boende, api, ids)


# -- the deadline's edges, end to end -------------------------------------------


def edge_history(c: Cases) -> None:
    c.filed("A", "2021-01-10")
    c.granted("A", "2021-01-31")  # deadline 2021-04-30
    c.executed("A", "2021-09-01")
    c.filed("E", "2021-03-01")
    c.granted("E", "2021-03-10")  # deadline 2021-06-10
    c.executed("E", "2021-06-10")  # on the deadline day: in time
    c.filed("F", "2021-03-01")
    c.granted("F", "2021-03-10")
    c.cancelled("F", "2021-05-01")  # before the deadline: never reported
    c.filed("G", "2021-03-01")
    c.granted("G", "2021-03-10")
    c.executed("G", "2021-06-11")  # one day late
    c.filed("B", "2022-11-01", gender="man")
    c.granted("B", "2022-11-30")  # deadline 2023-02-28
    c.executed("B", "2023-06-01")
    c.filed("C", "2023-11-01", gender="other")
    c.granted("C", "2023-11-30")  # deadline 2024-02-29 (leap year)
    c.cancelled("C", "2024-04-01")
    c.filed("D", "2024-02-01", gender="unknown")
    c.granted("D", "2024-02-29")  # deadline 2024-05-29
    c.catch_up()


#: as_of -> {label: days waiting} of the decisions listed on that day
EDGE_DAYS: dict[str, dict[str, int]] = {
    "2021-04-30": {},  # A's deadline day
    "2021-05-01": {"A": 90},
    "2021-06-10": {"A": 130},  # E's, F's and G's deadline day
    "2021-06-11": {"A": 131},  # G executed that day, so not waiting on it
    "2021-08-31": {"A": 212},
    "2021-09-01": {},  # A executed
    "2023-02-28": {},  # B's deadline (not a leap year)
    "2023-03-01": {"B": 91},
    "2024-02-29": {},  # C's deadline (leap day); B executed
    "2024-03-01": {"C": 92},
    "2024-05-29": {},  # C cancelled; D's deadline
    "2024-05-30": {"D": 91},
    "2024-12-31": {"D": 306},
}


def test_deadline_edges_in_the_list_on_a_day(cases: Cases, api: TestClient) -> None:
    edge_history(cases)
    labels = cases.labels_of()
    for as_of, expected in EDGE_DAYS.items():
        answer = api.get("/v1/oversight/unexecuted", params={"as_of": as_of}).json()
        got = {labels[d["reference"]]: d["days_waiting"] for d in answer["decisions"]}
        assert got == expected, as_of
        assert answer["count"] == len(expected)


#: quarter -> {label: (section, status at quarter end, days waiting)}
EDGE_QUARTERS: dict[str, dict[str, tuple[str, str, int]]] = {
    "2021Q1": {},
    "2021Q2": {
        "A": ("new", "unexecuted", 150),
        "G": ("new", "executed", 93),  # executed a day late: still late
    },
    "2021Q3": {"A": ("earlier_resolved", "executed", 213)},
    "2021Q4": {},
    "2023Q1": {"B": ("new", "unexecuted", 121)},
    "2023Q2": {"B": ("earlier_resolved", "executed", 183)},
    "2024Q1": {"C": ("new", "unexecuted", 122)},
    "2024Q2": {
        "C": ("earlier_resolved", "cancelled", 123),
        "D": ("new", "unexecuted", 122),
    },
    "2024Q3": {"D": ("earlier_standing", "unexecuted", 214)},
}


def test_deadline_edges_in_the_quarterly_reports(cases: Cases, api: TestClient) -> None:
    edge_history(cases)
    labels = cases.labels_of()
    for quarter, expected in EDGE_QUARTERS.items():
        answer = api.get("/v1/reports/unexecuted", params={"quarter": quarter})
        assert answer.status_code == 200
        got = {
            labels[row["reference"]]: (
                row["section"],
                row["status_at_quarter_end"],
                row["days_waiting"],
            )
            for row in answer.json()["rows"]
        }
        assert got == expected, quarter


# -- the scripted 2021Q3 history -------------------------------------------------


def quarter_history(c: Cases) -> None:
    """Every case of ``unexecuted_2021Q3.csv``, and some that must stay out."""
    c.filed("N1", "2021-03-10")
    c.granted("N1", "2021-03-31")  # deadline 06-30, first day late 07-01
    c.delayed("N1", "2021-05-10", "no_apartment_available")
    c.filed("AP", "2021-02-01", gender="other")
    c.rejected("AP", "2021-02-20")
    c.granted("AP", "2021-04-01", basis="appeal")  # the appeal's day counts
    c.filed("N2", "2021-03-20")
    c.granted("N2", "2021-04-15", intervention="boendesocial_insats")
    c.delayed("N2", "2021-07-01", "offer_declined")
    c.executed("N2", "2021-08-20")
    c.filed("G1", "2021-04-20")
    c.granted("G1", "2021-05-10")  # deadline 08-10
    c.executed("G1", "2021-08-11")  # a day late
    c.filed("N3", "2021-05-01", gender="man")
    c.granted("N3", "2021-05-31")  # deadline 08-31
    c.delayed("N3", "2021-08-01", "client_unreachable")
    c.cancelled("N3", "2021-09-10", reason="moved_away")
    c.filed("N4", "2021-06-01", gender="man")
    c.granted("N4", "2021-06-29")  # deadline 09-29, first day late 09-30
    c.filed("X1", "2021-06-01")
    c.granted("X1", "2021-06-30")  # first day late 10-01: the next quarter
    c.filed("X2", "2021-04-01")
    c.granted("X2", "2021-04-20")
    c.executed("X2", "2021-07-20")  # on the deadline day: in time
    c.filed("X3", "2021-04-20", gender="man")
    c.granted("X3", "2021-05-05")
    c.cancelled("X3", "2021-06-01")  # before the deadline
    c.filed("R1", "2021-03-01")
    c.rejected("R1", "2021-03-20")  # never granted
    c.filed("E1", "2021-01-10", gender="man")
    c.granted("E1", "2021-01-31")  # deadline 04-30: reported in 2021Q2
    c.delayed("E1", "2021-03-01", "no_apartment_available")
    c.delayed("E1", "2021-10-05", "other")  # after the quarter: not shown
    c.filed("E2", "2020-11-15", gender="unknown")
    c.granted("E2", "2020-12-01")  # deadline 2021-03-01
    c.delayed("E2", "2021-04-01", "no_apartment_available")
    c.executed("E2", "2021-07-01")  # the quarter's first day
    c.filed("E3", "2021-03-01")
    c.granted("E3", "2021-03-15", intervention="boendesocial_insats")
    c.cancelled("E3", "2021-09-30")  # the quarter's last day
    c.filed("E4", "2021-01-20")
    c.granted("E4", "2021-02-10")
    c.executed("E4", "2021-06-20")  # late, but before the quarter
    c.filed("E5", "2021-03-01")
    c.granted("E5", "2021-03-29")  # first day late 06-30, in 2021Q2
    c.delayed("E5", "2021-09-01", "offer_declined")
    c.executed("E5", "2021-10-15")  # after the quarter
    c.catch_up()


def expected_csv(c: Cases) -> bytes:
    """The hand-written file with each label replaced by its reference."""
    key = pseudonym_key(c.boende.settings.data_dir)
    header, *rows = EXPECTED_CSV.read_bytes().decode().split("\n")[:-1]
    lines = [header]
    for row in rows:
        section, label, rest = row.split(",", 2)
        lines.append(f"{section},{pseudonym(key, c.case_ids[label])},{rest}")
    return "".join(f"{line}\n" for line in lines).encode()


def test_quarterly_report_csv_equals_the_hand_checked_file(
    cases: Cases, api: TestClient
) -> None:
    """``lang=en`` is the file as it was before Swedish CSV, byte for byte,
    after the provenance lines that now begin every file (docs/reports.md)."""
    quarter_history(cases)
    response = api.get(
        "/v1/reports/unexecuted",
        params={"quarter": "2021Q3", "min_position": cases.position, "lang": "en"},
        headers={"Accept": "text/csv"},
    )
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "text/csv; charset=utf-8"
    assert response.headers["x-as-of-position"] == str(cases.position)
    head, body = split_provenance(response.content)
    assert body == expected_csv(cases)
    assert head == [
        "# report: unexecuted_quarterly",
        f"# as_of_position: {cases.position}",
        f"# tree_size: {response.headers['x-tree-size']}",
        f"# root_hash: {response.headers['x-root-hash']}",
        head[4],  # generated_at: now
        "# quarter: 2021Q3",
        "# preliminary: false",
        "# counted_to: 2021-09-30",
    ]
    assert head[4].startswith("# generated_at: 20")
    assert_no_personal_data(response.text, cases)


def split_provenance(content: bytes) -> tuple[list[str], bytes]:
    """A CSV file's provenance lines, and the rest of the file."""
    head: list[str] = []
    while content.startswith(b"# "):
        line, _, content = content.partition(b"\n")
        head.append(line.decode())
    return head, content


def test_quarterly_report_in_swedish_is_the_hand_checked_file_in_swedish(
    cases: Cases, api: TestClient
) -> None:
    """``lang=sv`` (the default): the same file with ';', a BOM, Swedish
    headers and every code as its Swedish label, read back by Python's csv
    module with ``delimiter=';'`` and ``encoding='utf-8-sig'``."""
    quarter_history(cases)
    response = api.get(
        "/v1/reports/unexecuted",
        params={"quarter": "2021Q3", "min_position": cases.position},
        headers={"Accept": "text/csv"},
    )
    assert response.status_code == 200, response.text
    assert response.headers["content-language"] == "sv"
    assert response.content.startswith(b"\xef\xbb\xbf# Rapport: ")
    with io.TextIOWrapper(
        io.BytesIO(response.content), encoding="utf-8-sig", newline=""
    ) as f:
        lines = [line for line in f if not line.startswith("# ")]
    got = list(csv.reader(lines, delimiter=";"))
    en_header, *en_rows = csv.reader(io.StringIO(expected_csv(cases).decode()))
    codes = [column.codes for column in REPORT_TABLE]
    assert got[0] == [label("column", name) for name in en_header]
    assert got[0][:3] == ["Avsnitt", "Referens", "Beslutsdatum"]
    assert got[1:] == [
        [
            label(kind, v) if kind and v else v
            for kind, v in zip(codes, row, strict=True)
        ]
        for row in en_rows
    ]
    assert got[1][0] == "Nya ej verkställda beslut"
    assert "Ingen lägenhet tillgänglig" in got[1]
    back = read_table(response.content, "sv")
    assert back.provenance["as_of_position"] == str(cases.position)
    assert back.provenance["root_hash"] == response.headers["x-root-hash"]
    assert back.provenance["preliminary"] == "nej"
    assert_no_personal_data(response.content.decode("utf-8-sig"), cases)


def test_quarterly_report_json_has_the_same_rows(cases: Cases, api: TestClient) -> None:
    quarter_history(cases)
    for accept in (None, "application/json", "*/*", "text/csv;q=0.5, */*"):
        headers = {"Accept": accept} if accept else {}
        response = api.get(
            "/v1/reports/unexecuted", params={"quarter": "2021Q3"}, headers=headers
        )
        assert response.headers["content-type"] == "application/json", accept
    body = response.json()
    assert body["as_of_position"] == cases.position
    assert (body["quarter"], body["from"], body["to"]) == (
        "2021Q3",
        "2021-07-01",
        "2021-09-30",
    )
    assert body["totals"] == {"new": 6, "earlier_resolved": 2, "earlier_standing": 2}
    from_csv = list(csv.DictReader(io.StringIO(expected_csv(cases).decode())))
    as_text = [
        {column: "" if row[column] is None else str(row[column]) for column in row}
        for row in body["rows"]
    ]
    assert as_text == from_csv
    assert list(body["rows"][0]) == body["columns"] == list(from_csv[0])
    assert_no_personal_data(response.text, cases)


def test_list_on_a_day_shows_the_delay_reason_known_by_then(
    cases: Cases, api: TestClient
) -> None:
    quarter_history(cases)
    response = api.get(
        "/v1/oversight/unexecuted",
        params={"as_of": "2021-07-01", "min_position": cases.position},
    )
    body = response.json()
    assert body["as_of_position"] == cases.position
    labels = cases.labels_of()
    decisions = [{**d, "reference": labels[d["reference"]]} for d in body["decisions"]]
    assert decisions == [
        row("E1", "2021-01-31", "2021-04-30", 151, "man", "no_apartment_available"),
        row(
            "E3", "2021-03-15", "2021-06-15", 108, "woman", None, "boendesocial_insats"
        ),
        row("E5", "2021-03-29", "2021-06-29", 94, "woman", None),  # reason is later
        row(
            "N1", "2021-03-31", "2021-06-30", 1 + 91, "woman", "no_apartment_available"
        ),
    ]
    assert_no_personal_data(response.text, cases)


def row(
    label: str,
    decided_on: str,
    deadline: str,
    days_waiting: int,
    gender: str,
    delay_reason: str | None,
    intervention: str = "socialt_kontrakt",
) -> dict[str, Any]:
    return {
        "reference": label,
        "decided_on": decided_on,
        "deadline": deadline,
        "days_waiting": days_waiting,
        "intervention": intervention,
        "gender": gender,
        "delay_reason": delay_reason,
    }


def test_a_late_registration_changes_the_report_but_not_as_known_before(
    cases: Cases, api: TestClient
) -> None:
    quarter_history(cases)
    before = datetime.now(UTC).isoformat()
    cases.executed("N1", "2021-09-15")  # registered late, years after the fact
    cases.catch_up()

    def n1(**params: str) -> dict[str, Any]:
        answer = api.get(
            "/v1/reports/unexecuted", params={"quarter": "2021Q3", **params}
        ).json()
        labels = cases.labels_of()
        return next(r for r in answer["rows"] if labels[r["reference"]] == "N1")

    now = n1()
    assert (now["status_at_quarter_end"], now["executed_or_ended_on"]) == (
        "executed",
        "2021-09-15",
    )
    assert now["days_waiting"] == 168
    as_known = n1(known_at=before)
    assert (as_known["status_at_quarter_end"], as_known["days_waiting"]) == (
        "unexecuted",
        183,
    )


def assert_no_personal_data(text: str, c: Cases) -> None:
    assert EXAMPLE_PERSONNUMMER not in text
    assert APPLICANT_NAME not in text
    for case_id in c.case_ids.values():
        assert case_id not in text
    assert "IFN-" not in text  # decision ids stay inside


# -- running and future quarters (today is tests.conftest.TODAY, 2026-11-30) --------


def running_quarter_history(c: Cases) -> None:
    c.filed("L1", "2026-07-01")
    c.granted("L1", "2026-07-15")  # deadline 10-15: late since 10-16
    c.filed("L2", "2026-06-01", gender="man")
    c.granted("L2", "2026-06-20")  # deadline 09-20: reported in 2026Q3
    c.delayed("L2", "2026-11-02", "offer_declined")
    c.filed("L3", "2026-08-01")
    c.granted("L3", "2026-08-31")  # deadline 11-30 (today): not yet late
    c.filed("L4", "2026-05-01")
    c.granted("L4", "2026-06-01")  # deadline 09-01
    c.executed("L4", "2026-11-10")  # late, during the running quarter
    c.catch_up()


def test_a_running_quarter_is_preliminary_and_counted_to_today(
    cases: Cases, api: TestClient
) -> None:
    assert date(2026, 11, 30) == TODAY
    running_quarter_history(cases)
    response = api.get(
        "/v1/reports/unexecuted", params={"quarter": "2026Q4", "lang": "en"}
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert (body["from"], body["to"]) == ("2026-10-01", "2026-12-31")
    assert body["preliminary"] is True
    assert body["counted_to"] == "2026-11-30"
    labels = cases.labels_of()
    got = {
        labels[row["reference"]]: (
            row["section"],
            row["status_at_quarter_end"],
            row["days_waiting"],
        )
        for row in body["rows"]
    }
    assert got == {
        "L1": ("new", "unexecuted", 138),  # to today, not 169 to 12-31
        "L2": ("earlier_standing", "unexecuted", 163),  # not 194
        "L4": ("earlier_resolved", "executed", 162),
        # L3: its first late day (12-01) has not come
    }
    assert body["totals"] == {"new": 1, "earlier_resolved": 1, "earlier_standing": 1}
    public = api.get(
        "/v1/reports/unexecuted", params={"quarter": "2026Q4", "public": "true"}
    ).json()
    assert (public["preliminary"], public["counted_to"]) == (True, "2026-11-30")


def test_an_ended_quarter_is_final(cases: Cases, api: TestClient) -> None:
    running_quarter_history(cases)
    body = api.get("/v1/reports/unexecuted", params={"quarter": "2026Q3"}).json()
    assert body["preliminary"] is False
    assert body["counted_to"] == body["to"] == "2026-09-30"
    labels = cases.labels_of()
    assert {labels[r["reference"]]: r["days_waiting"] for r in body["rows"]} == {
        "L2": 102,
        "L4": 121,
    }


@pytest.mark.parametrize("quarter", ["2027Q1", "2030Q2"])
def test_a_quarter_entirely_in_the_future_is_refused(
    client: TestClient, quarter: str
) -> None:
    response = client.get("/v1/reports/unexecuted", params={"quarter": quarter})
    assert response.status_code == 422
    body = response.json()
    assert body["error"] == "invalid_request"
    assert quarter in body["message"]
    assert body["details"] == [{"loc": "quarter", "problem": "in the future"}]


# -- the pseudonym key -------------------------------------------------------------


def test_the_pseudonym_key_is_made_once_and_kept_private(tmp_path: Path) -> None:
    with ThreadPoolExecutor(8) as pool:  # racing first uses agree on one key
        keys = set(pool.map(lambda _: pseudonym_key(tmp_path), range(8)))
    assert len(keys) == 1
    key = keys.pop()
    assert len(key) == 32 and pseudonym_key(tmp_path) == key
    folder = tmp_path / "keys"
    assert [p.name for p in folder.iterdir()] == ["pseudonym.key"]
    assert stat.S_IMODE(folder.stat().st_mode) == 0o700
    assert stat.S_IMODE((folder / "pseudonym.key").stat().st_mode) == 0o600
    assert pseudonym_key(tmp_path / "elsewhere") != key
    expected = hmac.new(key, b"c-2021-0042", hashlib.sha256).hexdigest()[:16]
    assert pseudonym(key, "c-2021-0042") == expected


def test_a_damaged_key_file_is_an_error_not_a_new_key(tmp_path: Path) -> None:
    pseudonym_key(tmp_path)
    (tmp_path / "keys" / "pseudonym.key").write_bytes(b"short")
    with pytest.raises(KeyFileError):
        pseudonym_key(tmp_path)


# -- refusals ----------------------------------------------------------------------


@pytest.mark.parametrize("quarter", ["2021Q5", "2021-Q3", "Q3", "2021q3", "x"])
def test_a_bad_quarter_is_refused(client: TestClient, quarter: str) -> None:
    response = client.get("/v1/reports/unexecuted", params={"quarter": quarter})
    assert response.status_code == 422
    body = response.json()
    assert body["error"] == "invalid_request"
    assert body["details"] == [{"loc": "quarter", "problem": "not like 2021Q3"}]


def test_a_missing_quarter_is_refused(client: TestClient) -> None:
    response = client.get("/v1/reports/unexecuted")
    assert response.status_code == 422
    assert response.json()["details"][0]["loc"] == "query.quarter"


def test_an_empty_report_is_a_header_only(client: TestClient) -> None:
    response = client.get(
        "/v1/reports/unexecuted",
        params={"quarter": "2021Q3", "lang": "en"},
        headers={"Accept": "text/csv"},
    )
    _, body = split_provenance(response.content)
    assert body.decode() == EXPECTED_CSV.read_text().split("\n")[0] + "\n"
    assert response.headers["x-as-of-position"] == "0"


# -- a simulated municipality: an independent count, and rebuild equals live ------


def test_simulated_history_matches_a_naive_count_and_survives_a_rebuild(
    boende: Boende, api: TestClient
) -> None:
    envelopes = generate(9, seed=7, start=date(2021, 1, 1))
    assert send(envelopes, api, concurrency=4).unexpected == 0
    for runner in boende.runners:
        runner.catch_up()
    key = pseudonym_key(boende.settings.data_dir)
    decided: dict[str, date] = {}
    resolved: dict[str, date] = {}
    for env in envelopes:
        if env["type"] == "application_granted":
            decided[env["case_id"]] = date.fromisoformat(env["occurred_on"])
        if env["type"] in ("contract_executed", "grant_cancelled"):
            resolved[env["case_id"]] = date.fromisoformat(env["occurred_on"])

    def naive(day: date) -> set[str]:
        return {
            pseudonym(key, case_id)
            for case_id, on in decided.items()
            if day > three_month_deadline(on)
            and (case_id not in resolved or resolved[case_id] > day)
        }

    days = [date(2021, m, 1) for m in range(4, 11)]
    live = answers(api, days)
    assert sum(len(refs) for refs, _ in live.values()) > 20  # a real test
    for day in days:
        assert live[day][0] == naive(day), day

    runner = boende.runner("unexecuted")
    tables_before = view_rows(runner.store, runner.projection)
    rebuild_together([runner])
    assert view_rows(runner.store, runner.projection) == tables_before
    assert answers(api, days) == live


def answers(api: TestClient, days: list[date]) -> dict[date, tuple[set[str], Any]]:
    """Per day: the references listed, and the quarter's report."""
    result = {}
    for day in days:
        listed = api.get("/v1/oversight/unexecuted", params={"as_of": str(day)})
        quarter = f"{day.year}Q{(day.month - 1) // 3 + 1}"
        report = api.get("/v1/reports/unexecuted", params={"quarter": quarter})
        refs = {d["reference"] for d in listed.json()["decisions"]}
        result[day] = (refs, report.json()["rows"])
    return result
