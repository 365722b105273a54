"""The simulator's plan, without I/O: reproducible, valid in order, realistic.

``replay`` is an independent reference of DOMAIN.md's rules (schema, who may
submit what, transitions, dates, apartment availability, submission ids): it
walks the plan in send order and says why each submission would be refused,
so every valid one must pass it and every invalid one must fail it.
"""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

import httpx
import pytest
from pydantic import ValidationError

from domain.personnummer import parse_personnummer
from services.simulation.behaviour import Plan, add_months
from services.simulation.history import LIVED_DAYS
from services.simulation.player import keys_of, post, send, waves
from services.simulation.scenario import generate, generate_with_expectations, plan
from services.submission.envelope import SUBMISSION

TODAY = date(2025, 6, 18)
START = date(2023, 6, 1)


@pytest.fixture(scope="module")
def world() -> Plan:
    return plan(24, seed=5, start=START, invalid_share=0.05, today=TODAY)


def valid_envelopes(world: Plan) -> list[dict[str, Any]]:
    return [item.envelope for item in world.items if item.valid]


# -- a reference replay of the rules -----------------------------------------

# DOMAIN.md, written out here so that a drift in the code's tables shows.
CASE_TRANSITIONS: dict[str, dict[str, str]] = {
    "application_withdrawn": {"filed": "withdrawn"},
    "application_granted": {"filed": "granted", "rejected": "granted"},
    "application_rejected": {"filed": "rejected"},
    "delay_reason_recorded": {"granted": "granted"},
    "grant_cancelled": {"granted": "cancelled"},
    "contract_executed": {"granted": "executed"},
    "follow_up_recorded": {"executed": "executed"},
    "converted_to_first_hand": {"executed": "converted"},
    "contract_terminated": {"executed": "terminated"},
}
APARTMENT_EVENTS = {"apartment_acquired", "apartment_returned"}
MAY_SUBMIT = {
    "IFN": {"application_filed", *CASE_TRANSITIONS},
    "ALN": {*APARTMENT_EVENTS, "contract_executed"},
    "KS": set(),
}


@dataclass
class Ledger:
    cases: dict[str, dict[str, Any]] = field(default_factory=dict)
    flats: dict[str, dict[str, Any]] = field(default_factory=dict)
    bodies: dict[str, str] = field(default_factory=dict)


def refusal(env: dict[str, Any], book: Ledger, today: date) -> str | None:
    """Why the service would refuse ``env`` now, or None if it would accept it."""
    try:
        SUBMISSION.validate_json(json.dumps(env).encode())
    except ValidationError:
        return "schema"
    body = json.dumps(env, sort_keys=True)
    if book.bodies.get(env["submission_id"], body) != body:
        return "id_conflict"
    kind, day = env["type"], date.fromisoformat(env["occurred_on"])
    if kind not in MAY_SUBMIT[env["actor"]["committee"]]:
        return "forbidden"
    if day > today:
        return "future"
    if kind.startswith("apartment_"):
        return apartment_refusal(env, book, day)
    return case_refusal(env, book, day, today)


def apartment_refusal(env: dict[str, Any], book: Ledger, day: date) -> str | None:
    flat = book.flats.get(env["apartment_id"])
    if env["type"] == "apartment_acquired":
        return "exists" if flat else None
    if flat is None:
        return "not_found"
    if flat["state"] != "available":
        return "transition"
    return "order" if day < flat["last"] else None


def case_refusal(
    env: dict[str, Any], book: Ledger, day: date, today: date
) -> str | None:
    kind, case = env["type"], book.cases.get(env["case_id"])
    if kind == "application_filed":
        if case:
            return "exists"
        try:
            parse_personnummer(env["payload"]["applicant"]["personnummer"], today)
        except ValueError:
            return "personnummer"
        return None
    if case is None:
        return "not_found"
    if case["state"] not in CASE_TRANSITIONS[kind]:
        return "transition"
    appeal = env["payload"].get("basis") == "appeal"
    if kind == "application_granted" and case["state"] == "rejected" and not appeal:
        return "transition"
    if day < case["last"]:
        return "order"
    if kind == "contract_executed":
        flat = book.flats.get(env["payload"]["apartment_id"])
        if flat is None:
            return "not_found"
        if flat["state"] != "available":
            return "unavailable"
        if day < flat["last"]:
            return "order"
    return None


FLAT_AFTER = {
    "contract_executed": "occupied",
    "contract_terminated": "available",
    "converted_to_first_hand": "transferred",
}


def record(env: dict[str, Any], book: Ledger) -> None:
    kind, day = env["type"], date.fromisoformat(env["occurred_on"])
    book.bodies[env["submission_id"]] = json.dumps(env, sort_keys=True)
    if kind == "apartment_acquired":
        book.flats[env["apartment_id"]] = {"state": "available", "last": day}
    elif kind == "apartment_returned":
        book.flats[env["apartment_id"]] = {"state": "returned", "last": day}
    elif kind == "application_filed":
        book.cases[env["case_id"]] = {"state": "filed", "last": day, "flat": None}
    else:
        case = book.cases[env["case_id"]]
        case["state"] = CASE_TRANSITIONS[kind][case["state"]]
        case["last"] = day
        if kind == "contract_executed":
            case["flat"] = env["payload"]["apartment_id"]
        if kind in FLAT_AFTER:
            book.flats[case["flat"]] = {"state": FLAT_AFTER[kind], "last": day}


def replay(world: Plan, today: date) -> Ledger:
    book = Ledger()
    for index, item in enumerate(world.items):
        why = refusal(item.envelope, book, today)
        if item.valid:
            assert why is None, (index, item.envelope["type"], why)
            record(item.envelope, book)
        else:
            assert why is not None, (index, item.kind, item.envelope["type"])
    return book


# -- the plan ----------------------------------------------------------------


def test_same_seed_and_start_give_byte_identical_output() -> None:
    one = generate_with_expectations(6, 3, START, 0.1, today=TODAY)
    two = generate_with_expectations(6, 3, START, 0.1, today=TODAY)
    assert json.dumps(one) == json.dumps(two)
    assert generate(6, 3, START, 0.1, today=TODAY) == [env for env, _ in one]


def test_a_different_seed_or_start_gives_different_output() -> None:
    base = generate(6, 3, START, today=TODAY)
    assert generate(6, 4, START, today=TODAY) != base
    other_start = generate(6, 3, date(2023, 6, 2), today=TODAY)
    assert {e.get("case_id") for e in other_start}.isdisjoint(
        {e["case_id"] for e in base if "case_id" in e}
    )


def test_invalid_ones_are_extra_and_leave_the_valid_stream_unchanged() -> None:
    mixed = generate_with_expectations(6, 3, START, 0.1, today=TODAY)
    assert [env for env, ok in mixed if ok] == generate(6, 3, START, today=TODAY)
    share = sum(not ok for _, ok in mixed) / len(mixed)
    assert 0.04 < share < 0.16


def test_every_valid_envelope_validates(world: Plan) -> None:
    for env in valid_envelopes(world):
        SUBMISSION.validate_json(json.dumps(env).encode())


def test_replay_accepts_every_valid_one_and_refuses_every_invalid_one(
    world: Plan,
) -> None:
    book = replay(world, TODAY)
    assert {k: c["state"] for k, c in book.cases.items()} == world.case_states
    assert {k: f["state"] for k, f in book.flats.items()} == world.apartment_states
    kinds = Counter(item.kind for item in world.items if not item.valid)
    assert len(kinds) >= 8, kinds  # a good mix of refusals


def test_dates_stay_in_the_period_and_in_order_per_case(world: Plan) -> None:
    """Only the opening load (``services.simulation.history``), sent first,
    is dated before the period: at most its longest past before it."""
    last: dict[str, str] = {}
    loading = True
    earliest = START - timedelta(days=LIVED_DAYS[1] + 150)
    for env in valid_envelopes(world):
        day = env["occurred_on"]
        loading = loading and day < START.isoformat()
        first = earliest if loading else START
        assert first.isoformat() <= day <= TODAY.isoformat()
        key = env.get("case_id") or env["apartment_id"]
        assert day >= last.get(key, ""), (key, env["type"])
        last[key] = day


def test_submission_ids_are_unique_uuid4s(world: Plan) -> None:
    ids = [env["submission_id"] for env in valid_envelopes(world)]
    assert len(set(ids)) == len(ids)
    assert all(i[14] == "4" for i in ids)


def test_executions_name_an_acquired_free_apartment(world: Plan) -> None:
    free: dict[str, bool] = {}
    tenancy: dict[str, str] = {}
    for env in valid_envelopes(world):
        kind = env["type"]
        if kind == "apartment_acquired":
            free[env["apartment_id"]] = True
        elif kind == "apartment_returned":
            assert free.pop(env["apartment_id"])
        elif kind == "contract_executed":
            flat = env["payload"]["apartment_id"]
            assert free.get(flat) is True, flat
            free[flat], tenancy[env["case_id"]] = False, flat
        elif kind == "contract_terminated":
            free[tenancy[env["case_id"]]] = True
        elif kind == "converted_to_first_hand":
            del free[tenancy[env["case_id"]]]


def test_applicants_have_consistent_personnummer(world: Plan) -> None:
    filings = [e for e in valid_envelopes(world) if e["type"] == "application_filed"]
    for env in filings:
        p = env["payload"]
        number = parse_personnummer(p["applicant"]["personnummer"], TODAY)
        assert number.birth_date.year == p["birth_year"]
        assert len(p["applicant"]["personnummer"]) == 13
        if p["gender"] in ("woman", "man"):
            assert int(number.serial[-1]) % 2 == (p["gender"] == "man")
    genders = Counter(e["payload"]["gender"] for e in filings)
    assert genders["man"] > genders["woman"] > 0.3 * len(filings)


def test_shares_are_realistic_over_two_years(world: Plan) -> None:
    valid = valid_envelopes(world)
    types = Counter(env["type"] for env in valid)
    filed = types["application_filed"]
    assert 500 < filed < 750  # about 6 a week
    assert 0.10 < types["application_rejected"] / filed < 0.22
    assert 0 < types["application_withdrawn"] < 0.1 * filed
    assert 0.7 < types["application_granted"] / filed < 0.9
    appeals = [e for e in valid if e["payload"].get("basis") == "appeal"]
    assert appeals and len(appeals) < types["application_rejected"]
    for kind in (
        "grant_cancelled",
        "delay_reason_recorded",
        "contract_executed",
        "follow_up_recorded",
        "converted_to_first_hand",
        "contract_terminated",
        "apartment_returned",
    ):
        assert types[kind] > 0, kind
    executions = [e for e in valid if e["type"] == "contract_executed"]
    by_aln = sum(e["actor"]["committee"] == "ALN" for e in executions)
    assert 0 < by_aln < len(executions) / 2
    delays = Counter(
        e["payload"]["reason"] for e in valid if e["type"] == "delay_reason_recorded"
    )
    assert delays.most_common(1)[0][0] == "no_apartment_available"
    interventions = Counter(
        e["payload"]["intervention"]
        for e in valid
        if e["type"] == "application_granted"
    )
    assert interventions["socialt_kontrakt"] > 3 * interventions["boendesocial_insats"]


def test_the_default_period_ends_today() -> None:
    short = plan(3, 1, today=TODAY)
    assert (short.start, short.end) == (date(2025, 3, 18), TODAY)
    assert add_months(date(2024, 3, 31), -1) == date(2024, 2, 29)
    with pytest.raises(ValueError):
        plan(3, 1, start=date(2025, 7, 1), today=TODAY)


# -- ordering and sending ------------------------------------------------------


def test_waves_keep_order_and_never_share_a_case_or_apartment(world: Plan) -> None:
    envelopes, flags = world.envelopes, world.expectations
    runs = waves(envelopes, flags)
    assert [i for run in runs for i in run] == list(range(len(envelopes)))
    tenancy = world.tenancies  # final tenancies: each case executes at most once
    for run in runs:
        seen: set[str] = set()
        for index in run:
            keys = keys_of(envelopes[index], tenancy)
            assert not keys & seen, (index, keys)
            seen |= keys
    assert len(runs) < len(envelopes) / 5  # waves are worth sending in parallel


def test_a_termination_waits_for_an_execution_into_the_same_apartment() -> None:
    def env(kind: str, case: str, **payload: Any) -> dict[str, Any]:
        return {"type": kind, "case_id": case, "payload": payload}

    sequence = [
        env("contract_executed", "a", apartment_id="apt-1"),
        env("contract_terminated", "a"),
        env("contract_executed", "b", apartment_id="apt-1"),
        env("contract_executed", "c", apartment_id="apt-2"),
        env("converted_to_first_hand", "c"),
    ]
    assert waves(sequence) == [[0], [1], [2, 3], [4]]


def test_post_retries_a_lost_race_then_reports_the_answer() -> None:
    answers = iter(
        [
            httpx.Response(409, json={"error": "concurrent_update"}),
            httpx.Response(503, json={"error": "unavailable"}),
            httpx.Response(201, json={"position": 7}),
        ]
    )
    transport = httpx.MockTransport(lambda request: next(answers))
    with httpx.Client(transport=transport, base_url="http://boende") as client:
        outcome = post(client, {"type": "application_filed"})
    assert (outcome.status, outcome.position, outcome.retries) == (201, 7, 2)


def test_summary_counts_what_was_unexpected_without_personal_data() -> None:
    filing = next(
        i.envelope
        for i in plan(1, 2, start=START, today=TODAY).items
        if i.envelope["type"] == "application_filed"
    )
    transport = httpx.MockTransport(
        lambda request: httpx.Response(422, json={"error": "invalid_submission"})
    )
    with httpx.Client(transport=transport, base_url="http://boende") as client:
        summary = send([filing], client, concurrency=2)
    assert summary.unexpected == 1 and summary.by_status == {422: 1}
    report = summary.report()
    assert filing["payload"]["applicant"]["personnummer"] not in report
    assert filing["payload"]["applicant"].get("name", "-") not in report
    assert "invalid_submission" in report
