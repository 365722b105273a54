"""What every route that answers a table shares: the quarter a query names
(decided against today), the format and language asked for, and the CSV
response with its provenance (docs/reports.md).

- ``quarter_of``: a quarter's bounds, preliminary or final, or 422;
- ``TableFormatDep``: JSON or CSV (``?format=csv|json``, else ``Accept``),
  and the CSV's language (``?lang=sv|en``, else ``BOENDE_REPORT_LANG``);
- ``provenance_of`` and ``csv_response``: the file, its provenance in its
  first lines and in the ``X-As-Of-Position``, ``X-Tree-Size`` and
  ``X-Root-Hash`` headers, and a ``Content-Disposition`` with its name;
- ``table_responses``: the OpenAPI description of all that.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Annotated, Any, Literal

from fastapi import Depends, Header, Query
from fastapi.responses import Response

from projections import unexecuted as unexecuted_view
from services.errors import InvalidRequest
from services.http.deps import BoendeDep
from services.reporting.tables import Lang, Provenance, Table, to_csv

CSV_MEDIA_TYPE = "text/csv; charset=utf-8"


@dataclass(frozen=True)
class TableFormat:
    """How a table is answered: as CSV (else JSON), and in which language."""

    csv: bool
    lang: Lang


def table_format(
    boende: BoendeDep,
    response: Response,
    format_: Annotated[
        Literal["json", "csv"] | None,
        Query(
            alias="format",
            description="json or csv; unset, the Accept header decides "
            "(text/csv preferred over application/json: CSV)",
            openapi_examples={"csv": {"summary": "a CSV file", "value": "csv"}},
        ),
    ] = None,
    lang: Annotated[
        Literal["sv", "en"] | None,
        Query(
            description="the CSV's language: sv (for Excel in Swedish: ';', "
            "UTF-8 with BOM, Swedish headers and labels, decimal comma) or en "
            "(',', the API's names and codes); unset, BOENDE_REPORT_LANG",
            openapi_examples={
                "sv": {"summary": "for Excel in Swedish", "value": "sv"},
                "en": {"summary": "for programs", "value": "en"},
            },
        ),
    ] = None,
    accept: Annotated[
        str | None,
        Header(
            openapi_examples={"csv": {"summary": "CSV", "value": "text/csv"}},
        ),
    ] = None,
) -> TableFormat:
    """The format a request asks for; an unknown ``format`` or ``lang`` is
    422 ``invalid_request`` (by their types). The answer varies with
    ``Accept``, and says so (``Vary``) for caches, JSON too."""
    response.headers["Vary"] = "Accept"
    as_csv = prefers_csv(accept) if format_ is None else format_ == "csv"
    return TableFormat(as_csv, lang or boende.settings.report_lang)


TableFormatDep = Annotated[TableFormat, Depends(table_format)]


def provenance_of(report: str, answer: Mapping[str, Any], **query: Any) -> Provenance:
    """The provenance of a table read by ``services.projecting.answers.
    answer``: its position, tree size and root hash, now, and the query."""
    return Provenance(
        report=report,
        as_of_position=int(answer["as_of_position"]),
        tree_size=int(answer["tree_size"]),
        root_hash=str(answer["root_hash"]),
        generated_at=datetime.now(UTC).replace(microsecond=0),
        query=tuple(query.items()),
    )


def csv_response(
    table: Table, provenance: Provenance, filename: str, lang: Lang
) -> Response:
    """The table as a CSV file to save as ``filename``, its provenance in
    its first lines and in the headers."""
    headers = {
        **provenance.http_headers(),
        "Content-Disposition": f'attachment; filename="{filename}"',
        "Content-Language": lang,
        "Vary": "Accept",
    }
    return Response(
        to_csv(table, lang, provenance), headers=headers, media_type=CSV_MEDIA_TYPE
    )


def table_responses(what: str, *refusals: str) -> dict[int | str, dict[str, Any]]:
    """The OpenAPI ``responses`` of a route that answers ``what`` as JSON or
    CSV, and refuses with 422 for ``refusals`` besides format and lang."""

    def header(text: str, kind: str) -> dict[str, Any]:
        return {"description": f"CSV: {text}", "schema": {"type": kind}}

    responses: dict[int | str, dict[str, Any]] = {
        200: {
            "description": f"{what}. JSON by default; CSV with ?format=csv or "
            "when Accept prefers text/csv, in the language of ?lang= "
            "(default BOENDE_REPORT_LANG): sv is ';'-separated UTF-8 with a "
            "BOM, Swedish headers and labels, a decimal comma; en is "
            "comma-separated with the API's names and codes. A CSV file "
            "begins with '# name: value' lines of provenance (report, "
            "as_of_position, tree_size, root_hash, generated_at, the query), "
            "then a header row (docs/reports.md)",
            "content": {
                "application/json": {},
                "text/csv": {"schema": {"type": "string"}},
            },
            "headers": {
                "X-As-Of-Position": header(
                    "the log position the figures reflect", "integer"
                ),
                "X-Tree-Size": header("events in the log up to it", "integer"),
                "X-Root-Hash": header("the Merkle root (hex) of that log", "string"),
                "Content-Disposition": header(
                    "attachment, with the file's name", "string"
                ),
            },
        },
        422: {
            "description": "invalid_request: "
            + "; ".join(
                [
                    "format not json or csv, lang not sv or en",
                    *refusals,
                ]
            )
        },
    }
    return responses


def prefers_csv(accept: str | None) -> bool:
    """Whether ``Accept`` gives ``text/csv`` a higher quality than
    ``application/json``; a tie, or no header, means JSON."""
    ranges = [_media_range(part) for part in (accept or "").split(",")]
    return _quality(ranges, "text/csv") > _quality(ranges, "application/json")


def _media_range(text: str) -> tuple[str, float]:
    media_type, *params = (part.strip().lower() for part in text.split(";"))
    for param in params:
        name, _, value = param.partition("=")
        if name.strip() == "q":
            try:
                return media_type, float(value)
            except ValueError:
                return media_type, 0.0
    return media_type, 1.0


def _quality(ranges: list[tuple[str, float]], media_type: str) -> float:
    """The quality of the most specific range that matches ``media_type``."""
    patterns = ["*/*", media_type.split("/")[0] + "/*", media_type]
    matches = [(patterns.index(r), q) for r, q in ranges if r in patterns]
    return max(matches)[1] if matches else 0.0


@dataclass(frozen=True)
class ReportQuarter:
    """A quarter a report names, decided against today by ``quarter_of``.

    ``start`` and ``end`` are its first and last day. ``preliminary`` is true
    while the quarter has not ended (today is on or before ``end``): its
    figures can still change. ``counted_to`` is the day a report counts to,
    for waiting days and "status at quarter end": ``end`` for an ended
    quarter, today for a running one (never a day that has not come).
    """

    quarter: str
    start: date
    end: date
    preliminary: bool
    counted_to: date

    def as_json(self) -> dict[str, object]:
        """What every quarterly answer says about its quarter."""
        return {
            "quarter": self.quarter,
            "from": self.start.isoformat(),
            "to": self.end.isoformat(),
            "preliminary": self.preliminary,
            "counted_to": self.counted_to.isoformat(),
        }


def quarter_of(quarter: str, today: date) -> ReportQuarter:
    """The quarter written like ``2021Q3``, decided against ``today``
    (``services.http.deps.today_of``): 422 ``invalid_request`` when it is not
    like 2021Q3 or begins after today; ``preliminary`` when today is on or
    before its last day, and then counted to today."""
    try:
        start, end = unexecuted_view.quarter_bounds(quarter)
    except ValueError:
        raise InvalidRequest(
            f"quarter must be a year and a quarter like 2021Q3, not {quarter!r}",
            details=[{"loc": "quarter", "problem": "not like 2021Q3"}],
        ) from None
    if start > today:
        raise InvalidRequest(
            f"quarter {quarter} has not begun: it starts on {start.isoformat()} "
            f"and today is {today.isoformat()}",
            details=[{"loc": "quarter", "problem": "in the future"}],
            today=today.isoformat(),
        )
    preliminary = today <= end
    return ReportQuarter(
        quarter, start, end, preliminary, today if preliminary else end
    )
