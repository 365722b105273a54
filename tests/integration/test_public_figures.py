"""``public=true`` on real data: a simulated municipality's five years.

The sums that ``services.reporting.suppression`` relies on hold in the read
models, the endpoints publish what the rules say, and two terminations of one
reason no longer hide ``filed_total``, ``granted_total`` and
``executed_total``. (That nothing withheld can be worked out, given those
sums, is proved in ``tests/unit/test_suppression.py``.)
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
from services.reporting.labels import LABELS
from services.reporting.suppression import (
    HIDDEN,
    count_groups,
    count_hidden,
    flatten,
)
from services.reporting.tables import read_table
from services.simulation.player import generate
from services.submission.service import Accepted, parse

START = date(2021, 1, 4)
DICTS = ("cases_by_state", "terminations_by_reason", "apartments_by_state")
SMALL = "<5"
#: The figures a few terminations make small.
TERMINATIONS = {
    "cases_by_state.terminated",
    "terminated_total",
    *(f"terminations_by_reason.{r}" for r in LABELS["termination_reason"]),
}


@pytest.fixture(scope="module")
def history(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Boende]:
    data_dir: Path = tmp_path_factory.mktemp("public") / "var"
    boende = bootstrap(Settings(data_dir=data_dir))
    envelopes = generate(60, 7, start=START, today=date(2026, 1, 1))
    subs = [parse(json.dumps(e).encode(), 1 << 20) for e in envelopes]
    for i in range(0, len(subs), 200):
        assert all(
            isinstance(o, Accepted)
            for o in boende.service.record_batch(subs[i : i + 200])
        )
    for runner in boende.runners:
        runner.catch_up()
    yield boende
    boende.close()


def days() -> list[date]:
    return [START + timedelta(days=d) for d in range(20, 5 * 365, 61)]


def values_of(answer: dict[str, Any]) -> dict[str, int]:
    totals = [k for k in answer if k.endswith("_total")]
    return flatten(answer, DICTS, totals)


def shown_of(answer: dict[str, Any]) -> dict[str, Any]:
    flat = {f"{d}.{k}": v for d in DICTS for k, v in answer[d].items()}
    return flat | {k: v for k, v in answer.items() if k.endswith("_total")}


def test_the_sums_hold_on_real_counts(history: Boende) -> None:
    """Every sum of the network whose figures are all published holds; the
    grants on appeal (rejected_total - rejected) fit among the granted."""
    store = history.views["counts"]
    appeals_seen = False
    for day in days():
        with store.transaction(commit=False) as sql:
            answer = view.counts(sql, day, None)
        values = values_of(answer)
        reasons = list(answer["terminations_by_reason"])
        for group in count_groups(view.CASE_STATES, reasons):
            if not any(n.startswith("~") for n in (group.whole, *group.parts)):
                assert values[group.whole] == sum(values[p] for p in group.parts)
        floors = count_hidden(values, reasons)
        assert 0 <= floors["~appeals"] <= values["granted_total"]
        appeals_seen |= floors["~appeals"] > 0
        assert all(floor >= 0 for floor in floors.values())
    assert values["filed_total"] > 1000 and appeals_seen  # a history worth checking


def test_public_counts_follow_the_rules(history: Boende) -> None:
    client = TestClient(create_app(history))
    small_terminations = 0
    for day in days():
        true = client.get("/v1/oversight/counts", params={"as_of": str(day)}).json()
        public = client.get(
            "/v1/oversight/counts", params={"as_of": str(day), "public": "true"}
        ).json()
        assert public["public"] is True
        assert public["as_of_position"] == true["as_of_position"]
        assert public["root_hash"] == true["root_hash"]
        shown, values = shown_of(public), values_of(true)
        assert shown.keys() == values.keys()
        for name, value in values.items():
            if 1 <= value <= 4:
                assert shown[name] == SMALL, name
            elif value == 0:
                assert shown[name] == 0, name
            else:
                assert shown[name] in (value, HIDDEN), name
        assert shown["filed_total"] == values["filed_total"], day
        small = {name for name, value in values.items() if 1 <= value <= 4}
        if small and small <= TERMINATIONS:
            small_terminations += 1
            # Before: a small termination count hid these three totals, five
            # years long. (Beside another small count, executed_total may
            # well be the one figure that protects both.)
            for total in ("filed_total", "granted_total", "executed_total"):
                assert shown[total] == values[total], (day, total)
    assert small_terminations >= 5


def test_the_threshold_is_a_setting(
    history: Boende, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(history.settings, "suppression_threshold", 10)
    client = TestClient(create_app(history))
    params = {"as_of": "2021-06-30", "public": "true"}
    public = client.get("/v1/oversight/counts", params=params).json()
    assert public["legend"]["<10"] == "a count from 1 to 9"
    true = client.get("/v1/oversight/counts", params={"as_of": "2021-06-30"}).json()
    shown = shown_of(public)
    for name, value in values_of(true).items():
        assert (shown[name] == "<10") == (1 <= value <= 9), name


def flat(row: dict[str, Any]) -> dict[str, Any]:
    """A period's figures, those by reason as ``kind.reason``."""
    figures = {k: v for k, v in row.items() if k not in ("period", "by_reason")}
    for kind, reasons in row.get("by_reason", {}).items():
        figures |= {f"{kind}.{reason}": n for reason, n in reasons.items()}
    return figures


def test_public_flows_and_report(history: Boende) -> None:
    client = TestClient(create_app(history))
    params = {"from": "2021-01-01", "to": "2021-12-31", "period": "month"}
    true = client.get("/v1/oversight/flows", params=params).json()
    public = client.get(
        "/v1/oversight/flows", params={**params, "public": "true"}
    ).json()
    assert len(public["periods"]) == len(true["periods"]) == 12
    small = 0
    for exact, shown in zip(true["periods"], public["periods"], strict=True):
        assert shown["period"] == exact["period"]
        figures = flat(exact)
        published = flat(shown)
        assert published.keys() == figures.keys()  # no totals added
        for name, value in figures.items():
            small += published[name] == SMALL
            if 1 <= value <= 4:
                assert published[name] == SMALL, name
            else:  # zeros shown; the reasons are sums of their kind
                assert published[name] in (value, HIDDEN), name
    assert small > 0  # the history has small monthly flows to suppress
    report = client.get(
        "/v1/reports/unexecuted", params={"quarter": "2021Q3", "public": "true"}
    )
    assert report.headers["content-type"].startswith("application/json")
    body = report.json()
    assert "rows" not in body and body["public"] is True
    full = client.get("/v1/reports/unexecuted", params={"quarter": "2021Q3"}).json()
    for section, value in full["totals"].items():
        assert body["totals"][section] == (SMALL if 1 <= value <= 4 else value)
    # As CSV: the same section totals, suppressed alike (docs/reports.md).
    as_csv = client.get(
        "/v1/reports/unexecuted",
        params={"quarter": "2021Q3", "public": "true", "lang": "en"},
        headers={"Accept": "text/csv"},
    )
    assert as_csv.headers["content-type"].startswith("text/csv")
    table = read_table(as_csv.content, "en")
    assert table.headers == ["section", "count"]
    assert table.rows == [[s, str(v)] for s, v in body["totals"].items()]
