"""``POST /v1/submissions``: the committees' door for one fact (DOMAIN.md's
envelope). The body is read with a size limit, parsed by the submission
capability, checked against the caller's token (whom it may name as
``actor.user``: ``services.submission.submitters``) and handed to the
group-commit writer with the caller as ``submitted_by``."""

from __future__ import annotations

import time
from typing import Annotated

from fastapi import APIRouter, Depends, Request, Response

from domain.errors import DomainError
from infra import metrics
from services.errors import PayloadTooLarge, ServiceError, UnsupportedMediaType
from services.http import authz
from services.http.deps import BoendeDep
from services.http.models.submissions import SubmissionRecorded
from services.submission.envelope import SUBMISSION
from services.submission.examples import OPENAPI_EXAMPLES
from services.submission.service import Accepted, parse
from services.submission.submitters import submitted_by


async def read_body(request: Request) -> bytes:
    """The raw body: refused with 415 unless it is declared JSON, with 413 as
    soon as it passes the limit."""
    media_type = request.headers.get("content-type", "").split(";")[0].strip()
    if media_type.lower() != "application/json":
        raise UnsupportedMediaType(
            "the body must be JSON, sent as Content-Type: application/json",
            content_type=media_type[:100] or None,
        )
    limit: int = request.app.state.boende.settings.max_body_bytes
    declared = request.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > limit:
        raise _too_large(int(declared), limit)
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > limit:
            raise _too_large(len(body), limit)
    return bytes(body)


def _too_large(size: int, limit: int) -> ServiceError:
    return PayloadTooLarge(
        f"body is over the {limit}-byte limit", limit=limit, size=size
    )


router = APIRouter(prefix="/v1", tags=["submissions"])


@router.post(
    "/submissions",
    status_code=201,
    summary="Record one fact of a case or an apartment",
    response_model=SubmissionRecorded,
    response_model_exclude_unset=True,
    # The body is read raw (size limit, 415, duplicate keys: ``read_body`` and
    # ``parse``); its schema is the envelope's, under components as
    # ``Submission`` (``services.http.openapi.with_components``).
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {
                "application/json": {
                    "schema": SUBMISSION.json_schema(
                        ref_template="#/components/schemas/{model}"
                    )
                    | {"title": "Submission"},
                    "examples": OPENAPI_EXAMPLES,
                }
            },
        }
    },
    responses={
        200: {
            "description": "A repeat of a recorded submission: the first result",
            "model": SubmissionRecorded,
        },
        201: {"description": "Recorded: the global log position and new version"},
        403: {
            "description": "forbidden: the committee may not submit this type, "
            "the token may not submit as this committee, or a person's token "
            "names another officer as actor.user"
        },
        404: {"description": "not_found: unknown case or apartment"},
        409: {
            "description": "transition_not_allowed, submission_id_conflict, "
            "concurrent_update, apartment_unavailable or date_out_of_order"
        },
        413: {"description": "payload_too_large"},
        415: {"description": "unsupported_media_type: not application/json"},
        422: {"description": "invalid_submission, with details per field"},
        503: {"description": "unavailable: nothing was recorded; retry"},
    },
)
async def submit(
    body: Annotated[bytes, Depends(read_body)],
    boende: BoendeDep,
    principal: authz.PrincipalDep,
    response: Response,
) -> dict[str, object]:
    """Validate and record a submission (DOMAIN.md's envelope).

    ``async`` although the store is synchronous: this endpoint never touches
    the store itself, it hands the envelope to the group-commit writer thread
    and awaits the answer without holding a worker thread."""
    started, committee, decided = time.perf_counter(), "", "internal_error"
    try:
        sub = parse(body, boende.settings.max_body_bytes)
        committee = sub.actor.committee
        by = submitted_by(principal, committee, sub.actor.user)
        outcome = await boende.committer.submit_async(sub, by=by)
        if not isinstance(outcome, Accepted):
            raise outcome
        decided = "repeated" if outcome.repeated else "recorded"
        response.status_code = 200 if outcome.repeated else 201
        return outcome.as_json()
    except (ServiceError, DomainError) as refusal:
        decided = refusal.code
        raise
    finally:
        metrics.count_submission("http", committee, decided, started)
