"""``GET /v1/cases/{case_id}`` and ``GET /v1/apartments/{apartment_id}``:
one aggregate's current state and history, loaded from the event store.

The case view leaves out the applicant (personal data): reading it comes with
roles, a stated purpose and the access log (``services.http.access``).
"""

from __future__ import annotations

from typing import Any

from eventsourcing.application import AggregateNotFoundError
from eventsourcing.persistence import PersistenceError
from fastapi import APIRouter

from domain.apartment import Apartment, allowed_apartment_events, apartment_id_to_uuid
from domain.case import HousingCase, allowed_case_events, case_id_to_uuid
from services.bootstrap import Boende
from services.errors import NotFoundError, StoreUnavailable
from services.http.deps import BoendeDep

router = APIRouter(prefix="/v1", tags=["cases"])


#: What a read of one aggregate may answer besides 200, for the OpenAPI document.
LOAD_RESPONSES: dict[int | str, dict[str, Any]] = {
    404: {"description": "not_found: no such case or apartment"},
    503: {"description": "unavailable: the event store is unreachable; retry"},
}


@router.get(
    "/cases/{case_id}",
    summary="A case's current state and history",
    responses=LOAD_RESPONSES,
)
def get_case(case_id: str, boende: BoendeDep) -> dict[str, Any]:
    case = _load(boende, case_id_to_uuid(case_id), f"no case {case_id}")
    assert isinstance(case, HousingCase)
    return case_view(case)


@router.get(
    "/apartments/{apartment_id}",
    summary="An apartment's state and history",
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
