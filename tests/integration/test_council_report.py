"""The council's statistical report end to end, on SQLite and PostgreSQL.

A scripted history goes in through the HTTP API; the read model is caught up
explicitly. The quarter is 2025Q3 (1 July - 30 September 2025, counted on 30
September; "today" is 2026-11-30). Each case's months waited are worked out
by hand beside it: whole calendar months from the decision day, to 30
September for the unexecuted, to the execution day for the late.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient

from projections.council import council_cells
from projections.unexecuted import quarter_bounds
from services.bootstrap import Boende
from services.http.app import create_app
from services.reporting.tables import read_table
from tests.conftest import Ids, envelope

SK, BS = "socialt_kontrakt", "boendesocial_insats"


class History:
    """Cases under short labels, recorded over HTTP in order."""

    def __init__(self, client: TestClient, ids: Ids) -> None:
        self.client, self.ids = client, ids
        self.case_ids: dict[str, str] = {}

    def post(self, event_type: str, key: str, day: str, **payload: Any) -> None:
        body = envelope(event_type, key, day, payload=payload)
        response = self.client.post("/v1/submissions", json=body)
        assert response.status_code == 201, response.text

    def granted(
        self, label: str, filed: str, day: str, gender: str, intervention: str = SK
    ) -> None:
        self.case_ids[label] = case = self.ids.next("c")
        self.post("application_filed", case, filed, gender=gender)
        self.post(
            "application_granted",
            case,
            day,
            decision_id=f"IFN-{label}",
            intervention=intervention,
        )

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


def script(h: History) -> None:
    # Unexecuted on 30 September, socialt kontrakt, women: 3-6 months.
    h.granted("W1", "2025-06-01", "2025-06-29", "woman")  # 3: deadline 29 Sep
    h.granted("W2", "2025-05-01", "2025-05-15", "woman")  # 4
    h.granted("W3", "2025-03-01", "2025-04-01", "woman")  # 5
    h.granted("W4", "2025-03-01", "2025-03-31", "woman")  # 6: 31 Mar + 6 = 30 Sep
    h.granted("W5", "2025-05-20", "2025-06-01", "woman")  # 3
    h.case_ids["W6"] = case = h.ids.next("c")  # granted on appeal 20 April: 5
    h.post("application_filed", case, "2024-12-01", gender="woman")
    h.post("application_rejected", case, "2025-01-10")
    h.post(
        "application_granted",
        case,
        "2025-04-20",
        decision_id="IFN-W6",
        intervention=SK,
        basis="appeal",
    )
    # Men: two at 3-6 months (one executed after the quarter), five at 7-9.
    h.granted("M1", "2025-06-01", "2025-06-15", "man")  # 3
    h.granted("M2", "2025-05-01", "2025-05-20", "man")  # 4
    h.executed("M2", "2025-10-05")  # after the quarter: unexecuted on 30 Sep
    h.granted("M3", "2025-02-01", "2025-02-28", "man")  # 7: 28 Sep
    h.granted("M4", "2024-12-01", "2024-12-31", "man")  # 9: 31 Dec + 9 = 30 Sep
    h.granted("M5", "2024-12-01", "2025-01-15", "man")  # 8
    h.granted("M6", "2025-01-01", "2025-02-01", "man")  # 7
    h.granted("M7", "2024-12-01", "2024-12-30", "man")  # 9
    # Not in the report.
    h.granted("N1", "2025-06-01", "2025-06-30", "woman")  # deadline 30 Sep: in time
    h.granted("N2", "2025-04-01", "2025-05-01", "woman")
    h.executed("N2", "2025-07-15")  # in time (deadline 1 August)
    h.granted("N3", "2025-02-01", "2025-03-01", "man")
    h.post("grant_cancelled", h.case_ids["N3"], "2025-09-10", reason="other")
    h.granted("N4", "2024-12-01", "2025-01-10", "man")
    h.executed("N4", "2025-06-20")  # late, but in the quarter before
    h.case_ids["N5"] = h.ids.next("c")
    h.post("application_filed", h.case_ids["N5"], "2025-03-01", gender="woman")
    h.post("application_rejected", h.case_ids["N5"], "2025-04-01")
    # Executed late during the quarter.
    h.granted("L1", "2024-12-01", "2024-12-10", "woman", BS)
    h.executed("L1", "2025-08-20")  # 8 months: 10 Dec + 8 = 10 Aug
    h.granted("L2", "2024-01-01", "2024-01-15", "man")
    h.executed("L2", "2025-07-20")  # 18 months: 15 Jan 2024 + 18 = 15 Jul 2025


EXPECTED_CELLS = {
    ("unexecuted", SK, "woman", "3_6"): 6,
    ("unexecuted", SK, "man", "3_6"): 2,
    ("unexecuted", SK, "man", "7_9"): 5,
    ("executed_late", BS, "woman", "7_9"): 1,
    ("executed_late", SK, "man", "18_plus"): 1,
}


@pytest.fixture
def history(boende: Boende, ids: Ids) -> Iterator[TestClient]:
    with TestClient(create_app(boende)) as client:
        script(History(client, ids))
        for runner in boende.runners:
            runner.catch_up()
        yield client


def test_the_counts_by_hand(boende: Boende, history: TestClient) -> None:
    start, end = quarter_bounds("2025Q3")
    store = boende.views["unexecuted"]
    with store.transaction(commit=False) as sql:
        cells = council_cells(sql, start, end)
        before = council_cells(sql, start, end, known_at="2000-01-01T00:00:00+00:00")
    assert cells == Counter(EXPECTED_CELLS)
    assert before == Counter()  # nothing was known in 2000


def row(rows: list[dict[str, Any]], intervention: str, gender: str) -> dict[str, Any]:
    (found,) = [
        r for r in rows if (r["intervention"], r["gender"]) == (intervention, gender)
    ]
    return {k: v for k, v in found.items() if k not in ("intervention", "gender")}


ZEROS = dict.fromkeys(("3_6", "7_9", "10_12", "13_17", "18_plus", "total"), 0)
HIDDEN = "suppressed"


def test_the_report_by_hand(history: TestClient) -> None:
    body = history.get("/v1/reports/council", params={"quarter": "2025Q3"}).json()
    assert body["quarter"] == "2025Q3" and body["preliminary"] is False
    assert body["counted_to"] == "2025-09-30" and body["public"] is True
    assert body["threshold"] == 5 and body["legend"]["<5"] == "a count from 1 to 4"
    assert {"as_of_position", "tree_size", "root_hash"} <= body.keys()
    assert [b["band"] for b in body["bands"]] == [
        "3_6",
        "7_9",
        "10_12",
        "13_17",
        "18_plus",
    ]
    unexecuted = body["tables"]["unexecuted"]
    assert len(unexecuted) == 11  # 2 x (4 genders + subtotal) + the total
    # Men: 2 at 3-6 months ("<5"), 5 at 7-9, 7 in all. Shown with the women's
    # 6 and the subtotal, 7 - 5 would give the 2 away; a cell and two totals
    # more are the cheapest cover: x + 5 = the men's total, x + the women's
    # 3-6 = 8, the women's total = their 3-6 (their other bands are 0), and
    # both totals make 13: x = 1, 2 or 3 all fit.
    assert row(unexecuted, SK, "woman") == ZEROS | {"3_6": HIDDEN, "total": HIDDEN}
    assert row(unexecuted, SK, "man") == ZEROS | {
        "3_6": "<5",
        "7_9": 5,
        "total": HIDDEN,
    }
    assert row(unexecuted, SK, "other") == row(unexecuted, SK, "unknown") == ZEROS
    assert row(unexecuted, SK, "total") == ZEROS | {"3_6": 8, "7_9": 5, "total": 13}
    assert all(row(unexecuted, BS, g) == ZEROS for g in ("woman", "total"))
    assert row(unexecuted, "total", "total") == row(unexecuted, SK, "total")
    # Executed late: one woman (boendesocial insats, 7-9 months) and one man
    # (socialt kontrakt, 18+). Every figure that counts them is 1 or 2: all
    # "<5", and the two chains of ones can trade (1 + 1, 2 + 1, 1 + 2 ...).
    late = body["tables"]["executed_late"]
    assert row(late, BS, "woman") == ZEROS | {"7_9": "<5", "total": "<5"}
    assert row(late, BS, "total") == ZEROS | {"7_9": "<5", "total": "<5"}
    assert row(late, SK, "man") == ZEROS | {"18_plus": "<5", "total": "<5"}
    assert row(late, "total", "total") == ZEROS | {
        "7_9": "<5",
        "18_plus": "<5",
        "total": "<5",
    }
    assert "reference" not in str(body) and "IFN-" not in str(body)


def test_the_report_as_swedish_csv(history: TestClient) -> None:
    response = history.get(
        "/v1/reports/council", params={"quarter": "2025Q3", "format": "csv"}
    )
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/csv")
    assert response.content.startswith("\ufeff".encode())
    table = read_table(response.content, "sv")
    assert table.headers == [
        "Uppgift",
        "Insats",
        "Kön",
        "3-6 månader",
        "7-9 månader",
        "10-12 månader",
        "13-17 månader",
        "18 månader eller mer",
        "Totalt",
    ]
    assert len(table.rows) == 22
    men = table.rows[1]
    assert men[:3] == [
        "Ej verkställda beslut vid kvartalets slut",
        "Socialt kontrakt",
        "Man",
    ]
    assert men[3:] == ["<5", "5", "0", "0", "0", ".."]
    assert table.rows[10][1:3] == ["Totalt", "Totalt"]


def test_quarters_to_come_and_running(history: TestClient) -> None:
    future = history.get("/v1/reports/council", params={"quarter": "2027Q1"})
    assert future.status_code == 422 and future.json()["error"] == "invalid_request"
    running = history.get("/v1/reports/council", params={"quarter": "2026Q4"})
    body = running.json()
    assert body["preliminary"] is True and body["counted_to"] == "2026-11-30"
    # On 30 November 2026 the unexecuted are W1..W6, M1 and M3..M7 (M2 was
    # executed) and N1 (in time only until 30 September 2025): 13.
    total = row(body["tables"]["unexecuted"], "total", "total")["total"]
    assert total == 13
    bad = history.get("/v1/reports/council", params={"quarter": "2025Q5"})
    assert bad.status_code == 422
