"""Who submitted: the authenticated principal behind a submission, and whom
it may name as the officer (``actor.user``) — the same rule for HTTP and
Kafka (DOMAIN.md, "Who submitted is authenticated, not claimed").

- A person's token (``ifn_officer``, ``aln_officer``) may submit as its
  committee and name only itself: ``actor.user`` must equal its ``sub``.
- A case system's token (``case_system``) is bound to one committee by its
  claim ``committee`` and may name any officer of that committee (Boende
  keeps no list of officers: the case system knows who did the work).
- Anything else is 403 ``forbidden``: KS submits nothing.

Every recorded fact carries :func:`submitted_by`'s answer, ``{"sub", "iss"}``
of the verified token (``iss`` left out when the token has none), beside the
named officer. With ``BOENDE_AUTH=off`` it is ``{"sub": "anonymous (auth
off)"}``: nobody was authenticated, and the log says so.
"""

from __future__ import annotations

from typing import Final

from domain.errors import Forbidden
from infra.auth import Principal

CASE_SYSTEM: Final = "case_system"
#: The person's role that may submit as each committee (KS: none).
OFFICER_ROLES: Final = {"IFN": "ifn_officer", "ALN": "aln_officer"}

Submitter = dict[str, str]


def submitted_by(principal: Principal, committee: str, user: str) -> Submitter:
    """What is recorded as ``submitted_by`` of a submission naming
    ``committee``/``user``; :class:`Forbidden` (403) when this principal may
    not submit it."""
    recorded = {"sub": principal.sub}
    if principal.issuer is not None:
        recorded["iss"] = principal.issuer
    if not principal.authenticated:
        return recorded  # BOENDE_AUTH=off: nothing to check
    role = OFFICER_ROLES.get(committee)
    if role is None:
        raise Forbidden(
            f"submitting as {committee} needs no role (it submits nothing)",
            committee=committee,
        )
    if CASE_SYSTEM in principal.roles and principal.committee == committee:
        return recorded
    if role in principal.roles:
        if user == principal.sub:
            return recorded
        raise Forbidden(
            f"a person's token may only name itself: actor.user must be "
            f"{principal.sub}, the token's sub; a case system names its "
            f"officers with a {CASE_SYSTEM} token bound to {committee}",
            committee=committee,
        )
    if CASE_SYSTEM in principal.roles:
        bound = principal.committee or "no committee (the claim committee is missing)"
        raise Forbidden(
            f"this {CASE_SYSTEM} token is bound to {bound}; submitting as "
            f"{committee} needs one bound to {committee}",
            committee=committee,
        )
    raise Forbidden(
        f"submitting as {committee} needs the role {role}, or {CASE_SYSTEM} "
        f"bound to {committee}",
        committee=committee,
    )
