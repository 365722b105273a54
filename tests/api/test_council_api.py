"""The council report through the app on SQLite: the scripted quarter of
``tests/integration/test_council_report.py`` (its counts worked out by hand
there), so that the API tests, which mutation testing runs, see every rule
of ``projections.council``."""

from __future__ import annotations

from collections import Counter

from fastapi.testclient import TestClient

from projections.council import council_cells
from projections.unexecuted import quarter_bounds
from services.bootstrap import Boende
from tests.conftest import Ids
from tests.integration.test_council_report import EXPECTED_CELLS, History, script


def test_the_scripted_quarter(sqlite_boende: Boende, client: TestClient) -> None:
    script(History(client, Ids()))
    for runner in sqlite_boende.runners:
        runner.catch_up()
    start, end = quarter_bounds("2025Q3")
    with sqlite_boende.views["unexecuted"].transaction(commit=False) as sql:
        assert council_cells(sql, start, end) == Counter(EXPECTED_CELLS)
        # Counted on 31 August: W1, W5 and M1 are still in time; M3 and M6
        # (7 months on 28 Sep and 1 Sep) have waited 6, and N3 (cancelled on
        # 10 September) is unexecuted; L1 executed late on 20 August, L2 on
        # 20 July.
        early = council_cells(sql, start, end.replace(month=8, day=31))
    assert early == Counter(
        {
            ("unexecuted", "socialt_kontrakt", "woman", "3_6"): 4,  # W2-4, W6
            ("unexecuted", "socialt_kontrakt", "man", "3_6"): 4,  # M2, M3, M6, N3
            ("unexecuted", "socialt_kontrakt", "man", "7_9"): 3,  # M4, M5, M7
            ("unexecuted", "socialt_kontrakt", "man", "10_12"): 0,
            ("executed_late", "boendesocial_insats", "woman", "7_9"): 1,
            ("executed_late", "socialt_kontrakt", "man", "18_plus"): 1,
        }
    )
    body = client.get("/v1/reports/council", params={"quarter": "2025Q3"}).json()
    grand = body["tables"]["unexecuted"][-1]
    assert (grand["3_6"], grand["7_9"], grand["total"]) == (8, 5, 13)
