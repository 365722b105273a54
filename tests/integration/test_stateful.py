"""Random submission sequences against the submission service (hypothesis).

A small model of DOMAIN.md predicts each outcome; after every step the test
checks that the stored history replays to the model's state, that refused
submissions changed nothing, and that no apartment is ever double-booked.
"""

from __future__ import annotations

import json
import uuid
from datetime import date, timedelta
from typing import Any

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import Bundle, RuleBasedStateMachine, invariant, rule

from domain.apartment import apartment_id_to_uuid
from domain.case import case_id_to_uuid
from infra.settings import Settings
from services.bootstrap import bootstrap
from services.submission.examples import example
from services.submission.service import Accepted, parse

START = date(2020, 1, 1)

MOVES = {  # DOMAIN.md: type -> {from: to}
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
OTHER_CASE_FACTS = sorted(set(MOVES) - {"contract_executed"})
APARTMENT_AFTER = {
    "contract_executed": "occupied",
    "converted_to_first_hand": "transferred",
    "contract_terminated": "available",
}


class SubmissionMachine(RuleBasedStateMachine):
    cases = Bundle("cases")
    apartments = Bundle("apartments")

    def __init__(self) -> None:
        super().__init__()
        import tempfile

        self.tmp = tempfile.TemporaryDirectory()
        self.boende = bootstrap(Settings(data_dir=self.tmp.name))
        self.case_model: dict[str, dict[str, Any]] = {}
        self.apartment_model: dict[str, dict[str, Any]] = {}
        self.accepted: list[tuple[dict[str, Any], Accepted]] = []

    def teardown(self) -> None:
        self.boende.close()
        self.tmp.cleanup()

    # -- helpers -----------------------------------------------------------

    def position(self) -> int:
        return self.boende.app.recorder.max_notification_id() or 0

    def submit(self, body: dict[str, Any], expected_error: str | None) -> None:
        before = self.position()
        outcome = self.boende.service.record_batch(
            [parse(json.dumps(body).encode(), 1 << 20)]
        )[0]
        if expected_error is None:
            assert isinstance(outcome, Accepted), (body["type"], outcome)
            assert outcome.position > before
            self.accepted.append((body, outcome))
        else:
            assert not isinstance(outcome, Accepted), (body["type"], "was accepted")
            assert outcome.code == expected_error, (
                body["type"],
                outcome.code,
                expected_error,
            )
            assert self.position() == before, "a refusal recorded something"

    # -- rules -------------------------------------------------------------

    @rule(target=cases, day=st.integers(0, 400))
    def file(self, day: int) -> str:
        case_id = f"c-{uuid.uuid4().hex[:10]}"
        when = START + timedelta(days=day)
        body = example(
            "application_filed",
            submission_id=str(uuid.uuid4()),
            case_id=case_id,
            occurred_on=str(when),
        )
        self.submit(body, None)
        self.case_model[case_id] = {"state": "filed", "last": when, "apartment": None}
        return case_id

    @rule(target=apartments, day=st.integers(0, 400))
    def acquire(self, day: int) -> str:
        apartment_id = f"a-{uuid.uuid4().hex[:10]}"
        when = START + timedelta(days=day)
        body = example(
            "apartment_acquired",
            submission_id=str(uuid.uuid4()),
            apartment_id=apartment_id,
            occurred_on=str(when),
        )
        self.submit(body, None)
        self.apartment_model[apartment_id] = {
            "state": "available",
            "last": when,
            "tenant": None,
        }
        return apartment_id

    @rule(
        case_id=cases, data=st.data(), delta=st.integers(-10, 60), appeal=st.booleans()
    )
    def case_fact(
        self, case_id: str, data: st.DataObject, delta: int, appeal: bool
    ) -> None:
        case = self.case_model[case_id]
        # Half the time a fact the model allows (to reach deep states), half
        # the time one it refuses (to check that refusals change nothing).
        allowed = [t for t in OTHER_CASE_FACTS if case["state"] in MOVES[t]]
        refused = [t for t in OTHER_CASE_FACTS if t not in allowed]
        choices = allowed if allowed and data.draw(st.booleans()) else refused
        event_type = data.draw(st.sampled_from(choices))
        when = case["last"] + timedelta(days=delta)
        body = example(
            event_type,
            submission_id=str(uuid.uuid4()),
            case_id=case_id,
            occurred_on=str(when),
        )
        if event_type == "application_granted":
            body["payload"] = {
                **body["payload"],
                "basis": "appeal" if appeal else "assessment",
            }
        error = self.expected_case_error(case, event_type, when, appeal)
        self.submit(body, error)
        if error is None:
            self.move(case_id, event_type, when)

    @rule(case_id=cases, apartment_id=apartments, delta=st.integers(-10, 60))
    def execute(self, case_id: str, apartment_id: str, delta: int) -> None:
        case, flat = self.case_model[case_id], self.apartment_model[apartment_id]
        when = case["last"] + timedelta(days=delta)
        body = example(
            "contract_executed",
            submission_id=str(uuid.uuid4()),
            case_id=case_id,
            occurred_on=str(when),
        )
        body["payload"] = {**body["payload"], "apartment_id": apartment_id}
        error = self.expected_case_error(case, "contract_executed", when, False)
        if error is None and flat["state"] != "available":
            error = "apartment_unavailable"
        elif error is None and when < flat["last"]:
            error = "date_out_of_order"
        self.submit(body, error)
        if error is None:
            case["apartment"] = apartment_id
            self.move(case_id, "contract_executed", when)

    @rule(apartment_id=apartments, delta=st.integers(-10, 60))
    def return_apartment(self, apartment_id: str, delta: int) -> None:
        flat = self.apartment_model[apartment_id]
        when = flat["last"] + timedelta(days=delta)
        body = example(
            "apartment_returned",
            submission_id=str(uuid.uuid4()),
            apartment_id=apartment_id,
            occurred_on=str(when),
        )
        error = None
        if flat["state"] != "available":
            error = "transition_not_allowed"
        elif when < flat["last"]:
            error = "date_out_of_order"
        self.submit(body, error)
        if error is None:
            flat.update(state="returned", last=when)

    @rule(data=st.data())
    def repeat_a_recorded_submission(self, data: st.DataObject) -> None:
        if not self.accepted:
            return
        body, first = data.draw(st.sampled_from(self.accepted))
        before = self.position()
        again = self.boende.service.record_batch(
            [parse(json.dumps(body).encode(), 1 << 20)]
        )[0]
        assert isinstance(again, Accepted) and again.repeated
        assert (again.position, again.version) == (first.position, first.version)
        changed = {
            **body,
            "actor": {"committee": body["actor"]["committee"], "user": "other"},
        }
        self.submit(changed, "submission_id_conflict")
        assert self.position() == before

    # -- model ---------------------------------------------------------------

    def expected_case_error(
        self, case: dict[str, Any], event_type: str, when: date, appeal: bool
    ) -> str | None:
        if case["state"] not in MOVES[event_type]:
            return "transition_not_allowed"
        if (
            event_type == "application_granted"
            and case["state"] == "rejected"
            and not appeal
        ):
            return "transition_not_allowed"
        if when < case["last"]:
            return "date_out_of_order"
        return None

    def move(self, case_id: str, event_type: str, when: date) -> None:
        case = self.case_model[case_id]
        case.update(state=MOVES[event_type][case["state"]], last=when)
        if event_type in APARTMENT_AFTER:
            flat = self.apartment_model[case["apartment"]]
            flat.update(state=APARTMENT_AFTER[event_type], last=when)
            flat["tenant"] = case_id if event_type == "contract_executed" else None

    # -- invariants -----------------------------------------------------------

    def replay(self, aggregate_id: uuid.UUID) -> Any:
        aggregate = None
        for event in self.boende.app.events.get(aggregate_id):
            aggregate = event.mutate(aggregate)
        return aggregate

    @invariant()
    def stored_history_replays_to_the_model(self) -> None:
        for case_id, model in self.case_model.items():
            case = self.replay(case_id_to_uuid(case_id))
            assert case.state.value == model["state"]
            assert case.apartment_id == model["apartment"]
            cached = self.boende.app.repository.get(case.id)
            assert (cached.state, cached.version) == (case.state, case.version)
        for apartment_id, model in self.apartment_model.items():
            flat = self.replay(apartment_id_to_uuid(apartment_id))
            assert flat.state.value == model["state"]
            assert flat.tenant_case_id == model["tenant"]

    @invariant()
    def no_apartment_is_double_booked(self) -> None:
        tenants: dict[str, list[str]] = {}
        for case_id, model in self.case_model.items():
            if model["state"] == "executed":
                tenants.setdefault(model["apartment"], []).append(case_id)
        for apartment_id, cases in tenants.items():
            assert len(cases) == 1, f"{apartment_id} has tenants {cases}"
            flat = self.replay(apartment_id_to_uuid(apartment_id))
            assert flat.state.value == "occupied" and flat.tenant_case_id == cases[0]


SubmissionMachine.TestCase.settings = settings(
    max_examples=60,
    stateful_step_count=50,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
TestSubmissions = SubmissionMachine.TestCase
