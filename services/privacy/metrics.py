"""Erasures and retention purges as Prometheus counters, read at scrape time
from their durable records (``infra.metrics``): the erasure facts in the
audit read model and the purge record. The commands that erase and purge are
short-lived processes that Prometheus never scrapes, so a counter kept in
their memory would be lost; the records are not."""

from __future__ import annotations

from collections.abc import Iterator

from prometheus_client.core import CounterMetricFamily, Metric

from domain.case import HousingCase
from infra.metrics import Probe
from infra.person_key_table import KeyTable
from infra.views import ViewStore

_ERASED = HousingCase.PersonalDataErased.type_name


def erasure_probe(key_table: KeyTable, audit_view: ViewStore) -> Probe:
    """A probe for ``infra.metrics.add_probe``: ``boende_erasures_total``
    (cases whose personal data was erased), ``boende_purges_total`` (retention
    purge runs) and ``boende_purged_keys_total`` by kind (case, orphan)."""

    def probe() -> Iterator[Metric]:
        with audit_view.transaction(commit=False) as sql:
            row = sql.one(
                "SELECT COUNT(*) AS n FROM audit_events WHERE event_type = ?",
                [_ERASED],
            )
        yield CounterMetricFamily(
            "boende_erasures",
            "Cases whose personal data was erased (on request or by the purge)",
            value=int(row["n"]) if row else 0,
        )
        with key_table.transaction(commit=False) as sql:
            runs = sql.one(
                "SELECT COUNT(*) AS runs, COALESCE(SUM(case_keys_deleted), 0) AS cases,"
                " COALESCE(SUM(orphan_keys_deleted), 0) AS orphans"
                " FROM person_key_purges"
            )
        assert runs is not None
        yield CounterMetricFamily(
            "boende_purges", "Retention purge runs (gallring)", value=int(runs["runs"])
        )
        keys = CounterMetricFamily(
            "boende_purged_keys",
            "Personal-data keys deleted by retention purges, by kind",
            labels=["kind"],
        )
        keys.add_metric(["case"], int(runs["cases"]))
        keys.add_metric(["orphan"], int(runs["orphans"]))
        yield keys

    return probe
