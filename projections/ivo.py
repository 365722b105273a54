"""IVO's individual report (*individrapport*), read from the three-month
read model (``projections.unexecuted``).

One row per decision to report in a quarter, in the quarterly report's
order: the decisions of ``quarterly_report``, each with its decision id, its
**report kind** and every delay reason recorded up to the day the report
counts to. The kinds, as IVO's e-service asks them:

- ``new``: first reported (its first day past the deadline falls in the
  quarter) and still unexecuted at the quarter's end;
- ``re_report``: reported in an earlier quarter, still unexecuted;
- ``executed``: executed (the client moved in) during the quarter, late;
  ``kind_on`` is the day;
- ``ended``: ended otherwise (the grant was cancelled) during the quarter;
  ``kind_on`` is the day and ``end_reason`` why.

A declined offer does not end a decision: it is a delay reason
(``offer_declined``, with ``offered_on``) and the decision is reported until
it is executed or ended. The rows hold the case id, for the rapporteur's own
follow-up; who the person is and what the notes say are read from the event
store by ``services.privacy.ivo``, never kept here.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from infra.views import Sql
from projections.base import END_OF_TIME
from projections.unexecuted import quarterly_report

#: The report kinds, in IVO's order.
REPORT_KINDS = ("new", "re_report", "executed", "ended")


@dataclass(frozen=True)
class DelayReason:
    """One recorded delay reason; ``version`` is its event's, for its note."""

    reason: str
    occurred_on: str
    offered_on: str | None
    version: int | None


@dataclass(frozen=True)
class IvoDecision:
    """One decision in a quarter's individual report, without the person."""

    case_id: str
    decision_id: str | None
    decided_on: str
    deadline: str
    intervention: str
    gender: str
    kind: str
    kind_on: str | None  # the day it was executed or ended
    end_reason: str | None
    days_waited: int
    delay_reasons: list[DelayReason]


def ivo_decisions(
    sql: Sql,
    quarter: str,
    known_at: str | None = None,
    counted_to: date | None = None,
) -> list[IvoDecision]:
    """The decisions of ``quarter``'s individual report, as at its last day
    (or ``counted_to``, today, while it runs), with facts recorded after
    ``known_at`` left out."""
    rows = quarterly_report(sql, quarter, _case_id, known_at, counted_to)
    if not rows:
        return []
    case_ids = [row["reference"] for row in rows]
    decisions = _decision_ids(sql, case_ids)
    reasons = _all_delay_reasons(sql, case_ids, known_at)
    return [_decision(row, decisions.get(row["reference"]), reasons) for row in rows]


def report_kind(section: str, status: str) -> str:
    """The IVO report kind of a quarterly report row: how it was resolved in
    the quarter, else whether it is reported for the first time."""
    if status == "executed":
        return "executed"
    if status != "unexecuted":
        return "ended"
    return "new" if section == "new" else "re_report"


def _case_id(case_id: str) -> str:
    return case_id


def _decision(
    row: dict[str, Any],
    decision_id: str | None,
    reasons: dict[str, list[DelayReason]],
) -> IvoDecision:
    kind = report_kind(row["section"], row["status_at_quarter_end"])
    counted_to = _counted_to(row)
    return IvoDecision(
        case_id=row["reference"],
        decision_id=decision_id,
        decided_on=row["decided_on"],
        deadline=row["deadline"],
        intervention=row["intervention"],
        gender=row["gender"],
        kind=kind,
        kind_on=row["executed_or_ended_on"],
        end_reason=row["end_reason"],
        days_waited=row["days_waiting"],
        delay_reasons=[
            reason
            for reason in reasons.get(row["reference"], [])
            if row["decided_on"] <= reason.occurred_on <= counted_to
        ],
    )


def _counted_to(row: dict[str, Any]) -> str:
    """The last day a row's facts are taken from: its decision day plus the
    days it waited (the day it was resolved, or the day counted to)."""
    decided = date.fromisoformat(row["decided_on"])
    return date.fromordinal(decided.toordinal() + row["days_waiting"]).isoformat()


def _decision_ids(sql: Sql, case_ids: list[str]) -> dict[str, str | None]:
    found: dict[str, str | None] = {}
    for part in _parts(case_ids):
        rows = sql.all(
            "SELECT case_id, decision_id FROM unexecuted_cases "
            f"WHERE case_id IN ({_marks(part)})",
            part,
        )
        found |= {row["case_id"]: row["decision_id"] for row in rows}
    return found


def _all_delay_reasons(
    sql: Sql, case_ids: list[str], known_at: str | None
) -> dict[str, list[DelayReason]]:
    """Each case's delay reasons recorded by ``known_at``, in log order."""
    found: dict[str, list[DelayReason]] = {}
    for part in _parts(case_ids):
        rows = sql.all(
            "SELECT case_id, position, reason, occurred_on, offered_on, version "
            "FROM unexecuted_delay_reasons WHERE recorded_at <= ? "
            f"AND case_id IN ({_marks(part)})",
            [known_at or END_OF_TIME, *part],
        )
        for row in sorted(rows, key=lambda r: int(r["position"])):
            found.setdefault(row["case_id"], []).append(
                DelayReason(
                    row["reason"], row["occurred_on"], row["offered_on"], row["version"]
                )
            )
    return found


_PER_QUERY = 500


def _parts(values: list[str]) -> list[list[str]]:
    return [values[i : i + _PER_QUERY] for i in range(0, len(values), _PER_QUERY)]


def _marks(values: list[str]) -> str:
    return ",".join("?" * len(values))
