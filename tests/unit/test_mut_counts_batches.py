"""How a batch of counted facts finds the facts before it
(``projections.counts._latest_facts``): the latest stored fact of every
aggregate the batch continues, read a chunk of aggregates per statement
(the docstring's "a few statements"; a rebuild's batch continues thousands
of cases, and a statement per case is what made rebuilds slow, issue 15)."""

from __future__ import annotations

import math
from typing import Any

from domain.case import HousingCase
from infra.views import Sql
from projections.counts import LOOKUP_CHUNK, Counts
from tests.unit.test_mut_projections_base import Log, stamp, tables

CASES = 2 * LOOKUP_CHUNK + 1  # three chunks, the last of one case


class Counted(Sql):
    """The read model's ``Sql``, counting the look-ups of earlier facts."""

    def __init__(self, sql: Sql) -> None:
        super().__init__(sql.cursor, sql.postgres)
        self.lookups = 0

    def all(self, statement: str, params: Any = ()) -> list[dict[str, Any]]:
        if "MAX(position)" in statement:
            self.lookups += 1
        return super().all(statement, params)


def test_a_batch_reads_the_facts_before_it_a_chunk_of_aggregates_at_a_time() -> None:
    log = Log()
    cases = [
        HousingCase.file(stamp("2021-01-10"), f"c-{n}", {}, {"adults": 1}, "man", 1980)
        for n in range(CASES)
    ]
    for case in cases:
        log.take(case, "2021-01-10T09:00:00")
    for number, case in enumerate(cases):
        case.grant(stamp("2021-02-05"), f"d-{number}", "socialt_kontrakt", "assessment")
        log.take(case, "2021-02-05T09:00:00")
    filed, granted = log.records[:CASES], log.records[CASES:]
    projection = Counts()
    with tables(projection) as plain:
        sql = Counted(plain)
        projection.process_batch(sql, filed)
        assert sql.lookups == 0  # filings start their histories: nothing to read
        projection.process_batch(sql, granted)
        assert sql.lookups == math.ceil(CASES / LOOKUP_CHUNK)
        grants = sql.all(
            "SELECT prev_state, state FROM counts_facts WHERE position > ?", [CASES]
        )
    # Every grant found its case's filing: it moves each case out of its
    # filed state, none out of nothing.
    assert len(grants) == CASES
    assert {(row["prev_state"], row["state"]) for row in grants} == {
        ("filed", "granted")
    }
