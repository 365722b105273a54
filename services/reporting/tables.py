"""A table as a CSV file: for Excel in Swedish (``lang="sv"``) or for
programs (``lang="en"``). Pure: no HTTP here (``services.http.reports.
formats`` turns a file into a response).

A :class:`Table` is its columns and its rows. A :class:`Column` has a name
(the JSON key, and the English header) and, when its values are codes, the
code list in ``services.reporting.labels`` whose Swedish labels they take. A
value of a long table whose code list changes from row to row (counts: a
state in one row, a termination reason in the next) is a :class:`Coded`.

The two languages:

- ``sv``: ``;``-separated, UTF-8 with a byte order mark (so Excel in Swedish
  opens it by a double click, columns split and å, ä, ö intact), headers as
  their label in the ``column`` list, every code as its Swedish label, a
  decimal comma for a number that is not whole, true/false as ``ja``/``nej``;
- ``en``: ``,``-separated, UTF-8 without a byte order mark, headers and codes
  as the API names them, a decimal point.

In both: one line per row ending in LF, a field quoted (``"``, doubled
inside) only when it holds the separator, a quote or a line break; dates
ISO (``2021-07-01``); an empty field for a missing value. A text that Excel
would take for a formula (it begins with ``=``, ``+``, ``-``, ``@``, a tab
or a carriage return) gets a ``'`` in front, and so does one that begins
with ``'``, so :func:`read_table` can take exactly one off again (numbers,
dates and booleans are never guarded: none of them begins with ``'``).

:class:`Provenance` (which log the figures were read from, and the query)
is written first, one ``# key: value`` line each, before the header row:
:func:`read_table` reads those lines back and skips them.
"""

from __future__ import annotations

import csv
import io
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Any, Final, Literal, get_args

from services.reporting.labels import LABELS, label

Lang = Literal["sv", "en"]
LANGS: Final[tuple[str, ...]] = get_args(Lang)

DELIMITER: Final[Mapping[str, str]] = {"sv": ";", "en": ","}
BOM: Final = "\ufeff"
COMMENT: Final = "#"
#: What a text may not begin with unguarded: Excel reads it as a formula.
FORMULA_STARTS: Final = ("=", "+", "-", "@", "\t", "\r")
GUARD: Final = "'"
_BOOLEANS: Final[Mapping[str, tuple[str, str]]] = {
    "sv": ("ja", "nej"),
    "en": ("true", "false"),
}


@dataclass(frozen=True)
class Column:
    """A column: its name (the English header and the JSON key), the code
    list (in ``labels.LABELS``) whose Swedish labels its values take, and
    its Swedish header when it is not the name's label in the ``column``
    list (a column made of two codes, e.g. a kind of fact and its reason)."""

    name: str
    codes: str | None = None
    sv: str | None = None

    def __post_init__(self) -> None:
        if not self.name or self.name.startswith(COMMENT):
            raise ValueError(f"a column's name is a word, not {self.name!r}")
        if self.codes is not None and self.codes not in LABELS:
            raise ValueError(f"column {self.name}: no code list {self.codes!r}")

    def header(self, lang: Lang) -> str:
        """The header: in Swedish ``sv``, or the name's label in the
        ``column`` list."""
        if lang == "en":
            return self.name
        return self.sv if self.sv is not None else label("column", self.name)


@dataclass(frozen=True)
class Coded:
    """A code of the list ``codes``, whatever its column's list."""

    codes: str
    code: str


@dataclass(frozen=True)
class Table:
    """Columns and rows, each row one value per column, in order."""

    columns: tuple[Column, ...]
    rows: tuple[tuple[Any, ...], ...] = ()

    def __post_init__(self) -> None:
        width = len(self.columns)
        for number, row in enumerate(self.rows):
            if len(row) != width:
                raise ValueError(f"row {number} has {len(row)} values, not {width}")

    @classmethod
    def of(cls, columns: Sequence[Column], rows: Iterable[Mapping[str, Any]]) -> Table:
        """The table of ``rows`` as mappings by column name; a name a row
        lacks is a missing value."""
        return cls(
            tuple(columns),
            tuple(tuple(row.get(c.name) for c in columns) for row in rows),
        )

    def headers(self, lang: Lang) -> list[str]:
        return [column.header(lang) for column in self.columns]

    def texts(self, lang: Lang) -> list[list[str]]:
        """Every row as the texts its fields hold (before the guard)."""
        return [
            [
                text(value, column, lang)
                for value, column in zip(row, self.columns, strict=True)
            ]
            for row in self.rows
        ]


@dataclass(frozen=True)
class Provenance:
    """Where a table's figures come from: the log position the read model
    reflected (``as_of_position``), the size and Merkle root (hex) of the log
    up to it, when the file was made (UTC), the report it is and the query
    that asked for it (name, value; a value of None is left out)."""

    report: str
    as_of_position: int
    tree_size: int
    root_hash: str
    generated_at: datetime
    query: tuple[tuple[str, Any], ...] = field(default=())

    def items(self) -> list[tuple[str, Any]]:
        """Every line of the file's head: name and value, in order."""
        return [
            ("report", Coded("report", self.report)),
            ("as_of_position", self.as_of_position),
            ("tree_size", self.tree_size),
            ("root_hash", self.root_hash),
            ("generated_at", self.generated_at),
            *((name, value) for name, value in self.query if value is not None),
        ]

    def comment_lines(self, lang: Lang) -> list[str]:
        """``# key: value`` per item; in Swedish, the key's label in the
        ``provenance`` list and the value as a field would show it."""
        lines = []
        for name, value in self.items():
            key = label("provenance", name) if lang == "sv" else name
            shown = text(value, Column(name), lang)
            shown = " ".join(shown.splitlines())  # one line, whatever it held
            lines.append(f"{COMMENT} {key}: {shown}")
        return lines

    def http_headers(self) -> dict[str, str]:
        """The same provenance for a response's headers."""
        return {
            "X-As-Of-Position": str(self.as_of_position),
            "X-Tree-Size": str(self.tree_size),
            "X-Root-Hash": self.root_hash,
        }


def text(value: Any, column: Column, lang: Lang) -> str:
    """What a field holds for ``value`` in ``column`` (before the guard)."""
    if value is None:
        return ""
    if isinstance(value, Coded):
        return label(value.codes, value.code) if lang == "sv" else value.code
    if isinstance(value, bool):
        return _BOOLEANS[lang][0 if value else 1]
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float | Decimal):
        return _number(value, lang)
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, date):
        return value.isoformat()
    shown = str(value)
    if lang == "sv" and column.codes is not None:
        return label(column.codes, shown)
    return shown


def _number(value: float | Decimal, lang: Lang) -> str:
    """A whole number without decimals; otherwise the shortest text that
    reads back as the same number, with a decimal comma in Swedish."""
    if isinstance(value, float):
        if not math.isfinite(value):
            return str(value)
        if value.is_integer() and abs(value) < 2**53:
            return str(int(value))
        shown = repr(value)
    else:
        if value.is_finite() and value == value.to_integral_value():
            return str(int(value))
        shown = str(value)
    return shown.replace(".", ",") if lang == "sv" else shown


def _line(fields: Sequence[str], delimiter: str) -> str:
    """One row as a line ending in LF. A field is quoted when it holds the
    separator, a quote or a line break (CR or LF: Python's csv writer leaves
    a lone CR unquoted when lines end in LF, and a reader then splits the row
    there); a row of one empty field is ``""``, not an empty line."""
    special = (delimiter, '"', "\n", "\r")
    quoted = [
        f'"{f.replace(chr(34), chr(34) * 2)}"' if any(c in f for c in special) else f
        for f in fields
    ]
    if quoted == [""]:
        quoted = ['""']
    return delimiter.join(quoted) + "\n"


def _written(value: Any, column: Column, lang: Lang) -> str:
    """The field as written: a text guarded, a number, date or bool as it is
    (none of them begins with a formula's sign but a negative number)."""
    shown = text(value, column, lang)
    return guard(shown) if isinstance(value, str | Coded) else shown


def guard(field_text: str) -> str:
    """``field_text`` as written: with a ``'`` in front when Excel would read
    it as a formula, or when it begins with ``'`` itself."""
    if field_text.startswith((*FORMULA_STARTS, GUARD)):
        return GUARD + field_text
    return field_text


def unguard(field_text: str) -> str:
    """What :func:`guard` was given."""
    return field_text[1:] if field_text.startswith(GUARD) else field_text


def to_csv(table: Table, lang: Lang, provenance: Provenance | None = None) -> bytes:
    """The file: the provenance lines, the header row, one line per row."""
    if lang not in LANGS:
        raise ValueError(f"lang must be one of {LANGS}, not {lang!r}")
    out = io.StringIO(newline="")
    if lang == "sv":
        out.write(BOM)
    for line in provenance.comment_lines(lang) if provenance else []:
        out.write(line + "\n")
    delimiter = DELIMITER[lang]
    out.write(_line(table.headers(lang), delimiter))
    for row in table.rows:
        fields = [_written(v, c, lang) for v, c in zip(row, table.columns, strict=True)]
        out.write(_line(fields, delimiter))
    return out.getvalue().encode("utf-8")


@dataclass(frozen=True)
class ReadTable:
    """A file as :func:`read_table` reads it: the provenance lines (by their
    English name), the header row and the rows, each field unguarded."""

    provenance: dict[str, str]
    headers: list[str]
    rows: list[list[str]]


def read_table(data: bytes, lang: Lang) -> ReadTable:
    """A file :func:`to_csv` wrote, read back: Python's csv module with the
    language's separator, after the ``#`` lines before the header."""
    content = data.decode("utf-8-sig" if lang == "sv" else "utf-8")
    provenance: dict[str, str] = {}
    names = {label("provenance", n): n for n in LABELS["provenance"]}
    while content.startswith(COMMENT):
        line, _, content = content.partition("\n")
        key, _, value = line[len(COMMENT) :].strip().partition(": ")
        provenance[names.get(key, key) if lang == "sv" else key] = value
    reader = csv.reader(io.StringIO(content, newline=""), delimiter=DELIMITER[lang])
    headers, *rows = list(reader)
    return ReadTable(provenance, headers, [[unguard(t) for t in row] for row in rows])
