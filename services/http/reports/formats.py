"""What the report routes share: the quarter a query names, and whether the
caller asked for CSV."""

from __future__ import annotations

from datetime import date

from projections import unexecuted as unexecuted_view
from services.errors import InvalidRequest

CSV_MEDIA_TYPE = "text/csv; charset=utf-8"


def prefers_csv(accept: str | None) -> bool:
    """Whether ``Accept`` gives ``text/csv`` a higher quality than
    ``application/json``; a tie, or no header, means JSON."""
    ranges = [_media_range(part) for part in (accept or "").split(",")]
    return _quality(ranges, "text/csv") > _quality(ranges, "application/json")


def _media_range(text: str) -> tuple[str, float]:
    media_type, *params = (part.strip().lower() for part in text.split(";"))
    for param in params:
        name, _, value = param.partition("=")
        if name.strip() == "q":
            try:
                return media_type, float(value)
            except ValueError:
                return media_type, 0.0
    return media_type, 1.0


def _quality(ranges: list[tuple[str, float]], media_type: str) -> float:
    """The quality of the most specific range that matches ``media_type``."""
    patterns = ["*/*", media_type.split("/")[0] + "/*", media_type]
    matches = [(patterns.index(r), q) for r, q in ranges if r in patterns]
    return max(matches)[1] if matches else 0.0


def quarter_of(quarter: str) -> tuple[date, date]:
    """The first and last day of a quarter like ``2021Q3``, or 422."""
    try:
        return unexecuted_view.quarter_bounds(quarter)
    except ValueError:
        raise InvalidRequest(
            f"quarter must be a year and a quarter like 2021Q3, not {quarter!r}",
            details=[{"loc": "quarter", "problem": "not like 2021Q3"}],
        ) from None
