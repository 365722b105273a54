"""The simulator's bearer tokens: it plays two case systems, IFN's and ALN's,
and each names its own committee's officers, so each sends with a
``case_system`` token bound to its committee (DOMAIN.md, "Who submitted is
authenticated, not claimed"). Over HTTP the token goes in ``Authorization``,
over Kafka in the message header ``authorization``.

``--token`` may be given once per committee; a token is matched to the
envelopes of the committee its claim ``committee`` names, and a token
without one (a person's) is sent for any committee left over. Given none, in
development, the simulator mints its own from the development key
(``simulator-ifn`` and ``simulator-aln``, 12 hours); with ``BOENDE_AUTH=off``
or in production it mints nothing and sends none.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import timedelta
from typing import Any

import jwt

from infra.auth import AuthConfigError, mint_dev_token
from infra.settings import Settings

COMMITTEES = ("IFN", "ALN")
LIFETIME = timedelta(hours=12)


def committee_tokens(
    given: Sequence[str] | None, settings: Settings, minted_for: str = "simulator"
) -> dict[str, str]:
    """Committee -> ``Bearer <JWT>`` for the envelopes of that committee; the
    development tokens minted name ``<minted_for>-ifn`` and ``-aln``."""
    if given:
        return _matched([_bare(token) for token in given])
    if settings.auth == "off" or settings.environment == "production":
        return {}
    try:
        return {
            committee: "Bearer "
            + mint_dev_token(
                settings,
                f"{minted_for}-{committee.lower()}",
                ["case_system"],
                LIFETIME,
                committee=committee,
            )
            for committee in COMMITTEES
        }
    except AuthConfigError:
        return {}


def token_for(tokens: Mapping[str, str], envelope: Mapping[str, Any]) -> str | None:
    """The ``Bearer`` value to send ``envelope`` with, if any."""
    actor = envelope.get("actor")
    committee = actor.get("committee") if isinstance(actor, Mapping) else None
    return tokens.get(str(committee))


def _matched(tokens: list[str]) -> dict[str, str]:
    bound: dict[str, str] = {}
    unbound: list[str] = []
    for token in tokens:
        committee = _claims(token).get("committee")
        if isinstance(committee, str):
            bound.setdefault(committee, f"Bearer {token}")
        else:
            unbound.append(f"Bearer {token}")
    for committee in COMMITTEES:
        if committee not in bound and unbound:
            bound[committee] = unbound[0]
    return bound


def _bare(token: str) -> str:
    scheme, _, rest = token.strip().partition(" ")
    return rest.strip() if scheme.lower() == "bearer" else token.strip()


def _claims(token: str) -> dict[str, Any]:
    """The token's claims, unverified: only to pick which envelopes it sends
    (Boende verifies it)."""
    try:
        claims: dict[str, Any] = jwt.decode(token, options={"verify_signature": False})
    except jwt.PyJWTError:
        return {}
    return claims
