"""What each fact said, for the auditor's case trail — without the person.

The trail's rows (``projections.audit``) hold provenance; this adds each
event's ``submitted_by`` (the authenticated sender: token ``sub`` and
``iss``, beside the row's ``user``, the officer the sender named; null for
facts recorded before it was kept) and its ``payload``: only the fields
:data:`SHOWN` allows for its type (an allow-list, so a field added to a fact
stays out until someone decides it is not personal), and ``withheld``: the
names — never the values — of the other fields the fact holds. Withheld: the
applicant (personnummer and name, sealed), gender and birth year (about the
person), and every free text (the notes, and the reasons given for a
withdrawal, a rejection or a returned apartment, which the sender writes
freely). A field not yet named here is withheld too (a landlord's
organisation number, when it comes, may be a sole trader's personnummer).

The payload is read from the event store, not stored in the read model:
events never change, so a read by aggregate and version is always the one
the row describes; the allow-list can change without a rebuild; and the
read model keeps no more than provenance. A trail is a handful of events,
read with one query per aggregate.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from datetime import date
from typing import Any
from uuid import UUID

from domain.apartment import apartment_id_to_uuid
from domain.case import case_id_to_uuid
from infra.store import CaseLog

#: Event type -> the payload fields the audit trail shows.
SHOWN: dict[str, tuple[str, ...]] = {
    "application_filed": ("household",),
    "application_withdrawn": (),
    "application_granted": ("decision_id", "intervention", "basis"),
    "application_rejected": ("decision_id",),
    "delay_reason_recorded": ("reason", "offered_on"),
    "grant_cancelled": ("reason",),
    "contract_executed": ("apartment_id", "monthly_rent_sek", "lease_starts_on"),
    "follow_up_recorded": ("outcome",),
    "converted_to_first_hand": ("landlord_consented_on",),
    "contract_terminated": ("reason",),
    "personal_data_erased": ("rule", "erased_by"),
    "apartment_acquired": ("landlord", "district", "rooms", "monthly_rent_sek"),
    "apartment_returned": (),
    "apartment_occupied": ("case_id",),
    "apartment_vacated": ("case_id",),
    "apartment_transferred": ("case_id",),
}
#: Fields every row already shows (or the library's own): never payload.
PROVENANCE = frozenset(
    {
        "originator_id",
        "originator_version",
        "originator_topic",
        "timestamp",
        "submission_id",
        "committee",
        "user",
        "occurred_on",
        "submitted_by",
    }
)
_ID_FIELD = {"case": "case_id", "apartment": "apartment_id"}


def content(event: Any, aggregate_type: str) -> dict[str, Any]:
    """``payload`` (the allowed fields, JSON-ready) and ``withheld`` (the
    names of the fact's other fields that hold a value) of one event."""
    allowed = SHOWN.get(getattr(event, "type_name", ""), ())
    own = PROVENANCE | {_ID_FIELD.get(aggregate_type, "")}
    names = [f.name for f in dataclasses.fields(event) if f.name not in own]
    held = {name: getattr(event, name) for name in names}
    payload = {n: _json(v) for n, v in held.items() if n in allowed}
    withheld = sorted(n for n, v in held.items() if n not in allowed and v is not None)
    submitter = getattr(event, "submitted_by", None)
    return {
        "submitted_by": dict(submitter) if submitter else None,
        "payload": payload,
        "withheld": withheld,
    }


def with_content(app: CaseLog, rows: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """The trail's rows, each with its event's :func:`content` read from the
    store (``null`` for an event the store does not hold: a read model
    ahead of this store)."""
    versions: dict[tuple[str, str], list[int]] = {}
    for row in rows:
        aggregate = (row["aggregate_type"], row["aggregate_id"])
        versions.setdefault(aggregate, []).append(row["version"])
    found: dict[tuple[str, str, int], dict[str, Any]] = {}
    for (kind, key), held in versions.items():
        stored = app.recorder.select_events(
            _uuid(kind, key), gt=min(held) - 1, lte=max(held)
        )
        for event in map(app.mapper.to_domain_event, stored):
            found[(kind, key, event.originator_version)] = content(event, kind)
    empty = {"submitted_by": None, "payload": None, "withheld": None}
    return [
        {
            **row,
            **found.get(
                (row["aggregate_type"], row["aggregate_id"], row["version"]), empty
            ),
        }
        for row in rows
    ]


def _uuid(aggregate_type: str, key: str) -> UUID:
    if aggregate_type == "case":
        return case_id_to_uuid(key)
    return apartment_id_to_uuid(key)


def _json(value: Any) -> Any:
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, dict):
        return {k: _json(v) for k, v in value.items()}
    return value
