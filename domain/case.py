"""The housing case (``HousingCase``): one application and what follows it.

An application is filed, then granted or rejected by IFN; a grant is executed
when the client moves into a second-hand apartment (``verkställt``), and an
executed contract may be converted to a first-hand lease or terminated. The
transition table below is the single source of which fact may follow which.
"""

from __future__ import annotations

from datetime import date
from enum import StrEnum
from typing import Any, ClassVar
from uuid import UUID, uuid5

from eventsourcing.domain import Aggregate

from domain.apartment import Apartment
from domain.errors import ApartmentUnavailable, TransitionNotAllowed
from domain.facts import Fact, Stamp, check_dates
from domain.remarks import check_offer_date, remark

CASE_NAMESPACE = UUID("8e3c1f2a-5b7d-4c9e-a1f0-6d2b9e4c7a13")


class CaseState(StrEnum):
    FILED = "filed"
    WITHDRAWN = "withdrawn"
    GRANTED = "granted"
    REJECTED = "rejected"
    CANCELLED = "cancelled"
    EXECUTED = "executed"
    CONVERTED = "converted"
    TERMINATED = "terminated"


S = CaseState
#: event type -> {state it may follow: state it leads to}. ``application_filed``
#: creates the case, so it follows no state.
CASE_TRANSITIONS: dict[str, dict[CaseState, CaseState]] = {
    "application_filed": {},
    "application_withdrawn": {S.FILED: S.WITHDRAWN},
    "application_granted": {S.FILED: S.GRANTED, S.REJECTED: S.GRANTED},
    "application_rejected": {S.FILED: S.REJECTED},
    "delay_reason_recorded": {S.GRANTED: S.GRANTED},
    "grant_cancelled": {S.GRANTED: S.CANCELLED},
    "contract_executed": {S.GRANTED: S.EXECUTED},
    "follow_up_recorded": {S.EXECUTED: S.EXECUTED},
    "converted_to_first_hand": {S.EXECUTED: S.CONVERTED},
    "contract_terminated": {S.EXECUTED: S.TERMINATED},
}
TERMINAL_STATES = frozenset({S.WITHDRAWN, S.CANCELLED, S.CONVERTED, S.TERMINATED})
#: Why personal data was erased: on the person's request, or by retention.
ERASURE_RULES = frozenset({"request", "retention"})


def case_id_to_uuid(case_id: str) -> UUID:
    return uuid5(CASE_NAMESPACE, case_id)


def allowed_case_events(state: CaseState) -> list[str]:
    """Event types that may follow ``state``, in the table's order."""
    return [t for t, moves in CASE_TRANSITIONS.items() if state in moves]


class HousingCase(Aggregate):
    """One application for a social contract and everything that follows it."""

    case_id: str
    state: CaseState
    filed_on: date
    applicant: dict[str, Any]
    household: dict[str, int]
    gender: str
    birth_year: int

    class Event(Fact):
        type_name: ClassVar[str] = ""
        case_id: str  # the sender's id, on every fact: for readers of the log

        def apply(self, aggregate: Any) -> None:
            case: HousingCase = aggregate
            self.change(case)
            case.last_occurred_on = self.occurred_on
            case.history.append(
                {
                    "type": self.type_name,
                    "state": case.state.value,
                    "occurred_on": self.occurred_on,
                    "recorded_at": self.timestamp,
                    "version": self.originator_version,
                }
            )

        def change(self, case: HousingCase) -> None:
            """Assign the fact's consequences; never check rules here."""

    class Filed(Aggregate.Created, Event):
        type_name: ClassVar[str] = "application_filed"
        applicant: dict[str, Any]
        household: dict[str, int]
        gender: str
        birth_year: int

        def change(self, case: HousingCase) -> None:
            case.case_id = self.case_id
            case.state = S.FILED
            case.filed_on = self.occurred_on
            case.applicant = self.applicant
            case.household = self.household
            case.gender = self.gender
            case.birth_year = self.birth_year

    class Withdrawn(Event):
        type_name: ClassVar[str] = "application_withdrawn"
        reason: str | None

        def change(self, case: HousingCase) -> None:
            case.state = S.WITHDRAWN
            case.ended_on = self.occurred_on

    class Granted(Event):
        type_name: ClassVar[str] = "application_granted"
        decision_id: str
        intervention: str
        basis: str

        def change(self, case: HousingCase) -> None:
            case.state = S.GRANTED
            case.decision_id = self.decision_id
            case.intervention = self.intervention
            case.granted_on = self.occurred_on

    class Rejected(Event):
        type_name: ClassVar[str] = "application_rejected"
        decision_id: str
        reason: str

        def change(self, case: HousingCase) -> None:
            case.state = S.REJECTED
            case.decision_id = self.decision_id
            case.rejected_on = self.occurred_on

    class DelayReasonRecorded(Event):
        """Why a grant waits; a declined offer too (``domain.remarks``)."""

        type_name: ClassVar[str] = "delay_reason_recorded"
        class_version: ClassVar[int] = 2
        reason: str
        note: Any  # sealed dict; str in events recorded before sealing
        offered_on: date | None

        @staticmethod
        def upcast_v1_v2(state: dict[str, Any]) -> None:
            state["offered_on"] = None  # version 1 had no offer date

        def change(self, case: HousingCase) -> None:
            case.delay_reason = self.reason
            case.delay_reasons.append(remark(self, self.reason, self.offered_on))

    class GrantCancelled(Event):
        type_name: ClassVar[str] = "grant_cancelled"
        reason: str

        def change(self, case: HousingCase) -> None:
            case.state = S.CANCELLED
            case.ended_on = self.occurred_on

    class ContractExecuted(Event):
        type_name: ClassVar[str] = "contract_executed"
        apartment_id: str
        monthly_rent_sek: int
        lease_starts_on: date

        def change(self, case: HousingCase) -> None:
            case.state = S.EXECUTED
            case.apartment_id = self.apartment_id
            case.executed_on = self.occurred_on

    class FollowUpRecorded(Event):
        type_name: ClassVar[str] = "follow_up_recorded"
        outcome: str
        note: Any  # sealed dict; str in events recorded before sealing

        def change(self, case: HousingCase) -> None:
            case.follow_ups += 1
            case.follow_up_outcomes.append(remark(self, self.outcome, None))

    class ConvertedToFirstHand(Event):
        type_name: ClassVar[str] = "converted_to_first_hand"
        landlord_consented_on: date

        def change(self, case: HousingCase) -> None:
            case.state = S.CONVERTED
            case.ended_on = self.occurred_on

    class ContractTerminated(Event):
        type_name: ClassVar[str] = "contract_terminated"
        reason: str

        def change(self, case: HousingCase) -> None:
            case.state = S.TERMINATED
            case.ended_on = self.occurred_on

    class PersonalDataErased(Event):
        """The applicant's data key was deleted (crypto-shredding): on request
        (``rule="request"``) or after the retention period (``"retention"``,
        *gallring*). Holds no personal data; the case's state is unchanged."""

        type_name: ClassVar[str] = "personal_data_erased"
        rule: str
        erased_by: str

        def apply(self, aggregate: Any) -> None:
            case: HousingCase = aggregate
            previous = case.last_occurred_on
            super().apply(case)
            # An erasure is no step in the case's course: facts dated before it
            # may still follow.
            case.last_occurred_on = previous

    def __init__(self) -> None:
        # Defaults for attributes that later facts assign; the Filed event's
        # ``change`` sets the rest right after this runs.
        self.history: list[dict[str, Any]] = []
        self.last_occurred_on: date | None = None
        self.decision_id: str | None = None
        self.intervention: str | None = None
        self.granted_on: date | None = None
        self.rejected_on: date | None = None
        self.delay_reason: str | None = None
        self.apartment_id: str | None = None
        self.executed_on: date | None = None
        self.ended_on: date | None = None
        self.follow_ups = 0
        #: Each delay reason and follow-up: its code, dates and stored note.
        self.delay_reasons: list[dict[str, Any]] = []
        self.follow_up_outcomes: list[dict[str, Any]] = []

    # -- commands: check the rules, then trigger the fact ---------------------

    @classmethod
    def file(
        cls,
        stamp: Stamp,
        case_id: str,
        applicant: dict[str, Any],
        household: dict[str, int],
        gender: str,
        birth_year: int,
    ) -> HousingCase:
        check_dates(stamp, None, "case")
        return cls._create(
            cls.Filed,
            id=case_id_to_uuid(case_id),
            case_id=case_id,
            applicant=applicant,
            household=household,
            gender=gender,
            birth_year=birth_year,
            **stamp.fields(),
        )

    def withdraw(self, stamp: Stamp, reason: str | None) -> None:
        self._record(self.Withdrawn, stamp, reason=reason)

    def grant(
        self, stamp: Stamp, decision_id: str, intervention: str, basis: str
    ) -> None:
        if self.state is S.REJECTED and basis != "appeal":
            raise TransitionNotAllowed(
                "application_granted (a rejected application is granted only "
                'with basis "appeal")',
                self.state.value,
                allowed_case_events(self.state),
            )
        self._record(
            self.Granted,
            stamp,
            decision_id=decision_id,
            intervention=intervention,
            basis=basis,
        )

    def reject(self, stamp: Stamp, decision_id: str, reason: str) -> None:
        self._record(self.Rejected, stamp, decision_id=decision_id, reason=reason)

    def record_delay_reason(
        self,
        stamp: Stamp,
        reason: str,
        note: Any,
        offered_on: date | None = None,
    ) -> None:
        """Why the decision waits (``domain.remarks``); ``note`` sealed."""
        self._check(self.DelayReasonRecorded, stamp)
        if offered_on is not None:
            check_offer_date(reason, offered_on, self.granted_on, stamp.occurred_on)
        self._record(
            self.DelayReasonRecorded,
            stamp,
            reason=reason,
            note=note,
            offered_on=offered_on,
        )

    def cancel_grant(self, stamp: Stamp, reason: str) -> None:
        self._record(self.GrantCancelled, stamp, reason=reason)

    def execute(
        self,
        stamp: Stamp,
        apartment: Apartment,
        monthly_rent_sek: int,
        lease_starts_on: date,
    ) -> None:
        """Move the client in: the case and its apartment change together."""
        self._check(self.ContractExecuted, stamp)
        if not apartment.can_be_occupied():
            raise ApartmentUnavailable(
                f"apartment {apartment.apartment_id} is {apartment.state.value}, "
                "not available",
                apartment_id=apartment.apartment_id,
                apartment_state=apartment.state.value,
            )
        check_dates(stamp, apartment.last_occurred_on, "apartment")
        self._record(
            self.ContractExecuted,
            stamp,
            apartment_id=apartment.apartment_id,
            monthly_rent_sek=monthly_rent_sek,
            lease_starts_on=lease_starts_on,
        )
        apartment.occupy(stamp, self.case_id)

    def record_follow_up(self, stamp: Stamp, outcome: str, note: Any) -> None:
        self._record(self.FollowUpRecorded, stamp, outcome=outcome, note=note)

    def convert_to_first_hand(
        self, stamp: Stamp, apartment: Apartment, landlord_consented_on: date
    ) -> None:
        """The tenant takes over the lease; the apartment leaves the stock."""
        self._check(self.ConvertedToFirstHand, stamp)
        self._record(
            self.ConvertedToFirstHand,
            stamp,
            landlord_consented_on=landlord_consented_on,
        )
        apartment.transfer(stamp, self.case_id)

    def terminate(self, stamp: Stamp, apartment: Apartment, reason: str) -> None:
        """The contract ends; the apartment is available again."""
        self._check(self.ContractTerminated, stamp)
        self._record(self.ContractTerminated, stamp, reason=reason)
        apartment.vacate(stamp, self.case_id)

    def record_personal_data_erased(
        self, stamp: Stamp, rule: str, erased_by: str
    ) -> None:
        """Record that the applicant's data key was deleted; allowed in every
        state, so it bypasses ``CASE_TRANSITIONS``."""
        if rule not in ERASURE_RULES:
            raise ValueError(f"erasure rule must be one of {sorted(ERASURE_RULES)}")
        check_dates(stamp, self.last_occurred_on, "case")
        self.trigger_event(
            self.PersonalDataErased,
            case_id=self.case_id,
            rule=rule,
            erased_by=erased_by,
            **stamp.fields(),
        )

    # -- rules ---------------------------------------------------------------

    def ensure_allows(self, event_type: str) -> None:
        """Raise ``TransitionNotAllowed`` unless ``event_type`` may follow now."""
        if self.state not in CASE_TRANSITIONS[event_type]:
            raise TransitionNotAllowed(
                event_type, self.state.value, allowed_case_events(self.state)
            )

    def tenancy(self) -> str:
        """The apartment an executed case lives in."""
        assert self.apartment_id is not None, "an executed case names its apartment"
        return self.apartment_id

    def _check(self, event_class: type[Event], stamp: Stamp) -> None:
        self.ensure_allows(event_class.type_name)
        check_dates(stamp, self.last_occurred_on, "case")

    def _record(self, event_class: type[Event], stamp: Stamp, **fields: Any) -> None:
        self._check(event_class, stamp)
        self.trigger_event(
            event_class, case_id=self.case_id, **fields, **stamp.fields()
        )
