"""The month-end snapshots (``projections.month_ends``) of the households
living in a contract, the apartments in stock and the contracts lived in: a
households or rents answer read from them equals the same answer read from
every tenancy and apartment (the path an answer as known at a past moment
takes), for any history, fed in any batches, with facts recorded late and
out of date order, and any day or week asked."""

from __future__ import annotations

import random
from datetime import date, timedelta
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from domain.apartment import Apartment
from domain.case import HousingCase
from projections.base import END_OF_TIME, Recorded
from projections.households import households
from projections.rents import rents
from projections.tenancies import SNAPSHOTS, Tenancies
from tests.unit.test_mut_projections_base import Log, stamp, tables

START = date(2021, 1, 1)
#: Recorded after every fact, before the end of time: the tenancies' path.
EVERYTHING = "9999-01-01T00:00:00Z"


def day(offset: int) -> str:
    return (START + timedelta(days=offset)).isoformat()


def day_of(offset: int) -> date:
    return START + timedelta(days=offset)


def case_facts(index: int, case: dict[str, Any]) -> list[list[Recorded]]:
    """A case's facts as the aggregates record them, in the steps they
    would reach the log (filing and grant, moving in, the end)."""
    log = Log()
    flat = Apartment.acquire(
        stamp(day(case["acquired"]), "ALN"),
        f"a-{index}",
        case["landlord"],
        case["district"],
        case["rooms"],
        case["rent"],
        case["org_no"],
    )
    log.take(flat, f"{day(case['acquired'])}T08:00:00")
    c = HousingCase.file(
        stamp(day(0)),
        f"c-{index}",
        {},
        {"adults": case["adults"], "children": case["children"]},
        case["gender"],
        case["born"],
    )
    c.grant(stamp(day(0)), f"d-{index}", "socialt_kontrakt", "assessment")
    log.take(c, "2021-01-01T09:00:00")
    steps = [log.records]
    free_from = case["acquired"]  # the first day the apartment may be returned
    if case["moved_in"] is not None:
        moved_in = day(case["moved_in"])
        log = Log()
        c.execute(stamp(moved_in), flat, case["charged"], date.fromisoformat(moved_in))
        log.take(c, f"{moved_in}T10:00:00")
        log.take(flat, f"{moved_in}T10:00:00")
        steps.append(log.records)
        free_from = None
        if case["stayed"] is not None:
            free_from = case["moved_in"] + case["stayed"]
            ended = day(free_from)
            log = Log()
            if case["converted"]:
                c.convert_to_first_hand(stamp(ended), flat, date.fromisoformat(ended))
                free_from = None  # the tenant's own lease now
            else:
                c.terminate(stamp(ended), flat, "moved_out")
            log.take(c, f"{ended}T11:00:00")
            log.take(flat, f"{ended}T11:00:00")
            steps.append(log.records)
    if free_from is not None and case["returned"] is not None:
        returned = day(max(free_from, 0) + case["returned"])
        log = Log()
        flat.return_to_landlord(stamp(returned, "ALN"), "worn")
        log.take(flat, f"{returned}T12:00:00")
        steps.append(log.records)
    return steps


#: A case's apartment and contract when the test does not say.
PLAIN = {
    "converted": False,
    "acquired": 0,
    "landlord": "AB Bo",
    "org_no": None,
    "district": "Norr",
    "rooms": 2,
    "rent": 6000,
    "charged": 5000,
    "returned": None,
}

cases = st.lists(
    st.fixed_dictionaries(
        {
            "gender": st.sampled_from(["woman", "man"]),
            "born": st.sampled_from([1960, 1990, 2004]),
            "adults": st.integers(1, 2),
            "children": st.integers(0, 1),
            "moved_in": st.none() | st.integers(0, 500),
            "charged": st.sampled_from([4800, 6200]),
            "stayed": st.none() | st.integers(0, 40) | st.integers(0, 400),
            "converted": st.booleans(),
            "acquired": st.integers(-60, 0),
            "landlord": st.sampled_from(["AB Bo", "Hem AB"]),
            "org_no": st.sampled_from([None, "5560360793"]),
            "district": st.sampled_from(["Norr", "Syd"]),
            "rooms": st.integers(1, 3),
            "rent": st.sampled_from([5000, 6200, 7100]),
            "returned": st.none() | st.integers(0, 90),
        }
    ),
    max_size=12,
)


@settings(max_examples=120, deadline=None)
@given(
    cases,
    st.randoms(use_true_random=False),
    st.lists(
        st.tuples(st.integers(-40, 620), st.integers(0, 40)), min_size=1, max_size=6
    ),
)
def test_snapshots_answer_as_the_tenancies_do(
    history: list[dict[str, Any]],
    rng: random.Random,
    asked: list[tuple[int, int]],
) -> None:
    # The cases' steps interleaved at random (each case's in its own order):
    # an end recorded after later executions, months out of order.
    pending = [case_facts(i, case) for i, case in enumerate(history)]
    records: list[Recorded] = []
    while any(pending):
        steps = rng.choice([s for s in pending if s])
        records += steps.pop(0)
    records = [Recorded(n + 1, r.event) for n, r in enumerate(records)]
    projection = Tenancies()
    with tables(projection) as sql:
        cut = sorted(rng.sample(range(len(records) + 1), k=min(3, len(records) + 1)))
        for start, stop in zip([0, *cut], [*cut, len(records)], strict=True):
            projection.process_batch(sql, records[start:stop])
        # The same rows however the log was batched (rebuild, live, Kafka),
        # and when a replay stages its batches' changes for its end.
        replayed = Tenancies()
        with tables(Tenancies()) as whole, tables(replayed) as staged:
            Tenancies().process_batch(whole, records)
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
            assert not replayed.replaying
            for snapshot in SNAPSHOTS:
                for table in snapshot.tables:
                    query = f"SELECT * FROM {table}"
                    rows = sorted(map(str, sql.all(query)))
                    assert rows == sorted(map(str, whole.all(query))), table
                    assert rows == sorted(map(str, staged.all(query))), table
        # Besides the random ones, every edge of the history: the day
        # before, of and after each fact, and the first of their months.
        edges = {
            (date.fromisoformat(r.occurred_on) - START).days + shift
            for r in records
            for shift in (-1, 0, 1)
        }
        edges |= {(day_of(e).replace(day=1) - START).days for e in edges}
        for offset, length in [
            *asked,
            *((e, n) for e in sorted(edges) for n in (0, 6)),
        ]:
            first = START + timedelta(days=offset)
            last = first + timedelta(days=length)
            snapshot = households(sql, first, last, END_OF_TIME)
            assert snapshot == households(sql, first, last, EVERYTHING), (first, last)
            for by in ("none", "landlord", "district", "rooms"):
                now = rents(sql, first, by, END_OF_TIME)
                assert now == rents(sql, first, by, EVERYTHING), (first, by)


def test_a_month_end_row_counts_who_lived_there_on_its_last_day() -> None:
    """Three households: A from 15 January, B from 31 January to 28
    February (gone on the 28th), C moved in and out on 10 March. The rows:
    January 2 (A, B), February 1 (A), the horizon; and days and a week
    inside, before and after it."""
    history = [
        {"gender": "woman", "born": 1990, "adults": 1, "children": 2},
        {"gender": "man", "born": 1960, "adults": 1, "children": 0},
        {"gender": "man", "born": 1960, "adults": 1, "children": 0},
    ]
    times = [(14, None), (30, 28), (68, 0)]
    records: list[Recorded] = []
    for i, (case, (moved_in, stayed)) in enumerate(zip(history, times, strict=True)):
        case |= PLAIN | {"moved_in": moved_in, "stayed": stayed}
        records += [r for step in case_facts(i, case) for r in step]
    records = [Recorded(n + 1, r.event) for n, r in enumerate(records)]
    projection = Tenancies()
    with tables(projection) as sql:
        projection.process_batch(sql, records)
        rows = sql.all(
            "SELECT month, gender, n FROM tenancy_household_months "
            "ORDER BY month, gender"
        )
        assert [(r["month"], r["gender"], r["n"]) for r in rows] == [
            ("2021-01", "man", 1),
            ("2021-01", "woman", 1),
            ("2021-02", "man", 0),
            ("2021-02", "woman", 1),
            ("2021-03", "man", 0),  # C's +1 and -1 in March: touched, net 0
            ("2021-03", "woman", 1),
        ]
        on = households(sql, date(2021, 2, 27), date(2021, 2, 27), END_OF_TIME)
        assert on["households"] == 2 and on["by_gender"]["man"]["households"] == 1
        assert (
            households(sql, date(2021, 3, 10), date(2021, 3, 10), END_OF_TIME)[
                "households"
            ]
            == 1
        )  # C's one day is no day: ended the day it began
        week = households(sql, date(2021, 2, 22), date(2021, 2, 28), END_OF_TIME)
        assert week["households"] == 2  # B lived there until the 27th
        later = households(sql, date(2030, 1, 1), date(2030, 1, 1), END_OF_TIME)
        assert later["households"] == 1 and later["children"] == 2
        before = households(sql, date(2020, 12, 1), date(2021, 1, 14), END_OF_TIME)
        assert before["households"] == 0
