"""The seed figures (the path to a first-hand lease, rents, vacancy) equal a
straightforward recomputation from the replayed log: hypothesis draws
simulated municipalities and days; the read model (``projections.
tenancies``) must answer what folding the recorded events gives."""

from __future__ import annotations

import calendar
import math
import statistics
from collections import Counter, defaultdict
from datetime import date, timedelta
from fractions import Fraction
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from infra.settings import Settings
from projections import first_hand, rents
from projections.counts import period_of, periods
from services.bootstrap import bootstrap
from tests.integration.test_counts_oracle import START, log_events, record

ENDS = {"converted_to_first_hand": "converted", "contract_terminated": "terminated"}


def stats(days: list[int]) -> dict[str, Any]:
    if not days:
        return {"count": 0, "median_days": None, "p90_days": None, "max_days": None}
    ordered = sorted(days)
    median = statistics.median(ordered)
    return {
        "count": len(ordered),
        "median_days": int(median) if median == int(median) else median,
        "p90_days": ordered[math.ceil(0.9 * len(ordered)) - 1],
        "max_days": ordered[-1],
    }


def same_day_later(day: date, months: int) -> date:
    year, month = divmod(day.month - 1 + months, 12)
    year += day.year
    return date(year, month + 1, min(day.day, calendar.monthrange(year, month + 1)[1]))


def naive_first_hand(
    events: list[Any], start: date, end: date, as_of: date
) -> list[Any]:
    moved_in: dict[str, date] = {}
    ended: dict[str, tuple[date, str, str]] = {}
    for e in events:
        if e.type_name == "contract_executed":
            moved_in[e.case_id] = e.occurred_on
        elif e.type_name in ENDS:
            ended[e.case_id] = (
                e.occurred_on,
                ENDS[e.type_name],
                getattr(e, "reason", ""),
            )
    cohorts: dict[str, list[str]] = defaultdict(list)
    for case_id, day in moved_in.items():
        if start <= day <= min(end, as_of):
            cohorts[period_of(day, "quarter")].append(case_id)
    answer = []
    for cohort, cases in sorted(cohorts.items()):
        outcome: Counter[str] = Counter()
        reasons: Counter[str] = Counter()
        to_conversion, open_days = [], []
        within = {12: [0, 0], 24: [0, 0]}
        for case_id in cases:
            began = moved_in[case_id]
            end_day, kind, reason = ended.get(case_id, (None, "", ""))
            if end_day is not None and end_day > as_of:
                end_day, kind = None, ""
            outcome[kind or "open"] += 1
            if kind == "converted":
                to_conversion.append((end_day - began).days)
            elif kind == "terminated":
                reasons[reason] += 1
            else:
                open_days.append((as_of - began).days)
            for months, tally in within.items():
                if same_day_later(began, months) <= as_of:
                    tally[0] += 1
                    if kind == "converted" and end_day <= same_day_later(began, months):
                        tally[1] += 1
        answer.append(
            {
                "cohort": cohort,
                "executed": len(cases),
                "converted": outcome["converted"],
                "terminated": outcome["terminated"],
                "terminated_by_reason": +reasons,
                "still_second_hand": outcome["open"],
                "within": {m: tuple(t) for m, t in within.items()},
                "days_to_conversion": stats(to_conversion),
                "days_in_contract": stats(open_days),
            }
        )
    return answer


def shown_first_hand(rows: list[dict[str, Any]]) -> list[Any]:
    return [
        {
            "cohort": r["cohort"],
            "executed": r["executed"],
            "converted": r["converted"],
            "terminated": r["terminated"],
            "terminated_by_reason": +Counter(r["terminated_by_reason"]),
            "still_second_hand": r["still_second_hand"],
            "within": {
                m: (
                    r[f"converted_within_{m}_months"]["observed"],
                    r[f"converted_within_{m}_months"]["converted"],
                )
                for m in (12, 24)
            },
            "days_to_conversion": r["days_to_conversion"],
            "days_in_contract": {
                k: v for k, v in r["days_in_contract"].items() if k != "by_months"
            },
        }
        for r in rows
    ]


def apartment_lives(events: list[Any]) -> dict[str, dict[str, Any]]:
    """Per apartment: its rent, days in stock, and vacant intervals."""
    flats: dict[str, dict[str, Any]] = {}
    for e in events:
        if e.type_name == "apartment_acquired":
            flats[e.apartment_id] = {
                "rent": e.monthly_rent_sek,
                "acquired": e.occurred_on,
                "left": None,
                "vacant": [[e.occurred_on, None]],
            }
            continue
        flat = flats.get(getattr(e, "apartment_id", ""))
        if flat is None:
            continue
        if e.type_name in {
            "apartment_occupied",
            "apartment_returned",
            "apartment_transferred",
        }:
            if flat["vacant"] and flat["vacant"][-1][1] is None:
                flat["vacant"][-1][1] = e.occurred_on
            if e.type_name != "apartment_occupied":
                flat["left"] = e.occurred_on
        elif e.type_name == "apartment_vacated":
            flat["vacant"].append([e.occurred_on, None])
    return flats


def naive_rents(events: list[Any], day: date) -> dict[str, Any]:
    flats = apartment_lives(events)
    household: dict[str, int] = {}
    lives: dict[str, tuple[date, date | None, str]] = {}
    for e in events:
        if e.type_name == "contract_executed":
            lives[e.case_id] = (e.occurred_on, None, e.apartment_id)
            household[e.case_id] = e.monthly_rent_sek
        elif e.type_name in ENDS and e.case_id in lives:
            began, _, flat = lives[e.case_id]
            lives[e.case_id] = (began, e.occurred_on, flat)
    stock = [
        f
        for f in flats.values()
        if f["acquired"] <= day and (f["left"] is None or f["left"] > day)
    ]
    lived = {
        flat: household[case_id]
        for case_id, (began, ended, flat) in lives.items()
        if began <= day and (ended is None or ended > day)
    }
    paid = sum(f["rent"] for f in stock)
    occupied = [(a, f) for a, f in flats.items() if a in lived and f in stock]
    return {
        "apartments": len(stock),
        "occupied": len(occupied),
        "aln_per_month": paid,
        "households_per_month": sum(lived[a] for a, _ in occupied),
        "difference": sum(lived[a] - f["rent"] for a, f in occupied),
    }


def naive_vacancy(
    events: list[Any], start: date, end: date, today: date
) -> dict[str, Any]:
    days: Counter[str] = Counter()
    cost: dict[str, Fraction] = defaultdict(Fraction)  # exact: no float sums
    for flat in apartment_lives(events).values():
        for began, stopped in flat["vacant"]:
            day = max(began, start)
            last = min(end, today, (stopped - timedelta(days=1)) if stopped else today)
            while day <= last:
                key = period_of(day, "month")
                days[key] += 1
                length = calendar.monthrange(day.year, day.month)[1]
                cost[key] += Fraction(flat["rent"], length)
                day += timedelta(days=1)
    return {key: (days[key], round(cost[key])) for key in periods(start, end, "month")}


@settings(max_examples=5, deadline=None, suppress_health_check=list(HealthCheck))
@given(
    seed=st.integers(0, 10_000),
    months=st.integers(12, 30),
    offsets=st.lists(st.integers(30, 900), min_size=2, max_size=3),
)
def test_seed_figures_equal_a_fold_over_the_log(
    tmp_path_factory: Any, seed: int, months: int, offsets: list[int]
) -> None:
    data_dir: Path = tmp_path_factory.mktemp("seed")
    boende = bootstrap(Settings(data_dir=data_dir))
    try:
        record(boende, months, seed)
        boende.runner("tenancies").catch_up()
        events = log_events(boende)
        with boende.views["tenancies"].transaction(commit=False) as sql:
            for offset in offsets:
                day = START + timedelta(days=offset)
                got = first_hand.first_hand(sql, START, day, day, "none")
                assert shown_first_hand(got) == naive_first_hand(
                    events, START, day, day
                )
                (group,) = rents.rents(sql, day, "none")
                assert {
                    "apartments": group["apartments"],
                    "occupied": group["occupied"],
                    "aln_per_month": group["aln_pays"]["per_month"],
                    "households_per_month": group["households_pay"]["per_month"],
                    "difference": group["difference_per_month"],
                } == naive_rents(events, day)
                window = (START, day)
                vacancy = rents.vacancy(sql, *window, "month", "none", day)
                assert {
                    r["period"]: (r["vacant_days"], r["cost_sek"]) for r in vacancy
                } == (naive_vacancy(events, *window, day))
    finally:
        boende.close()
