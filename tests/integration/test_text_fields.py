"""No poison in the read models: whatever text a sender puts in a field, the
submission is either refused with 422 or recorded, and then every read model
reaches the log's end, on SQLite and PostgreSQL. An event already in a log
with a NUL (recorded before the envelope refused control characters) does
not stop a read model either: PostgreSQL text cannot hold NUL, so the view
stores U+FFFD in its place.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Iterator
from contextlib import ExitStack
from datetime import date
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from domain.apartment import Apartment
from domain.facts import Stamp
from infra.settings import Settings
from services.bootstrap import Boende, bootstrap
from services.submission.service import Accepted, parse
from tests.conftest import TODAY, Ids, envelope, fresh_postgres_database, later

#: Every free or one-line text field of the envelope, with the history that
#: has to come first for its type to be accepted.
FIELDS: dict[str, tuple[str, tuple[str, ...], tuple[str, ...]]] = {
    "applicant.name": ("application_filed", (), ("applicant", "name")),
    "withdrawn.reason": ("application_withdrawn", ("filed",), ("reason",)),
    "granted.decision_id": ("application_granted", ("filed",), ("decision_id",)),
    "rejected.decision_id": ("application_rejected", ("filed",), ("decision_id",)),
    "rejected.reason": ("application_rejected", ("filed",), ("reason",)),
    "delay.note": ("delay_reason_recorded", ("filed", "granted"), ("note",)),
    "landlord": ("apartment_acquired", (), ("landlord",)),
    "district": ("apartment_acquired", (), ("district",)),
    "returned.reason": ("apartment_returned", ("acquired",), ("reason",)),
}
BEFORE = {
    "filed": "application_filed",
    "granted": "application_granted",
    "acquired": "apartment_acquired",
}


@pytest.fixture(scope="module", params=["sqlite", "postgres"])
def running(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Boende]:
    data_dir = tmp_path_factory.mktemp("text") / "var"
    with ExitStack() as stack:
        url = None
        if request.param == "postgres":
            url = stack.enter_context(fresh_postgres_database())
        boende = bootstrap(Settings(data_dir=data_dir, database_url=url))
        stack.callback(boende.close)
        yield boende


def submit(boende: Boende, body: dict[str, Any]) -> Any:
    try:
        sub = parse(json.dumps(body).encode(), 1 << 20)
        # The service refuses too: a district not in the list, for one.
        return boende.service.submit(sub)
    except Exception as refusal:  # refused before the store: nothing recorded
        return refusal


def with_text(body: dict[str, Any], path: tuple[str, ...], text: str) -> dict[str, Any]:
    body = copy.deepcopy(body)  # the examples' payloads are shared
    node = body["payload"]
    for key in path[:-1]:
        node = node[key]
    node[path[-1]] = text
    return body


def reaches_the_end(boende: Boende) -> None:
    end = boende.app.recorder.max_notification_id() or 0
    for runner in boende.runners:
        runner.catch_up()
        assert runner.store.position() == end, runner.projection.name


@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(field=st.sampled_from(sorted(FIELDS)), text=st.text(max_size=60))
def test_any_text_is_refused_or_recorded_and_read_models_go_on(
    running: Boende, field: str, text: str
) -> None:
    event_type, history, path = FIELDS[field]
    key = Ids().next("a" if event_type.startswith("apartment_") else "c")
    for step, earlier in enumerate(history):
        first = submit(running, envelope(BEFORE[earlier], key, later(step)))
        assert isinstance(first, Accepted), (first, getattr(first, "details", None))
    body = with_text(envelope(event_type, key, later(len(history))), path, text)
    outcome = submit(running, body)
    if not isinstance(outcome, Accepted):
        assert outcome.code == "invalid_submission", (outcome.code, outcome.details)
    reaches_the_end(running)


@pytest.mark.parametrize(
    ("text", "accepted"),
    [
        ("Bostad\x00AB", False),
        ("Bostad\x1bAB", False),
        ("Bostad\x7fAB", False),
        ("Bostad\tAB", False),  # a one-line field
        ("Bostäder i Norrby AB", True),
    ],
)
def test_control_characters_in_a_one_line_field_are_refused(
    running: Boende, text: str, accepted: bool
) -> None:
    body = envelope("apartment_acquired", Ids().next("a"), payload={"landlord": text})
    outcome = submit(running, body)
    assert isinstance(outcome, Accepted) == accepted
    if not accepted:
        assert outcome.details["details"] == [
            {
                "loc": "payload.landlord",
                "problem": "Value error, control characters (NUL, tab, line "
                "breaks, C0) are not allowed",
            }
        ]


def test_a_note_may_break_lines_but_not_hold_nul(running: Boende) -> None:
    key = Ids().next("c")
    for step, earlier in enumerate(("application_filed", "application_granted")):
        assert isinstance(
            submit(running, envelope(earlier, key, later(step))), Accepted
        )
    lines = {"reason": "other", "note": "Erbjudande 1:\n\tavböjt"}
    note = envelope("delay_reason_recorded", key, later(9), payload=lines)
    assert isinstance(submit(running, note), Accepted)
    nul = {"reason": "other", "note": "a\x00b"}
    refused = submit(
        running, envelope("delay_reason_recorded", key, later(10), payload=nul)
    )
    assert refused.code == "invalid_submission"


def test_an_event_with_nul_already_in_the_log_does_not_stop_a_read_model(
    running: Boende,
) -> None:
    """Recorded as the domain would have before the envelope refused it."""
    key = Ids().next("a")
    stamp = Stamp(Ids().next("s"), "ALN", "aln-1", date(2021, 3, 15), TODAY)
    apartment = Apartment.acquire(
        stamp, key, landlord="Bostad\x00AB", district="Norr\x00by", rooms=2,
        monthly_rent_sek=6400,
    )  # fmt: skip
    running.app.save(apartment)
    reaches_the_end(running)
    with running.views["apartments"].transaction(commit=False) as sql:
        rows = sql.all("SELECT * FROM apartments_stock WHERE apartment_id = ?", [key])
    (row,) = rows
    if running.settings.uses_postgres:  # its text cannot hold NUL
        assert (row["landlord"], row["district"]) == ("Bostad\ufffdAB", "Norr\ufffdby")
    else:
        assert (row["landlord"], row["district"]) == ("Bostad\x00AB", "Norr\x00by")
