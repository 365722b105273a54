"""The seed figures' JSON answers as pydantic models: the OpenAPI document's
schemas (under ``components``) and examples. The routes answer plain dicts
(the oversight web's pages call the same functions); these models describe
them, and ``tests/api/test_figures_openapi.py`` checks that real answers
validate against them, unknown fields refused."""

from __future__ import annotations

from datetime import date
from typing import Any, Literal, cast

from pydantic import BaseModel, ConfigDict, Field
from pydantic.config import JsonDict

from services.http.models.common import Figure, Legend
from services.http.reports.formats import table_responses

#: The log every figure was read from (``services.projecting.answers``).
PROVENANCE: dict[str, Any] = {
    "as_of_position": 48211,
    "tree_size": 48211,
    "root_hash": "9f2c4e0a7b1d3c5e9f2c4e0a7b1d3c5e9f2c4e0a7b1d3c5e9f2c4e0a7b1d3c5e",
}


def figure_responses(
    model: type[BaseModel], what: str, *refusals: str
) -> dict[int | str, dict[str, Any]]:
    """A figure route's OpenAPI ``responses``: JSON or CSV (``services.http.
    reports.formats.table_responses``), the JSON's schema ``model`` (a
    reference under ``components``) and its example."""
    responses = table_responses(what, *refusals)
    ok = responses[200]
    ok["model"] = model
    example = model.model_json_schema()["examples"][0]
    ok["content"]["application/json"] = {"example": example}
    return responses


def _config(example: dict[str, Any] | None = None) -> ConfigDict:
    """Unknown fields refused; ``example`` the schema's example."""
    if example is None:
        return ConfigDict(extra="forbid")
    return ConfigDict(
        extra="forbid", json_schema_extra=cast("JsonDict", {"examples": [example]})
    )


class FigureProvenance(BaseModel):
    """Where the figures come from: the read model's log position, and the
    size and Merkle root (hex) of the log up to it (absent while this
    store has not reached that position)."""

    model_config = _config()

    as_of_position: int = Field(description="the log position the figures reflect")
    tree_size: int | None = Field(None, description="events in the log up to it")
    root_hash: str | None = Field(None, description="the Merkle root (hex) of that log")


# -- /v1/oversight/households ------------------------------------------------------

PEOPLE = {"households": 23, "adults": 29, "children": 30}


class HouseholdPeople(BaseModel):
    """Households living in a social contract, their adults and children
    (``public=true``: each also ``"<5"`` or ``"suppressed"``)."""

    model_config = _config(PEOPLE)

    households: Figure
    adults: Figure
    children: Figure


HOUSEHOLDS_EXAMPLE: dict[str, Any] = {
    "as_of": "2025-04-02",
    "week": None,
    "first_day": "2025-04-02",
    "last_day": "2025-04-02",
    "known_at": None,
    **PROVENANCE,
    "households": 41,
    "adults": 52,
    "children": 37,
    "by_gender": {"woman": PEOPLE},
    "by_household_type": {
        "single_adult": {"households": 19, "adults": 19, "children": 0}
    },
    "by_age_band": {"25-34": {"households": 12, "adults": 15, "children": 14}},
}


class HouseholdsAnswer(FigureProvenance):
    """People in social contracts on a day (``as_of``) or in an ISO week
    (``week``: ``first_day`` to ``last_day``), as known at ``known_at``
    (UTC; null: everything recorded). Each breakdown lists every code of
    its list, zeros included."""

    model_config = _config(HOUSEHOLDS_EXAMPLE)

    as_of: date | None = Field(None, description="the day; null for a week")
    week: str | None = Field(None, description="the ISO week, e.g. 2025-W14")
    first_day: date
    last_day: date
    known_at: str | None = None
    households: Figure
    adults: Figure
    children: Figure
    by_gender: dict[str, HouseholdPeople] = Field(
        description="woman, man, other, unknown"
    )
    by_household_type: dict[str, HouseholdPeople] = Field(
        description="single_adult, single_adult_with_children, adults, "
        "adults_with_children"
    )
    by_age_band: dict[str, HouseholdPeople] = Field(
        description="0-17, 18-24, 25-34, 35-44, 45-54, 55-64, 65+ (the year of "
        "the day minus the birth year)"
    )
    public: bool | None = Field(default=None, description="only with public=true")
    legend: Legend | None = Field(default=None, description="only with public=true")


# -- /v1/oversight/first-hand ------------------------------------------------------


class ConvertedWithin(BaseModel):
    """Of the contracts executed at least that long before ``as_of``
    (``observed``; the rest are censored), those converted within it."""

    model_config = _config({"observed": 12, "converted": 2, "share": 0.1667})

    observed: int
    converted: int
    share: float | None = Field(
        None, description="converted / observed; null when none"
    )


class DaysSummary(BaseModel):
    """Days: how many, median, 90th percentile (nearest rank), longest."""

    model_config = _config(
        {"count": 5, "median_days": 401, "p90_days": 530, "max_days": 530}
    )

    count: int
    median_days: float | None = None
    p90_days: int | None = None
    max_days: int | None = None


class DaysInContract(DaysSummary):
    """The days those still second-hand have lived in their contract, and
    how many in each band of whole months (0-5, 6-11, 12-23, 24-35, 36+)."""

    model_config = _config(
        {
            "count": 5,
            "median_days": 610,
            "p90_days": 640,
            "max_days": 640,
            "by_months": {"0-5": 0, "6-11": 0, "12-23": 5, "24-35": 0, "36+": 0},
        }
    )

    by_months: dict[str, int]


COHORT_EXAMPLE: dict[str, Any] = {
    "cohort": "2023Q2",
    "landlord": "Kommunbostäder AB",
    "landlord_org_no": "556999-0012",
    "executed": 12,
    "converted": 5,
    "terminated": 2,
    "terminated_by_reason": {
        "eviction": 1,
        "moved_out": 1,
        "own_housing_found": 0,
        "deceased": 0,
        "other": 0,
    },
    "still_second_hand": 5,
    "converted_within_12_months": {"observed": 12, "converted": 2, "share": 0.1667},
    "converted_within_24_months": {"observed": 0, "converted": 0, "share": None},
    "days_to_conversion": {
        "count": 5,
        "median_days": 401,
        "p90_days": 530,
        "max_days": 530,
    },
    "days_in_contract": {
        "count": 5,
        "median_days": 610,
        "p90_days": 640,
        "max_days": 640,
        "by_months": {"0-5": 0, "6-11": 0, "12-23": 5, "24-35": 0, "36+": 0},
    },
}


class FirstHandCohort(BaseModel):
    """The contracts executed in one quarter (and with ``by``, under one
    landlord or in one district): what became of them by ``as_of``."""

    model_config = _config(COHORT_EXAMPLE)

    cohort: str = Field(description="the execution quarter, e.g. 2023Q2")
    landlord: str | None = Field(None, description="by=landlord: its name")
    landlord_org_no: str | None = Field(
        None, description="by=landlord: its organisationsnummer, if it has one"
    )
    district: str | None = Field(None, description="by=district")
    executed: int
    converted: int
    terminated: int
    terminated_by_reason: dict[str, int]
    still_second_hand: int
    converted_within_12_months: ConvertedWithin
    converted_within_24_months: ConvertedWithin
    days_to_conversion: DaysSummary
    days_in_contract: DaysInContract


FIRST_HAND_EXAMPLE: dict[str, Any] = {
    "from": "2023-01-01",
    "to": "2023-12-31",
    "as_of": "2024-11-30",
    "by": "landlord",
    "known_at": None,
    **PROVENANCE,
    "cohorts": [COHORT_EXAMPLE],
}


class FirstHandAnswer(FigureProvenance):
    """The path to a first-hand lease: per execution quarter from ``from``
    to ``to`` (and group), the outcomes on ``as_of`` as known at
    ``known_at`` (UTC; null: everything recorded)."""

    model_config = _config(FIRST_HAND_EXAMPLE)

    from_: date = Field(alias="from")
    to: date
    as_of: date
    by: Literal["none", "landlord", "district"]
    known_at: str | None = None
    cohorts: list[FirstHandCohort] = Field(
        description="by quarter, then by name in Swedish alphabetical order"
    )


# -- /v1/oversight/rents, /vacancy -----------------------------------------------

SPREAD = {"median": 7200, "lowest": 5400, "highest": 9800, "per_month": 288000}


class RentSpread(BaseModel):
    """Monthly rents in kronor: median, lowest, highest (null without
    any) and their sum."""

    model_config = _config(SPREAD)

    median: float | None = None
    lowest: int | None = None
    highest: int | None = None
    per_month: int


RENT_GROUP_EXAMPLE: dict[str, Any] = {
    "apartments": 40,
    "occupied": 36,
    "aln_pays": SPREAD,
    "households_pay": {**SPREAD, "per_month": 262000},
    "difference_per_month": -2600,
    "difference_per_occupied_apartment": -72,
}


class RentGroup(BaseModel):
    """One group's rents: ``landlord`` (and ``landlord_org_no``),
    ``district`` or ``rooms`` name it under ``by``."""

    model_config = _config(RENT_GROUP_EXAMPLE)

    landlord: str | None = None
    landlord_org_no: str | None = None
    district: str | None = None
    rooms: str | None = None
    apartments: int = Field(description="in stock on the day")
    occupied: int = Field(description="of them, lived in on the day")
    aln_pays: RentSpread = Field(description="the rent ALN pays the landlords")
    households_pay: RentSpread = Field(description="the rent the households pay")
    difference_per_month: int = Field(
        description="households minus ALN over those lived in (negative: "
        "the municipality's subsidy)"
    )
    difference_per_occupied_apartment: int | None = None


RENTS_EXAMPLE: dict[str, Any] = {
    "as_of": "2025-04-01",
    "by": "none",
    "known_at": None,
    **PROVENANCE,
    "groups": [RENT_GROUP_EXAMPLE],
}


class RentsAnswer(FigureProvenance):
    """Rents on ``as_of`` as known at ``known_at`` (UTC; null: everything
    recorded), per group (one group with ``by=none``)."""

    model_config = _config(RENTS_EXAMPLE)

    as_of: date
    by: Literal["none", "landlord", "district", "rooms"]
    known_at: str | None = None
    groups: list[RentGroup] = Field(
        description="landlords and districts by name in Swedish alphabetical "
        "order, rooms by number"
    )


VACANCY_ROW = {"period": "2025-01", "district": "Norr", "vacant_days": 45}


class VacancyPeriod(BaseModel):
    """A period's (and group's) vacant apartment-days and their cost in
    kronor, each day at the apartment's monthly rent over its month's days."""

    model_config = _config({**VACANCY_ROW, "cost_sek": 10452})

    period: str = Field(description="2025-01, 2025Q1 or 2025")
    landlord: str | None = None
    landlord_org_no: str | None = None
    district: str | None = None
    rooms: str | None = None
    vacant_days: int
    cost_sek: int


VACANCY_EXAMPLE: dict[str, Any] = {
    "from": "2025-01-01",
    "to": "2025-03-31",
    "period": "month",
    "by": "district",
    "known_at": None,
    "counted_to": "2025-03-31",
    **PROVENANCE,
    "periods": [{**VACANCY_ROW, "cost_sek": 10452}],
}


class VacancyAnswer(FigureProvenance):
    """Vacant apartment-days and their cost per period from ``from`` to
    ``to``, as known at ``known_at``; a vacancy still open is counted to
    ``counted_to`` (today, or the day of ``known_at``), never beyond."""

    model_config = _config(VACANCY_EXAMPLE)

    from_: date = Field(alias="from")
    to: date
    period: Literal["month", "quarter", "year"]
    by: Literal["none", "landlord", "district", "rooms"]
    known_at: str | None = None
    counted_to: date
    periods: list[VacancyPeriod]
