"""The answers of the auditors' routes (``/v1/audit/...``): the trail and
the event listing, the signing key, tree heads and proofs, the access log
and the purge record."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import Field

from services.http.models.common import Answer, AsOfPosition, Code, Day, Moment


class SubmittedBy(Answer):
    """Who submitted a fact, as authenticated: the token's ``sub`` and issuer."""

    sub: str
    iss: str | None = Field(default=None, description="absent: no issuer known")


class AuditEvent(Answer):
    """One recorded event: its provenance."""

    position: int
    aggregate_type: Code = Field(examples=["case", "apartment"])
    aggregate_id: str
    version: int
    type: Code
    occurred_on: Day
    recorded_at: Moment
    committee: Code
    user: str = Field(description="actor.user, as the sender named it")
    submission_id: str


class TrailEvent(AuditEvent):
    """An event of a case's trail, with what it said (null, all three, for
    an event the store does not hold: a read model ahead of this store)."""

    submitted_by: SubmittedBy | None
    payload: dict[str, Any] | None = Field(description="its non-personal fields")
    withheld: list[str] | None = Field(description="the names of the others")


class CaseTrail(Answer):
    """``GET /v1/audit/cases/{case_id}``."""

    as_of_position: AsOfPosition
    case_id: str
    events: list[TrailEvent]


class Page(Answer):
    """A page of a listing: the days and the cursor asked for."""

    from_: Day | None = Field(alias="from")
    to: Day | None
    after: int
    limit: int


#: The next page's ``after``; null: nothing more matches.
NextAfter = Annotated[
    int | None, Field(description="the next page's after; null: nothing more")
]


class EventsPage(Answer):
    """``GET /v1/audit/events``."""

    committee: Code | None
    user: str | None
    after: int
    limit: int
    from_: Day | None = Field(alias="from")
    to: Day | None
    as_of_position: AsOfPosition
    events: list[AuditEvent]
    next_after: NextAfter


class PublicKey(Answer):
    """``GET /v1/audit/public-key``: pin it in auditors' tools."""

    algorithm: str = Field(examples=["Ed25519"])
    key_id: str
    public_key_pem: str
    public_key_hex: str


class SignedHead(Answer):
    """A signed tree head (RFC 9162 §4.10-like): Ed25519 signature in hex."""

    tree_size: int
    root_hash: str
    timestamp: Moment
    key_id: str
    signature: str


class InclusionProof(Answer):
    """``GET /v1/audit/proof/inclusion`` (RFC 9162 §2.1.3)."""

    position: int
    leaf_index: int
    tree_size: int
    leaf_hash: str
    audit_path: list[str]
    root_hash: str
    signed_head: SignedHead | None = Field(description="a head of exactly that size")


class ConsistencyProof(Answer):
    """``GET /v1/audit/proof/consistency`` (RFC 9162 §2.1.4)."""

    from_size: int
    to_size: int
    from_root: str
    to_root: str
    proof: list[str]
    from_head: SignedHead | None
    to_head: SignedHead | None


class AccessEntry(Answer):
    """One logged read of personal data."""

    id: int
    accessed_at: Moment
    sub: str
    case_id: str
    endpoint: str = Field(examples=["GET /v1/cases/{case_id}/applicant"])
    purpose: str = Field(description="a code (free text only in old entries)")
    note: str | None = Field(description="the reader's note, while it can be opened")
    note_erased: bool


class AccessPage(Answer):
    """``GET /v1/audit/access``."""

    case_id: str | None
    user: str | None
    from_: Day | None = Field(alias="from")
    to: Day | None
    after: int
    limit: int
    entries: list[AccessEntry]
    next_after: NextAfter


class PurgeRun(Answer):
    """One retention purge: counts and cutoffs, nothing of any person."""

    id: int
    purged_at: Moment
    purged_by: str
    rule: Code = Field(examples=["retention"])
    cases_before: Day
    unused_before: Moment
    case_keys_deleted: int
    orphan_keys_deleted: int


class PurgesPage(Page):
    """``GET /v1/audit/purges``."""

    entries: list[PurgeRun]
    next_after: NextAfter
