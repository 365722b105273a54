"""Proofs for auditors (RFC 9162 §2.1): the signing key, signed tree heads,
inclusion and consistency proofs — so completeness and integrity can be
checked without trusting the operators.

Proofs are of the tree *as signed*: leaves come from the leaf table written
when heads are signed, so ``tree_size`` may be at most the latest head's.
Each proof is a few dozen lookups in the process's cached subtree hashes of
that table (``services.log_tree.SignedTree``), not a pass over every leaf.
``GET /tree-head`` answers 404 until a head exists rather than signing on a
read; the API signs one at startup when none is fresh, then every
``tree_head_interval_minutes`` (a background thread started by this router's
lifespan), and ``POST /tree-heads`` signs one now.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, FastAPI, Query, Request
from starlette.concurrency import run_in_threadpool

from infra import merkle
from infra.signing import parse_timestamp, public_pem, public_raw_hex
from services.audit_log import AuditLog
from services.errors import AuditLogInconsistent, InvalidRequest, NotFoundError

log = logging.getLogger(__name__)


class HeadSigner:
    """Signs a tree head whenever the latest one is ``interval_seconds`` old
    (or there is none), in a daemon thread, until stopped; after the first,
    it reads the log's tree for reports (``AuditLog.log_at``)."""

    def __init__(self, audit: AuditLog, interval_seconds: float) -> None:
        self.audit = audit
        self.interval = interval_seconds
        self._stop = threading.Event()
        self._thread = threading.Thread(
            target=self._run, name="tree-head-signer", daemon=True
        )

    def start(self) -> HeadSigner:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=30)

    def _run(self) -> None:
        delay = self.tick()
        self.warm()
        while not self._stop.wait(delay):
            delay = self.tick()

    def warm(self) -> None:
        """Read the log's tree and the signed tree once
        (``services.log_tree``), so the first report or proof of this
        process does not wait for them."""
        try:
            position = self.audit.app.recorder.max_notification_id() or 0
            self.audit.log_at(position)
            self.audit.signed_tree.extend_to(self.audit.signed_size())
        except Exception:  # the first report will try again
            log.exception("reading the log's tree at startup failed")

    def tick(self) -> float:
        """Sign if due; the seconds until the next head is due."""
        try:
            latest = self.audit.latest_head()
            age = _age_seconds(latest.timestamp) if latest else self.interval
            if age >= self.interval:
                head = self.audit.sign_head()
                log.info("signed tree head: %d events", head.tree_size)
                return self.interval
            return self.interval - age
        except Exception:  # the store may be down: try again, never die
            log.exception("signing a tree head failed; retrying in a minute")
            return min(60.0, self.interval)


def _age_seconds(timestamp: str) -> float:
    return (datetime.now(UTC) - parse_timestamp(timestamp)).total_seconds()


_creating = threading.Lock()


def audit_log_of(app: FastAPI) -> AuditLog:
    """The app's audit log, made on first use and closed with its Boende."""
    with _creating:
        audit: AuditLog | None = getattr(app.state, "audit_log", None)
        if audit is None:
            boende = app.state.boende
            audit = AuditLog(boende.settings, boende.app)
            boende.closers.append(audit.close)
            app.state.audit_log = audit
    return audit


@asynccontextmanager
async def signing_lifespan(app: FastAPI) -> AsyncIterator[None]:
    """Load the key before serving (production refuses a development key
    here, so the server does not start), then sign heads in the background."""
    audit = await run_in_threadpool(audit_log_of, app)
    await run_in_threadpool(lambda: audit.signer)
    minutes = audit.settings.tree_head_interval_minutes
    signer = HeadSigner(audit, minutes * 60.0).start() if minutes else None
    try:
        yield
    finally:
        if signer:
            signer.stop()


def get_audit_log(request: Request) -> AuditLog:
    return audit_log_of(request.app)


AuditDep = Annotated[AuditLog, Depends(get_audit_log)]
router = APIRouter(prefix="/v1/audit", tags=["audit proofs"], lifespan=signing_lifespan)


@router.get("/public-key", summary="The Ed25519 key that signs tree heads")
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


@router.get("/tree-head", summary="The latest signed tree head")
def latest_tree_head(audit: AuditDep) -> dict[str, Any]:
    """404 until the first head is signed (at startup, or by POST)."""
    head = audit.latest_head()
    if head is None:
        raise NotFoundError(
            "no tree head has been signed yet; POST /v1/audit/tree-heads signs one"
        )
    return head.as_json()


@router.post("/tree-heads", status_code=201, summary="Sign a tree head now")
def sign_tree_head(audit: AuditDep) -> dict[str, Any]:
    """Hash every event recorded since the last head and sign the new root."""
    return audit.sign_head().as_json()


Size = Annotated[int | None, Query(ge=0, description="default: the latest head's")]


@router.get("/proof/inclusion", summary="Prove one event is in a signed tree")
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


@router.get("/proof/consistency", summary="Prove one signed tree extends another")
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
