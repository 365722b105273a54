"""``GET /v1/cases/{case_id}`` and ``GET /v1/apartments/{apartment_id}``:
one aggregate's current state and history, loaded from the event store.

The case view leaves out the applicant (personal data): reading it comes with
roles, a stated purpose and the access log (``services.http.access``). Its
delay reasons and follow-ups show their codes and dates; their free-text
notes only to a caller who states a purpose (``X-Purpose``), logged first.
"""

from __future__ import annotations

from typing import Annotated, Any

from eventsourcing.application import AggregateNotFoundError
from eventsourcing.persistence import PersistenceError
from fastapi import APIRouter, Header, Request

from domain.apartment import Apartment, allowed_apartment_events, apartment_id_to_uuid
from domain.case import HousingCase, allowed_case_events, case_id_to_uuid
from infra import metrics
from infra.person_keys import person_keys_of
from services.bootstrap import Boende
from services.errors import NotFoundError, StoreUnavailable
from services.http.access import log_read, purpose_label, stated_purpose
from services.http.authz import PrincipalDep
from services.http.deps import BoendeDep
from services.http.models.cases import ApartmentView, CaseView

router = APIRouter(prefix="/v1", tags=["cases"])


#: What a read of one aggregate may answer besides 200, for the OpenAPI document.
LOAD_RESPONSES: dict[int | str, dict[str, Any]] = {
    404: {"description": "not_found: no such case or apartment"},
    503: {"description": "unavailable: the event store is unreachable; retry"},
}


@router.get(
    "/cases/{case_id}",
    summary="A case's current state and history",
    response_model=CaseView,
    response_model_exclude_unset=True,
    responses=LOAD_RESPONSES,
)
def get_case(
    case_id: str,
    request: Request,
    boende: BoendeDep,
    principal: PrincipalDep,
    x_purpose: Annotated[
        str | None,
        Header(
            alias="X-Purpose",
            description="only to read the notes: why (logged first)",
        ),
    ] = None,
) -> dict[str, Any]:
    """The case without personal data: each delay reason and follow-up with
    its code and dates, and ``has_note``. With ``X-Purpose`` the notes
    themselves too (free text is personal data): the read is logged in the
    access log first, like the applicant's (``services.http.access``), and
    ``notes_access_id`` names the entry; a note of an erased person is null."""
    case = _load(boende, case_id_to_uuid(case_id), f"no case {case_id}")
    assert isinstance(case, HousingCase)
    view = case_view(case)
    if x_purpose is None:
        return view
    purpose = stated_purpose(request, x_purpose)
    try:
        entry = log_read(request, principal.sub, case_id, purpose)
    except PersistenceError:
        raise StoreUnavailable(
            "the access log is unreachable, so no note was read; retry later"
        ) from None
    keys = person_keys_of(boende.app)
    for remark, shown in _remarks(case, view):
        shown["note"] = keys.decrypt_note(remark["note"], case_id)
    metrics.PERSONAL_DATA_READS.labels(purpose_label(purpose)).inc()
    return view | {"notes_access_id": entry.id}


@router.get(
    "/apartments/{apartment_id}",
    summary="An apartment's state and history",
    response_model=ApartmentView,
    response_model_exclude_unset=True,
    responses=LOAD_RESPONSES,
)
def get_apartment(apartment_id: str, boende: BoendeDep) -> dict[str, Any]:
    apartment = _load(
        boende, apartment_id_to_uuid(apartment_id), f"no apartment {apartment_id}"
    )
    assert isinstance(apartment, Apartment)
    return apartment_view(apartment)


def _load(boende: Boende, aggregate_id: Any, missing: str) -> Any:
    try:
        return boende.app.repository.get(aggregate_id)
    except AggregateNotFoundError:
        raise NotFoundError(missing) from None
    except PersistenceError:
        raise StoreUnavailable("the event store is unreachable; retry later") from None


def case_view(case: HousingCase) -> dict[str, Any]:
    return {
        "case_id": case.case_id,
        "state": case.state.value,
        "version": case.version,
        "allowed_next": allowed_case_events(case.state),
        "filed_on": case.filed_on.isoformat(),
        "household": case.household,
        "gender": case.gender,
        "birth_year": case.birth_year,
        "decision_id": case.decision_id,
        "intervention": case.intervention,
        "granted_on": _iso(case.granted_on),
        "latest_delay_reason": case.delay_reason,
        "delay_reasons": [
            _remark(r, "reason") | {"offered_on": _iso(r["offered_on"])}
            for r in case.delay_reasons
        ],
        "follow_up_outcomes": [_remark(r, "outcome") for r in case.follow_up_outcomes],
        "apartment_id": case.apartment_id,
        "executed_on": _iso(case.executed_on),
        "ended_on": _iso(case.ended_on),
        "follow_ups": case.follow_ups,
        "history": [_history(h) for h in case.history],
    }


def apartment_view(apartment: Apartment) -> dict[str, Any]:
    return {
        "apartment_id": apartment.apartment_id,
        "state": apartment.state.value,
        "version": apartment.version,
        "allowed_next": allowed_apartment_events(apartment.state),
        "landlord": apartment.landlord,
        "district": apartment.district,
        "rooms": apartment.rooms,
        "monthly_rent_sek": apartment.monthly_rent_sek,
        "tenant_case_id": apartment.tenant_case_id,
        "history": [_history(h) for h in apartment.history],
    }


def _remark(remark: dict[str, Any], code_name: str) -> dict[str, Any]:
    """A delay reason or follow-up without its note: whether it has one."""
    return {
        code_name: remark["code"],
        "occurred_on": remark["occurred_on"].isoformat(),
        "has_note": remark["note"] is not None,
    }


def _remarks(
    case: HousingCase, view: dict[str, Any]
) -> list[tuple[dict[str, Any], dict[str, Any]]]:
    """Each remark with a note, beside its entry in ``view``."""
    pairs = [
        *zip(case.delay_reasons, view["delay_reasons"], strict=True),
        *zip(case.follow_up_outcomes, view["follow_up_outcomes"], strict=True),
    ]
    return [(remark, shown) for remark, shown in pairs if remark["note"] is not None]


def _history(entry: dict[str, Any]) -> dict[str, Any]:
    return {
        "type": entry["type"],
        "state": entry["state"],
        "occurred_on": entry["occurred_on"].isoformat(),
        "recorded_at": entry["recorded_at"].isoformat(),
        "version": entry["version"],
    }


def _iso(value: Any) -> str | None:
    return value.isoformat() if value is not None else None
