"""The apartment (``Apartment``): second-hand stock acquired by ALN.

ALN acquires an apartment from a landlord (``bostadsanskaffning``) and may
return it while it stands empty. A case's execution occupies it, a
termination frees it, and a conversion to first-hand transfers it out of the
municipality's stock. Only ``apartment_acquired`` and ``apartment_returned``
are submitted directly; the other three facts ride on a case's submission and
are saved with it atomically.
"""

from __future__ import annotations

from datetime import date
from enum import StrEnum
from typing import Any, ClassVar
from uuid import UUID, uuid5

from eventsourcing.domain import Aggregate

from domain.errors import TransitionNotAllowed
from domain.facts import Fact, Stamp, check_dates

APARTMENT_NAMESPACE = UUID("2f6b8d41-93c7-4e0a-b5d2-7c1e8a9f0b64")


class ApartmentState(StrEnum):
    AVAILABLE = "available"
    OCCUPIED = "occupied"
    RETURNED = "returned"
    TRANSFERRED = "transferred"


A = ApartmentState
#: Submittable apartment events -> {state they may follow: state they lead to}.
APARTMENT_TRANSITIONS: dict[str, dict[ApartmentState, ApartmentState]] = {
    "apartment_acquired": {},
    "apartment_returned": {A.AVAILABLE: A.RETURNED},
}


def apartment_id_to_uuid(apartment_id: str) -> UUID:
    return uuid5(APARTMENT_NAMESPACE, apartment_id)


def allowed_apartment_events(state: ApartmentState) -> list[str]:
    return [t for t, moves in APARTMENT_TRANSITIONS.items() if state in moves]


class Apartment(Aggregate):
    """A second-hand apartment in the municipality's stock."""

    apartment_id: str
    state: ApartmentState
    landlord: str
    landlord_org_no: str | None
    district: str
    rooms: int
    monthly_rent_sek: int

    class Event(Fact):
        type_name: ClassVar[str] = ""
        apartment_id: str  # the sender's id, on every fact: for readers of the log

        def apply(self, aggregate: Any) -> None:
            apartment: Apartment = aggregate
            self.change(apartment)
            apartment.last_occurred_on = self.occurred_on
            apartment.history.append(
                {
                    "type": self.type_name,
                    "state": apartment.state.value,
                    "occurred_on": self.occurred_on,
                    "recorded_at": self.timestamp,
                    "version": self.originator_version,
                }
            )

        def change(self, apartment: Apartment) -> None:
            """Assign the fact's consequences; never check rules here."""

    class Acquired(Aggregate.Created, Event):
        type_name: ClassVar[str] = "apartment_acquired"
        class_version: ClassVar[int] = 2
        landlord: str
        #: The landlord's organisationsnummer (``domain.orgnummer``), or None:
        #: a sole trader, or a fact recorded before version 2.
        landlord_org_no: str | None
        district: str
        rooms: int
        monthly_rent_sek: int

        @staticmethod
        def upcast_v1_v2(state: dict[str, Any]) -> None:
            state["landlord_org_no"] = None  # version 1 named the landlord only

        def change(self, apartment: Apartment) -> None:
            apartment.apartment_id = self.apartment_id
            apartment.state = A.AVAILABLE
            apartment.landlord = self.landlord
            apartment.landlord_org_no = self.landlord_org_no
            apartment.district = self.district
            apartment.rooms = self.rooms
            apartment.monthly_rent_sek = self.monthly_rent_sek

    class Returned(Event):
        type_name: ClassVar[str] = "apartment_returned"
        reason: str | None

        def change(self, apartment: Apartment) -> None:
            apartment.state = A.RETURNED

    class Occupied(Event):
        type_name: ClassVar[str] = "apartment_occupied"
        case_id: str

        def change(self, apartment: Apartment) -> None:
            apartment.state = A.OCCUPIED
            apartment.tenant_case_id = self.case_id

    class Vacated(Event):
        type_name: ClassVar[str] = "apartment_vacated"
        case_id: str

        def change(self, apartment: Apartment) -> None:
            apartment.state = A.AVAILABLE
            apartment.tenant_case_id = None

    class Transferred(Event):
        type_name: ClassVar[str] = "apartment_transferred"
        case_id: str

        def change(self, apartment: Apartment) -> None:
            apartment.state = A.TRANSFERRED
            apartment.tenant_case_id = None

    def __init__(self) -> None:
        self.history: list[dict[str, Any]] = []
        self.last_occurred_on: date | None = None
        self.tenant_case_id: str | None = None

    @classmethod
    def acquire(
        cls,
        stamp: Stamp,
        apartment_id: str,
        landlord: str,
        district: str,
        rooms: int,
        monthly_rent_sek: int,
        landlord_org_no: str | None = None,
    ) -> Apartment:
        check_dates(stamp, None, "apartment")
        return cls._create(
            cls.Acquired,
            id=apartment_id_to_uuid(apartment_id),
            apartment_id=apartment_id,
            landlord=landlord,
            landlord_org_no=landlord_org_no,
            district=district,
            rooms=rooms,
            monthly_rent_sek=monthly_rent_sek,
            **stamp.fields(),
        )

    def _record(self, event_class: type[Event], stamp: Stamp, **fields: Any) -> None:
        self.trigger_event(
            event_class, apartment_id=self.apartment_id, **fields, **stamp.fields()
        )

    def can_be_occupied(self) -> bool:
        return self.state is A.AVAILABLE

    def return_to_landlord(self, stamp: Stamp, reason: str | None) -> None:
        if self.state is not A.AVAILABLE:
            raise TransitionNotAllowed(
                "apartment_returned",
                self.state.value,
                allowed_apartment_events(self.state),
            )
        check_dates(stamp, self.last_occurred_on, "apartment")
        self._record(self.Returned, stamp, reason=reason)

    # The three below are consequences of a case's fact: the case has already
    # checked them (availability, dates), so they only record.

    def occupy(self, stamp: Stamp, case_id: str) -> None:
        self._record(self.Occupied, stamp, case_id=case_id)

    def vacate(self, stamp: Stamp, case_id: str) -> None:
        self._record(self.Vacated, stamp, case_id=case_id)

    def transfer(self, stamp: Stamp, case_id: str) -> None:
        self._record(self.Transferred, stamp, case_id=case_id)
