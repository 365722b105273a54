"""``public=true`` on real data: the sums that ``services.reporting.suppression`` relies
on hold in the read models, and the endpoints publish what the rules say.

(The proof that nothing suppressed can be recovered, given those sums, is in
``tests/unit/test_suppression.py``.)
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from infra.settings import Settings
from projections import counts as view
from services.bootstrap import Boende, bootstrap
from services.http.app import create_app
from services.reporting.suppression import HIDDEN, SMALL, count_groups, flatten
from services.reporting.tables import read_table
from services.simulation.player import generate
from services.submission.service import Accepted, parse

START = date(2023, 1, 2)
DICTS = ("cases_by_state", "terminations_by_reason", "apartments_by_state")


@pytest.fixture(scope="module")
def history(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Boende]:
    data_dir: Path = tmp_path_factory.mktemp("public") / "var"
    boende = bootstrap(Settings(data_dir=data_dir))
    envelopes = generate(10, 7, start=START, today=date(2026, 1, 1))
    subs = [parse(json.dumps(e).encode(), 1 << 20) for e in envelopes]
    for i in range(0, len(subs), 50):
        assert all(
            isinstance(o, Accepted)
            for o in boende.service.record_batch(subs[i : i + 50])
        )
    for runner in boende.runners:
        runner.catch_up()
    yield boende
    boende.close()


def days() -> list[date]:
    return [START + timedelta(days=d) for d in range(0, 400, 23)]


def values_of(answer: dict[str, Any]) -> dict[str, int]:
    totals = [k for k in answer if k.endswith("_total")]
    return flatten(answer, DICTS, totals)


def test_the_groups_hold_on_real_counts(history: Boende) -> None:
    store = history.views["counts"]
    appeals_seen = False
    for day in days():
        with store.transaction(commit=False) as sql:
            answer = view.counts(sql, day, None)
        values = values_of(answer)
        groups = count_groups(view.CASE_STATES, list(answer["terminations_by_reason"]))
        for group in groups:
            parts = sum(values.get(p, 0) for p in group.parts)
            if group.whole == "rejected_total":  # rejected + grants on appeal
                assert values["cases_by_state.rejected"] <= values[group.whole] <= parts
                appeals_seen |= values[group.whole] > values["cases_by_state.rejected"]
            else:
                assert values[group.whole] == parts, (day, group)
    assert values["filed_total"] > 50 and appeals_seen  # a history worth checking


def test_public_counts_follow_the_rules(history: Boende) -> None:
    client = TestClient(create_app(history))
    for day in days():
        true = client.get("/v1/oversight/counts", params={"as_of": str(day)}).json()
        public = client.get(
            "/v1/oversight/counts", params={"as_of": str(day), "public": "true"}
        ).json()
        assert (
            public["public"] is True
            and public["as_of_position"] == true["as_of_position"]
        )
        shown, values = values_of_shown(public), values_of(true)
        for name, value in values.items():
            assert (
                shown[name] == value
                or shown[name] == HIDDEN
                or (shown[name] == SMALL and 1 <= value <= 4)
            ), name


def values_of_shown(answer: dict[str, Any]) -> dict[str, Any]:
    flat = {f"{d}.{k}": v for d in DICTS for k, v in answer[d].items()}
    return flat | {k: v for k, v in answer.items() if k.endswith("_total")}


def test_public_flows_and_report(history: Boende) -> None:
    client = TestClient(create_app(history))
    params = {"from": "2023-01-01", "to": "2023-12-31", "period": "month"}
    true = client.get("/v1/oversight/flows", params=params).json()
    public = client.get(
        "/v1/oversight/flows", params={**params, "public": "true"}
    ).json()
    assert len(public["periods"]) == len(true["periods"]) == 12
    small = 0
    for exact, shown in zip(true["periods"], public["periods"], strict=True):
        assert set(shown) == set(exact)  # no totals added
        for key, value in exact.items():
            small += shown[key] == SMALL
            assert shown[key] == (
                SMALL if isinstance(value, int) and 1 <= value <= 4 else value
            )
    assert small > 0  # the history has small monthly flows to suppress
    report = client.get(
        "/v1/reports/unexecuted", params={"quarter": "2023Q3", "public": "true"}
    )
    assert report.headers["content-type"].startswith("application/json")
    body = report.json()
    assert "rows" not in body and body["public"] is True
    full = client.get("/v1/reports/unexecuted", params={"quarter": "2023Q3"}).json()
    for section, value in full["totals"].items():
        assert body["totals"][section] == (SMALL if 1 <= value <= 4 else value)
    # As CSV: the same section totals, suppressed alike (docs/reports.md).
    as_csv = client.get(
        "/v1/reports/unexecuted",
        params={"quarter": "2023Q3", "public": "true", "lang": "en"},
        headers={"Accept": "text/csv"},
    )
    assert as_csv.headers["content-type"].startswith("text/csv")
    table = read_table(as_csv.content, "en")
    assert table.headers == ["section", "count"]
    assert table.rows == [[s, str(v)] for s, v in body["totals"].items()]
