"""Contract counts and flows: the executive board's core figures.

Two tables. ``counts_facts`` holds one row per case or apartment fact: the
state after it, the state before it, its effective date and recorded time.
``counts_daily`` rolls those rows up per effective day and rollup key (type,
reason, state change and the case's dimensions: ``counts_keys``, by id),
kept by upsert-increment in the same transaction.

Each fact moves one aggregate from ``prev_state`` to ``state``, and a case's
(or apartment's) facts never go back in effective date (the domain refuses
it) nor in recorded time (the handler clamps it), so the facts that match
"``occurred_on <= D`` and ``recorded_at <= T``" are a prefix of every
aggregate's history. The number in state S is then the matching facts into S
minus those out of S: a sum over the small daily rollup when ``T`` is now,
copies of those totals taken every so many facts for a past ``known_at``. A
report presented on a past day is reproducible after late registrations.
Flows count facts per period by effective date.

So that an ``as_of`` answer reads a few dozen rows however long the log is,
the rollup also keeps running totals per month (``projections.monthly_totals``);
so that a ``known_at`` answer reads a bounded number of rows, copies of them
are kept (``projections.checkpoints``).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from datetime import date
from typing import Any

from domain.apartment import Apartment
from domain.case import CaseState, HousingCase
from infra.views import Sql
from projections import checkpoints, monthly_totals
from projections.base import END_OF_TIME, Projection, Recorded
from projections.case_dimensions import NONE_YET as NONE_YET
from projections.case_dimensions import Before, _dimensions
from projections.monthly_totals import Key
from projections.periods import period_of as period_of
from projections.periods import periods as periods

__all__ = ["END_OF_TIME", "counts"]

CASE_STATES = [s.value for s in CaseState]
APARTMENT_STATES = ["available", "occupied", "returned", "transferred"]
FLOW_TYPES = {
    "application_filed": "filed",
    "application_granted": "granted",
    "application_rejected": "rejected",
    "application_withdrawn": "withdrawn",
    "contract_executed": "executed",
    "converted_to_first_hand": "converted",
    "contract_terminated": "terminated",
    "grant_cancelled": "cancelled",
}
#: Per counted event class: the kind of aggregate and its state after the fact.
STATE_AFTER: dict[type, tuple[str, str]] = {
    HousingCase.Filed: ("case", "filed"),
    HousingCase.Withdrawn: ("case", "withdrawn"),
    HousingCase.Granted: ("case", "granted"),
    HousingCase.Rejected: ("case", "rejected"),
    HousingCase.GrantCancelled: ("case", "cancelled"),
    HousingCase.ContractExecuted: ("case", "executed"),
    HousingCase.ConvertedToFirstHand: ("case", "converted"),
    HousingCase.ContractTerminated: ("case", "terminated"),
    Apartment.Acquired: ("apartment", "available"),
    Apartment.Returned: ("apartment", "returned"),
    Apartment.Occupied: ("apartment", "occupied"),
    Apartment.Vacated: ("apartment", "available"),
    Apartment.Transferred: ("apartment", "transferred"),
}
#: Facts that start an aggregate's history: nothing before them to look up.
FIRST_FACTS = (HousingCase.Filed, Apartment.Acquired)
#: Facts that change no state, counted for the flows: (kind, its reason's
#: attribute: an enumerated code, never free text).
UNCHANGED = {
    HousingCase.DelayReasonRecorded: "reason",
    HousingCase.FollowUpRecorded: "outcome",
}
#: Facts whose ``reason`` is one of a fixed list (DOMAIN.md), never free text.
ENUMERATED_REASONS = (HousingCase.ContractTerminated, HousingCase.GrantCancelled)
#: What a case fact may be broken down by (``by=``), and the code of a case
#: that has none yet (not granted: no intervention or basis).
DIMENSIONS = ("gender", "intervention", "basis")
#: The dimensions a grant sets (a case has none of them before its grant).
CHANGING = ("intervention", "basis")
#: Every code of each dimension, listed in an answer even when zero.
CODES = {
    "gender": ("woman", "man", "other", "unknown"),
    "intervention": (NONE_YET, "socialt_kontrakt", "boendesocial_insats"),
    "basis": (NONE_YET, "assessment", "appeal"),
}


class Counts(Projection):
    name = "counts"
    # 2: one facts table with prev_state and the daily rollup (was one table
    # per aggregate kind, with free-text reasons). 3: monthly running totals.
    # 4: the case's gender, intervention and basis on every fact; delays and
    # follow-ups counted (they change no state). 5: checkpoints of the
    # running totals for a past known_at; facts and daily rows by their
    # rollup key's id (grouping by it costs a third).
    version = 5
    replay_cost = 27.0  # µs per event, make bench of 246fb0a at 1M events
    retired_tables = ("counts_case_facts", "counts_apartment_facts")
    # On SQLite a fact's position is the rowid (one B-tree less), and a
    # rebuild builds the day index at its end. A store built before (also
    # version 4) holds the same rows and answers the same: it is kept.
    position_keyed = ("counts_facts", "counts_checkpoints")
    tables = {
        "counts_facts": (
            "CREATE TABLE IF NOT EXISTS counts_facts ("
            "position BIGINT PRIMARY KEY, kind TEXT NOT NULL, "
            "aggregate_id TEXT NOT NULL, type TEXT NOT NULL, reason TEXT NOT NULL, "
            "state TEXT NOT NULL, prev_state TEXT NOT NULL, "
            "occurred_on TEXT NOT NULL, recorded_at TEXT NOT NULL, "
            "gender TEXT NOT NULL, intervention TEXT NOT NULL, basis TEXT NOT NULL, "
            "key_id BIGINT NOT NULL)"
        ),
        "counts_daily": (
            "CREATE TABLE IF NOT EXISTS counts_daily ("
            "occurred_on TEXT NOT NULL, key_id BIGINT NOT NULL, n BIGINT NOT NULL, "
            "PRIMARY KEY (occurred_on, key_id))"
        ),
        **monthly_totals.TABLES,
        **checkpoints.TABLES,
        "counts_last_recorded": (
            "CREATE TABLE IF NOT EXISTS counts_last_recorded ("
            "id INTEGER PRIMARY KEY CHECK (id = 1), recorded_at TEXT NOT NULL)"
        ),
    }
    indexes = [
        "CREATE INDEX IF NOT EXISTS counts_facts_by_aggregate "
        "ON counts_facts (kind, aggregate_id, position)",
    ]
    query_indexes = [  # a past known_at's answer
        "CREATE INDEX IF NOT EXISTS counts_facts_by_day ON counts_facts (occurred_on)",
    ]

    def process(self, sql: Sql, recorded: Recorded) -> None:
        self.process_batch(sql, [recorded])

    def process_batch(self, sql: Sql, batch: Sequence[Recorded]) -> None:
        # Folded in parts that end where a checkpoint falls, so that one holds
        # exactly the facts up to its position, however the log is batched.
        facts = before = checkpoints.facts_before(sql)
        start = 0
        for end, r in enumerate(batch, start=1):
            if _counted_key(r.event) is None:
                continue
            facts += 1
            if facts % checkpoints.EVERY == 0:
                self._fold(sql, batch[start:end])
                checkpoints.take(sql, r.position)
                start = end
        self._fold(sql, batch[start:])
        if facts != before:
            checkpoints.counted(sql, facts)

    def _fold(self, sql: Sql, batch: Sequence[Recorded]) -> None:
        # The facts before this batch's, of every aggregate it continues.
        latest: dict[tuple[str, str], Before] = _latest_facts(sql, batch)
        facts: list[list[Any]] = []
        daily = Counter[tuple[str, int]]()
        monthly = Counter[tuple[Key, str]]()
        key_ids: dict[Key, int] = {}
        for r in batch:
            event = r.event
            counted = STATE_AFTER.get(type(event))
            kind = counted[0] if counted else "case"
            if counted is None and type(event) not in UNCHANGED:
                continue
            key = (kind, event.case_id if kind == "case" else event.apartment_id)
            before = latest.get(key) or Before("", "", "", "", "")
            state = counted[1] if counted else before.state
            # Known no earlier than the fact before it, so that "recorded by T"
            # selects a prefix of the aggregate's history even if clocks of
            # two writing hosts disagree.
            recorded_at = max(r.recorded_at, before.recorded_at)
            case = _dimensions(event, before) if kind == "case" else ("", "", "")
            latest[key] = Before(state, recorded_at, *case)
            # Only enumerated reasons: a rejection's or withdrawal's is free text
            # and may name a person, so it never reaches an oversight table.
            if isinstance(event, ENUMERATED_REASONS):
                reason = event.reason
            else:
                reason = getattr(event, UNCHANGED.get(type(event), ""), "") or ""
            rolled = (kind, event.type_name, reason, state, before.state, *case)
            if rolled not in key_ids:
                key_ids[rolled] = monthly_totals.id_of(rolled)
            facts.append(
                [
                    r.position,
                    kind,
                    key[1],
                    event.type_name,
                    reason,
                    state,
                    before.state,
                    r.occurred_on,
                    recorded_at,
                    *case,
                    key_ids[rolled],
                ]
            )
            daily[(r.occurred_on, key_ids[rolled])] += 1
            monthly[(rolled, r.occurred_on[:7])] += 1
        if not facts:
            return
        sql.executemany(
            "INSERT INTO counts_facts VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)", facts
        )
        sql.executemany(
            "INSERT INTO counts_daily (occurred_on, key_id, n) VALUES (?,?,?) "
            "ON CONFLICT (occurred_on, key_id) "
            "DO UPDATE SET n = counts_daily.n + excluded.n",
            [[day, key_id, n] for (day, key_id), n in daily.items()],
        )
        monthly_totals.add(sql, monthly)
        checkpoints.recorded_after(sql, min(f[8] for f in facts))
        sql.execute(
            "INSERT INTO counts_last_recorded VALUES (1, ?) ON CONFLICT (id) DO "
            "UPDATE SET recorded_at = excluded.recorded_at "
            "WHERE excluded.recorded_at > counts_last_recorded.recorded_at",
            [max(f[8] for f in facts)],
        )


def _counted_key(event: Any) -> tuple[str, str] | None:
    """The aggregate a fact counts for, ``None`` for an uncounted event."""
    counted = STATE_AFTER.get(type(event))
    if counted is None and type(event) not in UNCHANGED:
        return None
    if counted is None or counted[0] == "case":
        return "case", event.case_id
    return "apartment", event.apartment_id


def _latest_facts(sql: Sql, batch: Sequence[Recorded]) -> dict[tuple[str, str], Before]:
    """The latest stored fact of each aggregate whose first fact in ``batch``
    does not start its history, read in a few statements (the batch's own
    facts are not stored until it has been folded)."""
    seen: set[tuple[str, str]] = set()
    wanted: dict[str, list[str]] = {"case": [], "apartment": []}
    for r in batch:
        key = _counted_key(r.event)
        if key is None or key in seen:
            continue
        seen.add(key)
        if not isinstance(r.event, FIRST_FACTS):
            wanted[key[0]].append(key[1])
    found: dict[tuple[str, str], Before] = {}
    for kind, ids in wanted.items():
        for start in range(0, len(ids), LOOKUP_CHUNK):
            chunk = ids[start : start + LOOKUP_CHUNK]
            for row in sql.all(
                "SELECT aggregate_id, state, recorded_at, gender, intervention, "
                "basis FROM counts_facts WHERE position IN (SELECT MAX(position) "
                f"FROM counts_facts WHERE kind = ? AND aggregate_id IN "
                f"({', '.join('?' for _ in chunk)}) GROUP BY aggregate_id)",
                [kind, *chunk],
            ):
                aggregate_id = row.pop("aggregate_id")
                found[(kind, aggregate_id)] = Before(**row)
    return found


#: Aggregates looked up per statement (well under either engine's limit on
#: parameters).
LOOKUP_CHUNK = 500


# -- queries ---------------------------------------------------------------


def counts(
    sql: Sql, as_of: date, known_at: str | None, by: str | None = None
) -> dict[str, Any]:
    """Cases and apartments by state on ``as_of``, as known at ``known_at``;
    with ``by`` (one of :data:`DIMENSIONS`), the case figures also per
    gender, intervention or basis under ``groups``: each case, with all its
    facts, in the group it is in on ``as_of`` (``none`` before its grant)."""
    if known_at is None or _knows_all(sql, known_at):
        rows = monthly_totals.up_to(sql, as_of)
    else:
        rows = checkpoints.up_to(sql, as_of, known_at)
    answer = _figures(rows)
    if by is None:
        return answer
    groups: dict[str, list[dict[str, Any]]] = {code: [] for code in CODES[by]}
    for row in rows:
        if row["kind"] != "case":
            continue
        groups.setdefault(row[by], []).append(row)
        if by in CHANGING and row["type"] == "application_granted":
            _moved_by_grant(row, groups[NONE_YET], groups[row[by]])
    return {
        **answer,
        "by": by,
        "groups": {code: _figures(rows, by) for code, rows in groups.items()},
    }


def _moved_by_grant(
    grant: dict[str, Any], before: list[dict[str, Any]], after: list[dict[str, Any]]
) -> None:
    """A case is counted in the group it is in on ``as_of``: its grant moves
    it, with the facts before it (its filing, and the rejection a grant on
    appeal follows), from the group of cases without a grant (``before``)
    into its intervention's or basis's (``after``), where the grant's own row
    is. The grant is the only fact that sets them, and it comes after a
    filing or a rejection, before any other grant."""
    n = grant["n"]
    history = ["application_filed"]
    if grant["prev_state"] == "rejected":
        history.append("application_rejected")
    fact = {"kind": "case", "reason": "", "state": "", "prev_state": ""}
    # It leaves the state it was in, in the group it was in.
    before.append({**fact, "type": "", "state": grant["prev_state"], "n": -n})
    for earlier in history:
        before.append({**fact, "type": earlier, "n": -n})
        after.append({**fact, "type": earlier, "n": n})


def _figures(rows: list[dict[str, Any]], by: str | None = None) -> dict[str, Any]:
    """The figures of ``rows`` (rollup rows with ``n``); with ``by`` an
    intervention or basis, a grant's row adds to its state but takes nothing
    from the one before (``_moved_by_grant`` does, in the right group)."""
    states = {"case": Counter[str](), "apartment": Counter[str]()}
    totals = Counter[str]()
    terminations = Counter[str]()
    for row in rows:
        n = int(row["n"])
        moved = states[row["kind"]]
        moved[row["state"]] += n
        moved_from = row["prev_state"]
        if moved_from and not (by in CHANGING and row["type"] == "application_granted"):
            moved[moved_from] -= n
        totals[row["type"]] += n
        if row["type"] == "contract_terminated":
            terminations[row["reason"]] += n
    by_state, apartments = states["case"], states["apartment"]
    figures = {
        "cases_by_state": {s: by_state[s] for s in CASE_STATES},
        "filed_total": totals["application_filed"],
        "granted_total": totals["application_granted"],
        "rejected_total": totals["application_rejected"],
        "executed_total": totals["contract_executed"],
        "converted_total": totals["converted_to_first_hand"],
        "terminated_total": totals["contract_terminated"],
        "terminations_by_reason": dict(sorted(terminations.items())),
    }
    if by is None:
        figures["apartments_by_state"] = {s: apartments[s] for s in APARTMENT_STATES}
    return figures


def _knows_all(sql: Sql, known_at: str | None) -> bool:
    """Whether ``known_at`` is no earlier than every recorded fact, so the
    rollup (which holds every fact) answers exactly."""
    if known_at is None:
        return True
    row = sql.one("SELECT recorded_at FROM counts_last_recorded WHERE id = 1")
    return row is None or known_at >= row["recorded_at"]
