"""Small-count suppression of a flows answer with its details
(``projections.flows``): per period, the facts of each kind and each
reasoned kind by its reason, suppressed together as one table whose sums
are the reasons of each reasoned kind (``services.reporting.suppression``
for the method): no hidden count can be worked out from its period's
published figures. Breakdowns by group (``by``) are not published: the
groups of a period would need protecting against each other and their sum.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from services.reporting.suppression import DEFAULT_THRESHOLD, Group, legend, suppress

#: A reasoned kind's total in a period row, by the name of its reasons.
TOTAL_OF = {
    "cancelled": "cancelled",
    "terminated": "terminated",
    "delays": "delays",
    "follow_ups": "follow_ups",
}


def public_flows_in_detail(
    answer: Mapping[str, Any], threshold: int = DEFAULT_THRESHOLD
) -> dict[str, Any]:
    """A ``flows`` answer whose periods carry ``by_reason``, suppressed."""
    return {
        **answer,
        "periods": [_period(row, threshold) for row in answer["periods"]],
        "public": True,
        "legend": legend(threshold),
    }


def _period(row: Mapping[str, Any], threshold: int) -> dict[str, Any]:
    values: dict[str, int] = {
        name: int(value)
        for name, value in row.items()
        if name not in ("period", "by_reason")
    }
    groups = []
    for kind, reasons in row["by_reason"].items():
        parts = tuple(f"{kind}.{reason}" for reason in reasons)
        values.update({f"{kind}.{r}": int(n) for r, n in reasons.items()})
        groups.append(Group(TOTAL_OF[kind], parts))
    shown = suppress(values, groups, threshold)
    return {
        "period": row["period"],
        **{name: shown[name] for name in row if name not in ("period", "by_reason")},
        "by_reason": {
            kind: {reason: shown[f"{kind}.{reason}"] for reason in reasons}
            for kind, reasons in row["by_reason"].items()
        },
    }
