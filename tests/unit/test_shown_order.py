"""Groups of the figures listed by the names they are shown by, in Swedish
alphabetical order (projections.spellings.shown_order), rooms by number."""

from __future__ import annotations

from projections.rents import _ordered
from projections.spellings import in_shown_order, shown_order

NAMES = {
    "556012-3456": "Öbo AB",
    "916512-3457": "Hyresvärden HB",
    "n:ab bo": "AB Bo",
    "åby": "Åby",
    "ängen": "Ängen",
}


def test_landlords_by_name_not_by_their_number() -> None:
    keys = ["556012-3456", "916512-3457", "n:ab bo"]
    assert _ordered(keys, "landlord", NAMES) == [
        "n:ab bo",
        "916512-3457",
        "556012-3456",
    ]


def test_districts_a_ring_before_a_umlaut() -> None:
    assert _ordered({"ängen", "åby"}, "district", NAMES) == ["åby", "ängen"]


def test_rooms_by_their_number() -> None:
    assert _ordered({"0010", "0002", "0001"}, "rooms", {}) == ["0001", "0002", "0010"]


def test_two_groups_of_one_name_by_key_and_an_unnamed_key_by_itself() -> None:
    names = {"2": "Bo AB", "1": "Bo AB"}
    assert in_shown_order(["2", "1"], names) == ["1", "2"]
    assert shown_order("", {}) == (("", ""), "")
