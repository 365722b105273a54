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
    "household_type": {
        "single_adult": "Ensamstående utan barn",
        "single_adult_with_children": "Ensamstående med barn",
        "adults": "Två eller fler vuxna utan barn",
        "adults_with_children": "Två eller fler vuxna med barn",
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
    # The oversight web (services.http.pages): who signed in, and the key
    # figures (nyckeltal) of the Översikt page.
    "role": {
        "ifn_officer": "Handläggare, IFN",
        "aln_officer": "Handläggare, ALN",
        "oversight": "Uppsikt (kommunstyrelsen)",
        "auditor": "Revisor",
        "admin": "Administratör",
    },
    "key_figure": {
        "executed_now": "Bor i socialt kontrakt",
        "granted_waiting": "Beviljade, ännu ej verkställda",
        "unexecuted_past_three_months": "Ej verkställda efter tre månader",
        "due_within_30_days": "Når tre månader inom 30 dagar",
        "granted_total": "Beviljade ansökningar, totalt",
        "converted_total": "Övergått till förstahandskontrakt, totalt",
        "terminated_total": "Avslutade kontrakt, totalt",
    },
    "purpose": {
        "handläggning": "Handläggning",
        "ivo_rapportering": "Rapportering till IVO",
        "registerutdrag": "Registerutdrag",
        "tillsyn": "Tillsyn",
        "rättelse": "Rättelse",
    },
    # -- the tables Boende answers (services.reporting.tables) ---------------
    # A table's column names: the Swedish headers of its CSV (lang=sv).
    "column": {
        # long tables (counts, apartments)
        "figure": "Uppgift",
        "group": "Grupp",
        "category": "Kategori",
        "count": "Antal",
        "value": "Värde",
        # per period (flows, lead times)
        "period": "Period",
        "filed": "Inkomna ansökningar",
        "granted": "Beviljade",
        "rejected": "Avslag",
        "withdrawn": "Återkallade ansökningar",
        "executed": "Verkställda",
        "converted": "Övergått till förstahandskontrakt",
        "terminated": "Avslutade kontrakt",
        "cancelled": "Beslut upphörda före verkställighet",
        "delays": "Orsaker till dröjsmål registrerade",
        "follow_ups": "Uppföljningar",
        "apartments_acquired": "Anskaffade lägenheter",
        "apartments_returned": "Återlämnade lägenheter",
        "interval": "Intervall",
        "median_days": "Median (dagar)",
        "p90_days": "90:e percentilen (dagar)",
        "max_days": "Längst (dagar)",
        # unexecuted decisions (the list on a day, the quarterly report)
        "section": "Avsnitt",
        "reference": "Referens",
        "decided_on": "Beslutsdatum",
        "deadline": "Sista dag för verkställighet",
        "intervention": "Insats",
        "gender": "Kön",
        "delay_reason": "Orsak till dröjsmål",
        "status_at_quarter_end": "Status vid kvartalets slut",
        "executed_or_ended_on": "Verkställt eller upphört",
        "end_reason": "Orsak till att beslutet upphört",
        "days_waiting": "Väntetid (dagar)",
        "days_left": "Dagar kvar till sista dag",
        # IVO's individual report (services.http.reports.ivo)
        "ivo_id": "IVO-id",
        "birth_date": "Födelsedatum",
        "ivo_digits": "Löpnummer (T + tre siffror)",
        "gender_coded": "Kön i löpnumret",
        "personal_data": "Personuppgifter",
        "decision_id": "Beslutsid",
        "report_kind": "Rapporttyp",
        "report_kind_on": "Verkställt eller avslutat den",
        "days_waited": "Väntetid (dagar)",
        "delay_reasons": "Orsaker till dröjsmål",
        "notes": "Anteckningar",
        "case_id": "Ärende-id",
        # the council's statistical report (services.http.reports.council)
        "measure": "Uppgift",
        "3_6": "3-6 månader",
        "7_9": "7-9 månader",
        "10_12": "10-12 månader",
        "13_17": "13-17 månader",
        "18_plus": "18 månader eller mer",
        "total": "Totalt",
        # the seed figures (services.http.figures) and the landlord register
        "breakdown": "Uppdelning",
        "households": "Hushåll",
        "adults": "Vuxna",
        "children": "Barn",
        "cohort": "Kvartal för verkställighet",
        "landlord": "Hyresvärd",
        "landlord_org_no": "Organisationsnummer",
        "district": "Område",
        "rooms": "Antal rum",
        "still_second_hand": "Bor kvar i socialt kontrakt",
        "converted_within_12_months": "Övergått inom 12 månader",
        "converted_within_24_months": "Övergått inom 24 månader",
        "days_to_conversion": "Dagar till förstahandskontrakt",
        "days_in_contract": "Dagar i kontraktet, de som bor kvar",
        "apartments": "Lägenheter",
        "occupied": "Uthyrda",
        "aln_pays": "ALN betalar hyresvärden (kr per månad)",
        "households_pay": "Hushållen betalar (kr per månad)",
        "difference_per_month": "Hushållen minus ALN (kr per månad)",
        "difference_per_occupied_apartment": "Hushållen minus ALN per uthyrd "
        "lägenhet (kr per månad)",
        "vacant_days": "Vakanta dagar",
        "cost_sek": "Kostnad (kr)",
        "org_no": "Organisationsnummer",
        "name": "Namn",
        "named_on": "Namnet från",
        "name_kind": "Namnets ursprung",
        "current": "Nuvarande namn",
    },
    # The part of a figure a column of two names holds (``days_to_conversion.
    # median_days``: its header is the figure's label, then the part's).
    "column_part": {
        "observed": "observerade så länge",
        "converted": "övergått",
        "share": "andel",
        "count": "antal",
        "median_days": "median (dagar)",
        "p90_days": "90:e percentilen (dagar)",
        "max_days": "längst (dagar)",
        "median": "median",
        "lowest": "lägsta",
        "highest": "högsta",
        "per_month": "summa",
    },
    # The provenance lines at the head of a CSV file.
    "provenance": {
        "report": "Rapport",
        "as_of_position": "Loggposition",
        "tree_size": "Händelser i loggen",
        "root_hash": "Rothash (Merkle)",
        "generated_at": "Skapad",
        "quarter": "Kvartal",
        "as_of": "Per dag",
        "known_at": "Känt per",
        "from": "Från",
        "to": "Till",
        "period": "Period",
        "preliminary": "Preliminär",
        "counted_to": "Räknat till",
        "public": "För publicering (små tal dolda)",
        "due_within": "Sista dag inom (dagar)",
        "by": "Uppdelat på",
        "threshold": "Små tal dolda under",
        "week": "Vecka",
    },
    # Which report a file is.
    "report": {
        "counts": "Ärenden och lägenheter per status",
        "flows": "Flöden per period",
        "lead_times": "Handläggningstider",
        "apartments": "Lägenhetsbestånd",
        "unexecuted": "Ej verkställda beslut efter tre månader",
        "unexecuted_quarterly": "Ej verkställda beslut, kvartalsrapport",
        "due_soon": "Beslut som snart når tre månader",
        "ivo": "IVO:s individrapport",
        "council": "Kommunfullmäktiges statistikrapport",
        "households": "Hushåll i sociala kontrakt (hemlöshetskartläggningen)",
        "first_hand": "Vägen till förstahandskontrakt",
        "rents": "Hyror",
        "vacancy": "Tomma lägenheter och deras kostnad",
        "landlords": "Hyresvärdsregistret",
    },
    # People in social contracts (/v1/oversight/households): the breakdowns,
    # and the applicant's age band.
    "household_breakdown": {
        "total": "Totalt",
        "by_gender": "Per kön",
        "by_household_type": "Per hushållstyp",
        "by_age_band": "Per åldersgrupp",
    },
    "age_band": {
        "0-17": "0-17 år",
        "18-24": "18-24 år",
        "25-34": "25-34 år",
        "35-44": "35-44 år",
        "45-54": "45-54 år",
        "55-64": "55-64 år",
        "65+": "65 år eller äldre",
    },
    # Months lived in a contract still second-hand (/v1/oversight/first-hand).
    "month_band": {
        "0-5": "0-5 månader",
        "6-11": "6-11 månader",
        "12-23": "12-23 månader",
        "24-35": "24-35 månader",
        "36+": "36 månader eller mer",
    },
    # A name in the landlord register: the first seen, or a later one.
    "landlord_name": {"first": "Första namnet i loggen", "rename": "Namnbyte"},
    # The figures of the long tables (counts, apartments: the CSV files).
    "table_figure": {
        "cases_by_state": "Ärenden per status",
        "filed_total": "Ansökningar totalt",
        "granted_total": "Beviljade totalt",
        "rejected_total": "Avslag totalt",
        "executed_total": "Verkställda totalt",
        "converted_total": "Övergått till förstahandskontrakt totalt",
        "terminated_total": "Avslutade kontrakt totalt",
        "terminations_by_reason": "Avslutade kontrakt per orsak",
        "apartments_by_state": "Lägenheter per status",
        "apartments_total": "Lägenheter totalt",
        "apartments_by_landlord": "Lägenheter per hyresvärd",
        "apartments_by_district": "Lägenheter per område",
        "current_vacancy_days": "Pågående vakanser (dagar)",
        "vacant_days_to_date": "Vakanta dagar hittills",
    },
    "measure": {
        "total": "Totalt",
        "count": "Antal",
        "mean": "Medelvärde",
        "median": "Median",
        "max": "Högsta",
    },
    # Lead times: from which fact to which.
    "interval": {
        "filing_to_decision": "Från ansökan till beslut",
        "decision_to_execution": "Från beslut till verkställighet",
        "execution_to_first_hand": "Från verkställighet till förstahandskontrakt",
    },
    # The quarterly report's sections and a decision's status in it.
    "section": {
        "new": "Nya ej verkställda beslut",
        "earlier_resolved": "Tidigare rapporterade, verkställda eller upphörda",
        "earlier_standing": "Tidigare rapporterade, fortfarande ej verkställda",
    },
    "report_status": {
        "unexecuted": "Ej verkställt",
        "executed": "Verkställt",
        "cancelled": "Upphört före verkställighet",
        "ended": "Upphört",
    },
    # IVO's individual report: the kind of each row, and whether the
    # person's data could be read (services.http.reports.ivo).
    "ivo_report_kind": {
        "new": "Ny rapportering",
        "re_report": "Upprepad rapportering",
        "executed": "Verkställt",
        "ended": "Avslutat av annan anledning",
    },
    "personal_data": {
        "readable": "Läsbara",
        "erased": "Raderade (födelsedatum och anteckningar saknas)",
        "unreadable": "Kan inte läsas",
    },
    # The council's statistical report (projections.council): time waited in
    # whole months, in IVO's bands, and the report's two tables.
    "waiting_band": {
        "3_6": "3-6 månader",
        "7_9": "7-9 månader",
        "10_12": "10-12 månader",
        "13_17": "13-17 månader",
        "18_plus": "18 månader eller mer",
    },
    "council_measure": {
        "unexecuted": "Ej verkställda beslut vid kvartalets slut",
        "executed_late": "Verkställda under kvartalet, efter mer än tre månader",
    },
    # A breakdown's group before the fact that sets it (by=intervention or
    # basis: a case has neither before its grant).
    "breakdown": {"none": "Före beslut"},
    # What a page's figures may be broken down by (the API's by=; none: not
    # broken down), as a page's form offers it.
    "breakdown_by": {
        "none": "Ingen",
        "gender": "Kön",
        "intervention": "Insats",
        "basis": "Beslutsgrund",
    },
    # A count withheld from published figures (services.reporting.suppression).
    "suppression": {
        "<5": "<5",
        "suppressed": "..",
    },
}


def label(kind: str, code: str) -> str:
    """The Swedish label of ``code`` in the code list ``kind``; the code
    itself when the list or the code is unknown."""
    return LABELS.get(kind, {}).get(code, code)
