"""Swedish labels for the codes Boende answers with: ONE table, used by the
CSV files (``lang=sv``), the reports and the web pages.

The API's codes stay English (``application_granted``, ``offer_declined``);
what the municipality reads is Swedish. Every code list the contract
(``DOMAIN.md``) names has its entry here, and ``tests/unit/test_labels.py``
checks that none is missing: a new code without a label fails the suite.

``label(kind, code)`` answers the Swedish label, or the code itself for a
code the table does not know (a report never fails over a label).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Final

#: code list -> code -> Swedish label.
LABELS: Final[Mapping[str, Mapping[str, str]]] = {
    "event_type": {
        "application_filed": "Ansökan inkommen",
        "application_withdrawn": "Ansökan återkallad",
        "application_granted": "Beviljad",
        "application_rejected": "Avslagen",
        "delay_reason_recorded": "Orsak till dröjsmål",
        "grant_cancelled": "Beslut upphört",
        "contract_executed": "Verkställt (inflyttning)",
        "follow_up_recorded": "Uppföljning",
        "converted_to_first_hand": "Övergått till förstahandskontrakt",
        "contract_terminated": "Kontrakt avslutat",
        "apartment_acquired": "Lägenhet anskaffad",
        "apartment_returned": "Lägenhet återlämnad",
        "apartment_occupied": "Lägenhet uthyrd",
        "apartment_vacated": "Lägenhet ledig",
        "apartment_transferred": "Lägenhet överlåten till hyresgästen",
        "personal_data_erased": "Personuppgifter raderade",
    },
    "case_state": {
        "filed": "Inkommen",
        "withdrawn": "Återkallad",
        "granted": "Beviljad, ej verkställd",
        "rejected": "Avslagen",
        "cancelled": "Upphört före verkställighet",
        "executed": "Bor i socialt kontrakt",
        "converted": "Förstahandskontrakt",
        "terminated": "Avslutat kontrakt",
    },
    "apartment_state": {
        "available": "Ledig",
        "occupied": "Uthyrd",
        "returned": "Återlämnad till hyresvärd",
        "transferred": "Överlåten till hyresgästen",
    },
    "intervention": {
        "socialt_kontrakt": "Socialt kontrakt",
        "boendesocial_insats": "Boendesocial insats",
    },
    "basis": {
        "assessment": "Beslut efter utredning",
        "appeal": "Beviljad efter överklagande",
    },
    "gender": {
        "woman": "Kvinna",
        "man": "Man",
        "other": "Annat",
        "unknown": "Uppgift saknas",
    },
    "delay_reason": {
        "no_apartment_available": "Ingen lägenhet tillgänglig",
        "offer_declined": "Erbjudande avböjt",
        "client_unreachable": "Den enskilde har inte gått att nå",
        "other": "Annan orsak",
    },
    "cancel_reason": {
        "offer_declined": "Erbjudande avböjt",
        "own_housing_found": "Har ordnat eget boende",
        "moved_away": "Flyttat från kommunen",
        "deceased": "Avliden",
        "other": "Annan orsak",
    },
    "follow_up_outcome": {
        "on_track": "Fungerar väl",
        "rent_arrears": "Hyresskuld",
        "disturbance": "Störningar",
        "other": "Annat",
    },
    "termination_reason": {
        "eviction": "Uppsägning (avhysning)",
        "moved_out": "Flyttat",
        "own_housing_found": "Har ordnat eget boende",
        "deceased": "Avliden",
        "other": "Annan orsak",
    },
    "committee": {
        "IFN": "Individ- och familjenämnden",
        "ALN": "Arbetsmarknadsnämnden",
        "KS": "Kommunstyrelsen",
    },
    "period": {"month": "Månad", "quarter": "Kvartal", "year": "År"},
    "purpose": {
        "handläggning": "Handläggning",
        "ivo_rapportering": "Rapportering till IVO",
        "registerutdrag": "Registerutdrag",
        "tillsyn": "Tillsyn",
        "rättelse": "Rättelse",
    },
}


def label(kind: str, code: str) -> str:
    """The Swedish label of ``code`` in the code list ``kind``; the code
    itself when the list or the code is unknown."""
    return LABELS.get(kind, {}).get(code, code)
