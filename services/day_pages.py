"""Listing an append-only audit table by UTC day, page by page by id: the
query parameters, their checks, the SQL conditions and the answer's frame,
shared by ``GET /v1/audit/access`` and ``GET /v1/audit/purges`` so the two
read alike.

``from`` and ``to`` are whole UTC days, both inclusive; ``after`` is the
cursor (the previous page's ``next_after``), ``limit`` the page size (1 to
1000, default 100). ``next_after`` is the next page's ``after``, or null when
nothing more matches.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Annotated, Any

from fastapi import Depends, Query

from services.errors import InvalidRequest

DEFAULT_LIMIT = 100
MAX_LIMIT = 1000

#: The refusals of a paged listing, for the OpenAPI document.
PAGE_RESPONSES: dict[int | str, dict[str, Any]] = {
    422: {
        "description": "invalid_request: a bad date, after or limit out of "
        "bounds, or from after to; details per parameter"
    },
    503: {"description": "unavailable: the table is unreachable; retry"},
}


@dataclass(frozen=True)
class DayPage:
    """Which page of a table is asked for: its UTC days and its cursor."""

    start: date | None = None
    end: date | None = None
    after: int = 0
    limit: int = DEFAULT_LIMIT

    @property
    def fetch(self) -> int:
        """Rows to select: one more than a page shows whether another follows."""
        return self.limit + 1

    def conditions(self, time_column: str) -> tuple[list[str], list[object]]:
        """SQL conditions (``?`` placeholders) and their parameters: ids
        after the cursor, ``time_column`` within the days. Stored times are
        fixed-width UTC text, so a day's ISO date sorts before all of that
        day's times: ``[start, end + 1 day)`` covers both days."""
        where: list[str] = ["id > ?"]
        params: list[object] = [self.after]
        if self.start is not None:
            where.append(f"{time_column} >= ?")
            params.append(self.start.isoformat())
        if self.end is not None:
            where.append(f"{time_column} < ?")
            params.append((self.end + timedelta(days=1)).isoformat())
        return where, params

    def answer(
        self, rows: Sequence[dict[str, Any]], **filters: object
    ) -> dict[str, Any]:
        """The answer for ``rows`` (at most :attr:`fetch` of them, in id
        order): the filters, the page asked for, its entries, ``next_after``."""
        entries = list(rows[: self.limit])
        more = len(rows) > self.limit
        return {
            **filters,
            "from": self.start.isoformat() if self.start else None,
            "to": self.end.isoformat() if self.end else None,
            "after": self.after,
            "limit": self.limit,
            "entries": entries,
            "next_after": entries[-1]["id"] if more else None,
        }


async def day_page(
    start: Annotated[
        date | None, Query(alias="from", description="on or after this UTC day")
    ] = None,
    end: Annotated[
        date | None, Query(alias="to", description="on or before this UTC day")
    ] = None,
    after: Annotated[
        int, Query(ge=0, description="cursor: the previous page's next_after")
    ] = 0,
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = DEFAULT_LIMIT,
) -> DayPage:
    """The page a request asks for; 422 ``invalid_request`` when ``from`` is
    after ``to`` (bad values and bounds are refused by the query's types)."""
    if start and end and start > end:
        raise InvalidRequest(
            "from must not be after to",
            details=[{"loc": "from", "problem": "after to"}],
        )
    return DayPage(start, end, after, limit)


DayPageDep = Annotated[DayPage, Depends(day_page)]
