"""The landlord register (*hyresvärdsregistret*), built from the log.

Landlords are companies, known by their organisationsnummer
(``domain.orgnummer``) from the acquisitions that name one. Per number: the
first name seen in the log, the day of that acquisition, and every later
change of name as a rename with its effective day — a change being a name
that differs once trimmed, its spaces collapsed and case folded, so
``"kommunbostäder AB "`` renames nothing. Acquisitions without a number (a
sole trader, or recorded before numbers were asked for) are not in the
register; figures group them by their normalised name (:func:`landlord_key`).
"""

from __future__ import annotations

from typing import Any

from domain.apartment import Apartment
from domain.districts import normalised
from infra.views import Sql
from projections.base import Projection, Recorded, handles


def landlord_key(org_no: str | None, name: str) -> str:
    """What figures group a landlord by: its organisation number when the
    fact has one, else its normalised name (the two cannot collide: a
    number is digits and a hyphen, a name key is prefixed)."""
    return org_no if org_no else "name:" + normalised(name)


def org_no_on(event: Any) -> str | None:
    """An acquisition's organisation number. The store upcasts a version 1
    fact to None; a message relayed to ``boende.events`` before the field
    existed has none at all, and a Kafka-fed read model replays it too."""
    org_no: str | None = getattr(event, "landlord_org_no", None)
    return org_no


def org_no_of(key: str) -> str | None:
    """The organisation number a :func:`landlord_key` stands for, if any."""
    return None if key.startswith("name:") else key


def shown_name(name: str) -> str:
    """A name as figures show it: trimmed, runs of spaces made one."""
    return " ".join(name.split())


class LandlordRegister(Projection):
    """Per organisation number: its first name, the renames after it, and
    how many apartments ALN has acquired from it."""

    name = "landlords"
    replay_cost = 6.0  # µs per event, make bench of 246fb0a at 1M events
    tables = {
        "landlord_register": (
            "CREATE TABLE IF NOT EXISTS landlord_register ("
            "org_no TEXT PRIMARY KEY, first_name TEXT NOT NULL, "
            "first_seen_on TEXT NOT NULL, current_name TEXT NOT NULL, "
            "apartments INTEGER NOT NULL)"
        ),
        "landlord_renames": (
            "CREATE TABLE IF NOT EXISTS landlord_renames ("
            "org_no TEXT NOT NULL, position BIGINT NOT NULL, "
            "renamed_on TEXT NOT NULL, name TEXT NOT NULL, "
            "PRIMARY KEY (org_no, position))"
        ),
    }

    @handles(Apartment.Acquired)
    def acquired(self, sql: Sql, r: Recorded) -> None:
        org_no, name = org_no_on(r.event), shown_name(r.event.landlord)
        if not org_no:
            return
        row = sql.one(
            "SELECT current_name FROM landlord_register WHERE org_no = ?", [org_no]
        )
        if row is None:
            sql.execute(
                "INSERT INTO landlord_register VALUES (?, ?, ?, ?, 1)",
                [org_no, name, r.occurred_on, name],
            )
            return
        renamed = normalised(name) != normalised(row["current_name"])
        sql.execute(
            "UPDATE landlord_register SET apartments = apartments + 1, "
            "current_name = ? WHERE org_no = ?",
            [name if renamed else row["current_name"], org_no],
        )
        if renamed:
            sql.execute(
                "INSERT INTO landlord_renames VALUES (?, ?, ?, ?)",
                [org_no, r.position, r.occurred_on, name],
            )


# -- queries ---------------------------------------------------------------


def register(sql: Sql) -> list[dict[str, Any]]:
    """Every landlord with a number, by number: the first name, the name now,
    the renames in log order and the apartments acquired."""
    renames: dict[str, list[dict[str, str]]] = {}
    for row in sql.all(
        "SELECT org_no, renamed_on, name FROM landlord_renames "
        "ORDER BY org_no, position"
    ):
        renames.setdefault(row["org_no"], []).append(
            {"name": row["name"], "renamed_on": row["renamed_on"]}
        )
    return [
        {
            "org_no": row["org_no"],
            "first_name": row["first_name"],
            "first_seen_on": row["first_seen_on"],
            "name": row["current_name"],
            "renames": renames.get(row["org_no"], []),
            "apartments": int(row["apartments"]),
        }
        for row in sql.all("SELECT * FROM landlord_register ORDER BY org_no")
    ]
