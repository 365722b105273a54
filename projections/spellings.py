"""How the figures on the tenancies read model (rents, vacancy, the path to
a first-hand lease) name a landlord or district group: by the spelling of
its first acquisition in the log, so a group has one name in every figure,
on SQLite and PostgreSQL alike, whatever day or period is asked.

A group is what figures group by: a landlord's organisation number when
its acquisition named one, else its normalised name
(``projections.landlords.landlord_key``); a district by its normalised
name. The spelling is shown trimmed, runs of spaces made one; for a
landlord with a number it is the register's first name
(``projections.landlords``).

As known at a moment, the first of the acquisitions recorded by then. So
``tenancy_spellings`` keeps, per group, each acquisition recorded earlier
than every acquisition of the group before it in the log: with clocks in
step the first alone, a clock running behind adds a row. The earliest of
those recorded by a moment is the earliest of all recorded by it.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from domain.collation import swedish_key
from domain.districts import normalised
from infra.views import Sql
from projections.base import END_OF_TIME, Recorded
from projections.landlords import landlord_key, shown_name

#: The groupings whose groups are named by a spelling.
SPELLED = ("landlord", "district")

TABLES = {
    "tenancy_spellings": (
        "CREATE TABLE IF NOT EXISTS tenancy_spellings ("
        "grouped_by TEXT NOT NULL, group_key TEXT NOT NULL, "
        "position BIGINT NOT NULL, recorded_at TEXT NOT NULL, "
        "spelling TEXT NOT NULL, PRIMARY KEY (grouped_by, group_key, position))"
    ),
}


def spelled_key(row: Mapping[str, Any], by: str) -> str:
    """The group of an apartment's ``row`` (its landlord, the landlord's
    number, its district) under ``by``, one of :data:`SPELLED`."""
    if by == "landlord":
        return landlord_key(row["landlord_org_no"], row["landlord"])
    return normalised(row[by])


def record(sql: Sql, r: Recorded, apartment: Mapping[str, Any]) -> None:
    """An acquisition's spellings, where it could be its group's first."""
    for by in SPELLED:
        key = spelled_key(apartment, by)
        recorded_before = sql.one(
            "SELECT position FROM tenancy_spellings WHERE grouped_by = ? "
            "AND group_key = ? AND recorded_at <= ?",
            [by, key, r.recorded_at],
        )
        if recorded_before is None:
            sql.execute(
                "INSERT INTO tenancy_spellings VALUES (?, ?, ?, ?, ?)",
                [by, key, r.position, r.recorded_at, shown_name(apartment[by])],
            )


def first_spellings(sql: Sql, by: str, known_at: str = END_OF_TIME) -> dict[str, str]:
    """Per group under ``by`` (one of :data:`SPELLED`), the spelling of its
    first acquisition recorded by ``known_at``. A group none of whose
    acquisitions was recorded by then (a later fact whose clock ran behind
    brought it into the answer) by its first in the log."""
    first: dict[str, str] = {}
    known: dict[str, str] = {}
    for row in sql.all(
        "SELECT group_key, recorded_at, spelling FROM tenancy_spellings "
        "WHERE grouped_by = ? ORDER BY group_key, position",
        [by],
    ):
        first.setdefault(row["group_key"], row["spelling"])
        if row["recorded_at"] <= known_at:
            known.setdefault(row["group_key"], row["spelling"])
    return {**first, **known}


def shown_order(key: str, names: Mapping[str, str]) -> tuple[tuple[str, str], str]:
    """A sort key putting a group in the Swedish alphabetical order of the
    name it is shown by (``names``: key -> first spelling; a key without
    one, as the one group of no grouping, by itself), the key breaking a
    tie (two landlords of one name)."""
    return swedish_key(names.get(key, key)), key


def in_shown_order(keys: Iterable[str], names: Mapping[str, str]) -> list[str]:
    """Group keys in the order of :func:`shown_order`."""
    return sorted(keys, key=lambda key: shown_order(key, names))
