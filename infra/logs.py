"""How every Boende process logs: plain text lines in development, one JSON
object per line in production (``BOENDE_LOG_FORMAT`` overrides either), and
the id of the HTTP request a line belongs to.

The request id lives in a context variable set by the HTTP door for each
request; the filter below copies it onto every record, so a line written
anywhere while the request is handled (a route, a read model query, the
threadpool) carries it. The group-commit writer thread serves many requests
at once: its lines name the ids of the batch explicitly.

Nothing here decides what is logged; the rule that no personnummer, name or
free-text note reaches a log line is kept by the callers (they log codes,
counts and positions) and checked by ``tests/api/test_logs.py``.
"""

from __future__ import annotations

import logging
import sys
from contextvars import ContextVar
from typing import Literal

from pythonjsonlogger.core import RESERVED_ATTRS
from pythonjsonlogger.json import JsonFormatter

#: The id of the HTTP request being handled in this context, if any.
REQUEST_ID: ContextVar[str | None] = ContextVar("boende_request_id", default=None)

TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s%(request_suffix)s"
JSON_FIELDS = "%(levelname)s %(name)s %(message)s"

Format = Literal["text", "json"]


class RequestIdFilter(logging.Filter):
    """Puts the current request id on every record (``request_id``; ``-``
    outside a request) and a ``[request …]`` suffix for the text format."""

    def filter(self, record: logging.LogRecord) -> bool:
        request_id = getattr(record, "request_id", None) or REQUEST_ID.get()
        record.request_id = request_id
        record.request_suffix = f" [request {request_id}]" if request_id else ""
        return True


def formatter(kind: Format) -> logging.Formatter:
    """The formatter of ``kind``: JSON objects with ``time``, ``level``,
    ``logger``, ``message``, ``request_id`` and any ``extra`` fields."""
    if kind == "json":
        return JsonFormatter(
            JSON_FIELDS,
            rename_fields={"levelname": "level", "name": "logger"},
            reserved_attrs=[*RESERVED_ATTRS, "taskName", "request_suffix"],
            timestamp="time",  # ISO 8601, UTC
        )
    return logging.Formatter(TEXT_FORMAT)


def configure(level: str, kind: Format, stream: object = None) -> None:
    """Send every logger's records to one handler on ``stream`` (stderr) in
    format ``kind``; called once per process by the composition root, again
    only to change the format (tests)."""
    root = logging.getLogger()
    for handler in list(root.handlers):
        if getattr(handler, "_boende", False):
            root.removeHandler(handler)
    handler = logging.StreamHandler(stream or sys.stderr)  # type: ignore[arg-type]
    handler._boende = True  # type: ignore[attr-defined]
    handler.addFilter(RequestIdFilter())
    handler.setFormatter(formatter(kind))
    root.addHandler(handler)
    root.setLevel(level)
