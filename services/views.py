"""What the case and apartment endpoints show of an aggregate.

The case view leaves out the applicant (personal data): reading it comes with
roles, a stated purpose and the access log (the compliance work).
"""

from __future__ import annotations

from typing import Any

from domain.apartment import Apartment, allowed_apartment_events
from domain.case import HousingCase, allowed_case_events


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
