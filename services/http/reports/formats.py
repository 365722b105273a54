"""What the report routes share: the quarter a query names (decided against
today), and whether the caller asked for CSV."""

from __future__ import annotations

from dataclasses import dataclass
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


@dataclass(frozen=True)
class ReportQuarter:
    """A quarter a report names, decided against today by ``quarter_of``.

    ``start`` and ``end`` are its first and last day. ``preliminary`` is true
    while the quarter has not ended (today is on or before ``end``): its
    figures can still change. ``counted_to`` is the day a report counts to,
    for waiting days and "status at quarter end": ``end`` for an ended
    quarter, today for a running one (never a day that has not come).
    """

    quarter: str
    start: date
    end: date
    preliminary: bool
    counted_to: date

    def as_json(self) -> dict[str, object]:
        """What every quarterly answer says about its quarter."""
        return {
            "quarter": self.quarter,
            "from": self.start.isoformat(),
            "to": self.end.isoformat(),
            "preliminary": self.preliminary,
            "counted_to": self.counted_to.isoformat(),
        }


def quarter_of(quarter: str, today: date) -> ReportQuarter:
    """The quarter written like ``2021Q3``, decided against ``today``
    (``services.http.deps.today_of``): 422 ``invalid_request`` when it is not
    like 2021Q3 or begins after today; ``preliminary`` when today is on or
    before its last day, and then counted to today."""
    try:
        start, end = unexecuted_view.quarter_bounds(quarter)
    except ValueError:
        raise InvalidRequest(
            f"quarter must be a year and a quarter like 2021Q3, not {quarter!r}",
            details=[{"loc": "quarter", "problem": "not like 2021Q3"}],
        ) from None
    if start > today:
        raise InvalidRequest(
            f"quarter {quarter} has not begun: it starts on {start.isoformat()} "
            f"and today is {today.isoformat()}",
            details=[{"loc": "quarter", "problem": "in the future"}],
            today=today.isoformat(),
        )
    preliminary = today <= end
    return ReportQuarter(
        quarter, start, end, preliminary, today if preliminary else end
    )
