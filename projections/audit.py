"""The audit trail: one row per recorded fact, for auditors (*revisorer*, IVO).

Every case and apartment event — the apartment's occupied, vacated and
transferred consequences of a case's submission included — becomes one row:
its log position, which aggregate it belongs to, its type, both dates, and
who submitted it (committee, user, submission id). Never the applicant: the
rows hold provenance, not personal data.

An apartment event caused by a case's submission shares that submission's id,
so a case's trail is its own events plus every event of its submissions.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, timedelta
from typing import Any

from domain.apartment import Apartment
from domain.case import HousingCase
from infra.views import Sql
from projections.base import Projection, Recorded, handles


def _facts_of(aggregate: Any) -> list[type]:
    """Every event class of ``aggregate`` that is recorded (has a type name).

    Found rather than listed, so a fact added to the domain is audited
    without anyone remembering to add it here."""
    events: list[Any] = [
        value
        for value in vars(aggregate).values()
        if isinstance(value, type) and issubclass(value, aggregate.Event)
    ]
    return [event for event in events if event.type_name]


CASE_FACTS = _facts_of(HousingCase)
APARTMENT_FACTS = _facts_of(Apartment)
COLUMNS = (
    "position, aggregate_type, aggregate_id, version, event_type, occurred_on, "
    "recorded_at, committee, user_id, submission_id"
)


class AuditTrail(Projection):
    """Who recorded what, when, in which submission: one row per event."""

    name = "audit"
    #: 2: on SQLite ``position`` is the rowid (``INTEGER PRIMARY KEY``), rows
    #: go in by batch, and a rebuild builds the query indexes at its end.
    version = 2
    replay_cost = 20.0  # µs per event, make bench of 246fb0a at 1M events
    tables = {
        "audit_events": (
            "CREATE TABLE IF NOT EXISTS audit_events ("
            "position BIGINT PRIMARY KEY, aggregate_type TEXT NOT NULL, "
            "aggregate_id TEXT NOT NULL, version INTEGER NOT NULL, "
            "event_type TEXT NOT NULL, occurred_on TEXT NOT NULL, "
            "recorded_at TEXT NOT NULL, committee TEXT NOT NULL, "
            "user_id TEXT NOT NULL, submission_id TEXT NOT NULL)"
        ),
    }
    query_indexes = [
        "CREATE INDEX IF NOT EXISTS audit_events_by_aggregate "
        "ON audit_events (aggregate_type, aggregate_id, position)",
        "CREATE INDEX IF NOT EXISTS audit_events_by_submission "
        "ON audit_events (submission_id)",
        "CREATE INDEX IF NOT EXISTS audit_events_by_committee_user "
        "ON audit_events (committee, user_id, position)",
        "CREATE INDEX IF NOT EXISTS audit_events_by_user "
        "ON audit_events (user_id, position)",
    ]

    def create_tables(self, sql: Sql, *, query_indexes: bool = True) -> None:
        # On SQLite only INTEGER (not BIGINT) makes the key the rowid itself,
        # one B-tree less to keep; it holds 64 bits there all the same.
        statement = self.tables["audit_events"]
        if not sql.postgres:
            statement = statement.replace("BIGINT PRIMARY KEY", "INTEGER PRIMARY KEY")
        sql.execute(statement)
        if query_indexes:
            self.create_query_indexes(sql)

    @handles(*CASE_FACTS)
    def case_fact(self, sql: Sql, r: Recorded) -> None:
        sql.execute(INSERT, _row_of(r, "case", r.event.case_id))

    @handles(*APARTMENT_FACTS)
    def apartment_fact(self, sql: Sql, r: Recorded) -> None:
        sql.execute(INSERT, _row_of(r, "apartment", r.event.apartment_id))

    def process_batch(self, sql: Sql, batch: Sequence[Recorded]) -> None:
        """The batch's rows in one statement, as the handlers would write
        them one by one (the same ``_row_of``)."""
        rows = []
        for r in batch:
            kind = _KIND.get(type(r.event))
            if kind == "case":
                rows.append(_row_of(r, kind, r.event.case_id))
            elif kind == "apartment":
                rows.append(_row_of(r, kind, r.event.apartment_id))
        if rows:
            sql.executemany(INSERT, rows)


INSERT = f"INSERT INTO audit_events ({COLUMNS}) VALUES (?,?,?,?,?,?,?,?,?,?)"
_KIND: dict[type, str] = {
    **{event: "case" for event in CASE_FACTS},
    **{event: "apartment" for event in APARTMENT_FACTS},
}


def _row_of(r: Recorded, aggregate_type: str, aggregate_id: str) -> list[Any]:
    event = r.event
    return [
        r.position,
        aggregate_type,
        aggregate_id,
        event.originator_version,
        event.type_name,
        r.occurred_on,
        r.recorded_at,
        event.committee,
        event.user,
        event.submission_id,
    ]


# -- queries ---------------------------------------------------------------


def case_trail(sql: Sql, case_id: str) -> list[dict[str, Any]]:
    """Every event of case ``case_id`` and every apartment event its
    submissions caused, in log order; empty if the case is unknown."""
    rows = sql.all(
        f"SELECT {COLUMNS} FROM audit_events WHERE submission_id IN ("
        "SELECT submission_id FROM audit_events "
        "WHERE aggregate_type = 'case' AND aggregate_id = ?) ORDER BY position",
        [case_id],
    )
    return [_row(row) for row in rows]


def events(
    sql: Sql,
    committee: str | None,
    user: str | None,
    start: date | None,
    end: date | None,
    after_position: int,
    limit: int,
) -> dict[str, Any]:
    """One page of events after ``after_position``, in log order.

    ``start`` and ``end`` filter by recorded time, inclusive, in whole UTC
    days. ``next_after`` is the cursor for the next page, or ``None`` when
    nothing more matches in this snapshot of the read model."""
    # Recorded times are fixed-width UTC text, so a day's ISO date sorts
    # before all of that day's times: [start, end + 1 day) covers both days.
    day_after_end = end + timedelta(days=1) if end else None
    where: list[str] = ["position > ?"]
    params: list[Any] = [after_position]
    for clause, value in (
        ("committee = ?", committee),
        ("user_id = ?", user),
        ("recorded_at >= ?", start.isoformat() if start else None),
        ("recorded_at < ?", day_after_end.isoformat() if day_after_end else None),
    ):
        if value is not None:
            where.append(clause)
            params.append(value)
    rows = sql.all(
        f"SELECT {COLUMNS} FROM audit_events WHERE {' AND '.join(where)} "
        "ORDER BY position LIMIT ?",
        [*params, limit + 1],
    )
    page = [_row(row) for row in rows[:limit]]
    more = len(rows) > limit
    return {"events": page, "next_after": page[-1]["position"] if more else None}


def _row(row: dict[str, Any]) -> dict[str, Any]:
    return {
        "position": int(row["position"]),
        "aggregate_type": row["aggregate_type"],
        "aggregate_id": row["aggregate_id"],
        "version": int(row["version"]),
        "type": row["event_type"],
        "occurred_on": row["occurred_on"],
        "recorded_at": row["recorded_at"],
        "committee": row["committee"],
        "user": row["user_id"],
        "submission_id": row["submission_id"],
    }
