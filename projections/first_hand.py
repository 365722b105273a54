"""The path to a first-hand lease (*vägen till förstahandskontrakt*), from the
tenancies read model (``projections.tenancies``): why is it hard to leave a
social contract for a lease of one's own, and where?

Contracts are grouped in cohorts by the quarter they were executed in, and
optionally by landlord or district. For a cohort, on the day ``as_of``:

- ``executed``: contracts in it; ``converted``, ``terminated`` (by reason)
  and ``still_second_hand`` (neither yet, on ``as_of``) add up to it;
- ``converted_within_12_months`` / ``_24_months``: of the contracts executed
  at least 12 (24) months before ``as_of`` — those whose outcome at that
  length is known — the number and share converted within that time. A
  contract observed for less time is *censored*: not counted in the share,
  but reported as ``observed`` beside ``executed``, never dropped;
- ``days_to_conversion``: median, p90 (nearest rank) and maximum over the
  converted contracts;
- ``days_in_contract``: for the contracts still second-hand, how long they
  have lived in it by ``as_of`` (median, p90, maximum and in bands of
  months) — the lock-in (*inlåsningseffekter*), counted, not hidden.

A landlord is grouped by its organisation number (``landlord_org_no``, in
the answer too) when its acquisition named one; otherwise — a sole trader,
a fact recorded before numbers were asked for — and a district always, by
its name trimmed, with runs of spaces made one and case folded
("kommunbostäder AB " is "Kommunbostäder AB"); the answer names the group by
the spelling of its first acquisition in the log (``projections.spellings``),
as rents and vacancy do.
"""

from __future__ import annotations

import calendar
from collections import Counter, defaultdict
from datetime import date
from typing import Any

from infra.views import Sql
from projections.base import END_OF_TIME
from projections.counts import period_of
from projections.landlords import landlord_key, org_no_of
from projections.lead_times import summary
from projections.spellings import first_spellings, shown_order
from projections.tenancies import executed_between

TERMINATION_REASONS = (
    "eviction",
    "moved_out",
    "own_housing_found",
    "deceased",
    "other",
)
#: Months lived in a contract still second-hand: (first, last or None, code).
MONTH_BANDS = ((0, 5, "0-5"), (6, 11, "6-11"), (12, 23, "12-23"), (24, 35, "24-35"))
LAST_BAND = "36+"
GROUPINGS = ("none", "landlord", "district")


def normalised(name: str) -> str:
    return " ".join(name.split()).casefold()


def _group_key(row: dict[str, Any], by: str) -> str:
    """A landlord by its organisation number when its acquisition named one,
    else (and a district always) by its normalised name."""
    if by == "none":
        return ""
    if by == "landlord":
        return landlord_key(row["landlord_org_no"], row["landlord"])
    return normalised(row[by])


def months_later(day: date, months: int) -> date:
    """The same day ``months`` later; a day the month lacks becomes its last."""
    year, month = divmod(day.month - 1 + months, 12)
    year, month = day.year + year, month + 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def month_band(months: int) -> str:
    for first, last, code in MONTH_BANDS:
        if first <= months <= last:
            return code
    return LAST_BAND


def whole_months(start: date, end: date) -> int:
    months = (end.year - start.year) * 12 + end.month - start.month
    return months - 1 if months_later(start, months) > end else months


def first_hand(
    sql: Sql,
    start: date,
    end: date,
    as_of: date,
    by: str,
    known_at: str = END_OF_TIME,
) -> list[dict[str, Any]]:
    """Per execution quarter from ``start`` to ``end`` (and per landlord or
    district with ``by``), the outcomes of the contracts on ``as_of``, as
    known at ``known_at`` (an execution or end recorded later: not yet)."""
    groups: dict[tuple[str, str], list[dict[str, Any]]] = defaultdict(list)
    last = min(end, as_of).isoformat()
    for row in executed_between(sql, start.isoformat(), last, known_at):
        key = _group_key(row, by)
        executed_on = date.fromisoformat(row["executed_on"])
        groups[(period_of(executed_on, "quarter"), key)].append(row)
    names = first_spellings(sql, by, known_at) if by != "none" else {}
    return [
        {
            "cohort": cohort,
            **({by: names[key]} if by != "none" else {}),
            **({"landlord_org_no": org_no_of(key)} if by == "landlord" else {}),
            **outcomes(rows, as_of),
        }
        for (cohort, key), rows in sorted(
            groups.items(), key=lambda kv: (kv[0][0], shown_order(kv[0][1], names))
        )
    ]


def outcomes(rows: list[dict[str, Any]], as_of: date) -> dict[str, Any]:
    """What became of ``rows`` (tenancies of one cohort) by ``as_of``."""
    converted_days: list[int] = []
    open_days: list[int] = []
    open_bands = Counter[str]()
    terminated = Counter[str]()
    within = {12: [0, 0], 24: [0, 0]}  # months -> [observed, converted]
    for row in rows:
        executed_on = date.fromisoformat(row["executed_on"])
        ended = date.fromisoformat(row["ended_on"]) if row["ended_on"] else None
        ended = ended if ended is not None and ended <= as_of else None
        converted = ended is not None and row["ended_as"] == "converted"
        if ended is not None and converted:
            converted_days.append((ended - executed_on).days)
        elif ended is not None:
            terminated[row["end_reason"]] += 1
        else:
            open_days.append((as_of - executed_on).days)
            open_bands[month_band(whole_months(executed_on, as_of))] += 1
        for months, tally in within.items():
            horizon = months_later(executed_on, months)
            if horizon <= as_of:
                tally[0] += 1
                tally[1] += converted and ended is not None and ended <= horizon
    bands = [code for _, _, code in MONTH_BANDS] + [LAST_BAND]
    return {
        "executed": len(rows),
        "converted": len(converted_days),
        "terminated": sum(terminated.values()),
        "terminated_by_reason": {r: terminated[r] for r in TERMINATION_REASONS},
        "still_second_hand": len(open_days),
        **{
            f"converted_within_{months}_months": {
                "observed": observed,
                "converted": converted,
                "share": round(converted / observed, 4) if observed else None,
            }
            for months, (observed, converted) in within.items()
        },
        "days_to_conversion": summary(converted_days),
        "days_in_contract": {
            **summary(open_days),
            "by_months": {band: open_bands[band] for band in bands},
        },
    }
