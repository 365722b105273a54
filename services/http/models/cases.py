"""The answers of ``GET /v1/cases/{case_id}``, ``.../applicant`` and
``GET /v1/apartments/{apartment_id}``: one aggregate's state and history."""

from __future__ import annotations

from typing import Annotated

from pydantic import Field

from services.http.models.common import Answer, Code, Day, Moment


class HistoryEntry(Answer):
    """One fact of the aggregate, in order."""

    type: Code = Field(description="the event type")
    state: Code = Field(description="the state after it")
    occurred_on: Day
    recorded_at: Moment
    version: int


class CaseHousehold(Answer):
    adults: int
    children: int


#: A remark's note: only with X-Purpose (logged); null once erased.
Note = Annotated[
    str | None, Field(description="only with X-Purpose (logged): the note")
]


class DelayReason(Answer):
    """A delay reason: its code and days, whether it has a note, and the
    note itself only with ``X-Purpose``."""

    reason: Code
    occurred_on: Day
    has_note: bool
    offered_on: Day | None = Field(description="the offer's day (offer_declined)")
    note: Note = None


class FollowUpOutcome(Answer):
    """A follow-up: as a delay reason, without an offer."""

    outcome: Code
    occurred_on: Day
    has_note: bool
    note: Note = None


class CaseView(Answer):
    """A case without personal data: state, allowed next facts, history."""

    case_id: str
    state: Code
    version: int
    allowed_next: list[Code] = Field(description="event types allowed now")
    filed_on: Day
    household: CaseHousehold | None
    gender: Code | None
    birth_year: int | None
    decision_id: str | None
    intervention: Code | None
    granted_on: Day | None
    latest_delay_reason: Code | None
    delay_reasons: list[DelayReason]
    follow_up_outcomes: list[FollowUpOutcome]
    apartment_id: str | None
    executed_on: Day | None
    ended_on: Day | None
    follow_ups: int
    history: list[HistoryEntry]
    notes_access_id: int | None = Field(
        default=None,
        description="only with X-Purpose: the access-log entry of the notes' read",
    )


class ApartmentView(Answer):
    """An apartment: state, allowed next facts, landlord, tenant, history."""

    apartment_id: str
    state: Code
    version: int
    allowed_next: list[Code]
    landlord: str
    district: str
    rooms: int
    monthly_rent_sek: int
    tenant_case_id: str | None
    history: list[HistoryEntry]


class ApplicantData(Answer):
    """Personal data, decrypted for this read."""

    name: str | None = None
    personnummer: str


class ApplicantRead(Answer):
    """The applicant, read with a stated purpose and logged first."""

    case_id: str
    applicant: ApplicantData | None = Field(description="null once erased")
    erased: bool
    access_id: int = Field(description="the access-log entry of this read")
