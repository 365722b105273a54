"""A bundle's events for people: ``boende audit show DIR [--position N]``.

Each line of ``events.jsonl`` is an event as stored, its state base64; this
prints it as position, type, aggregate, dates, both names of who — the actor
(the officer the sender named) and who submitted it (the verified token's
``sub`` and issuer; "not recorded" for facts from before) — and payload.
Nothing is decrypted: a sealed value (the applicant's personnummer and name)
is shown as sealed, with its key id and the start of its ciphertext (all of
it for one ``--position``). Reading is not verifying: ``verify-bundle`` says
what the signed heads prove.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Iterator
from functools import cache
from typing import Any

from services.audit.bundle import EVENT_FIELDS

#: Fields of every stored event that the header lines show, not the payload
#: (beside the aggregate's own id: ``case_id`` or ``apartment_id``).
PROVENANCE = {
    "timestamp",
    "originator_topic",
    "submission_id",
    "committee",
    "user",
    "occurred_on",
    "submitted_by",
}
#: Topic prefix -> the aggregate's name and the field holding its id.
AGGREGATES = {
    "domain.case:": ("case", "case_id"),
    "domain.apartment:": ("apartment", "apartment_id"),
}
CIPHERTEXT_SHOWN = 16  # characters of a sealed value's ciphertext in a listing


@cache
def type_names() -> dict[str, str]:
    """Stored topic (``domain.case:HousingCase.Granted``) -> event type
    (``application_granted``), from the domain's own classes: a fixed table,
    so no name read from a bundle is ever imported."""
    from eventsourcing.utils import get_topic

    from projections.audit import APARTMENT_FACTS, CASE_FACTS

    facts: list[Any] = [*CASE_FACTS, *APARTMENT_FACTS]
    return {get_topic(fact): fact.type_name for fact in facts}


def describe(line: bytes, full: bool = False) -> list[str]:
    """The text lines that show one event line; raises ValueError if it is
    not an event at all (``verify-bundle`` names what is wrong with it)."""
    event = json.loads(line)
    if not isinstance(event, dict) or set(event) != EVENT_FIELDS:
        raise ValueError("not an event")
    topic = str(event.get("topic", "?"))
    try:
        state = json.loads(base64.b64decode(event["state"], validate=True))
    except (KeyError, TypeError, ValueError, binascii.Error):
        state = None
    kind = type_names().get(topic, f"(unknown type {topic})")
    head = [f"position {event['position']}  {kind}"]
    aggregate = (
        f"{event.get('originator_id')} version {event.get('originator_version')}"
    )
    if not isinstance(state, dict):
        return [*head, f"  aggregate   {aggregate}", "  state       not JSON"]
    name, id_field = _aggregate(topic)
    label = f"{name} {state.get(id_field)}, " if name else ""
    return [
        *head,
        f"  aggregate   {label}{aggregate}",
        f"  occurred    {_plain(state.get('occurred_on'))}",
        f"  recorded    {_plain(state.get('timestamp'))}",
        f"  actor       {state.get('committee')} / {state.get('user')}",
        f"  submitted   {_submitter(state.get('submitted_by'))}",
        f"  submission  {state.get('submission_id')}",
        *_payload(state, PROVENANCE | {id_field}, full),
    ]


def _submitter(recorded: Any) -> str:
    """``sub (issuer iss)`` of who submitted a fact, as recorded."""
    if not isinstance(recorded, dict):
        return "not recorded (a fact from before senders were kept)"
    issuer = recorded.get("iss")
    return f"{recorded.get('sub')}" + (f" (issuer {issuer})" if issuer else "")


def _aggregate(topic: str) -> tuple[str, str]:
    """The aggregate's name and its id field ("" for an unknown topic)."""
    for prefix, named in AGGREGATES.items():
        if topic.startswith(prefix):
            return named
    return "", ""


def _payload(state: dict[str, Any], shown: set[str], full: bool) -> Iterator[str]:
    fields = {k: v for k, v in state.items() if k not in shown}
    if not fields:
        yield "  payload     (none)"
        return
    yield "  payload"
    width = max(len(name) for name in fields) + 2
    for name, value in sorted(fields.items()):
        yield f"    {name:<{width}}{_value(value, full)}"


def _value(value: Any, full: bool) -> str:
    if _sealed(value):
        text = str(value["ciphertext"])
        shown = text if full or len(text) <= CIPHERTEXT_SHOWN else f"{text[:16]}..."
        return f"sealed ({value.get('alg')}, key {value.get('key_id')}): {shown}"
    plain = _plain(value)
    if isinstance(plain, str):
        return plain
    return json.dumps(plain, ensure_ascii=False, sort_keys=True)


def _sealed(value: Any) -> bool:
    return isinstance(value, dict) and "ciphertext" in value and "nonce" in value


def _plain(value: Any) -> Any:
    """A stored value without the library's type wrapping
    (``{"_type_": "date_iso", "_data_": "2021-03-15"}`` -> ``2021-03-15``)."""
    if isinstance(value, dict):
        if set(value) == {"_type_", "_data_"}:
            return _plain(value["_data_"])
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return value
