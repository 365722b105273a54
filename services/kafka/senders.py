"""Who sent a message on ``boende.submissions``: its bearer token, checked as
``POST /v1/submissions`` checks one (``services.submission.submitters``).

A message carries the sender's token in the header ``authorization``
(``Bearer <JWT>``, or the bare JWT). It is verified against the same keys,
algorithms, audience and issuer as over HTTP, with one difference: its
lifetime is judged at the **message's own timestamp** ``t`` (clamped to
now), not at the moment the ingest reads it. The token held if
``iat - leeway <= t <= exp + leeway`` (``BOENDE_JWT_LEEWAY_SECONDS``), so a
backlog that waited through an ingest outage is recorded, and a message
produced after its token expired is not. A message dated before its token
was issued is refused too: a producer sets its messages' time
(``CreateTime``), and this keeps a token from covering messages dated
before it existed. (``LogAppendTime`` on the topic makes the broker set it.)

No token, a token that does not verify, or a role that may not submit as
the envelope's committee: the message goes to the rejected topic with the
reason (``unauthenticated``, ``forbidden``), like any other refusal. The
token itself is never copied there, nor logged.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from infra.auth import AuthConfigError, Principal, TokenRefused, Verifier, load_verifier
from infra.settings import Settings
from services.errors import ServiceError

HEADER = "authorization"
#: With ``BOENDE_AUTH=off`` (tests, local experiments) nobody is checked.
UNCHECKED = Principal("anonymous (auth off)", frozenset(), authenticated=False)


class Unauthenticated(ServiceError):
    """The message carries no token that verifies (HTTP: 401)."""

    code = "unauthenticated"


def message_verifier(settings: Settings) -> Verifier | None:
    """The ingest's verifier; None with ``BOENDE_AUTH=off``, which
    production refuses (:class:`AuthConfigError`), as ``boende serve`` does."""
    if settings.auth == "off":
        if settings.environment == "production":
            raise AuthConfigError(
                "BOENDE_AUTH=off is for tests and local experiments; "
                "production always checks the messages' bearer tokens"
            )
        return None
    return load_verifier(settings)


def sender_of(verifier: Verifier | None, record: Any) -> Principal:
    """The principal of the token in ``record``'s ``authorization`` header,
    its lifetime judged at the record's timestamp; :class:`Unauthenticated`."""
    if verifier is None:
        return UNCHECKED
    token = _token(getattr(record, "headers", None) or ())
    if token is None:
        raise Unauthenticated(
            f"the message has no bearer token: send it in the header {HEADER}"
        )
    try:
        return verifier.verify(token, at=produced_at(record))
    except TokenRefused as refused:
        raise Unauthenticated(str(refused)) from None


def produced_at(record: Any) -> datetime:
    """The record's timestamp (milliseconds since the epoch); now if it has
    none (-1, a broker or producer that sets none)."""
    millis = getattr(record, "timestamp", None)
    if not isinstance(millis, int) or millis < 0:
        return datetime.now(UTC)
    return datetime.fromtimestamp(millis / 1000, UTC)


def _token(headers: Sequence[tuple[str, bytes | None]]) -> str | None:
    values = [v for name, v in headers if name.lower() == HEADER and v]
    if len(values) != 1:
        return None  # none, or two: which one would count?
    try:
        text = values[0].decode("ascii").strip()
    except UnicodeDecodeError:
        return None
    scheme, _, rest = text.partition(" ")
    token = rest.strip() if scheme.lower() == "bearer" else text
    return token or None
