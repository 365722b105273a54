"""A past ``known_at`` answer from the checkpoints of ``projections.counts``
equals one plain pass over the facts, on every day and at every recorded
time, however the log is batched and however late facts are recorded:
cases registered months after the fact, and recorded times that go back in
log order (two writing hosts whose clocks disagree)."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from domain.apartment import Apartment
from domain.case import HousingCase
from projections import checkpoints
from projections import counts as view
from projections.base import Recorded, utc_text
from projections.counts import Counts
from projections.monthly_totals import KEY
from tests.unit.test_counts_running_totals import START, case_history
from tests.unit.test_mut_projections_base import Log, stamp, tables


def scanned(sql: Any, as_of: date, known_at: str) -> list[dict[str, Any]]:
    """The rows of one filtered pass over every fact: the reference."""
    return sql.all(
        f"SELECT {KEY}, COUNT(*) AS n FROM counts_facts "
        f"WHERE occurred_on <= ? AND recorded_at <= ? GROUP BY {KEY}",
        [as_of.isoformat(), known_at],
    )


def by_plain_scan(sql: Any, as_of: date, known_at: str, by: str | None) -> Any:
    original = checkpoints.up_to
    checkpoints.up_to = scanned  # type: ignore[assignment]
    try:
        return view.counts(sql, as_of, known_at, by)
    finally:
        checkpoints.up_to = original


@pytest.fixture(autouse=True)
def every_few_facts(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Checkpoints a few facts apart, so that a short log has many."""
    monkeypatch.setattr(checkpoints, "EVERY", 3)
    yield


def late_history(number: int, filed: date, steps: int, lag: int) -> list[Any]:
    """A case's facts, each recorded ``lag`` days after it took effect."""
    events = case_history(number, filed, steps)
    return [
        dataclasses.replace(
            e,
            timestamp=datetime.combine(
                e.occurred_on + timedelta(days=lag), datetime.min.time(), UTC
            )
            + timedelta(hours=9),
        )
        for e in events
    ]


def acquisition(number: int, day: date, lag: int) -> Any:
    """An apartment acquired on ``day``, recorded ``lag`` days later."""
    apartment = Apartment.acquire(
        stamp(day.isoformat(), "ALN"), f"a-{number}", "l-1", "Norr", 2, 5000
    )
    (event,) = apartment.collect_events()
    moment = datetime.combine(day + timedelta(days=lag), datetime.min.time(), UTC)
    return dataclasses.replace(event, timestamp=moment)


def recorded_times(sql: Any) -> list[str]:
    return [r["recorded_at"] for r in sql.all("SELECT recorded_at FROM counts_facts")]


@settings(max_examples=50, deadline=None)
@given(
    cases=st.lists(
        st.tuples(
            st.integers(0, 700),  # filed, days after START
            st.integers(0, 2),  # later facts
            st.integers(0, 400),  # days until it is recorded
            st.booleans(),  # an apartment too
        ),
        min_size=1,
        max_size=14,
    ),
    batch=st.integers(1, 6),
    by=st.sampled_from([None, "gender", "intervention", "basis"]),
)
def test_known_at_equals_a_plain_scan_of_the_facts(
    cases: list[tuple[int, int, int, bool]], batch: int, by: str | None
) -> None:
    events: list[Any] = []
    for number, (offset, steps, lag, apartment) in enumerate(cases):
        filed = START + timedelta(days=offset)
        events += late_history(number, filed, steps, lag)
        if apartment:
            events.append(acquisition(number, filed, lag))
    records = [Recorded(i + 1, e) for i, e in enumerate(events)]
    with tables(Counts()) as sql:
        for i in range(0, len(records), batch):
            Counts().process_batch(sql, records[i : i + batch])
        times = sorted(set(recorded_times(sql)))
        moments = [
            "2000-01-01T00:00:00.000000Z",
            *times,
            *(t[:-8] + "59.999999Z" for t in times[::3]),  # just after one
            *(t[:-8] + "00.000000Z" for t in times[1::3]),  # at a minute's start
        ]
        last = max(e.occurred_on for e in events)
        days = [
            START - timedelta(days=1),
            *(START + timedelta(days=d) for d in range(0, 1200, 37)),
            last,
        ]
        for known_at in moments:
            for day in days:
                assert view.counts(sql, day, known_at, by) == by_plain_scan(
                    sql, day, known_at, by
                ), (day, known_at)


def test_a_checkpoint_falls_every_few_facts_whatever_the_batches() -> None:
    events = [
        e
        for number in range(7)
        for e in late_history(number, START + timedelta(days=100 * number), 2, 0)
    ]
    records = [Recorded(i + 1, e) for i, e in enumerate(events)]
    dumps = []
    for batch in (1, 4, len(records)):
        with tables(Counts()) as sql:
            for i in range(0, len(records), batch):
                Counts().process_batch(sql, records[i : i + batch])
            dumps.append(
                (
                    sql.all("SELECT * FROM counts_checkpoints ORDER BY position"),
                    sql.all(
                        "SELECT * FROM counts_checkpoint_totals "
                        "ORDER BY position, month, key_id"
                    ),
                    checkpoints.facts_before(sql),
                )
            )
    assert dumps[0] == dumps[1] == dumps[2]
    marks, totals, facts = dumps[0]
    assert facts == 21  # seven cases, three facts each
    assert [m["position"] for m in marks] == [3, 6, 9, 12, 15, 18, 21]
    # Clocks moved forward: each checkpoint's next fact was recorded after it.
    assert all(m["after_min"] > m["recorded_max"] for m in marks[:-1])
    assert marks[-1]["after_min"] == view.END_OF_TIME
    assert {t["position"] for t in totals} == {m["position"] for m in marks}


def test_a_fact_recorded_before_a_checkpoint_lowers_its_after_min() -> None:
    early, late = START + timedelta(days=10), START + timedelta(days=300)
    events = [
        *late_history(1, late, 2, 0),  # three facts: a checkpoint
        *late_history(2, early, 0, 0),  # recorded long before them
    ]
    records = [Recorded(i + 1, e) for i, e in enumerate(events)]
    with tables(Counts()) as sql:
        Counts().process_batch(sql, records)
        (mark,) = sql.all("SELECT * FROM counts_checkpoints")
        assert mark["position"] == 3
        assert mark["after_min"] == utc_text(events[3].timestamp)
        assert mark["after_min"] < mark["recorded_max"]
        # Known at the late filing's time: the early case, not the late one.
        known_at = utc_text(events[0].timestamp)
        answer = view.counts(sql, late, known_at)
        assert answer["filed_total"] == 2
        assert answer == by_plain_scan(sql, late, known_at, None)


def test_facts_that_change_no_count_take_no_place_between_checkpoints() -> None:
    """An erasure is not a counted fact: the checkpoints fall on the third
    and sixth counted fact, wherever erasures lie among them."""
    log = Log()
    for number in range(3):
        day = (START + timedelta(days=100 * number)).isoformat()
        case = HousingCase.file(stamp(day), f"c-{number}", {}, {}, "man", 1980)
        log.take(case, f"{day}T09:00:00")
        case.record_personal_data_erased(stamp(day), "request", "u-1")
        log.take(case, f"{day}T10:00:00")
        case.grant(stamp(day), f"d-{number}", "socialt_kontrakt", "assessment")
        log.take(case, f"{day}T11:00:00")
    for batch in (1, 2, len(log.records)):
        with tables(Counts()) as sql:
            for i in range(0, len(log.records), batch):
                Counts().process_batch(sql, log.records[i : i + batch])
            marks = sql.all("SELECT position FROM counts_checkpoints")
            facts = checkpoints.facts_before(sql)
        # Filed 1, erased 2, granted 3, filed 4, erased 5, granted 6, ...
        assert [m["position"] for m in marks] == [4, 9], batch
        assert facts == 6, batch


def built(days: int) -> tuple[Any, list[Any]]:
    """Cases filed ``days`` apart, each granted 20 days after: checkpoints
    every three facts, recorded times in log order."""
    events = [
        e
        for number in range(6)
        for e in late_history(number, START + timedelta(days=days * number), 1, 0)
    ]
    return [Recorded(i + 1, e) for i, e in enumerate(events)], events


def test_an_answer_reads_the_copy_not_the_facts_before_it() -> None:
    """Facts up to the checkpoint come from its copy of the totals: with
    the facts table's rows before it gone, the answer is the same."""
    records, events = built(100)
    with tables(Counts()) as sql:
        Counts().process_batch(sql, records)
        as_of = START + timedelta(days=700)
        known_at = utc_text(events[8].timestamp)  # after the checkpoint at 6
        answer = view.counts(sql, as_of, known_at)
        assert answer["filed_total"] == 5
        sql.execute("DELETE FROM counts_facts WHERE position <= 6")
        assert view.counts(sql, as_of, known_at) == answer


def test_an_answer_reads_no_fact_after_the_next_checkpoint_recorded_later() -> None:
    """The facts after a checkpoint whose next fact was recorded after
    ``known_at`` are not read: a row there claiming an earlier time (which
    the handler would never write) does not count."""
    records, events = built(100)
    with tables(Counts()) as sql:
        Counts().process_batch(sql, records)
        as_of = START + timedelta(days=700)
        known_at = utc_text(events[4].timestamp)
        answer = view.counts(sql, as_of, known_at)
        assert answer["filed_total"] == 3
        row = sql.all("SELECT * FROM counts_facts WHERE position = 12")[0]
        sql.execute(
            "INSERT INTO counts_facts VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)",
            [*{**row, "position": 13, "recorded_at": known_at}.values()],
        )
        assert view.counts(sql, as_of, known_at) == answer


def test_an_answer_as_known_now_reads_the_rollup_not_the_facts() -> None:
    records, events = built(100)
    with tables(Counts()) as sql:
        Counts().process_batch(sql, records)
        as_of = events[-1].occurred_on  # its month's facts count too
        last = utc_text(events[-1].timestamp)
        answer = view.counts(sql, as_of, last)
        assert answer["granted_total"] == 6
        sql.execute("DELETE FROM counts_facts")
        assert view.counts(sql, as_of, last) == answer
        assert view.counts(sql, as_of, None) == answer
