"""``/metrics`` after a scripted run: every metric the operator's alerts and
board read is there, with the values the run implies.

The metrics listener is real (``infra.metrics.serve`` on a free port) and is
scraped over HTTP like Prometheus would; the run goes through the app on a
real store. Counters are process-wide, so each check compares a scrape after
the run with one before it.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient
from prometheus_client.parser import text_string_to_metric_families

from infra import metrics
from services.bootstrap import Boende
from services.http.app import create_app
from services.privacy.rights import erase
from services.submission.examples import EXAMPLE_PERSONNUMMER
from tests.conftest import Ids, envelope, free_port, later

Samples = dict[tuple[str, tuple[tuple[str, str], ...]], float]

JSON = {"content-type": "application/json"}


@pytest.fixture(scope="module")
def metrics_url() -> str:
    port = free_port()
    assert metrics.serve(port)
    return f"http://127.0.0.1:{port}/metrics"


def scrape(url: str) -> Samples:
    text = httpx.get(url, timeout=10).text
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


def value(samples: Samples, name: str, **labels: str) -> float:
    return samples.get((name, tuple(sorted(labels.items()))), 0.0)


def delta(before: Samples, after: Samples, name: str, **labels: str) -> float:
    return value(after, name, **labels) - value(before, name, **labels)


@pytest.fixture
def client(boende: Boende) -> Iterator[TestClient]:
    with TestClient(create_app(boende)) as client:  # the lifespan signs a head
        yield client


def post(client: TestClient, body: dict[str, Any]) -> int:
    return client.post("/v1/submissions", json=body).status_code


def run_script(client: TestClient, ids: Ids) -> dict[str, str]:
    """Two cases filed and one granted (IFN), one repeat, three refusals."""
    first, second = ids.next("c"), ids.next("c")
    filing = envelope("application_filed", first)
    assert post(client, filing) == 201
    assert post(client, filing) == 200  # a repeat
    assert post(client, envelope("application_filed", second)) == 201
    assert post(client, envelope("application_granted", first, later(7))) == 201
    assert post(client, envelope("contract_executed", ids.next("c"))) == 404
    assert client.post("/v1/submissions", content=b"{", headers=JSON).status_code == 422
    assert post(client, envelope("application_granted", first, later(8))) == 409
    return {"first": first, "second": second}


def test_a_scripted_run_shows_in_every_metric(
    metrics_url: str, boende: Boende, client: TestClient, ids: Ids
) -> None:
    before = scrape(metrics_url)
    cases = run_script(client, ids)
    for purpose in ("tillsyn", "tillsyn", "rättelse"):
        read = client.get(
            f"/v1/cases/{cases['first']}/applicant",
            headers={
                "X-Purpose": purpose.encode(),  # type: ignore[dict-item]
                "X-Purpose-Note": "ringde Anna om hyran",
            },
        )
        assert read.status_code == 200
    erase(boende, EXAMPLE_PERSONNUMMER, "dataskydd-1")
    boende.runner("audit").reset()  # a rebuild
    for runner in boende.runners:
        runner.catch_up()
    after = scrape(metrics_url)

    def submissions(outcome: str, committee: str = "IFN") -> float:
        return delta(
            before,
            after,
            "boende_submissions_total",
            door="http",
            committee=committee,
            outcome=outcome,
        )

    assert submissions("recorded") == 3
    assert submissions("repeated") == 1
    assert submissions("not_found") == 1
    assert submissions("transition_not_allowed") == 1
    assert submissions("invalid_submission", committee="") == 1
    durations = "boende_submission_duration_seconds_count"
    assert delta(before, after, durations, door="http") == 7
    assert delta(before, after, "boende_commit_batch_size_count") >= 1
    assert delta(before, after, "boende_commit_batch_size_sum") == 6  # parsed ones
    route = {"method": "POST", "route": "/v1/submissions"}
    requests = "boende_http_request_duration_seconds_count"
    assert delta(before, after, requests, **route, status="201") == 3
    assert delta(before, after, requests, **route, status="422") == 1
    assert (
        delta(
            before,
            after,
            requests,
            method="GET",
            route="/v1/cases/{case_id}/applicant",
            status="200",
        )
        == 3
    )

    reads = "boende_personal_data_reads_total"
    assert delta(before, after, reads, purpose="tillsyn") == 2
    assert delta(before, after, reads, purpose="rättelse") == 1  # never the note
    assert not any("Anna" in str(key) for key in after)

    end = boende.app.recorder.max_notification_id()
    assert value(after, "boende_store_up") == 1
    assert value(after, "boende_log_position_events") == end
    for runner in boende.runners:
        name = runner.projection.name
        assert value(after, "boende_read_model_position_events", read_model=name) == end
        assert value(after, "boende_read_model_lag_events", read_model=name) == 0
    assert (
        delta(before, after, "boende_read_model_rebuilds_total", read_model="audit")
        == 1
    )
    assert (
        delta(
            before,
            after,
            "boende_read_model_batch_duration_seconds_count",
            read_model="counts",
        )
        >= 1
    )
    assert value(after, "boende_erasures_total") >= 1  # the example's person, erased
    assert value(after, "boende_purges_total") == 0
    assert value(after, "boende_tree_head_interval_seconds") == 3600


def test_lag_shows_what_the_read_models_miss_and_returns_to_zero(
    metrics_url: str, boende: Boende, client: TestClient, ids: Ids
) -> None:
    for runner in boende.runners:
        runner.catch_up()
    for _ in range(3):
        assert post(client, envelope("application_filed", ids.next("c"))) == 201
    behind = scrape(metrics_url)
    assert value(behind, "boende_read_model_lag_events", read_model="counts") == 3
    for runner in boende.runners:
        runner.catch_up()
    caught_up = scrape(metrics_url)
    assert value(caught_up, "boende_read_model_lag_events", read_model="counts") == 0


def test_a_signed_head_shows_its_size(
    metrics_url: str, boende: Boende, client: TestClient, ids: Ids
) -> None:
    assert post(client, envelope("application_filed", ids.next("c"))) == 201
    signed = client.post("/v1/audit/tree-heads")
    assert signed.status_code == 201
    after = scrape(metrics_url)
    assert value(after, "boende_tree_head_size_events") == signed.json()["tree_size"]
    assert 0 <= value(after, "boende_tree_head_age_seconds") < 60
