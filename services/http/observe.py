"""What the operator sees of each HTTP request: its id, one access-log line,
and its place in ``boende_http_request_duration_seconds``.

The id is the caller's ``X-Request-ID`` when it is a plain token (letters,
digits, ``.``, ``_``, ``-``; at most 128) that holds nothing shaped like a
personnummer, else a new one; it is echoed in the
answer's ``X-Request-ID``, put in every error body (``request_id``) and on
every log line written while the request is handled (``infra.logs``).

The access-log line names the route's template, never the path or the query
(``/v1/cases/{case_id}``, not the case id), the status, the duration and the
token's ``sub``: enough to follow a caller, nothing a query could carry.
A pure ASGI middleware, so a streamed body is timed to its end and a failing
request is still logged (as 500) before the error handler answers.
"""

from __future__ import annotations

import logging
import re
import time
import uuid
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from infra import metrics
from infra.logs import REQUEST_ID

access = logging.getLogger("boende.access")

#: The scope key the request id is kept under, for the error handlers.
SCOPE_KEY = "boende.request_id"
_ACCEPTED_ID = re.compile(r"[A-Za-z0-9._-]{1,128}")
#: Ten or twelve digits, a dash or plus before the last four allowed: what a
#: personnummer looks like. An id holding one would put it on every log line.
_PERSONNUMMER_LIKE = re.compile(r"\d{6}(?:\d{2})?[-+]?\d{4}")


def request_id_of(scope: Scope) -> str | None:
    """The id of the request ``scope`` belongs to."""
    found = scope.get(SCOPE_KEY)
    return found if isinstance(found, str) else None


class Observe:
    """Request ids, access-log lines and request metrics for every request."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request_id = _request_id(scope)
        scope[SCOPE_KEY] = request_id
        token = REQUEST_ID.set(request_id)
        started = time.perf_counter()
        status = 500  # unless a response starts

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                headers = list(message.get("headers", []))
                if not any(name == b"x-request-id" for name, _ in headers):
                    headers.append((b"x-request-id", request_id.encode()))
                message = {**message, "headers": headers}
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        finally:
            _record(scope, status, time.perf_counter() - started)
            REQUEST_ID.reset(token)


def _request_id(scope: Scope) -> str:
    for name, value in scope.get("headers", []):
        if name == b"x-request-id":
            text: str = bytes(value).decode("latin-1")
            if _ACCEPTED_ID.fullmatch(text) and not _PERSONNUMMER_LIKE.search(text):
                return text
            break
    return uuid.uuid4().hex


def _record(scope: Scope, status: int, seconds: float) -> None:
    method = scope.get("method", "")
    route = _route_template(scope)
    metrics.HTTP_SECONDS.labels(method, route, str(status)).observe(seconds)
    principal: Any = scope.get("state", {}).get("principal")
    sub = getattr(principal, "sub", None) or "-"
    access.info(
        "%s %s %d %.1f ms",
        method,
        route,
        status,
        seconds * 1000,
        extra={
            "method": method,
            "route": route,
            "status": status,
            "duration_ms": round(seconds * 1000, 2),
            "sub": sub,
        },
    )


def _route_template(scope: Scope) -> str:
    """The matched route's path template; ``(unmatched)`` for a 404 path, so
    arbitrary paths cannot grow the metric's label set."""
    path = getattr(scope.get("route"), "path", None)
    return path if isinstance(path, str) else "(unmatched)"
