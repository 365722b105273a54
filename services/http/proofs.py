"""Proofs for auditors (RFC 9162 §2.1): the signing key, signed tree heads,
inclusion and consistency proofs — so completeness and integrity can be
checked without trusting the operators.

Proofs are of the tree *as signed*: leaves come from the leaf table written
when heads are signed, so ``tree_size`` may be at most the latest head's.
Each proof is a few dozen lookups in the process's cached subtree hashes of
that table (``services.audit.tree.SignedTree``), not a pass over every leaf.
``GET /tree-head`` answers 404 until a head exists rather than signing on a
read; the API signs one at startup when none is fresh, then every
``tree_head_interval_minutes`` (a background thread started by this router's
lifespan), and ``POST /tree-heads`` signs one now.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from typing import Annotated, Any

from fastapi import APIRouter, FastAPI, Query
from starlette.concurrency import run_in_threadpool

from infra import merkle, metrics
from infra.head_mirror import HeadNotMirrored
from infra.signing import public_pem, public_raw_hex
from services.audit.log import AuditLog
from services.audit.signer import HeadSigner, head_probe
from services.audit.tree import LogChanged
from services.errors import (
    AuditLogChanged,
    AuditLogInconsistent,
    InvalidRequest,
    NotFoundError,
    StoreUnavailable,
)
from services.http.deps import AuditDep, audit_log_of
from services.http.models.audit import (
    ConsistencyProof,
    InclusionProof,
    PublicKey,
    SignedHead,
)

log = logging.getLogger(__name__)


@asynccontextmanager
async def signing_lifespan(app: FastAPI) -> AsyncIterator[None]:
    """Load the key before serving (production refuses a development key
    here, so the server does not start), then sign heads in the background."""
    audit = await run_in_threadpool(audit_log_of, app)
    await run_in_threadpool(lambda: audit.signer)
    minutes = audit.settings.tree_head_interval_minutes
    signer = HeadSigner(audit, minutes * 60.0).start() if minutes else None
    unprobe = metrics.add_probe(head_probe(audit, minutes * 60.0))
    try:
        yield
    finally:
        unprobe()
        if signer:
            signer.stop()


router = APIRouter(prefix="/v1/audit", tags=["audit proofs"], lifespan=signing_lifespan)


@router.get(
    "/public-key",
    summary="The Ed25519 key that signs tree heads",
    response_model=PublicKey,
    response_model_exclude_unset=True,
)
def public_key(audit: AuditDep) -> dict[str, str]:
    """Publish it, and pin it in auditors' tools: a head signed by any other
    key proves nothing."""
    key = audit.signer.public_key
    return {
        "algorithm": "Ed25519",
        "key_id": audit.signer.key_id,
        "public_key_pem": public_pem(key),
        "public_key_hex": public_raw_hex(key),
    }


@router.get(
    "/tree-head",
    summary="The latest signed tree head",
    response_model=SignedHead,
    response_model_exclude_unset=True,
    responses={404: {"description": "not_found: no head signed yet"}},
)
def latest_tree_head(audit: AuditDep) -> dict[str, Any]:
    """404 until the first head is signed (at startup, or by POST)."""
    head = audit.latest_head()
    if head is None:
        raise NotFoundError(
            "no tree head has been signed yet; POST /v1/audit/tree-heads signs one"
        )
    return head.as_json()


@router.post(
    "/tree-heads",
    status_code=201,
    summary="Sign a tree head now",
    response_model=SignedHead,
    response_model_exclude_unset=True,
    responses={
        409: {
            "description": "audit_log_changed: the log no longer holds what "
            "the last signed head (in the store or outside it) covers: rolled "
            "back, restored from an older backup, or changed; nothing is signed "
            "(boende audit verify shows what changed)"
        },
        503: {
            "description": "unavailable: the store is unreachable, or the head "
            "could not be written outside it (BOENDE_TREE_HEAD_MIRROR_DIR, the "
            "boende.audit.heads topic); nothing is signed"
        },
    },
)
def sign_tree_head(audit: AuditDep) -> dict[str, Any]:
    """Hash every event recorded since the last head and sign the new root;
    409 ``audit_log_changed`` when the log no longer holds what the last
    signed head covers."""
    try:
        return audit.sign_head().as_json()
    except LogChanged as changed:
        # Tamper evidence: the operator must hear of it, not only the caller.
        log.error("no tree head signed: %s", changed)
        raise AuditLogChanged(
            f"no tree head signed: {changed} Nothing is re-signed on its own: "
            "`boende audit verify` shows what changed."
        ) from None
    except HeadNotMirrored as unmirrored:
        # A head that only the store holds could be rolled back with it: none.
        log.error("no tree head signed: %s", unmirrored)
        raise StoreUnavailable(
            f"no tree head signed: {unmirrored}; a head is only signed once it "
            "is also kept outside the store. Try again when that is reachable."
        ) from None


Size = Annotated[int | None, Query(ge=0, description="default: the latest head's")]


#: What a proof may answer besides 200.
PROOF_RESPONSES: dict[int | str, dict[str, Any]] = {
    404: {"description": "not_found: no head signed yet, or no such signed event"},
    500: {
        "description": "audit_log_inconsistent: the signed leaf table was "
        "altered outside Boende (boende audit verify locates it)"
    },
}


@router.get(
    "/proof/inclusion",
    summary="Prove one event is in a signed tree",
    response_model=InclusionProof,
    response_model_exclude_unset=True,
    responses=PROOF_RESPONSES,
)
def inclusion_proof(
    audit: AuditDep,
    position: Annotated[int, Query(ge=1, description="the event's log position")],
    tree_size: Size = None,
) -> dict[str, Any]:
    """The audit path (RFC 9162 §2.1.3) of the event's leaf; its leaf index
    is its index in position order (positions may have gaps)."""
    size = _size(audit, tree_size)
    index = audit.leaf_index(position)
    if index is None:
        raise NotFoundError(f"no signed event at position {position}")
    if index >= size:
        raise InvalidRequest(
            f"position {position} is leaf {index}, not in a tree of {size} leaves",
            details=[{"loc": "tree_size", "problem": f"must be above {index}"}],
        )
    with _inconsistency_refused():
        proof = audit.signed_tree.inclusion(index, size)
    return {
        "position": position,
        "leaf_index": index,
        "tree_size": size,
        "leaf_hash": proof.leaf.hex(),
        "audit_path": [h.hex() for h in proof.path],
        "root_hash": proof.root.hex(),
        "signed_head": _signed_head(audit, size),
    }


@router.get(
    "/proof/consistency",
    summary="Prove one signed tree extends another",
    response_model=ConsistencyProof,
    response_model_exclude_unset=True,
    responses=PROOF_RESPONSES,
)
def consistency_proof(
    audit: AuditDep,
    from_size: Annotated[int, Query(ge=0)],
    to_size: Size = None,
) -> dict[str, Any]:
    """The consistency proof (RFC 9162 §2.1.4) that the first ``from_size``
    leaves of the tree of ``to_size`` are the tree of ``from_size``."""
    size = _size(audit, to_size)
    if from_size > size:
        raise InvalidRequest(
            f"from_size {from_size} is larger than to_size {size}",
            details=[{"loc": "from_size", "problem": "after to_size"}],
        )
    with _inconsistency_refused():
        proof = audit.signed_tree.consistency(from_size, size)
    return {
        "from_size": from_size,
        "to_size": size,
        "from_root": proof.first_root.hex(),
        "to_root": proof.second_root.hex(),
        "proof": [h.hex() for h in proof.path],
        "from_head": _signed_head(audit, from_size),
        "to_head": _signed_head(audit, size),
    }


@contextmanager
def _inconsistency_refused() -> Iterator[None]:
    """The sizes were checked first, so a proof the leaf table cannot give
    means the table was altered: say so, as the error table's code."""
    try:
        yield
    except merkle.ProofError as error:
        # Tamper evidence: the operator must hear of it, not only the caller.
        log.error("audit leaf table inconsistent: %s", error)
        raise AuditLogInconsistent(
            f"the signed leaf table cannot prove this ({error}); it was altered "
            "outside Boende: run `boende audit verify` to locate the change"
        ) from None


def _size(audit: AuditLog, asked: int | None) -> int:
    """The tree size asked for, or the latest head's; never past what is signed."""
    signed = audit.signed_size()
    if asked is None:
        if not audit.latest_head():
            raise NotFoundError("no tree head has been signed yet")
        return signed
    if asked > signed:
        raise InvalidRequest(
            f"tree size {asked} is larger than the signed log ({signed} events)",
            details=[{"loc": "tree_size", "problem": f"at most {signed}"}],
        )
    return asked


def _signed_head(audit: AuditLog, size: int) -> dict[str, Any] | None:
    """The latest head signed at exactly this size, if any."""
    head = audit.latest_head(size)
    return head.as_json() if head else None
