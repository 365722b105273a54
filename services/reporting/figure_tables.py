"""The oversight answers as tables: the columns of their CSV files
(``services.reporting.tables``), made from their JSON answers, plain or
public. Used by the routes (``services.http.oversight``,
``services.http.timeliness``, ``services.http.figures``) and free for any
page that shows the same figures. docs/reports.md lists the columns and
their Swedish headers.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from projections import counts as counts_view
from projections import first_hand as first_hand_view
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


# -- the seed figures: /households, /first-hand, /rents, /vacancy, /landlords ------

#: /households: the totals, then one row per group of each breakdown.
HOUSEHOLDS_TABLE = (
    Column("breakdown", "household_breakdown"),
    Column("group"),
    Column("households"),
    Column("adults"),
    Column("children"),
)
#: A households answer's breakdowns, and the code list of their groups.
HOUSEHOLD_BREAKDOWNS = {
    "by_gender": "gender",
    "by_household_type": "household_type",
    "by_age_band": "age_band",
}


def households_table(body: Mapping[str, Any]) -> Table:
    """A households answer as ``HOUSEHOLDS_TABLE``: the total, then each
    group of each breakdown (every code, zeros included)."""
    rows = [{"breakdown": "total", **body}]
    for breakdown, codes in HOUSEHOLD_BREAKDOWNS.items():
        rows += [
            {"breakdown": breakdown, "group": Coded(codes, code), **people}
            for code, people in body[breakdown].items()
        ]
    return Table.of(HOUSEHOLDS_TABLE, rows)


def part_column(figure: str, part: str, codes: str = "column_part") -> Column:
    """The column of a figure's part (``days_to_conversion.median_days``),
    its Swedish header the figure's label, then the part's."""
    sv = f"{label('column', figure)}: {label(codes, part)}"
    return Column(f"{figure}.{part}", sv=sv)


def flat(row: Mapping[str, Any]) -> dict[str, Any]:
    """A row whose figures hold parts, as columns of two names (one level
    down; ``days_in_contract.by_months.0-5`` as ``days_in_contract.0-5``)."""
    out: dict[str, Any] = {}
    for name, value in row.items():
        if not isinstance(value, Mapping):
            out[name] = value
            continue
        for part, inner in value.items():
            if isinstance(inner, Mapping):
                out |= {f"{name}.{code}": n for code, n in inner.items()}
            else:
                out[f"{name}.{part}"] = inner
    return out


#: The columns naming a group of a figure grouped ``by=`` (none: no column).
GROUP_COLUMNS = {
    "none": (),
    "landlord": (Column("landlord"), Column("landlord_org_no")),
    "district": (Column("district"),),
    "rooms": (Column("rooms"),),
}
SUMMARY_PARTS = ("count", "median_days", "p90_days", "max_days")
MONTH_BANDS = (
    *(code for *_, code in first_hand_view.MONTH_BANDS),
    first_hand_view.LAST_BAND,
)


def first_hand_table(body: Mapping[str, Any]) -> Table:
    """A first-hand answer as a table: one row per cohort (and group); the
    outcomes, terminations per reason, the shares converted within 12 and
    24 months (observed, converted, share), days to conversion and the days
    of those still in a contract (with their bands of months)."""
    columns = [
        Column("cohort"),
        *GROUP_COLUMNS[body["by"]],
        *(Column(n) for n in ("executed", "converted", "terminated")),
        *(
            part_column("terminated", reason, "termination_reason")
            for reason in first_hand_view.TERMINATION_REASONS
        ),
        Column("still_second_hand"),
        *(
            part_column(f"converted_within_{months}_months", part)
            for months in (12, 24)
            for part in ("observed", "converted", "share")
        ),
        *(part_column("days_to_conversion", part) for part in SUMMARY_PARTS),
        *(part_column("days_in_contract", part) for part in SUMMARY_PARTS),
        *(part_column("days_in_contract", band, "month_band") for band in MONTH_BANDS),
    ]
    terminated = "terminated_by_reason"
    rows = (
        flat({k: v for k, v in cohort.items() if k != terminated})
        | {f"terminated.{r}": n for r, n in cohort[terminated].items()}
        for cohort in body["cohorts"]
    )
    return Table.of(columns, rows)


def rents_table(body: Mapping[str, Any]) -> Table:
    """A rents answer as a table: one row per group; apartments and those
    lived in, what ALN pays and what households pay (median, lowest,
    highest, sum per month), and the difference."""
    spreads = ("median", "lowest", "highest", "per_month")
    columns = [
        *GROUP_COLUMNS[body["by"]],
        Column("apartments"),
        Column("occupied"),
        *(part_column(n, p) for n in ("aln_pays", "households_pay") for p in spreads),
        Column("difference_per_month"),
        Column("difference_per_occupied_apartment"),
    ]
    return Table.of(columns, (flat(group) for group in body["groups"]))


def vacancy_table(body: Mapping[str, Any]) -> Table:
    """A vacancy answer as a table: one row per period (and group)."""
    columns = [
        Column("period"),
        *GROUP_COLUMNS[body["by"]],
        Column("vacant_days"),
        Column("cost_sek"),
    ]
    return Table.of(columns, body["periods"])


#: /landlords: one row per name a landlord has had, first to now; the
#: apartments on the row of its name now (``current``), so they sum.
LANDLORDS_TABLE = (
    Column("org_no"),
    Column("name"),
    Column("named_on"),
    Column("name_kind", "landlord_name"),
    Column("current"),
    Column("apartments"),
)


def landlords_table(body: Mapping[str, Any]) -> Table:
    """The landlord register as ``LANDLORDS_TABLE``, by number, each
    landlord's names in the order it had them."""

    def rows() -> Iterator[dict[str, Any]]:
        for landlord in body["landlords"]:
            names = [
                (landlord["first_name"], landlord["first_seen_on"], "first"),
                *((r["name"], r["renamed_on"], "rename") for r in landlord["renames"]),
            ]
            for number, (name, day, kind) in enumerate(names, start=1):
                current = number == len(names)
                yield {
                    "org_no": landlord["org_no"],
                    "name": name,
                    "named_on": day,
                    "name_kind": kind,
                    "current": current,
                    "apartments": landlord["apartments"] if current else None,
                }

    return Table.of(LANDLORDS_TABLE, rows())
