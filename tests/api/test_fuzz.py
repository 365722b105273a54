"""The whole OpenAPI of the app, fuzzed (schemathesis): every operation it
documents, called with requests generated from the document itself — valid
ones and invalid ones (positive and negative modes), its examples, and the
coverage phase's edge values — each with a valid bearer token of every role
the route lets in (``services.http.authz.ROUTES``), on a SQLite store holding
a few facts and a signed head.

Every built-in check is on: no 5xx, the status code is one the operation
documents, the body conforms to the documented schema and content type, the
documented headers are sent, invalid input is refused and valid input is not
(with the exceptions below, each with its reason). The oversight web's pages
(``/oversikt``) and ``/docs``, ``/redoc`` are not in the document: HTML for
people, tested by tests/browser and tests/api/test_pages_login.py.

Deterministic: Hypothesis is derandomized (its examples follow from the test
alone) and keeps no example database, so a run cannot find what the last one
did not; the store is fresh for the module. ``FUZZ_EXAMPLES`` bounds the
generated examples per operation so the module takes a couple of minutes on
two shared cores; the coverage phase's cases come on top.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
import schemathesis
from fastapi import FastAPI
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, settings
from schemathesis.python.asgi import shutdown_lifespans

from infra.auth import ROLES, mint_dev_token
from infra.settings import Settings
from services.audit.log import AuditLog
from services.bootstrap import Boende, bootstrap
from services.http.app import create_app
from services.http.authz import PUBLIC, ROUTES
from services.submission.service import Accepted, parse
from tests.conftest import envelope, later

#: Generated examples per operation and role (the fuzzing phase).
FUZZ_EXAMPLES = 25
HOUR = timedelta(hours=1)


@pytest.fixture(scope="module")
def fuzz_settings(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    # No background signer (interval 0): heads are signed by the fixture and
    # by POST /v1/audit/tree-heads only, so runs do not depend on the clock.
    # One caller, nothing in flight: a min_position past the log's end is
    # 409 at once (window 0) rather than a wait that ends in 503.
    data_dir = tmp_path_factory.mktemp("fuzz") / "var"
    return Settings(
        data_dir=data_dir,
        auth="jwt",
        tree_head_interval_minutes=0,
        min_position_window=0,
        read_wait_seconds=2,
    )


@pytest.fixture(scope="module")
def running(fuzz_settings: Settings) -> Iterator[Boende]:
    boende = bootstrap(fuzz_settings, follow=True)  # as boende serve does
    _a_few_facts(boende, fuzz_settings)
    yield boende
    boende.close()


def _a_few_facts(boende: Boende, fuzz_settings: Settings) -> None:
    """Cases filed, granted and executed into an apartment, read models caught
    up and a head signed: the figures, trails and proofs have something."""
    bodies: list[dict[str, Any]] = [
        envelope("apartment_acquired", "a-fuzz-1"),
        *(envelope("application_filed", f"c-fuzz-{i}") for i in range(3)),
        *(envelope("application_granted", f"c-fuzz-{i}", later(10)) for i in range(3)),
        envelope(
            "contract_executed",
            "c-fuzz-0",
            later(20),
            payload={"apartment_id": "a-fuzz-1", "lease_starts_on": later(30)},
        ),
    ]
    outcomes = boende.service.record_batch(
        [parse(json.dumps(b).encode(), 1 << 20) for b in bodies]
    )
    assert all(isinstance(o, Accepted) for o in outcomes), outcomes
    for runner in boende.runners:
        runner.catch_up()
    audit = AuditLog(fuzz_settings, boende.app)
    try:
        assert audit.sign_head().tree_size > 0
    finally:
        audit.close()


@pytest.fixture(scope="module")
def app(running: Boende) -> Iterator[FastAPI]:
    app = create_app(running)
    yield app
    shutdown_lifespans()  # schemathesis keeps the app's lifespan open


@pytest.fixture(scope="module")
def sent(pytestconfig: pytest.Config) -> Iterator[Counter[str]]:
    """Requests sent, per operation; the total is printed (docs/reliability.md)."""
    count: Counter[str] = Counter()
    yield count
    plugins = pytestconfig.pluginmanager
    reporter, capture = (
        plugins.get_plugin("terminalreporter"),
        plugins.get_plugin("capturemanager"),
    )
    if reporter is not None and capture is not None and count:
        with capture.global_and_fixture_disabled():  # shown without -s too
            reporter.write_line(
                f"\nfuzz: {sum(count.values())} requests over {len(count)} "
                "operations, every check on each"
            )


@pytest.fixture(scope="module")
def tokens(fuzz_settings: Settings) -> dict[str, dict[str, str]]:
    """A valid bearer token per role; the case system's is bound to IFN."""

    def token(role: str) -> str:
        committee = "IFN" if role == "case_system" else None
        return mint_dev_token(fuzz_settings, f"fuzz-{role}", [role], HOUR, committee)

    return {role: {"Authorization": f"Bearer {token(role)}"} for role in ROLES}


#: Refusals the document cannot express, by operation: schema-valid requests
#: that a rule of the route refuses with 422. ``positive_data_acceptance``
#: accepts a 422 from these operations only, each for the reason given.
RULES_BEYOND_THE_SCHEMA = {
    # The envelope's values: Luhn-checked numbers, organisation numbers that
    # are not personnummer, the configured district list, no date after
    # today or before BOENDE_EARLIEST_DAY (services.submission.envelope).
    "/v1/submissions": "checked values",
    # A day in a query is within 1900-01-01..2999-12-31 (deps.Day): JSON
    # Schema has no bounds for a string of format date. Counts: public=true
    # takes no by.
    "/v1/oversight/(counts|apartments|unexecuted|rents)": "bounded days",
    "/v1/audit/(events|access|purges)": "bounded days, from not after to",
    # from..to: bounded days, from not after to, at most 240 periods.
    "/v1/oversight/(flows|lead-times|vacancy|first-hand)": "a bounded range",
    # as_of or week, not both; a week like 2025-W14.
    "/v1/oversight/households": "as_of or week",
    # A quarter like 2021Q3 that has begun (not documented as a pattern).
    "/v1/reports/(unexecuted|council)": "a quarter",
    # X-Purpose is a code of the configured list (BOENDE_PURPOSE_CODES); the
    # document says "a string".
    "/v1/reports/ivo": "a quarter, a purpose code",
    "/v1/cases/{case_id}/applicant": "a purpose code",
    # A position in the signed tree, sizes not past each other.
    "/v1/audit/proof/(inclusion|consistency)": "sizes of the signed tree",
}


#: What schema-violating input may get (schemathesis' default).
REJECTING = ["400", "401", "403", "404", "405", "406", "409", "415", "422", "428"]
#: What a request missing a required header may get (schemathesis' default).
MISSING_HEADER = ["400", "401", "403", "406", "415", "422"]


def fuzz_config() -> schemathesis.Config:
    """Every check on, examples bounded, generation seeded and derandomized."""
    accepting = ["2xx", "3xx", "401", "403", "404", "409", "429"]
    return schemathesis.Config.from_dict(
        {
            "seed": 20261130,
            "generation": {
                "max-examples": FUZZ_EXAMPLES,
                "deterministic": True,
                "database": "none",
            },
            "checks": {"enabled": True},
            "operations": [
                {
                    "include-path-regex": f"^{path}$",
                    "checks": {
                        "positive_data_acceptance": {
                            "expected-statuses": [*accepting, "422"]
                        }
                    },
                }
                for path in RULES_BEYOND_THE_SCHEMA
            ]
            + [
                {
                    # Each envelope of a batch is decided alone: a refused one
                    # is a result (422 and its reason) in the batch's 200.
                    "include-path-regex": "^/v1/submissions/batch$",
                    "checks": {
                        "negative_data_rejection": {
                            "expected-statuses": [*REJECTING, "200"]
                        }
                    },
                },
                {
                    # min_position is waited for (409 past the log's end)
                    # before the route reads X-Purpose: refused either way.
                    "include-path-regex": "^/v1/reports/ivo$",
                    "checks": {
                        "missing_required_header": {
                            "expected-statuses": [*MISSING_HEADER, "409"]
                        }
                    },
                },
            ],
        }
    )


@pytest.fixture(scope="module")
def api_schema(app: FastAPI) -> schemathesis.BaseSchema:
    return schemathesis.openapi.from_asgi("/openapi.json", app, config=fuzz_config())


schema = schemathesis.pytest.from_fixture("api_schema")


@schemathesis.serializer("application/x-ndjson")
def _ndjson(_: Any, value: Any) -> bytes:
    """The batch door's other body: one JSON value per line."""
    values = value if isinstance(value, list) else [value]
    return "".join(json.dumps(v) + "\n" for v in values).encode()


@pytest.fixture(autouse=True)
def _node_id_for_schemathesis(request: pytest.FixtureRequest) -> None:
    """schemathesis 4.32's lazy schema reads ``node._nodeid``, which pytest 9
    no longer keeps (``nodeid`` is a property now): give it the same text."""
    request.node._nodeid = request.node.nodeid


def callers(case: schemathesis.Case) -> list[str]:
    """The roles the route lets in; a public route is called without a token
    (the authorization matrix checks every other pair: 401 and 403)."""
    operation = case.operation  # the coverage phase also sends other methods
    access = ROUTES[f"{operation.method.upper()} {operation.path}"]
    return [] if access == PUBLIC else sorted(access)


@schema.parametrize()
@settings(
    max_examples=FUZZ_EXAMPLES,
    derandomize=True,
    database=None,
    deadline=None,
    suppress_health_check=list(HealthCheck),
)
def test_the_whole_api_fuzzed(
    case: schemathesis.Case, tokens: dict[str, dict[str, str]], sent: Counter[str]
) -> None:
    roles = callers(case)
    for headers in [tokens[role] for role in roles] or [{}]:
        sent[case.operation.label] += 1
        case.call_and_validate(headers=headers)


def test_every_documented_operation_is_fuzzed(api_schema: Any, app: FastAPI) -> None:
    """The fuzz leaves out no operation the document has (a filter or an
    unparseable schema would drop one quietly)."""
    documented = {
        f"{method.upper()} {path}"
        for path, operations in app.openapi()["paths"].items()
        for method in operations
    }
    fuzzed = {
        f"{result.ok().method.upper()} {result.ok().path}"
        for result in api_schema.get_all_operations()
    }
    assert len(documented) > 20 and fuzzed == documented


def test_pages_are_not_in_the_document(app: FastAPI) -> None:
    """What the fuzz does not reach is HTML for people: the oversight web
    and the documentation pages (tests/browser, tests/api/test_pages_login)."""
    paths = set(app.openapi()["paths"])
    assert not {p for p in paths if p.startswith(("/oversikt", "/docs", "/redoc"))}


# -- what the fuzz found, pinned ------------------------------------------------------


def test_days_and_times_are_iso_text_not_numbers(
    app: FastAPI, tokens: dict[str, dict[str, str]]
) -> None:
    """pydantic alone reads a number as a Unix time: ``to=0`` was 1970-01-01
    and ``known_at=0.5`` half a second after it, answered 200."""
    client = TestClient(app)
    for path, params, role in [
        ("/v1/oversight/counts", {"known_at": "0.5"}, "oversight"),
        ("/v1/oversight/apartments", {"as_of": "0"}, "oversight"),
        ("/v1/oversight/flows", {"known_at": "1"}, "oversight"),
        ("/v1/audit/events", {"to": "0"}, "auditor"),
    ]:
        response = client.get(path, params=params, headers=tokens[role])
        assert response.status_code == 422, (path, response.text)
        assert response.json()["error"] == "invalid_request"
    fine = {"as_of": "2021-06-01", "known_at": "2026-11-01T12:00:00+01:00"}
    answer = client.get(
        "/v1/oversight/counts", params=fine, headers=tokens["oversight"]
    )
    assert answer.status_code == 200, answer.text


def test_audit_routes_refuse_an_unknown_parameter(
    app: FastAPI, tokens: dict[str, dict[str, str]]
) -> None:
    """A misspelt ``from`` must not list an auditor every entry."""
    response = TestClient(app).get(
        "/v1/audit/access", params={"form": "2021-01-01"}, headers=tokens["auditor"]
    )
    assert response.status_code == 422
    assert response.json()["details"] == [
        {"loc": "form", "problem": "unknown query parameter"}
    ]


def test_a_method_not_allowed_names_the_allowed_ones(app: FastAPI) -> None:
    response = TestClient(app).request("TRACE", "/healthz")
    assert response.status_code == 405
    assert response.headers["allow"] == "GET"
    assert response.json()["error"] == "method_not_allowed"
