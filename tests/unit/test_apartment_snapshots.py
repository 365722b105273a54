"""The apartment stock on a past day (``projections.apartments``, read from
month-end snapshots, the vacant days ended per month and each group's
first spelling) equals a straightforward fold of the log in Python, for
any history, fed in any batches, and any day asked; and the tables do not
depend on how the log was batched (a rebuild, a live run and a Kafka-fed
run build the same rows)."""

from __future__ import annotations

import random
from collections import Counter
from datetime import date, timedelta
from statistics import mean, median
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from domain.apartment import Apartment
from domain.districts import normalised
from projections.apartments import APARTMENT_STATES, SNAPSHOTS, ApartmentStock, stock
from projections.base import Recorded
from projections.landlords import landlord_key, shown_name
from tests.unit.test_month_ends import PLAIN, START, case_facts, cases, day_of
from tests.unit.test_mut_projections_base import tables

#: A case that says nothing but where its apartment is.
QUIET = PLAIN | {
    "gender": "man",
    "born": 1980,
    "adults": 1,
    "children": 0,
    "charged": 5000,
    "moved_in": None,
    "stayed": None,
}
#: The state each apartment fact leaves it in.
AFTER = {
    Apartment.Acquired: "available",
    Apartment.Occupied: "occupied",
    Apartment.Vacated: "available",
    Apartment.Returned: "returned",
    Apartment.Transferred: "transferred",
}


def folded(records: list[Recorded], day: date) -> dict[str, Any]:
    """The answer for ``day``, apartment by apartment from the log: its
    state after its last fact dated on or before the day, and its vacancies
    (from becoming available to the next fact's day)."""
    places: dict[str, tuple[str, str]] = {}  # apartment -> landlord, district
    names: dict[str, str] = {}  # group -> its first spelling in the log
    moves: dict[str, list[tuple[date, str]]] = {}
    for r in records:
        event = r.event
        if type(event) not in AFTER:
            continue
        if isinstance(event, Apartment.Acquired):
            landlord = landlord_key(event.landlord_org_no, event.landlord)
            district = normalised(event.district)
            places[event.apartment_id] = (landlord, district)
            names.setdefault(landlord, shown_name(event.landlord))
            names.setdefault("district:" + district, shown_name(event.district))
        moves.setdefault(event.apartment_id, []).append(
            (event.occurred_on, AFTER[type(event)])
        )
    by_state: Counter[str] = Counter()
    landlords: dict[str, Counter[str]] = {}
    districts: dict[str, Counter[str]] = {}
    open_days: list[int] = []
    past = 0
    for apartment, steps in moves.items():
        held = [state for on, state in steps if on <= day]
        if not held:
            continue  # acquired after the day
        state = held[-1]
        landlord, district = places[apartment]
        by_state[state] += 1
        landlords.setdefault(landlord, Counter())[state] += 1
        districts.setdefault(district, Counter())[state] += 1
        for (began, what), following in zip(steps, [*steps[1:], None], strict=True):
            if what != "available" or began > day:
                continue
            if following is not None and following[0] <= day:
                past += (following[0] - began).days
            else:
                open_days.append((day - began).days)
    by_landlord: dict[str, Any] = {}
    for key in sorted(landlords, key=lambda key: (names[key], key)):
        name = names[key]
        if name in by_landlord:
            number = key if not key.startswith("name:") else "utan organisationsnummer"
            name = f"{name} ({number})"
        by_landlord[name] = {
            "landlord_org_no": None if key.startswith("name:") else key,
            "total": sum(landlords[key].values()),
            "by_state": {s: landlords[key][s] for s in APARTMENT_STATES},
        }
    return {
        "apartments_total": sum(by_state.values()),
        "by_state": {s: by_state[s] for s in APARTMENT_STATES},
        "by_landlord": by_landlord,
        "by_district": {
            names["district:" + key]: {
                "total": sum(counter.values()),
                "by_state": {s: counter[s] for s in APARTMENT_STATES},
            }
            for key, counter in sorted(
                districts.items(), key=lambda kv: names["district:" + kv[0]]
            )
        },
        "vacancy_days": {
            "current": {
                "count": len(open_days),
                "mean": round(mean(open_days), 2) if open_days else None,
                "median": median(open_days) if open_days else None,
                "max": max(open_days, default=None),
            },
            "total_to_date": past + sum(open_days),
        },
    }


@settings(max_examples=120, deadline=None)
@given(
    cases,
    st.randoms(use_true_random=False),
    st.lists(st.integers(-40, 700), min_size=1, max_size=6),
    st.sampled_from(["AB Bo", " ab  bo", "Hem AB"]),
)
def test_the_stock_on_any_day_is_the_fold_of_the_log(
    history: list[dict[str, Any]],
    rng: random.Random,
    asked: list[int],
    spelling: str,
) -> None:
    # A differently spelled landlord first in the log: it names the group.
    history = [QUIET | {"landlord": spelling}, *history]
    pending = [case_facts(i, case) for i, case in enumerate(history)]
    records: list[Recorded] = []
    while any(pending):  # the cases' steps interleaved, each in its order
        steps = rng.choice([s for s in pending if s])
        records += steps.pop(0)
    records = [Recorded(n + 1, r.event) for n, r in enumerate(records)]
    projection = ApartmentStock()
    with tables(projection) as sql:
        cut = sorted(rng.sample(range(len(records) + 1), k=min(3, len(records) + 1)))
        for start, stop in zip([0, *cut], [*cut, len(records)], strict=True):
            projection.process_batch(sql, records[start:stop])
        replayed = ApartmentStock()  # a replay stages its changes for its end
        with tables(ApartmentStock()) as whole, tables(replayed) as staged:
            ApartmentStock().process_batch(whole, records)
            replayed.start_replay()
            for start, stop in zip([0, *cut], [*cut, len(records)], strict=True):
                replayed.process_batch(staged, records[start:stop])
            # Staged, not yet applied: the snapshots' rows wait for the end,
            # and the end leaves nothing staged.
            for snapshot in SNAPSHOTS:
                assert not staged.all(f"SELECT * FROM {snapshot.table}")
            replayed.finish_replay(staged)
            for snapshot in SNAPSHOTS:
                assert not staged.all(f"SELECT * FROM {snapshot.table}_pending")
            for table in [
                *(t for snapshot in SNAPSHOTS for t in snapshot.tables),
                "apartment_vacancy_ended",
                "apartment_spellings",
            ]:
                query = f"SELECT * FROM {table}"
                rows = sorted(map(str, sql.all(query)))
                assert rows == sorted(map(str, whole.all(query))), table
                assert rows == sorted(map(str, staged.all(query))), table
        # Besides the random days, every edge: the day before, of and after
        # each fact, and the first and last of their months.
        edges = {
            (r.event.occurred_on - START).days + shift
            for r in records
            for shift in (-1, 0, 1)
        }
        edges |= {(day_of(e).replace(day=1) - START).days for e in edges}
        edges |= {(day_of(e).replace(day=1) - START).days - 1 for e in edges}
        for offset in [*asked, *sorted(edges)]:
            day = START + timedelta(days=offset)
            assert stock(sql, day) == folded(records, day), day


def test_a_vacancy_across_month_ends() -> None:
    """a-0 acquired 1 January, occupied 10 March (68 vacant days, ended in
    March), vacated 31 March, returned 2 May (32 days, ended in May). On 15
    April: one vacancy open 15 days, 68 days past; on 2 May: none open, 100
    days past; on 28 February: 58 days open."""
    case = QUIET | {"moved_in": 68, "stayed": 21, "returned": 32}
    records = [r for step in case_facts(0, case) for r in step]
    records = [Recorded(n + 1, r.event) for n, r in enumerate(records)]
    projection = ApartmentStock()
    with tables(projection) as sql:
        projection.process_batch(sql, records)
        assert sql.all("SELECT month, days FROM apartment_vacancy_ended") == [
            {"month": "2021-03", "days": 68},
            {"month": "2021-05", "days": 32},
        ]
        april = stock(sql, date(2021, 4, 15))["vacancy_days"]
        assert april["current"]["count"] == 1 and april["current"]["max"] == 15
        assert april["total_to_date"] == 68 + 15
        assert stock(sql, date(2021, 5, 1))["vacancy_days"]["total_to_date"] == 99
        may = stock(sql, date(2021, 5, 2))
        assert may["vacancy_days"]["total_to_date"] == 100
        assert may["by_state"]["returned"] == 1
        assert stock(sql, date(2021, 2, 28))["vacancy_days"] == {
            "current": {"count": 1, "mean": 58, "median": 58, "max": 58},
            "total_to_date": 58,
        }
