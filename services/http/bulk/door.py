"""``POST /v1/submissions/batch``: the bulk door, for migrations and catch-up.

Many envelopes in one request, NDJSON (``application/x-ndjson``, one per
line) or a JSON array (``application/json``), at most ``BOENDE_BATCH_MAX``.
Each is decided exactly as if it had come alone through ``POST
/v1/submissions``: the same parsing (``services.submission.bulk`` only finds
where each envelope's bytes are), the same check of whom the token may name
(``services.submission.submitters``), the same group-commit writer, which
takes a batch's envelopes together, in order, into as few transactions as
``BOENDE_COMMIT_BATCH_MAX`` allows. So a grant may follow its filing in one
batch, a refused envelope refuses no other, and a repeat of a recorded
``submission_id`` is answered with its first result.

The answer is 200 with one result per envelope, in order. When the store is
unavailable and nothing of the batch was recorded the answer is 503 for the
whole batch; when some were recorded first, each result says which.
"""

from __future__ import annotations

import logging
from collections import Counter
from typing import Annotated, Any, TypeGuard

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse
from starlette.concurrency import run_in_threadpool

from domain.errors import DomainError
from infra import metrics
from infra.auth import Principal
from infra.settings import Settings
from services.errors import (
    STATUS_BY_CODE,
    PayloadTooLarge,
    ServiceError,
    StoreUnavailable,
    UnsupportedMediaType,
)
from services.http import authz
from services.http.bulk.answers import ANSWER, REQUEST_BODY, BatchAnswer
from services.http.deps import BoendeDep
from services.submission.bulk import JSON, NDJSON, split
from services.submission.envelope import Envelope
from services.submission.service import Accepted, parse
from services.submission.submitters import Submitter, submitted_by

log = logging.getLogger(__name__)

Refusal = DomainError | ServiceError


async def read_batch(request: Request) -> tuple[str, bytes]:
    """The media type and raw body: 415 unless NDJSON or JSON, 413 as soon as
    the body passes ``BOENDE_BATCH_MAX`` envelopes at the size limit."""
    media_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if media_type not in (NDJSON, JSON):
        raise UnsupportedMediaType(
            f"a batch is sent as Content-Type: {NDJSON} (one envelope per "
            f"line) or {JSON} (an array of envelopes)",
            content_type=media_type[:100] or None,
        )
    limit = request.app.state.boende.settings.batch_max_bytes
    declared = request.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > limit:
        raise _too_large(int(declared), limit)
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > limit:
            raise _too_large(len(body), limit)
    return media_type, bytes(body)


def _too_large(size: int, limit: int) -> ServiceError:
    return PayloadTooLarge(
        f"a batch's body is at most {limit} bytes (BOENDE_BATCH_MAX envelopes "
        f"of BOENDE_MAX_BODY_BYTES)",
        limit=limit,
        size=size,
    )


router = APIRouter(prefix="/v1", tags=["submissions"])


@router.post(
    "/submissions/batch",
    summary="Record many facts: one result per envelope, in order",
    response_model=BatchAnswer,
    openapi_extra={"requestBody": REQUEST_BODY},
    responses={
        200: {
            "description": "One result per envelope, in order, each as the "
            "single door decides it; 'unavailable' results were not recorded",
            "content": {"application/json": {"example": ANSWER}},
        },
        401: {"description": "unauthenticated: no valid bearer token"},
        403: {
            "description": "forbidden: the token has none of the submitting "
            "roles (an envelope the token may not submit is refused with 403 "
            "in its own result)"
        },
        413: {
            "description": "payload_too_large: more than BOENDE_BATCH_MAX "
            "envelopes, or a body over BOENDE_BATCH_MAX x BOENDE_MAX_BODY_BYTES; "
            "nothing was recorded"
        },
        415: {"description": "unsupported_media_type: not NDJSON or JSON"},
        422: {
            "description": "invalid_submission: the body is not a JSON array "
            "of envelopes, or holds none; nothing was recorded (a bad envelope "
            "is refused in its own result)"
        },
        503: {
            "description": "unavailable: the store did not answer and nothing "
            "of this batch was recorded; retry it whole"
        },
    },
)
async def submit_batch(
    raw: Annotated[tuple[str, bytes], Depends(read_batch)],
    boende: BoendeDep,
    principal: authz.PrincipalDep,
) -> JSONResponse:
    """Decide every envelope of the batch as the single door would; record
    the accepted ones through the group-commit writer.

    ``async``: reading and splitting the body and checking each envelope run
    in the thread pool, the commits in the writer thread; the event loop only
    waits."""
    settings = boende.settings
    media_type, body = raw
    parts = await run_in_threadpool(split, body, media_type, settings.batch_max)
    checked = await run_in_threadpool(_check_each, parts, principal, settings)
    ready = [(i, sub, by) for i, (sub, by) in enumerate(checked) if _read(sub)]
    outcomes: list[Any] = [read for read, _ in checked]
    recorded = await boende.committer.submit_many_async(
        [sub for _, sub, _ in ready], [by for _, _, by in ready]
    )
    for (index, _, _), outcome in zip(ready, recorded, strict=True):
        outcomes[index] = outcome
    results = [_result(i, o, checked[i][0]) for i, o in enumerate(outcomes)]
    _count(results, checked)
    answer = _tally(results)
    if answer["refusals"].get("unavailable") and not answer["recorded"]:
        raise StoreUnavailable(
            "the event store is unavailable; nothing of this batch was recorded: "
            "retry it whole (repeats are answered from their first result)"
        )
    return JSONResponse(answer)


Checked = tuple[Envelope | Refusal, Submitter | None]


def _read(read: Envelope | Refusal) -> TypeGuard[Envelope]:
    return isinstance(read, Envelope)


def _check_each(
    parts: list[bytes], principal: Principal, settings: Settings
) -> list[Checked]:
    """Each envelope read and its sender checked, as the single door does."""
    checked: list[Checked] = []
    for part in parts:
        try:
            sub = parse(part, settings.max_body_bytes)
            by = submitted_by(principal, sub.actor.committee, sub.actor.user)
        except (ServiceError, DomainError) as refusal:
            checked.append((refusal, None))
            continue
        checked.append((sub, by))
    return checked


def _result(
    index: int, outcome: Accepted | Refusal | BaseException, read: object
) -> dict[str, Any]:
    """One envelope's result: its answer from the single door, with its place."""
    if isinstance(outcome, Accepted):
        status, name = (200, "repeat") if outcome.repeated else (201, "recorded")
        return {"index": index, "status": status, "outcome": name, **outcome.as_json()}
    if not isinstance(outcome, ServiceError | DomainError):
        log.error("the writer failed on a batch: %s", type(outcome).__name__)
        refusal: dict[str, Any] = {
            "error": "internal_error",
            "message": "unexpected error; see the server log",
        }
        status = 500
    else:
        status = STATUS_BY_CODE.get(outcome.code) or int(
            getattr(outcome, "status", 500)
        )
        refusal = {**outcome.details, "error": outcome.code, "message": outcome.message}
    sid = str(read.submission_id) if isinstance(read, Envelope) else None
    return {"index": index, "status": status, "outcome": "refused",
            **refusal, "submission_id": sid}  # fmt: skip


def _tally(results: list[dict[str, Any]]) -> dict[str, Any]:
    outcomes = Counter(r["outcome"] for r in results)
    refusals = Counter(r["error"] for r in results if r["outcome"] == "refused")
    return {
        "results": results,
        "recorded": outcomes["recorded"],
        "repeats": outcomes["repeat"],
        "refused": outcomes["refused"],
        "refusals": dict(sorted(refusals.items())),
    }


def _count(results: list[dict[str, Any]], checked: list[Checked]) -> None:
    """Each envelope in the submission metrics, door ``batch``."""
    for result, (read, _) in zip(results, checked, strict=True):
        committee = read.actor.committee if isinstance(read, Envelope) else ""
        decided = {"recorded": "recorded", "repeat": "repeated"}.get(
            result["outcome"], result.get("error", "")
        )
        metrics.count_submission("batch", committee, decided)
