"""From a validated envelope to the domain call it stands for.

``apply_submission`` loads the aggregates a submission touches (through a
``Workspace`` shared by one batch, so several submissions for one case in a
batch see each other), checks who may submit it, and calls the domain command.
A refused submission raises before any event is triggered, so it leaves the
workspace unchanged. Free-text notes are sealed here, under the key of the
case's person, before they reach the domain (``_sealed_note``).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import date
from typing import Any
from uuid import UUID

from eventsourcing.application import AggregateNotFoundError
from eventsourcing.domain import Aggregate

from domain.apartment import Apartment, allowed_apartment_events, apartment_id_to_uuid
from domain.authority import check_may_submit
from domain.case import HousingCase, allowed_case_events, case_id_to_uuid
from domain.errors import NotFound, TransitionNotAllowed
from domain.facts import Stamp, check_dates
from domain.personnummer import parse_personnummer
from domain.remarks import check_offer_date
from infra import crypto
from infra.person_keys import KeyBatch, person_keys_of
from infra.store import CaseLog
from services.errors import InvalidSubmission
from services.submission import envelope as e


class Workspace:
    """The aggregates one batch has loaded or created, by aggregate id, and
    the data keys its filings seal applicants under."""

    def __init__(self, app: CaseLog, keys: KeyBatch | None = None) -> None:
        self.app = app
        self.loaded: dict[UUID, Aggregate] = {}
        # Those found or added since the last collect: only they can hold
        # pending events (a batch of n would otherwise scan n per submission).
        self._touched: dict[UUID, Aggregate] = {}
        self._keys = keys

    @property
    def keys(self) -> KeyBatch:
        if self._keys is None:
            self._keys = person_keys_of(self.app).batch(())
        return self._keys

    def store_new_keys(self) -> None:
        """Store the data keys made for this batch's filings, in one
        transaction: before its events, so a key is durable before any
        ciphertext under it. Raises ``PersonKeyConflict`` (see ``KeyBatch``)."""
        if self._keys is not None:
            self._keys.store_new()

    def find(self, aggregate_id: UUID) -> Aggregate | None:
        if aggregate_id not in self.loaded:
            try:
                self.loaded[aggregate_id] = self.app.repository.get(aggregate_id)
            except AggregateNotFoundError:
                return None
        found = self._touched[aggregate_id] = self.loaded[aggregate_id]
        return found

    def case(self, case_id: str) -> HousingCase:
        case = self.find(case_id_to_uuid(case_id))
        if case is None:
            raise NotFound(f"no case {case_id}", case_id=case_id)
        assert isinstance(case, HousingCase)
        return case

    def apartment(self, apartment_id: str) -> Apartment:
        apartment = self.find(apartment_id_to_uuid(apartment_id))
        if apartment is None:
            raise NotFound(f"no apartment {apartment_id}", apartment_id=apartment_id)
        assert isinstance(apartment, Apartment)
        return apartment

    def add(self, aggregate: Aggregate) -> None:
        self.loaded[aggregate.id] = self._touched[aggregate.id] = aggregate

    def collect_events(self, last: Aggregate) -> list[Any]:
        """Pending events of one submission, ``last``'s (the one it is about)
        at the end, so a submission's position is that of its main fact."""
        others = [a for a in self._touched.values() if a is not last]
        self._touched = {}
        return [e for a in [*others, last] for e in a.collect_events()]


def open_workspace(app: CaseLog, subs: Iterable[e.Envelope], today: date) -> Workspace:
    """A workspace for one batch, with the data keys of every applicant it
    files looked up in one query (not one per filing)."""
    numbers = []
    for sub in subs:
        if isinstance(sub, e.ApplicationFiled):
            try:
                number = parse_personnummer(sub.payload.applicant.personnummer, today)
            except ValueError:
                continue  # refused by _file, which says why
            numbers.append(number.canonical)
    return Workspace(app, person_keys_of(app).batch(numbers) if numbers else None)


def apply_submission(sub: e.Envelope, work: Workspace, stamp: Stamp) -> Aggregate:
    """Run ``sub`` against the domain; return the aggregate it is about."""
    check_may_submit(sub.actor.committee, sub.type)  # type: ignore[attr-defined]
    handler = _HANDLERS[sub.type]  # type: ignore[attr-defined]
    return handler(sub, work, stamp)


def _file(sub: Any, work: Workspace, stamp: Stamp) -> Aggregate:
    p: e.ApplicationFiledPayload = sub.payload
    existing = work.find(case_id_to_uuid(sub.case_id))
    if existing is not None:
        assert isinstance(existing, HousingCase)
        raise TransitionNotAllowed(
            "application_filed",
            existing.state.value,
            allowed_case_events(existing.state),
        )
    try:
        number = parse_personnummer(p.applicant.personnummer, stamp.today)
    except ValueError as error:
        raise InvalidSubmission(
            "personnummer is not valid",
            details=[{"loc": "payload.applicant.personnummer", "problem": str(error)}],
        ) from None
    # Dates first, so a refused filing makes no data key; then the applicant
    # is sealed under the person's key before it reaches the domain (a new
    # key is stored with the batch's others, before the batch's events).
    check_dates(stamp, None, "case")
    applicant = work.keys.seal_applicant(
        sub.case_id, number.canonical, p.applicant.name
    )
    case = HousingCase.file(
        stamp,
        sub.case_id,
        applicant=applicant,
        household=p.household.model_dump(),
        gender=p.gender,
        birth_year=p.birth_year,
    )
    work.add(case)
    return case


def _acquire(sub: Any, work: Workspace, stamp: Stamp) -> Aggregate:
    p: e.ApartmentAcquiredPayload = sub.payload
    existing = work.find(apartment_id_to_uuid(sub.apartment_id))
    if existing is not None:
        assert isinstance(existing, Apartment)
        raise TransitionNotAllowed(
            "apartment_acquired",
            existing.state.value,
            allowed_apartment_events(existing.state),
        )
    apartment = Apartment.acquire(
        stamp,
        sub.apartment_id,
        landlord=p.landlord,
        landlord_org_no=p.landlord_org_no,
        district=p.district,
        rooms=p.rooms,
        monthly_rent_sek=p.monthly_rent_sek,
    )
    work.add(apartment)
    return apartment


def _on_case(
    command: Callable[[HousingCase, Any, Workspace, Stamp], None],
) -> Callable[[Any, Workspace, Stamp], Aggregate]:
    def handle(sub: Any, work: Workspace, stamp: Stamp) -> Aggregate:
        case = work.case(sub.case_id)
        command(case, sub.payload, work, stamp)
        return case

    return handle


def _execute(case: HousingCase, p: Any, work: Workspace, stamp: Stamp) -> None:
    case.ensure_allows("contract_executed")  # the case's state before the flat's
    case.execute(
        stamp, work.apartment(p.apartment_id), p.monthly_rent_sek, p.lease_starts_on
    )


def _convert(case: HousingCase, p: Any, work: Workspace, stamp: Stamp) -> None:
    case.ensure_allows("converted_to_first_hand")
    case.convert_to_first_hand(
        stamp, work.apartment(case.tenancy()), p.landlord_consented_on
    )


def _terminate(case: HousingCase, p: Any, work: Workspace, stamp: Stamp) -> None:
    case.ensure_allows("contract_terminated")
    case.terminate(stamp, work.apartment(case.tenancy()), p.reason)


def _delay(case: HousingCase, p: Any, work: Workspace, stamp: Stamp) -> None:
    # The rules first, so a refused fact seals nothing (and makes no key).
    case.ensure_allows("delay_reason_recorded")
    check_dates(stamp, case.last_occurred_on, "case")
    if p.offered_on is not None:
        check_offer_date(p.reason, p.offered_on, case.granted_on, stamp.occurred_on)
    note = _sealed_note(case, p.note, work, stamp)
    case.record_delay_reason(stamp, p.reason, note, p.offered_on)


def _follow_up(case: HousingCase, p: Any, work: Workspace, stamp: Stamp) -> None:
    case.ensure_allows("follow_up_recorded")
    check_dates(stamp, case.last_occurred_on, "case")
    case.record_follow_up(stamp, p.outcome, _sealed_note(case, p.note, work, stamp))


def _sealed_note(
    case: HousingCase, note: str | None, work: Workspace, stamp: Stamp
) -> dict[str, Any] | None:
    """``note`` sealed under the key of the case's person, like the applicant,
    so erasing that key erases the note too. A person whose key is already
    erased can have no note recorded (422: send the fact without it)."""
    if note is None:
        return None
    stored = case.applicant
    if crypto.is_sealed(stored):
        key_id, number = stored["key_id"], None
    else:  # an applicant recorded in clear, before encryption
        key_id = None
        number = parse_personnummer(stored["personnummer"], stamp.today).canonical
    sealed = work.keys.seal_note(case.case_id, key_id, number, note)
    if sealed is None:
        problem = "the person's data has been erased: no note can be kept"
        raise InvalidSubmission(
            "payload.note cannot be recorded: the person's personal data has "
            "been erased; send the fact without a note",
            details=[{"loc": "payload.note", "problem": problem}],
        )
    return sealed


def _return(sub: Any, work: Workspace, stamp: Stamp) -> Aggregate:
    apartment = work.apartment(sub.apartment_id)
    apartment.return_to_landlord(stamp, sub.payload.reason)
    return apartment


_HANDLERS: dict[str, Callable[[Any, Workspace, Stamp], Aggregate]] = {
    "application_filed": _file,
    "application_withdrawn": _on_case(lambda c, p, w, s: c.withdraw(s, p.reason)),
    "application_granted": _on_case(
        lambda c, p, w, s: c.grant(s, p.decision_id, p.intervention, p.basis)
    ),
    "application_rejected": _on_case(
        lambda c, p, w, s: c.reject(s, p.decision_id, p.reason)
    ),
    "delay_reason_recorded": _on_case(_delay),
    "grant_cancelled": _on_case(lambda c, p, w, s: c.cancel_grant(s, p.reason)),
    "contract_executed": _on_case(_execute),
    "follow_up_recorded": _on_case(_follow_up),
    "converted_to_first_hand": _on_case(_convert),
    "contract_terminated": _on_case(_terminate),
    "apartment_acquired": _acquire,
    "apartment_returned": _return,
}
