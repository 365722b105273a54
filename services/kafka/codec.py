"""Recorded events as Kafka messages on ``boende.events``, and back.

One message per recorded event:

- **key**: the sender's ``case_id`` or ``apartment_id`` (UTF-8), so one case's
  or apartment's events share a partition and keep their order;
- **value**: JSON, schema version 1::

    {"position": 42, "aggregate_type": "case", "aggregate_key": "c-2021-0042",
     "aggregate_id": "8967c53d-...", "version": 2, "type": "application_granted",
     "occurred_on": "2021-03-16", "recorded_at": "2026-11-25T04:28:05.714943+00:00",
     "committee": "IFN", "user": "handlaggare-17", "submission_id": "e060db1b-...",
     "payload": {"decision_id": "IFN-2021-311", "intervention": "socialt_kontrakt",
                 "basis": "assessment"}}

  ``payload`` holds the event's other fields, as in the submission envelope
  (dates as ISO text);
- **headers**: ``position`` (decimal text), ``event_type``, ``schema_version``
  (``1``) and ``topic`` (the ``eventsourcing`` topic of the event class,
  e.g. ``domain.case:HousingCase.Granted``).

Personal data never leaves the store this way: the filing event's
``applicant`` (personnummer, name) and the free-text ``note`` of a delay
reason or follow-up are left out of the message altogether, and
``to_domain_event`` gives them back as ``None``. (A later schema version may
carry the applicant encrypted with its per-person key.) Everything else round
trips exactly, so projections can follow Kafka instead of the store.

Who sent a fact stays in the store too: ``submitted_by`` (the authenticated
token's ``sub`` and issuer, which may be an employee id or a system account)
is for the audit trail, and no downstream system needs it, so it is left out
(``AUDIT_ONLY_FIELDS``); ``to_domain_event`` gives it back as ``None``. The
officer the case system named (``user``) travels as before.

Delivery is at least once: a consumer drops a message whose ``position`` it
has already processed.

Events are encoded as their class is now (the store upcasts on reading). When
an event class gains a ``class_version``, messages already on the topic keep
the old shape: bump ``SCHEMA_VERSION`` or upcast here, as the library's mapper
does for the store.
"""

from __future__ import annotations

import json
import typing
from collections.abc import Sequence
from datetime import UTC, date, datetime
from functools import cache
from typing import Any, NamedTuple
from uuid import UUID

from eventsourcing.domain import Aggregate
from eventsourcing.utils import get_topic, resolve_topic

from domain.apartment import Apartment
from domain.case import HousingCase

SCHEMA_VERSION = 1
#: Event fields that are personal data: never put on Kafka. ``note`` is the
#: free text of a delay reason or follow-up: sealed since it was introduced,
#: in clear in events recorded before, and needed by no read model.
PERSONAL_FIELDS = frozenset({"applicant", "note"})
#: Event fields kept for the auditors alone: never put on Kafka.
AUDIT_ONLY_FIELDS = frozenset({"submitted_by"})
#: Event fields carried in the value's envelope rather than its payload.
ENVELOPE_FIELDS = frozenset(
    {
        "timestamp",
        "originator_id",
        "originator_version",
        "originator_topic",
        "submission_id",
        "committee",
        "user",
        "occurred_on",
    }
)


class Kind(NamedTuple):
    """One aggregate type: its class, its events' base, its sender's key."""

    aggregate_class: type[Aggregate]
    event_base: type
    key_field: str


AGGREGATES: dict[str, Kind] = {
    "case": Kind(HousingCase, HousingCase.Event, "case_id"),
    "apartment": Kind(Apartment, Apartment.Event, "apartment_id"),
}

Headers = list[tuple[str, bytes]]


class UnsupportedMessage(ValueError):
    """A message this code cannot read: unknown schema version or headers."""


def encode_event(position: int, event: Any) -> tuple[bytes, bytes, Headers]:
    """The Kafka key, value and headers of the event recorded at ``position``."""
    aggregate_type = aggregate_type_of(event)
    key_field = AGGREGATES[aggregate_type].key_field
    key: str = getattr(event, key_field)
    skipped = ENVELOPE_FIELDS | PERSONAL_FIELDS | AUDIT_ONLY_FIELDS | {key_field}
    value = {
        "position": position,
        "aggregate_type": aggregate_type,
        "aggregate_key": key,
        "aggregate_id": str(event.originator_id),
        "version": event.originator_version,
        "type": event.type_name,
        "occurred_on": event.occurred_on.isoformat(),
        "recorded_at": event.timestamp.astimezone(UTC).isoformat(),
        "committee": event.committee,
        "user": event.user,
        "submission_id": event.submission_id,
        "payload": {
            name: _plain(field)
            for name, field in vars(event).items()
            if name not in skipped
        },
    }
    headers = [
        ("position", str(position).encode()),
        ("event_type", event.type_name.encode()),
        ("schema_version", str(SCHEMA_VERSION).encode()),
        ("topic", get_topic(type(event)).encode()),
    ]
    return key.encode(), json.dumps(value, ensure_ascii=False).encode(), headers


def decode_event(value: bytes, headers: Sequence[tuple[str, bytes]]) -> dict[str, Any]:
    """The message's JSON value, after checking its headers agree with it."""
    found = header_map(headers)
    if found.get("schema_version") != str(SCHEMA_VERSION):
        raise UnsupportedMessage(
            f"schema_version {found.get('schema_version')!r}, "
            f"this code reads {SCHEMA_VERSION}"
        )
    decoded: dict[str, Any] = json.loads(value)
    if found.get("position") != str(decoded["position"]):
        raise UnsupportedMessage("position header and value disagree")
    return decoded


def to_domain_event(value: bytes, headers: Sequence[tuple[str, bytes]]) -> Any:
    """The domain event a message carries: an instance of the recorded event's
    class with the same field values, except personal data (``None``)."""
    message = decode_event(value, headers)
    event_class = resolve_topic(header_map(headers)["topic"])
    kind = AGGREGATES[message["aggregate_type"]]
    hints = _field_types(event_class)
    state: dict[str, Any] = {
        name: _typed(hints.get(name), field)
        for name, field in message["payload"].items()
    }
    state |= {
        name: None for name in PERSONAL_FIELDS | AUDIT_ONLY_FIELDS if name in hints
    }
    state |= {
        kind.key_field: message["aggregate_key"],
        "submission_id": message["submission_id"],
        "committee": message["committee"],
        "user": message["user"],
        "occurred_on": date.fromisoformat(message["occurred_on"]),
        "timestamp": datetime.fromisoformat(message["recorded_at"]),
        "originator_id": UUID(message["aggregate_id"]),
        "originator_version": message["version"],
    }
    if issubclass(event_class, Aggregate.Created):
        state["originator_topic"] = get_topic(kind.aggregate_class)
    # As the library's mapper does: events are rebuilt, not re-constructed.
    event = object.__new__(event_class)
    event.__dict__.update(state)
    return event


def position_of(headers: Sequence[tuple[str, bytes]]) -> int:
    """The log position a message carries: what consumers deduplicate by."""
    return int(header_map(headers)["position"])


def header_map(headers: Sequence[tuple[str, bytes]]) -> dict[str, str]:
    return {name: raw.decode() for name, raw in headers}


def aggregate_type_of(event: Any) -> str:
    for aggregate_type, kind in AGGREGATES.items():
        if isinstance(event, kind.event_base):
            return aggregate_type
    raise TypeError(f"not a Boende event: {type(event).__name__}")


def _plain(field: Any) -> Any:
    return field.isoformat() if isinstance(field, date) else field


@cache
def _field_types(event_class: type) -> dict[str, Any]:
    return typing.get_type_hints(event_class)


def _typed(hint: Any, field: Any) -> Any:
    """Dates travel as ISO text; the class's annotation says which are dates."""
    if isinstance(field, str) and (hint is date or date in typing.get_args(hint)):
        return date.fromisoformat(field)
    return field
