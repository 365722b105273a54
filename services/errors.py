"""Refusals raised outside the domain, and the one table from error code to
HTTP status (DOMAIN.md). The Kafka ingest puts the same codes in its
rejected-topic headers."""

from __future__ import annotations

from typing import Any


class ServiceError(Exception):
    """A submission or query is refused before or after the domain."""

    code = "service_error"

    def __init__(self, message: str, **details: Any) -> None:
        super().__init__(message)
        self.message = message
        self.details = details


class InvalidSubmission(ServiceError):
    code = "invalid_submission"


class InvalidRequest(ServiceError):
    code = "invalid_request"


class PayloadTooLarge(ServiceError):
    code = "payload_too_large"


class UnsupportedMediaType(ServiceError):
    code = "unsupported_media_type"


class SubmissionIdConflict(ServiceError):
    code = "submission_id_conflict"


class ConcurrentUpdate(ServiceError):
    code = "concurrent_update"


class StoreUnavailable(ServiceError):
    code = "unavailable"


class NotFoundError(ServiceError):
    code = "not_found"


class AuditLogInconsistent(ServiceError):
    """The signed leaf table cannot give a proof it should hold: altered
    outside Boende. Not the caller's fault; ``boende audit verify`` locates
    it."""

    code = "audit_log_inconsistent"


class AuditLogChanged(ServiceError):
    """No head is signed over a log that no longer holds what the last
    signed head covers (rolled back, restored from an older backup, or
    changed under it): a conflict with the log's state, not a fault of the
    request. Re-signing is never automatic; ``boende audit verify`` shows
    what changed."""

    code = "audit_log_changed"


STATUS_BY_CODE: dict[str, int] = {
    "invalid_submission": 422,
    "invalid_request": 422,
    "purpose_required": 422,
    "payload_too_large": 413,
    "unsupported_media_type": 415,
    "transition_not_allowed": 409,
    "submission_id_conflict": 409,
    "concurrent_update": 409,
    "apartment_unavailable": 409,
    "date_out_of_order": 409,
    "position_not_recorded": 409,
    "audit_log_changed": 409,
    "request_timeout": 408,
    "not_found": 404,
    "method_not_allowed": 405,
    "unauthenticated": 401,
    "forbidden": 403,
    "unavailable": 503,
    "projection_lagging": 503,
    "internal_error": 500,
    "audit_log_inconsistent": 500,
}
