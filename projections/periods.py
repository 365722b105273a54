"""The periods figures are counted in: a month (``2025-04``), a quarter
(``2025Q2``) or a year (``2025``)."""

from __future__ import annotations

from datetime import date


def period_of(day: date, period: str) -> str:
    if period == "month":
        return f"{day:%Y-%m}"
    if period == "quarter":
        return f"{day.year}Q{(day.month - 1) // 3 + 1}"
    return str(day.year)


def periods(start: date, end: date, period: str) -> list[str]:
    """Every period key from ``start`` to ``end``, in order."""
    keys: list[str] = []
    year, month = start.year, start.month
    while (year, month) <= (end.year, end.month):
        key = period_of(date(year, month, 1), period)
        if not keys or keys[-1] != key:
            keys.append(key)
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return keys
