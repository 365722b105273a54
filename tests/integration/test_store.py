"""The event store's promises, on a real SQLite file and a real PostgreSQL.

Every test here runs once per engine (the ``store_settings`` fixture), over
real HTTP where concurrency matters.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx

from domain.case import case_id_to_uuid
from infra.settings import Settings
from services.bootstrap import Boende, bootstrap
from services.errors import ConcurrentUpdate
from services.submission.service import Accepted, parse
from tests.conftest import Ids, LiveServer, envelope, later


def at_once(*calls: Callable[[], Any]) -> list[Any]:
    """Run ``calls`` in threads released together by a barrier."""
    barrier = threading.Barrier(len(calls))

    def run(call: Callable[[], Any]) -> Any:
        barrier.wait()
        return call()

    with ThreadPoolExecutor(len(calls)) as pool:
        return list(pool.map(run, calls))


def post_with(base_url: str, body: dict[str, Any]) -> Callable[[], httpx.Response]:
    def call() -> httpx.Response:
        with httpx.Client(base_url=base_url, timeout=30) as c:
            return c.post("/v1/submissions", json=body)

    return call


def test_same_submission_three_times_at_once_records_one_event(
    boende: Boende, live_server: LiveServer, ids: Ids
) -> None:
    body = envelope("application_filed", ids.next("c"))
    before = boende.app.recorder.max_notification_id() or 0
    responses = at_once(*[post_with(live_server.url, body)] * 3)
    statuses = sorted(r.status_code for r in responses)
    assert statuses == [200, 200, 201]
    assert len({r.json()["position"] for r in responses}) == 1
    assert (boende.app.recorder.max_notification_id() or 0) == before + 1


def test_two_conflicting_submissions_at_once_exactly_one_accepted(
    boende: Boende, live_server: LiveServer, ids: Ids, http: httpx.Client
) -> None:
    case_id = ids.next("c")
    assert (
        http.post(
            "/v1/submissions", json=envelope("application_filed", case_id)
        ).status_code
        == 201
    )
    grant = envelope("application_granted", case_id, later(10))
    reject = envelope("application_rejected", case_id, later(10))
    responses = at_once(
        post_with(live_server.url, grant), post_with(live_server.url, reject)
    )
    statuses = sorted(r.status_code for r in responses)
    assert statuses == [201, 409]
    loser = next(r for r in responses if r.status_code == 409).json()
    assert loser["error"] in {"transition_not_allowed", "concurrent_update"}
    assert http.get(f"/v1/cases/{case_id}").json()["version"] == 2


def test_two_writer_processes_racing_on_one_case(
    store_settings: Settings, ids: Ids
) -> None:
    """Two service instances (as two API replicas would be) on one store: the
    optimistic-concurrency check lets exactly one of them record."""
    first, second = bootstrap(store_settings), bootstrap(store_settings)
    try:
        case_id = ids.next("c")
        first.service.submit(parse_env(envelope("application_filed", case_id)))
        assert second.app.repository.get(first_case_uuid(case_id)).version == 1
        grant = parse_env(envelope("application_granted", case_id, later(5)))
        reject = parse_env(envelope("application_rejected", case_id, later(5)))
        outcomes = at_once(
            lambda: first.service.record_batch([grant])[0],
            lambda: second.service.record_batch([reject])[0],
        )
        accepted = [o for o in outcomes if isinstance(o, Accepted)]
        refused = [o for o in outcomes if not isinstance(o, Accepted)]
        assert len(accepted) == 1 and len(refused) == 1
        assert refused[0].code in {"transition_not_allowed", "concurrent_update"}
        assert first.app.repository.get(first_case_uuid(case_id)).version == 2
    finally:
        first.close()
        second.close()


def test_a_lost_race_is_reported_as_concurrent_update(
    store_settings: Settings, ids: Ids
) -> None:
    """Force the race deterministically: the second writer decides on a stale
    copy of the case, then loses at the store."""
    first, second = bootstrap(store_settings), bootstrap(store_settings)
    try:
        case_id = ids.next("c")
        first.service.submit(parse_env(envelope("application_filed", case_id)))
        stale = second.app.repository.get(first_case_uuid(case_id))
        first.service.submit(
            parse_env(envelope("application_granted", case_id, later(3)))
        )
        second.app.repository.get = lambda *_a, **_k: stale  # type: ignore[method-assign]
        outcome = second.service.record_batch(
            [parse_env(envelope("application_rejected", case_id, later(3)))]
        )[0]
        assert isinstance(outcome, ConcurrentUpdate)
        assert (
            first.app.repository.get(first_case_uuid(case_id)).state.value == "granted"
        )
    finally:
        first.close()
        second.close()


def test_state_and_idempotency_survive_a_restart(
    store_settings: Settings, ids: Ids
) -> None:
    case_id = ids.next("c")
    filing = envelope("application_filed", case_id)
    grant = envelope("application_granted", case_id, later(20))
    running = bootstrap(store_settings)
    first = [running.service.submit(parse_env(b)) for b in (filing, grant)]
    running.close()

    restarted = bootstrap(store_settings)
    try:
        case = restarted.app.repository.get(first_case_uuid(case_id))
        assert (case.state.value, case.version) == ("granted", 2)
        again = restarted.service.submit(parse_env(grant))
        assert again.repeated and again.position == first[1].position
        changed = {**grant, "payload": {**grant["payload"], "decision_id": "IFN-other"}}
        conflict = restarted.service.record_batch([parse_env(changed)])[0]
        assert getattr(conflict, "code", None) == "submission_id_conflict"
        assert restarted.app.recorder.max_notification_id() == first[1].position
    finally:
        restarted.close()


def test_a_batch_with_repeats_and_refusals_records_each_valid_one_once(
    boende: Boende, ids: Ids
) -> None:
    case_id = ids.next("c")
    filing = parse_env(envelope("application_filed", case_id))
    grant = parse_env(envelope("application_granted", case_id, later(1)))
    bad = parse_env(envelope("contract_terminated", case_id, later(2)))
    outcomes = boende.service.record_batch([filing, grant, bad, filing, grant])
    kinds = [type(o).__name__ for o in outcomes]
    assert kinds == [
        "Accepted",
        "Accepted",
        "TransitionNotAllowed",
        "Accepted",
        "Accepted",
    ]
    assert [getattr(o, "repeated", None) for o in outcomes] == [
        False,
        False,
        None,
        True,
        True,
    ]
    assert outcomes[3].position == outcomes[0].position  # type: ignore[union-attr]
    assert boende.app.repository.get(first_case_uuid(case_id)).version == 2


def test_positions_are_the_log_order_of_submissions(boende: Boende, ids: Ids) -> None:
    subs = [parse_env(envelope("application_filed", ids.next("c"))) for _ in range(20)]
    outcomes = boende.service.record_batch(subs)
    positions = [o.position for o in outcomes]  # type: ignore[union-attr]
    assert positions == sorted(positions) and len(set(positions)) == 20
    notifications = boende.app.recorder.select_notifications(positions[0], 20)
    assert [n.id for n in notifications] == positions


def parse_env(body: dict[str, Any]) -> Any:
    return parse(json.dumps(body).encode(), 1 << 20)


def first_case_uuid(case_id: str) -> Any:
    return case_id_to_uuid(case_id)
