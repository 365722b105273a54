"""Listing an append-only audit table by UTC day, page by page by id: the
page asked for, its SQL conditions and the answer's frame, shared by
``GET /v1/audit/access`` and ``GET /v1/audit/purges`` so the two read alike
(the query parameters and their checks are ``services.http.deps.day_page``).

``from`` and ``to`` are whole UTC days, both inclusive; ``after`` is the
cursor (the previous page's ``next_after``), ``limit`` the page size (1 to
1000, default 100). ``next_after`` is the next page's ``after``, or null when
nothing more matches.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

DEFAULT_LIMIT = 100
MAX_LIMIT = 1000


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
