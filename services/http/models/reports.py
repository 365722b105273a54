"""The answers of the report routes (``/v1/reports/...``) as JSON; each
also answers CSV (``services.http.reports.formats``)."""

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


class Quarter(Answer):
    """The quarter a report is of, decided against today."""

    quarter: str = Field(examples=["2025Q3"])
    from_: Day = Field(alias="from")
    to: Day
    preliminary: bool = Field(description="the quarter has not ended")
    counted_to: Day = Field(description="its last day, or today while it runs")
    known_at: Moment | None


class ReportRow(Answer):
    """A decision of the quarterly report, under its pseudonymous reference."""

    section: Code = Field(examples=["new", "earlier_resolved", "earlier_standing"])
    reference: str
    decided_on: Day
    deadline: Day
    intervention: Code
    gender: Code | None
    delay_reason: Code | None
    status_at_quarter_end: Code
    executed_or_ended_on: Day | None
    end_reason: Code | None
    days_waiting: int


class QuarterlyReport(Quarter):
    """``GET /v1/reports/unexecuted``; ``public=true``: the totals only."""

    columns: list[str] | None = Field(default=None, description="not with public")
    totals: dict[Code, Figure] = Field(description="decisions per section")
    as_of_position: AsOfPosition
    tree_size: TreeSize
    root_hash: RootHash
    rows: list[ReportRow] | None = Field(default=None, description="not with public")
    public: bool | None = Field(default=None, description="only with public=true")
    legend: Legend | None = Field(default=None, description="only with public=true")


class IvoDelayReason(Answer):
    reason: Code
    occurred_on: Day
    offered_on: Day | None
    note: str | None = Field(description="personal data; null once erased")


class IvoRow(Answer):
    """A decision to report to IVO, and the person as IVO names them."""

    ivo_id: str | None = Field(description="ÅÅÅÅMMDD-T123; null once erased")
    birth_date: Day | None
    ivo_digits: str
    gender_coded: bool
    personal_data: Code = Field(examples=["readable", "erased", "unreadable"])
    decision_id: str
    decided_on: Day
    deadline: Day
    intervention: Code
    gender: Code | None
    report_kind: Code = Field(examples=["new", "re_report", "executed", "ended"])
    report_kind_on: Day | None
    end_reason: Code | None
    days_waited: int
    delay_reasons: list[IvoDelayReason]
    case_id: str


class IvoReport(Quarter):
    """``GET /v1/reports/ivo`` (personal data: each case's read logged)."""

    access_ids: list[int] = Field(description="the access-log entries, per case")
    totals: dict[Code, int] = Field(description="rows per report kind")
    rows: list[IvoRow]
    as_of_position: AsOfPosition
    tree_size: TreeSize
    root_hash: RootHash


class Band(Answer):
    band: Code
    months_from: int
    months_to: int | None


class CouncilRow(Answer):
    """Intervention by gender (``total`` in subtotal and total rows), a
    figure per waiting band in months and in all."""

    intervention: Code
    gender: Code
    months_3_6: Figure = Field(alias="3_6")
    months_7_9: Figure = Field(alias="7_9")
    months_10_12: Figure = Field(alias="10_12")
    months_13_17: Figure = Field(alias="13_17")
    months_18_plus: Figure = Field(alias="18_plus")
    total: Figure


class CouncilTables(Answer):
    unexecuted: list[CouncilRow] = Field(description="unexecuted at quarter end")
    executed_late: list[CouncilRow] = Field(description="executed late in it")


class CouncilReport(Quarter):
    """``GET /v1/reports/council``: always public (small counts suppressed)."""

    columns: list[str]
    bands: list[Band]
    tables: CouncilTables
    public: bool
    threshold: int
    legend: Legend
    as_of_position: AsOfPosition
    tree_size: TreeSize
    root_hash: RootHash
