"""FastAPI dependencies shared by the routers: the Boende of the app, the
day, ``min_position``, ``known_at``, the day-paged listings, and the refusal
of query parameters a figure does not know."""

from __future__ import annotations

import re
import threading
from collections.abc import Callable
from datetime import UTC, date, datetime
from functools import partial
from typing import Annotated, Any

from fastapi import Depends, FastAPI, Query, Request
from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute
from pydantic import AfterValidator, BeforeValidator

from infra.keys import pseudonym, pseudonym_key
from projections.base import utc_text
from services.audit.log import AuditLog
from services.audit.pages import DEFAULT_LIMIT, MAX_LIMIT, DayPage
from services.bootstrap import Boende
from services.errors import InvalidRequest
from services.projecting.answers import PositionWatch


async def get_boende(request: Request) -> Boende:
    # ``async`` so FastAPI resolves it in the event loop, not a worker thread.
    return request.app.state.boende  # type: ignore[no-any-return]


BoendeDep = Annotated[Boende, Depends(get_boende)]


def today_of(boende: Boende) -> date:
    return boende.service.today()


#: The read model each route answers from: ``min_position`` waits for it
#: alone. A route not named here waits for every read model (slower when one
#: lags, never wrong).
VIEW_OF_ROUTE = {
    "/v1/oversight/counts": "counts",
    "/v1/oversight/flows": "counts",
    "/v1/oversight/apartments": "apartments",
    "/v1/oversight/lead-times": "lead_times",
    "/v1/oversight/unexecuted": "unexecuted",
    "/v1/oversight/households": "tenancies",
    "/v1/oversight/first-hand": "tenancies",
    "/v1/oversight/rents": "tenancies",
    "/v1/oversight/vacancy": "tenancies",
    "/v1/oversight/landlords": "landlords",
    "/v1/reports/unexecuted": "unexecuted",
    "/v1/audit/cases/{case_id}": "audit",
    "/v1/audit/events": "audit",
}


async def await_min_position(
    request: Request,
    min_position: Annotated[
        int | None,
        Query(
            ge=1,
            description="wait until the read model reflects this position",
            openapi_examples={
                "after a submission": {
                    "summary": "the position a 201 answered",
                    "value": 48211,
                }
            },
        ),
    ] = None,
) -> int | None:
    """Await (in the event loop, holding no thread) the route's read model
    reaching ``min_position``: 409 ``position_not_recorded`` at once when it
    is past the log's end by more than ``BOENDE_MIN_POSITION_WINDOW``, 503
    ``projection_lagging`` after ``BOENDE_READ_WAIT_SECONDS``."""
    if min_position is None:
        return None
    boende: Boende = request.app.state.boende
    watch = position_watch_of(request.app)
    route = getattr(request.scope.get("route"), "path", "")
    names = [VIEW_OF_ROUTE[route]] if route in VIEW_OF_ROUTE else list(watch.views)
    settings = boende.settings
    await watch.wait(
        names, min_position, settings.read_wait_seconds, settings.min_position_window
    )
    return min_position


MinPosition = Annotated[int | None, Depends(await_min_position)]


#: What an operation taking ``min_position`` may answer for it.
_MIN_POSITION_REFUSALS = {
    "409": "position_not_recorded: min_position is beyond the end of the log",
    "503": "projection_lagging: the read model has not reached min_position "
    "in time; or unavailable: retry",
}


def document_min_position(schema: dict[str, Any]) -> dict[str, Any]:
    """The OpenAPI document, with the refusals of ``min_position`` on every
    operation that takes it."""
    for operations in schema.get("paths", {}).values():
        for operation in operations.values():
            names = {p.get("name") for p in operation.get("parameters", [])}
            if "min_position" not in names:
                continue
            responses = operation.setdefault("responses", {})
            for status, description in _MIN_POSITION_REFUSALS.items():
                code = description.split(":")[0]
                known = responses.setdefault(status, {"description": description})
                if code not in known.get("description", ""):
                    known["description"] = f"{known['description']}; {description}"
    return schema


def position_watch_of(app: FastAPI) -> PositionWatch:
    """The app's position watch, made on first use and closed with its Boende."""
    with _creating:
        watch: PositionWatch | None = getattr(app.state, "position_watch", None)
        if watch is None:
            boende = app.state.boende
            watch = PositionWatch(boende.app, boende.views)
            boende.closers.append(watch.close)
            app.state.position_watch = watch
    return watch


#: The days a query may name: far beyond any case, well inside what dates
#: can represent (so no arithmetic on them overflows into a 500).
FIRST_DAY, LAST_DAY = date(1900, 1, 1), date(2999, 12, 31)
#: The most periods one answer holds (20 years of months).
MAX_PERIODS = 240
_PERIOD_MONTHS = {"month": 1, "quarter": 3, "year": 12}


def _within_bounds(day: date) -> date:
    if not FIRST_DAY <= day <= LAST_DAY:
        raise ValueError(f"must be between {FIRST_DAY} and {LAST_DAY}")
    return day


#: ISO text, as the document's ``format: date`` / ``date-time`` says: pydantic
#: alone also reads a number as a Unix time (``to=0`` as 1970-01-01).
_ISO_DAY = re.compile(r"\d{4}-\d{2}-\d{2}")
_ISO_MOMENT = re.compile(r"\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}.*")


def _iso_day(value: object) -> object:
    if isinstance(value, str) and not _ISO_DAY.fullmatch(value):
        raise ValueError("must be a date like 2021-03-15")
    return value


def _iso_moment(value: object) -> object:
    if isinstance(value, str) and not _ISO_MOMENT.fullmatch(value):
        raise ValueError("must be a time like 2021-10-01T12:00:00+02:00")
    return value


#: A day in a query: 422 ``invalid_request`` unless ISO text within
#: FIRST_DAY..LAST_DAY.
Day = Annotated[date, BeforeValidator(_iso_day), AfterValidator(_within_bounds)]


def periods_between(start: date, end: date, period: str) -> tuple[date, date]:
    """``from`` and ``to`` of a per-period answer, checked: 422 when ``from``
    is after ``to`` or the range holds more than :data:`MAX_PERIODS`."""
    if start > end:
        raise InvalidRequest(
            "from must not be after to",
            details=[{"loc": "from", "problem": "after to"}],
        )
    months = (end.year - start.year) * 12 + end.month - start.month
    count = months // _PERIOD_MONTHS[period] + 1
    if count > MAX_PERIODS:
        raise InvalidRequest(
            f"from {start} to {end} is {count} {period}s; one answer holds at "
            f"most {MAX_PERIODS}: ask for a shorter range or a longer period",
            details=[{"loc": "from", "problem": f"more than {MAX_PERIODS} periods"}],
            max_periods=MAX_PERIODS,
        )
    return start, end


def known_at_utc(moment: datetime | None) -> str | None:
    """``known_at`` as the read models' UTC text; a time zone is required."""
    if moment is None:
        return None
    if not FIRST_DAY.year <= moment.year <= LAST_DAY.year:
        raise InvalidRequest(
            f"known_at must be between {FIRST_DAY} and {LAST_DAY}",
            details=[{"loc": "known_at", "problem": "out of range"}],
        )
    if moment.tzinfo is None:
        raise InvalidRequest(
            "known_at needs a time zone, e.g. 2021-10-01T12:00:00+02:00",
            details=[{"loc": "known_at", "problem": "no time zone"}],
        )
    return utc_text(moment.astimezone(UTC))


#: The refusals of a paged listing, for the OpenAPI document.
PAGE_RESPONSES: dict[int | str, dict[str, Any]] = {
    422: {
        "description": "invalid_request: a bad date, after or limit out of "
        "bounds, or from after to; details per parameter"
    },
    503: {"description": "unavailable: the table is unreachable; retry"},
}


async def day_page(
    start: Annotated[
        Day | None, Query(alias="from", description="on or after this UTC day")
    ] = None,
    end: Annotated[
        Day | None, Query(alias="to", description="on or before this UTC day")
    ] = None,
    after: Annotated[
        int, Query(ge=0, description="cursor: the previous page's next_after")
    ] = 0,
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = DEFAULT_LIMIT,
) -> DayPage:
    """The page a request asks for; 422 ``invalid_request`` when ``from`` is
    after ``to`` (bad values and bounds are refused by the query's types)."""
    if start and end and start > end:
        raise InvalidRequest(
            "from must not be after to",
            details=[{"loc": "from", "problem": "after to"}],
        )
    return DayPage(start, end, after, limit)


DayPageDep = Annotated[DayPage, Depends(day_page)]


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


def get_audit_log(request: Request) -> AuditLog:
    return audit_log_of(request.app)


AuditDep = Annotated[AuditLog, Depends(get_audit_log)]


#: ``public=true``: small counts suppressed for publication
#: (``services.reporting.suppression``).
Public = Annotated[
    bool,
    Query(
        description="suppress small counts (1-4 as <5; BOENDE_SUPPRESSION_THRESHOLD) "
        "and as few other figures as keep them from being worked out",
        openapi_examples={"for publication": {"value": True}},
    ),
]

KnownAt = Annotated[
    Annotated[datetime, BeforeValidator(_iso_moment)] | None,
    Query(
        description="only facts recorded by then; default now",
        openapi_examples={
            "an earlier report": {
                "summary": "as the log knew it then (a time zone is required)",
                "value": "2025-04-01T12:00:00+02:00",
            }
        },
    ),
]


def pseudonym_reference(boende: Boende) -> Callable[[str], str]:
    """Case id -> its pseudonymous reference under this installation's key
    (``infra.keys``): how oversight answers name a case."""
    settings = boende.settings
    return partial(pseudonym, pseudonym_key(settings.data_dir, settings.environment))


#: The routes whose unknown query parameters are refused: a misspelt
#: ``as_of`` must not silently answer for today, nor a misspelt ``from`` list
#: an auditor every entry.
STRICT_QUERY_PREFIXES = ("/v1/oversight/", "/v1/reports/", "/v1/audit/")
_NAME_SHOWN = 40  # a parameter's name is the sender's text: shown cut short


def declared_query_parameters(dependant: Dependant) -> frozenset[str]:
    """The query parameters a route reads: its own and its dependencies'."""
    names: set[str] = set()
    pending = [dependant]
    while pending:
        current = pending.pop()
        names.update(field.alias for field in current.query_params)
        pending.extend(current.dependencies)
    return frozenset(names)


_declared: dict[int, frozenset[str]] = {}


async def refuse_unknown_query_parameters(request: Request) -> None:
    """The app-wide check (after authorization): a request to an oversight,
    report or audit route naming a query parameter the route does not declare is
    refused, 422 ``invalid_request`` naming each, with the ones it takes."""
    route = request.scope.get("route")
    if not isinstance(route, APIRoute) or not route.path.startswith(
        STRICT_QUERY_PREFIXES
    ):
        return
    known = _declared.get(id(route))
    if known is None:
        known = _declared[id(route)] = declared_query_parameters(route.dependant)
    unknown = sorted(set(request.query_params) - known)
    if unknown:
        shown = [name[:_NAME_SHOWN] for name in unknown[:20]]
        raise InvalidRequest(
            f"unknown query parameter(s): {', '.join(shown)}; "
            f"{route.path} takes {', '.join(sorted(known)) or 'none'}",
            details=[
                {"loc": name, "problem": "unknown query parameter"} for name in shown
            ],
            allowed=sorted(known),
        )
