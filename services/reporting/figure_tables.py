"""The oversight answers as tables: the columns of their CSV files
(``services.reporting.tables``), made from their JSON answers, plain or
public. Used by the routes (``services.http.oversight``,
``services.http.timeliness``) and free for any page that shows the same
figures. docs/reports.md lists the columns and their Swedish headers.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from projections import counts as counts_view
from projections import flows as flows_view
from projections import lead_times as lead_times_view
from services.reporting.labels import label
from services.reporting.tables import Coded, Column, Table

# -- /v1/oversight/counts, /flows, /apartments -------------------------------------

#: /counts: one row per figure; ``group`` is the code of a ``by=``
#: breakdown's group (empty for all cases), ``category`` the state or the
#: reason of a figure by state or reason (empty for a total), ``count`` the
#: number, or a suppression mark with ``public=true``.
COUNTS_TABLE = (
    Column("figure", "table_figure"),
    Column("group"),
    Column("category"),
    Column("count", "suppression"),
)
#: A counts answer's figures in the table's order, and the code list of each
#: figure by state or reason (None: a total).
COUNT_FIGURES: dict[str, str | None] = {
    "cases_by_state": "case_state",
    "filed_total": None,
    "granted_total": None,
    "rejected_total": None,
    "executed_total": None,
    "converted_total": None,
    "terminated_total": None,
    "terminations_by_reason": "termination_reason",
    "apartments_by_state": "apartment_state",
}


def group_code(by: str, code: str) -> Coded:
    """A ``by=`` group's code, labelled from its own list (``none``: before
    the fact that sets it)."""
    return Coded("breakdown" if code == counts_view.NONE_YET else by, code)


def counts_table(body: Mapping[str, Any]) -> Table:
    """A counts answer (or its public one) as ``COUNTS_TABLE``: its figures,
    then with ``by`` each group's."""

    def figures(group: Coded | None, part: Mapping[str, Any]) -> Iterator[Any]:
        for figure, codes in COUNT_FIGURES.items():
            if figure not in part:  # a group has no apartments
                continue
            value = part[figure]
            if codes is None:
                yield {"figure": figure, "group": group, "count": value}
                continue
            for code, n in value.items():
                category = Coded(codes, code)
                yield {
                    "figure": figure,
                    "group": group,
                    "category": category,
                    "count": n,
                }

    def rows() -> Iterator[dict[str, Any]]:
        yield from figures(None, body)
        for code, part in (body.get("groups") or {}).items():
            yield from figures(group_code(body["by"], code), part)

    return Table.of(COUNTS_TABLE, rows())


#: What a flows period counts, in the table's order: the case facts, then
#: delays, follow-ups and apartments (``projections.flows.FLOW_NAMES``).
FLOW_COLUMNS = tuple(flows_view.FLOW_NAMES.values())
#: The code list of each reasoned flow's reasons.
FLOW_REASON_CODES = {
    "cancelled": "cancel_reason",
    "terminated": "termination_reason",
    "delays": "delay_reason",
    "follow_ups": "follow_up_outcome",
}


def flows_table(body: Mapping[str, Any], by: str | None) -> Table:
    """A flows answer (or its public one) as a table: one row per period;
    a column per kind of fact, then per kind and reason
    (``cancelled.moved_away``), then with ``by`` per group and case fact
    (``woman.filed``): a count, or a suppression mark with ``public=true``."""
    columns = [Column("period"), *(Column(n, "suppression") for n in FLOW_COLUMNS)]
    for name, reasons in flows_view.FLOW_REASONS.items():
        for reason in reasons:
            sv = f"{label('column', name)}: {label(FLOW_REASON_CODES[name], reason)}"
            columns.append(Column(f"{name}.{reason}", "suppression", sv))
    for code in counts_view.CODES[by] if by else ():
        group = group_code(by, code) if by else Coded("breakdown", code)
        for name in flows_view.CASE_FLOWS:
            sv = f"{label(group.codes, code)}: {label('column', name)}"
            columns.append(Column(f"{code}.{name}", "suppression", sv))

    def row(period: Mapping[str, Any]) -> dict[str, Any]:
        flat = {n: period.get(n) for n in ("period", *FLOW_COLUMNS)}
        for name, counts in (period.get("by_reason") or {}).items():
            flat |= {f"{name}.{reason}": n for reason, n in counts.items()}
        for code, counts in (period.get("groups") or {}).items():
            flat |= {f"{code}.{name}": n for name, n in counts.items()}
        return flat

    return Table.of(columns, (row(period) for period in body["periods"]))


#: /apartments: one row per figure; ``group`` is the landlord or district of
#: a breakdown, ``category`` the apartments' state or the measure.
APARTMENTS_TABLE = (
    Column("figure", "table_figure"),
    Column("group"),
    Column("category"),
    Column("value"),
)


def apartments_table(body: Mapping[str, Any]) -> Table:
    """An apartments answer as ``APARTMENTS_TABLE``: the total, by state, by
    landlord and by district (each its total and its states), and the
    vacancy days (the current vacancies' count, mean, median and longest;
    all vacant days to date)."""

    def row(figure: str, group: Any, category: Any, value: Any) -> dict[str, Any]:
        return {"figure": figure, "group": group, "category": category, "value": value}

    def states(
        figure: str, group: str | None, by_state: Mapping[str, int]
    ) -> Iterator[dict[str, Any]]:
        for state, n in by_state.items():
            yield row(figure, group, Coded("apartment_state", state), n)

    def rows() -> Iterator[dict[str, Any]]:
        yield row("apartments_total", None, None, body["apartments_total"])
        yield from states("apartments_by_state", None, body["by_state"])
        for figure, key in (
            ("apartments_by_landlord", "by_landlord"),
            ("apartments_by_district", "by_district"),
        ):
            for group, part in body[key].items():
                yield row(figure, group, Coded("measure", "total"), part["total"])
                yield from states(figure, group, part["by_state"])
        vacancy = body["vacancy_days"]
        for measure, value in vacancy["current"].items():
            yield row("current_vacancy_days", None, Coded("measure", measure), value)
        yield row("vacant_days_to_date", None, None, vacancy["total_to_date"])

    return Table.of(APARTMENTS_TABLE, rows())


# -- /v1/oversight/lead-times, /unexecuted -----------------------------------------

#: /lead-times: one row per period and interval.
LEAD_TIMES_TABLE = (
    Column("period"),
    Column("interval", "interval"),
    Column("count"),
    Column("median_days"),
    Column("p90_days"),
    Column("max_days"),
)


def lead_times_table(body: dict[str, Any]) -> Table:
    """A lead-times answer as ``LEAD_TIMES_TABLE``, intervals in the read
    model's order within each period."""
    return Table.of(
        LEAD_TIMES_TABLE,
        (
            {"period": row["period"], "interval": name, **row[name]}
            for row in body["periods"]
            for name in lead_times_view.INTERVALS
        ),
    )


#: /unexecuted: one row per decision, the columns of its JSON.
UNEXECUTED_TABLE = (
    Column("reference"),
    Column("decided_on"),
    Column("deadline"),
    Column("days_waiting"),
    Column("intervention", "intervention"),
    Column("gender", "gender"),
    Column("delay_reason", "delay_reason"),
)
#: /unexecuted?due_within=N: the same with the days left to the deadline.
DUE_SOON_TABLE = (*UNEXECUTED_TABLE[:3], Column("days_left"), *UNEXECUTED_TABLE[3:])
