"""The submission envelope of DOMAIN.md as strict pydantic models.

One model for both transports: HTTP bodies and Kafka message values are
validated here, from the same raw bytes, with the same errors. Unknown fields
anywhere are refused. Personal data (``applicant``, and the free-text
``note`` of a delay reason or follow-up) is only ever validated, never echoed
into an error.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Literal
from uuid import UUID

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, TypeAdapter

from domain.districts import DistrictList
from domain.orgnummer import parse_orgnummer
from services.errors import InvalidSubmission

#: Control characters (NUL, the rest of C0 and DEL) in text are refused: they
#: cannot be stored in PostgreSQL text, corrupt CSV and terminals, and no
#: case system means them. Free text (a note, a reason) may hold tab and
#: line breaks; a one-line text (a decision id, a landlord) none at all.
_CONTROL = frozenset(map(chr, [*range(0x20), 0x7F]))
_LINE_BREAKS = frozenset("\t\n\r")


def _one_line(text: str) -> str:
    if not _CONTROL.isdisjoint(text):
        raise ValueError(
            "control characters (NUL, tab, line breaks, C0) are not allowed"
        )
    return text


def _free_text(text: str) -> str:
    if not (_CONTROL - _LINE_BREAKS).isdisjoint(text):
        raise ValueError("control characters (NUL, C0) are not allowed")
    return text


Id = Annotated[str, Field(pattern=r"^[A-Za-z0-9_-]{1,64}$")]
Text = Annotated[str, Field(min_length=1, max_length=200), AfterValidator(_one_line)]
Note = Annotated[str, Field(max_length=2000), AfterValidator(_free_text)]
Sek = Annotated[int, Field(ge=0, le=1_000_000)]


class Strict(BaseModel):
    model_config = ConfigDict(strict=True, extra="forbid", frozen=True)


class Actor(Strict):
    committee: Literal["IFN", "ALN", "KS"]
    user: Annotated[str, Field(pattern=r"^[A-Za-z0-9._@-]{1,64}$")]


# -- payloads --------------------------------------------------------------


class Applicant(Strict):
    """Personal data: validated for shape only; the domain service checks it."""

    personnummer: Annotated[str, Field(min_length=10, max_length=13)]
    name: Text | None = None


class Household(Strict):
    adults: Annotated[int, Field(ge=1, le=20)]
    children: Annotated[int, Field(ge=0, le=30)]


class ApplicationFiledPayload(Strict):
    applicant: Applicant
    household: Household
    gender: Literal["woman", "man", "other", "unknown"]
    birth_year: Annotated[int, Field(ge=1900, le=2100)]


class ApplicationWithdrawnPayload(Strict):
    reason: Note | None = None


class ApplicationGrantedPayload(Strict):
    decision_id: Text
    intervention: Literal["socialt_kontrakt", "boendesocial_insats"]
    basis: Literal["assessment", "appeal"] = "assessment"


class ApplicationRejectedPayload(Strict):
    decision_id: Text
    reason: Note


class DelayReasonRecordedPayload(Strict):
    """Why a grant waits. ``offered_on``: the day of the offer the person
    declined, only with ``offer_declined`` (optional there, for senders and
    histories that do not have it). ``note``: free text for IVO, personal
    data, sealed before it is recorded."""

    reason: Literal[
        "no_apartment_available", "offer_declined", "client_unreachable", "other"
    ]
    note: Note | None = None
    offered_on: date | None = None


class GrantCancelledPayload(Strict):
    reason: Literal[
        "offer_declined", "own_housing_found", "moved_away", "deceased", "other"
    ]


class ContractExecutedPayload(Strict):
    apartment_id: Id
    monthly_rent_sek: Sek
    lease_starts_on: date


class FollowUpRecordedPayload(Strict):
    """``note``: free text, personal data, sealed before it is recorded."""

    outcome: Literal["on_track", "rent_arrears", "disturbance", "other"]
    note: Note | None = None


class ConvertedToFirstHandPayload(Strict):
    landlord_consented_on: date


class ContractTerminatedPayload(Strict):
    reason: Literal["eviction", "moved_out", "own_housing_found", "deceased", "other"]


#: A legal person's organisationsnummer, in its canonical form NNNNNN-NNNN
#: (``domain.orgnummer``; a sole trader's personnummer is refused).
OrgNo = Annotated[
    str, Field(min_length=10, max_length=11), AfterValidator(parse_orgnummer)
]


class ApartmentAcquiredPayload(Strict):
    """``landlord``: the name shown; ``landlord_org_no``: who the landlord
    is (figures group by it; leave it out for a sole trader); ``district``: a
    code or name of the configured list (``domain.districts``), checked by
    the submission service, which records the code."""

    landlord: Text
    landlord_org_no: OrgNo | None = None
    district: Text
    rooms: Annotated[int, Field(ge=1, le=12)]
    monthly_rent_sek: Sek


class ApartmentReturnedPayload(Strict):
    reason: Note | None = None


# -- envelopes -------------------------------------------------------------


class Envelope(Strict):
    submission_id: UUID
    occurred_on: date
    actor: Actor

    @property
    def aggregate_key(self) -> str:
        raise NotImplementedError


class CaseEnvelope(Envelope):
    case_id: Id

    @property
    def aggregate_key(self) -> str:
        return self.case_id


class ApartmentEnvelope(Envelope):
    apartment_id: Id

    @property
    def aggregate_key(self) -> str:
        return self.apartment_id


class ApplicationFiled(CaseEnvelope):
    type: Literal["application_filed"]
    payload: ApplicationFiledPayload


class ApplicationWithdrawn(CaseEnvelope):
    type: Literal["application_withdrawn"]
    payload: ApplicationWithdrawnPayload


class ApplicationGranted(CaseEnvelope):
    type: Literal["application_granted"]
    payload: ApplicationGrantedPayload


class ApplicationRejected(CaseEnvelope):
    type: Literal["application_rejected"]
    payload: ApplicationRejectedPayload


class DelayReasonRecorded(CaseEnvelope):
    type: Literal["delay_reason_recorded"]
    payload: DelayReasonRecordedPayload


class GrantCancelled(CaseEnvelope):
    type: Literal["grant_cancelled"]
    payload: GrantCancelledPayload


class ContractExecuted(CaseEnvelope):
    type: Literal["contract_executed"]
    payload: ContractExecutedPayload


class FollowUpRecorded(CaseEnvelope):
    type: Literal["follow_up_recorded"]
    payload: FollowUpRecordedPayload


class ConvertedToFirstHand(CaseEnvelope):
    type: Literal["converted_to_first_hand"]
    payload: ConvertedToFirstHandPayload


class ContractTerminated(CaseEnvelope):
    type: Literal["contract_terminated"]
    payload: ContractTerminatedPayload


class ApartmentAcquired(ApartmentEnvelope):
    type: Literal["apartment_acquired"]
    payload: ApartmentAcquiredPayload


class ApartmentReturned(ApartmentEnvelope):
    type: Literal["apartment_returned"]
    payload: ApartmentReturnedPayload


Submission = Annotated[
    ApplicationFiled
    | ApplicationWithdrawn
    | ApplicationGranted
    | ApplicationRejected
    | DelayReasonRecorded
    | GrantCancelled
    | ContractExecuted
    | FollowUpRecorded
    | ConvertedToFirstHand
    | ContractTerminated
    | ApartmentAcquired
    | ApartmentReturned,
    Field(discriminator="type"),
]
SUBMISSION = TypeAdapter[Envelope](Submission)
SUBMISSION_TYPES: tuple[str, ...] = (
    "application_filed",
    "application_withdrawn",
    "application_granted",
    "application_rejected",
    "delay_reason_recorded",
    "grant_cancelled",
    "contract_executed",
    "follow_up_recorded",
    "converted_to_first_hand",
    "contract_terminated",
    "apartment_acquired",
    "apartment_returned",
)


def district_coded(sub: Envelope, districts: DistrictList) -> Envelope:
    """``sub`` with its district as the configured list's code; 422
    ``invalid_submission`` listing the codes when it names none (as a code
    or a name, in any case and spacing). The list is the installation's, so
    this runs in the submission service, after the envelope's own checks."""
    district = getattr(getattr(sub, "payload", None), "district", None)
    if district is None:
        return sub
    code = districts.code_of(district)
    if code is None:
        allowed = districts.codes
        raise InvalidSubmission(
            "the district is not in the municipality's district list",
            details=[
                {
                    "loc": "payload.district",
                    "problem": "unknown district; allowed codes: " + ", ".join(allowed),
                }
            ],
            allowed=allowed,
        )
    payload = sub.payload.model_copy(update={"district": code})  # type: ignore[attr-defined]
    return sub.model_copy(update={"payload": payload})
