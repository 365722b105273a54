"""One example submission per event type: shown in OpenAPI at ``/docs`` and
used by the tests as the canonical valid payload of each type."""

from __future__ import annotations

from typing import Any

#: A fictitious but valid personnummer (Luhn-checked), for examples only.
EXAMPLE_PERSONNUMMER = "19850317-1236"
#: A fictitious but valid organisationsnummer (a limited company's, Luhn-checked).
EXAMPLE_ORG_NO = "556677-8899"

PAYLOADS: dict[str, dict[str, Any]] = {
    "application_filed": {
        "applicant": {"personnummer": EXAMPLE_PERSONNUMMER, "name": "Test Testsson"},
        "household": {"adults": 1, "children": 2},
        "gender": "woman",
        "birth_year": 1985,
    },
    "application_withdrawn": {"reason": "found housing elsewhere"},
    "application_granted": {
        "decision_id": "IFN-2021-311",
        "intervention": "socialt_kontrakt",
    },
    "application_rejected": {"decision_id": "IFN-2021-312", "reason": "needs not met"},
    "delay_reason_recorded": {"reason": "no_apartment_available"},
    "grant_cancelled": {"reason": "own_housing_found"},
    "contract_executed": {
        "apartment_id": "apt-0007",
        "monthly_rent_sek": 6400,
        "lease_starts_on": "2021-05-01",
    },
    "follow_up_recorded": {"outcome": "on_track"},
    "converted_to_first_hand": {"landlord_consented_on": "2022-06-01"},
    "contract_terminated": {"reason": "moved_out"},
    "apartment_acquired": {
        "landlord": "AB Bostäder",
        "landlord_org_no": EXAMPLE_ORG_NO,
        "district": "norrby",
        "rooms": 2,
        "monthly_rent_sek": 6400,
    },
    "apartment_returned": {"reason": "landlord needs it back"},
}

COMMITTEE_OF = {t: "ALN" if t.startswith("apartment_") else "IFN" for t in PAYLOADS}


def example(event_type: str, **overrides: Any) -> dict[str, Any]:
    """A complete, valid envelope of ``event_type``."""
    envelope: dict[str, Any] = {
        "submission_id": "5b0e7c1e-3f8e-4d0b-9a51-2f6f0a1d9c11",
        "type": event_type,
        "occurred_on": "2021-03-15",
        "actor": {"committee": COMMITTEE_OF[event_type], "user": "handlaggare-17"},
        "payload": PAYLOADS[event_type],
    }
    if event_type.startswith("apartment_"):
        envelope["apartment_id"] = "apt-0007"
    else:
        envelope["case_id"] = "c-2021-0042"
    envelope.update(overrides)
    return envelope


OPENAPI_EXAMPLES = {t: {"summary": t, "value": example(t)} for t in PAYLOADS}
