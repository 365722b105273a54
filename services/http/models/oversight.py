"""The answers of the executive board's oversight routes
(``/v1/oversight/...``): counts, flows, the stock, the landlord register,
lead times and the three-month list. Aggregates and pseudonymous references
only: nothing that names a person."""

from __future__ import annotations

from pydantic import Field

from services.http.models.common import (
    Answer,
    AsOfPosition,
    Code,
    Day,
    Figure,
    Legend,
    Moment,
    RootHash,
    TreeSize,
)

#: A number of days or a statistic of them: an integer, or a fraction
#: (a mean, a median between two days).
Days = int | float


class CaseFigures(Answer):
    """The case figures on a day of one group (``by=``)."""

    cases_by_state: dict[Code, Figure] = Field(description="per case state")
    filed_total: Figure
    granted_total: Figure
    rejected_total: Figure
    executed_total: Figure
    converted_total: Figure
    terminated_total: Figure
    terminations_by_reason: dict[Code, Figure] = Field(
        description="per termination reason recorded"
    )


class Counts(Answer):
    """``GET /v1/oversight/counts``: cases and apartments by state on a day,
    and the cumulative totals (the fields of ``CaseFigures``)."""

    as_of: Day
    known_at: Moment | None = Field(description="only facts recorded by then")
    as_of_position: AsOfPosition
    tree_size: TreeSize
    root_hash: RootHash
    cases_by_state: dict[Code, Figure] = Field(description="per case state")
    filed_total: Figure
    granted_total: Figure
    rejected_total: Figure
    executed_total: Figure
    converted_total: Figure
    terminated_total: Figure
    terminations_by_reason: dict[Code, Figure] = Field(
        description="per termination reason recorded"
    )
    apartments_by_state: dict[Code, Figure]
    by: Code | None = Field(default=None, description="only with by=")
    groups: dict[Code, CaseFigures] | None = Field(
        default=None, description="only with by=: the case figures per code"
    )
    public: bool | None = Field(default=None, description="only with public=true")
    legend: Legend | None = Field(default=None, description="only with public=true")


class FlowCaseFacts(Answer):
    """Case facts in one period (of everyone, or of one group)."""

    filed: Figure
    granted: Figure
    rejected: Figure
    withdrawn: Figure
    executed: Figure
    converted: Figure
    terminated: Figure
    cancelled: Figure
    delays: Figure
    follow_ups: Figure


class FlowReasons(Answer):
    """A period's facts per reason code."""

    cancelled: dict[Code, Figure]
    terminated: dict[Code, Figure]
    delays: dict[Code, Figure]
    follow_ups: dict[Code, Figure]


class FlowPeriod(Answer):
    """One period's facts (the fields of ``FlowCaseFacts``, then the
    apartments'), per reason, and with ``by=`` per group."""

    period: str = Field(examples=["2025-03", "2025Q1", "2025"])
    filed: Figure
    granted: Figure
    rejected: Figure
    withdrawn: Figure
    executed: Figure
    converted: Figure
    terminated: Figure
    cancelled: Figure
    delays: Figure
    follow_ups: Figure
    apartments_acquired: Figure
    apartments_returned: Figure
    by_reason: FlowReasons
    groups: dict[Code, FlowCaseFacts] | None = Field(
        default=None, description="only with by=: the case facts per code"
    )


class PeriodRange(Answer):
    """A per-period answer's range, as checked (at most 240 periods), and
    its provenance."""

    from_: Day = Field(alias="from")
    to: Day
    period: Code = Field(examples=["month", "quarter", "year"])
    as_of_position: AsOfPosition
    tree_size: TreeSize
    root_hash: RootHash


class Flows(PeriodRange):
    """``GET /v1/oversight/flows``: facts per period, by effective date."""

    periods: list[FlowPeriod]
    public: bool | None = Field(default=None, description="only with public=true")
    legend: Legend | None = Field(default=None, description="only with public=true")


class StockOf(Answer):
    total: int
    by_state: dict[Code, int]


class LandlordStock(Answer):
    landlord_org_no: str | None = Field(description="null: a sole trader")
    total: int
    by_state: dict[Code, int]


class CurrentVacancies(Answer):
    count: int
    mean: Days | None
    median: Days | None
    max: Days | None


class VacancyDays(Answer):
    current: CurrentVacancies = Field(description="the vacancies open on as_of")
    total_to_date: Days


class ApartmentStock(Answer):
    """``GET /v1/oversight/apartments``: the stock on a day."""

    today: Day
    as_of: Day
    as_of_position: AsOfPosition
    tree_size: TreeSize
    root_hash: RootHash
    apartments_total: int
    by_state: dict[Code, int]
    by_landlord: dict[str, LandlordStock] = Field(
        description="by landlord name, in Swedish alphabetical order"
    )
    by_district: dict[str, StockOf] = Field(
        description="by district name, in Swedish alphabetical order (case "
        "ignored; å, ä, ö after z)"
    )
    vacancy_days: VacancyDays


class Rename(Answer):
    name: str
    renamed_on: Day


class Landlord(Answer):
    org_no: str
    first_name: str
    first_seen_on: Day
    name: str = Field(description="the name now")
    renames: list[Rename]
    apartments: int


class Landlords(Answer):
    """``GET /v1/oversight/landlords``: the register by organisation number."""

    as_of_position: AsOfPosition
    tree_size: TreeSize
    root_hash: RootHash
    landlords: list[Landlord]


class Interval(Answer):
    """Days between two steps, of the intervals ending in the period."""

    count: int
    median_days: Days | None
    p90_days: Days | None
    max_days: Days | None


class LeadTimePeriod(Answer):
    period: str
    filing_to_decision: Interval
    decision_to_execution: Interval
    execution_to_first_hand: Interval


class LeadTimes(PeriodRange):
    """``GET /v1/oversight/lead-times``."""

    periods: list[LeadTimePeriod]


class UnexecutedDecision(Answer):
    """A granted decision, under its pseudonymous reference."""

    reference: str
    decided_on: Day
    deadline: Day
    days_left: int | None = Field(default=None, description="only with due_within")
    days_waiting: int
    intervention: Code
    gender: Code | None
    delay_reason: Code | None


class Unexecuted(Answer):
    """``GET /v1/oversight/unexecuted``: past the deadline, or due soon."""

    as_of: Day
    known_at: Moment | None
    due_within: int | None
    count: int
    as_of_position: AsOfPosition
    tree_size: TreeSize
    root_hash: RootHash
    decisions: list[UnexecutedDecision]
