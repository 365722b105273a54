"""What every table route shares (``services/http/reports/formats.py``),
called directly rather than through a route: the OpenAPI ``responses`` of a
table route word for word (a route's decorator calls ``table_responses``
once, at import, so only a call in the test runs it under a mutant); the
format and language a request asks for; which of ``text/csv`` and
``application/json`` an ``Accept`` header prefers; a table's provenance and
its CSV response with the headers docs/reports.md names."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from types import SimpleNamespace
from typing import Any

import pytest
from fastapi.responses import Response

from services.errors import InvalidRequest
from services.http.reports.formats import (
    CSV_MEDIA_TYPE,
    TableFormat,
    _media_range,
    _quality,
    csv_response,
    prefers_csv,
    provenance_of,
    quarter_of,
    table_format,
    table_responses,
)
from services.reporting.tables import Column, Provenance, Table, to_csv

# -- the OpenAPI description -------------------------------------------------

DESCRIPTION_200 = (
    "Counts by state. JSON by default; CSV with ?format=csv or when Accept "
    "prefers text/csv, in the language of ?lang= (default BOENDE_REPORT_LANG): "
    "sv is ';'-separated UTF-8 with a BOM, Swedish headers and labels, a "
    "decimal comma; en is comma-separated with the API's names and codes. A "
    "CSV file begins with '# name: value' lines of provenance (report, "
    "as_of_position, tree_size, root_hash, generated_at, the query), then a "
    "header row (docs/reports.md)"
)


def test_a_table_route_documents_both_formats_and_the_provenance_headers() -> None:
    assert table_responses("Counts by state") == {
        200: {
            "description": DESCRIPTION_200,
            "content": {
                "application/json": {},
                "text/csv": {"schema": {"type": "string"}},
            },
            "headers": {
                "X-As-Of-Position": {
                    "description": "CSV: the log position the figures reflect",
                    "schema": {"type": "integer"},
                },
                "X-Tree-Size": {
                    "description": "CSV: events in the log up to it",
                    "schema": {"type": "integer"},
                },
                "X-Root-Hash": {
                    "description": "CSV: the Merkle root (hex) of that log",
                    "schema": {"type": "string"},
                },
                "Content-Disposition": {
                    "description": "CSV: attachment, with the file's name",
                    "schema": {"type": "string"},
                },
            },
        },
        422: {
            "description": "invalid_request: format not json or csv, lang not sv or en"
        },
    }


def test_a_route_s_own_refusals_follow_format_and_lang() -> None:
    responses = table_responses("x", "quarter not like 2021Q3", "a quarter not begun")
    assert responses[422] == {
        "description": "invalid_request: format not json or csv, lang not sv or "
        "en; quarter not like 2021Q3; a quarter not begun"
    }
    assert responses[200]["description"].startswith("x. JSON by default; ")
    assert list(responses) == [200, 422]


# -- the format and language asked for ---------------------------------------


def ask(
    format_: Any = None,
    lang: Any = None,
    accept: str | None = None,
    default: str = "en",
) -> tuple[TableFormat, Response]:
    boende: Any = SimpleNamespace(settings=SimpleNamespace(report_lang=default))
    response = Response()
    asked = table_format(boende, response, format_=format_, lang=lang, accept=accept)
    return asked, response


@pytest.mark.parametrize(
    ("format_", "accept", "csv"),
    [
        (None, None, False),
        (None, "text/csv", True),
        (None, "application/json;q=0.9, text/csv", True),
        ("json", "text/csv", False),  # ?format= decides over Accept
        ("csv", "application/json", True),
        ("csv", None, True),
    ],
)
def test_format_decides_else_accept(
    format_: Any, accept: str | None, csv: bool
) -> None:
    asked, response = ask(format_, accept=accept)
    assert asked == TableFormat(csv=csv, lang="en")
    assert response.headers["Vary"] == "Accept"  # JSON too: it varies with Accept


def test_lang_decides_else_the_installation_s_default() -> None:
    assert ask(lang="en", default="sv")[0] == TableFormat(False, "en")
    assert ask(lang="sv", default="en")[0] == TableFormat(False, "sv")
    assert ask(default="sv")[0] == TableFormat(False, "sv")
    assert ask(default="en")[0] == TableFormat(False, "en")


# -- Accept ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("accept", "csv"),
    [
        (None, False),  # no header: JSON
        ("", False),
        ("text/csv", True),
        ("application/json", False),
        ("text/csv, application/json", False),  # a tie: JSON
        ("*/*", False),
        ("text/csv;q=0.9, application/json;q=0.8", True),
        ("text/csv;q=0.8, application/json;q=0.9", False),
        ("application/json;q=0.5, text/*", True),
        ("application/*;q=0.3, text/csv;q=0.2", False),
        # The most specific range that matches decides, not the highest q.
        ("text/csv;q=0.1, */*", False),
        ("*/*;q=0.1, text/csv", True),
        ("text/*;q=0.1, text/csv;q=0.9, application/json;q=0.5", True),
        # Case and spaces do not matter; other parameters are passed over.
        (" TEXT/CSV ; Q = 0.9 , application/json;q=0.8", True),
        ("text/csv; charset=utf-8; q=0.4, application/json;q=0.3", True),
        ("text/csv; charset=utf-8; q=0.2, application/json;q=0.3", False),
        # An unreadable q is 0: not acceptable.
        ("text/csv;q=high, application/json;q=0.001", False),
        ("text/csv;q=0.001, application/json;q=high", True),
    ],
)
def test_which_format_accept_prefers(accept: str | None, csv: bool) -> None:
    assert prefers_csv(accept) is csv


def test_a_media_range_and_its_quality() -> None:
    assert _media_range("text/csv") == ("text/csv", 1.0)
    assert _media_range(" Text/CSV ;level=1; q=0.5") == ("text/csv", 0.5)
    assert _media_range("text/csv;q=high") == ("text/csv", 0.0)
    assert _media_range("text/csv;qq=0.5") == ("text/csv", 1.0)
    assert _media_range("text/csv;q") == ("text/csv", 0.0)  # no value: unreadable


def test_the_quality_of_the_most_specific_matching_range() -> None:
    ranges = [("*/*", 0.2), ("text/*", 0.5), ("text/csv", 0.7)]
    assert _quality(ranges, "text/csv") == 0.7
    assert _quality(ranges, "text/html") == 0.5
    assert _quality(ranges, "application/json") == 0.2
    assert _quality([("text/csv", 0.7), ("*/*", 0.9)], "text/csv") == 0.7
    assert _quality([("text/*", 0.4), ("*/*", 0.9)], "text/plain") == 0.4
    assert _quality([("application/json", 1.0)], "text/csv") == 0.0
    assert _quality([], "text/csv") == 0.0


# -- provenance and the CSV response -------------------------------------------

ANSWER = {"as_of_position": "41", "tree_size": 41.0, "root_hash": 0xAB}


def test_the_provenance_of_an_answer() -> None:
    before = datetime.now(UTC).replace(microsecond=0)
    provenance = provenance_of("counts", ANSWER, as_of="2021-12-31", by=None)
    after = datetime.now(UTC)
    assert provenance.report == "counts"
    assert provenance.as_of_position == 41 and type(provenance.as_of_position) is int
    assert provenance.tree_size == 41 and type(provenance.tree_size) is int
    assert provenance.root_hash == "171"  # as text, whatever it came as
    assert provenance.query == (("as_of", "2021-12-31"), ("by", None))
    generated = provenance.generated_at
    assert generated.tzinfo is UTC and generated.microsecond == 0
    assert before <= generated <= after


def provenance() -> Provenance:
    return Provenance(
        report="counts",
        as_of_position=41,
        tree_size=40,
        root_hash="ab" * 32,
        generated_at=datetime(2021, 12, 31, 23, 59, 59, tzinfo=UTC),
        query=(("as_of", "2021-12-31"),),
    )


@pytest.mark.parametrize("lang", ["sv", "en"])
def test_a_csv_response_carries_its_provenance_and_file_name(lang: Any) -> None:
    table = Table((Column("state", "case_state"), Column("n")), (("filed", 3),))
    response = csv_response(table, provenance(), "counts-2021-12-31.csv", lang)
    assert response.body == to_csv(table, lang, provenance())
    assert response.media_type == CSV_MEDIA_TYPE == "text/csv; charset=utf-8"
    assert dict(response.headers) == {
        "x-as-of-position": "41",
        "x-tree-size": "40",
        "x-root-hash": "ab" * 32,
        "content-disposition": 'attachment; filename="counts-2021-12-31.csv"',
        "content-language": lang,
        "vary": "Accept",
        "content-length": str(len(response.body)),
        "content-type": "text/csv; charset=utf-8",
    }


def test_the_generated_time_is_now_in_utc_to_the_second() -> None:
    provenance = provenance_of("counts", ANSWER)
    assert abs(datetime.now(UTC) - provenance.generated_at) < timedelta(seconds=5)
    assert provenance.query == ()


# -- the quarter a report names ------------------------------------------------


def test_a_malformed_quarter_is_refused_in_words() -> None:
    with pytest.raises(InvalidRequest) as refused:
        quarter_of("2021-3", date(2021, 1, 1))
    assert refused.value.message == (
        "quarter must be a year and a quarter like 2021Q3, not '2021-3'"
    )
    assert refused.value.details == {
        "details": [{"loc": "quarter", "problem": "not like 2021Q3"}]
    }


def test_a_quarter_not_begun_is_refused_naming_its_start_and_today() -> None:
    with pytest.raises(InvalidRequest) as refused:
        quarter_of("2021Q3", date(2021, 6, 30))
    assert refused.value.message == (
        "quarter 2021Q3 has not begun: it starts on 2021-07-01 and today is 2021-06-30"
    )
    assert refused.value.details == {
        "details": [{"loc": "quarter", "problem": "in the future"}],
        "today": "2021-06-30",
    }
