"""The stock page's groups (Bostadsbestånd): largest first, then by name in
Swedish alphabetical order."""

from __future__ import annotations

from services.http.pages.bostadsbestand import _group


def _of(total: int) -> dict[str, object]:
    return {"total": total, "by_state": {"available": total}}


def test_largest_first_then_swedish_alphabetical() -> None:
    stock = {
        "today": "2026-01-01",
        "by_district": {
            "Östra": _of(2),
            "Väst": _of(2),
            "norr": _of(2),
            "Åby": _of(5),
        },
    }
    rows = _group(stock, "by_district", "område")["rows"]
    assert [row["name"] for row in rows] == ["Åby", "norr", "Väst", "Östra"]
