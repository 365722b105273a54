"""The simulation's public entry points: plan a period of the simulated
municipality (``services.simulation.world``) and list its submissions."""

from __future__ import annotations

from datetime import date

from services.simulation.behaviour import Envelope, Plan, add_months, stockholm_today
from services.simulation.world import World


def plan(
    months: int,
    seed: int,
    start: date | None = None,
    invalid_share: float = 0.0,
    *,
    today: date | None = None,
) -> Plan:
    """Simulate ``months`` from ``start`` (default: that many months before
    today); the period ends ``months`` after ``start`` or today, if earlier."""
    if months < 1:
        raise ValueError("months must be at least 1")
    if not 0.0 <= invalid_share <= 1.0:
        raise ValueError("invalid_share must be between 0 and 1")
    today = today or stockholm_today()
    start = start or add_months(today, -months)
    if start > today:
        raise ValueError(f"start {start} is after today ({today})")
    end = min(add_months(start, months), today)
    return World(seed, start, end, today, invalid_share).run()


def generate_with_expectations(
    months: int,
    seed: int,
    start: date | None = None,
    invalid_share: float = 0.0,
    *,
    today: date | None = None,
) -> list[tuple[Envelope, bool]]:
    """Every submission in send order, with whether it should be accepted."""
    result = plan(months, seed, start, invalid_share, today=today)
    return [(item.envelope, item.valid) for item in result.items]


def generate(
    months: int,
    seed: int,
    start: date | None = None,
    invalid_share: float = 0.0,
    *,
    today: date | None = None,
) -> list[Envelope]:
    """Every submission in send order (invalid ones mixed in, unmarked)."""
    return plan(months, seed, start, invalid_share, today=today).envelopes
