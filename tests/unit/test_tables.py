"""``services.reporting.tables``: any table round-trips through its CSV file,
in Swedish and in English, read by Python's csv module."""

from __future__ import annotations

import csv
import io
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from services.reporting.labels import LABELS
from services.reporting.tables import (
    Coded,
    Column,
    Lang,
    Provenance,
    Table,
    read_table,
    text,
    to_csv,
)

PROVENANCE = Provenance(
    report="unexecuted_quarterly",
    as_of_position=42,
    tree_size=42,
    root_hash="ab" * 32,
    generated_at=datetime(2026, 11, 30, 9, 15, 0, tzinfo=UTC),
    query=(("quarter", "2021Q3"), ("known_at", None), ("preliminary", False)),
)

# -- hypothesis: any table --------------------------------------------------------

#: Any text a field can hold: separators, quotes, line breaks, non-ASCII (no
#: lone surrogates: UTF-8 cannot hold them).
texts = st.text(
    st.characters(blacklist_categories=("Cs",)) | st.sampled_from(";,\"\n\r'#=-"),
    max_size=12,
)
code_lists = st.sampled_from(sorted(LABELS))
coded = code_lists.flatmap(
    lambda kind: st.builds(
        Coded, st.just(kind), st.sampled_from(sorted(LABELS[kind])) | texts
    )
)
values = st.one_of(
    st.none(),
    texts,
    st.integers(-(10**12), 10**12),
    st.floats(allow_nan=False, allow_infinity=False),
    st.decimals(allow_nan=False, allow_infinity=False, places=3),
    st.booleans(),
    st.dates(),
    coded,
)
columns = st.builds(
    Column,
    st.text(min_size=1, max_size=10).filter(lambda n: not n.startswith("#"))
    | st.sampled_from(sorted(LABELS["column"])),
    st.none() | code_lists,
)


@st.composite
def tables(draw: st.DrawFn) -> Table:
    cols = draw(st.lists(columns, min_size=1, max_size=5))
    rows = draw(
        st.lists(st.tuples(*[values for _ in cols]).map(tuple), min_size=0, max_size=6)
    )
    return Table(tuple(cols), tuple(rows))


@given(table=tables(), lang=st.sampled_from(["sv", "en"]))
def test_any_table_round_trips_through_its_file(table: Table, lang: Lang) -> None:
    back = read_table(to_csv(table, lang, PROVENANCE), lang)
    assert back.headers == table.headers(lang)
    assert back.rows == table.texts(lang)
    assert back.provenance["as_of_position"] == "42"
    assert back.provenance["root_hash"] == "ab" * 32


@given(table=tables(), lang=st.sampled_from(["sv", "en"]))
def test_pythons_csv_module_reads_the_file_as_excel_would(
    table: Table, lang: Lang
) -> None:
    """Python's csv module alone, as the issue asks: delimiter ';' and
    encoding 'utf-8-sig' for Swedish; the provenance lines skipped by a
    reader that knows them; every field as written (a formula-like text with
    its guard)."""
    data = to_csv(table, lang, PROVENANCE)
    delimiter, encoding = {"sv": (";", "utf-8-sig"), "en": (",", "utf-8")}[lang]
    with io.TextIOWrapper(io.BytesIO(data), encoding=encoding, newline="") as f:
        head = [f.readline() for _ in PROVENANCE.comment_lines(lang)]
        assert all(line.startswith("# ") for line in head)
        header, *rows = list(csv.reader(f, delimiter=delimiter))
    assert header == table.headers(lang)
    assert len(rows) == len(table.rows)
    for row, values_, texts_ in zip(rows, table.rows, table.texts(lang), strict=True):
        for written, value, shown in zip(row, values_, texts_, strict=True):
            guarded = isinstance(value, str | Coded) and shown[:1] in set("=+-@\t\r'")
            assert written == ("'" + shown if guarded else shown)


@given(table=tables())
def test_swedish_has_a_bom_english_has_none(table: Table) -> None:
    assert to_csv(table, "sv").startswith("\ufeff".encode())
    assert not to_csv(table, "en").startswith(b"\xef\xbb\xbf")
    assert to_csv(table, "en").decode("utf-8")  # plain UTF-8


@given(
    st.floats(allow_nan=False, allow_infinity=False)
    | st.decimals(places=4, allow_nan=False, allow_infinity=False)
)
def test_a_number_reads_back_as_itself_with_a_decimal_comma_in_swedish(
    number: float | Decimal,
) -> None:
    sv, en = text(number, Column("value"), "sv"), text(number, Column("value"), "en")
    assert "." not in sv
    assert en == sv.replace(",", ".")
    assert type(number)(en) == number


# -- by hand ----------------------------------------------------------------------

REPORT = Table.of(
    [
        Column("section", "section"),
        Column("reference"),
        Column("decided_on"),
        Column("gender", "gender"),
        Column("delay_reason", "delay_reason"),
        Column("days_waiting"),
        Column("value"),
    ],
    [
        {
            "section": "new",
            "reference": "0a1b2c3d4e5f6789",
            "decided_on": "2021-03-31",
            "gender": "woman",
            "delay_reason": None,
            "days_waiting": 183,
            "value": 12.5,
        },
        {
            "section": "earlier_standing",
            "reference": "=cmd|' /C calc'!A0",
            "decided_on": date(2021, 1, 31),
            "gender": "man",
            "delay_reason": "no_apartment_available",
            "days_waiting": 242,
        },
    ],
)


def test_a_swedish_file_by_hand() -> None:
    assert to_csv(REPORT, "sv", PROVENANCE).decode("utf-8") == (
        "\ufeff"
        "# Rapport: Ej verkställda beslut, kvartalsrapport\n"
        "# Loggposition: 42\n"
        "# Händelser i loggen: 42\n"
        f"# Rothash (Merkle): {'ab' * 32}\n"
        "# Skapad: 2026-11-30T09:15:00+00:00\n"
        "# Kvartal: 2021Q3\n"
        "# Preliminär: nej\n"
        "Avsnitt;Referens;Beslutsdatum;Kön;Orsak till dröjsmål;Väntetid (dagar);Värde\n"
        "Nya ej verkställda beslut;0a1b2c3d4e5f6789;2021-03-31;Kvinna;;183;12,5\n"
        "Tidigare rapporterade, fortfarande ej verkställda;'=cmd|' /C calc'!A0;"
        "2021-01-31;Man;Ingen lägenhet tillgänglig;242;\n"
    )


def test_an_english_file_by_hand() -> None:
    assert to_csv(REPORT, "en", PROVENANCE).decode("utf-8") == (
        "# report: unexecuted_quarterly\n"
        "# as_of_position: 42\n"
        "# tree_size: 42\n"
        f"# root_hash: {'ab' * 32}\n"
        "# generated_at: 2026-11-30T09:15:00+00:00\n"
        "# quarter: 2021Q3\n"
        "# preliminary: false\n"
        "section,reference,decided_on,gender,delay_reason,days_waiting,value\n"
        "new,0a1b2c3d4e5f6789,2021-03-31,woman,,183,12.5\n"
        "earlier_standing,'=cmd|' /C calc'!A0,2021-01-31,man,"
        "no_apartment_available,242,\n"
    )


def test_provenance_reads_back_by_its_english_names_in_both_languages() -> None:
    for lang in ("sv", "en"):
        back = read_table(to_csv(REPORT, lang, PROVENANCE), lang)  # type: ignore[arg-type]
        assert list(back.provenance) == [
            "report",
            "as_of_position",
            "tree_size",
            "root_hash",
            "generated_at",
            "quarter",
            "preliminary",
        ]
    assert PROVENANCE.http_headers() == {
        "X-As-Of-Position": "42",
        "X-Tree-Size": "42",
        "X-Root-Hash": "ab" * 32,
    }


def test_a_provenance_value_stays_on_its_line() -> None:
    odd = Provenance(
        "counts", 1, 1, "00", PROVENANCE.generated_at, (("as_of", "a\nb\r\nc"),)
    )
    assert odd.comment_lines("en")[-1] == "# as_of: a b c"


def test_no_rows_is_a_header_only() -> None:
    table = Table((Column("count"),))
    assert to_csv(table, "en") == b"count\n"
    assert to_csv(table, "sv") == "\ufeffAntal\n".encode()


@pytest.mark.parametrize(
    ("bad", "problem"),
    [
        (lambda: Column(""), "a word"),
        (lambda: Column("#x"), "a word"),
        (lambda: Column("x", "no_such_list"), "no code list"),
        (lambda: Table((Column("a"),), ((1, 2),)), "2 values, not 1"),
        (lambda: to_csv(Table((Column("a"),)), "de"), "lang"),  # type: ignore[arg-type]
    ],
)
def test_a_malformed_table_is_refused(bad: Any, problem: str) -> None:
    with pytest.raises(ValueError, match=problem):
        bad()


def test_a_column_of_two_codes_has_its_own_swedish_header() -> None:
    column = Column("cancelled.moved_away", "suppression", "Upphörda: Flyttat")
    assert column.header("sv") == "Upphörda: Flyttat"
    assert column.header("en") == "cancelled.moved_away"
    assert Column("count").header("sv") == "Antal"
    assert Column("no_label_yet").header("sv") == "no_label_yet"
