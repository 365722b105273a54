"""Swedish alphabetical order (domain.collation)."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from domain.collation import swedish_key


def test_a_to_z_then_a_ring_a_umlaut_o_umlaut() -> None:
    names = ["Östberg", "Ängby", "Åby", "Zinken", "ekbacken", "Centrum"]
    assert sorted(names, key=swedish_key) == [
        "Centrum",
        "ekbacken",
        "Zinken",
        "Åby",
        "Ängby",
        "Östberg",
    ]


def test_case_and_spacing_do_not_move_a_name() -> None:
    assert sorted(["Norrby", "  mälby", "Malmen"], key=swedish_key) == [
        "Malmen",
        "  mälby",
        "Norrby",
    ]


def test_word_by_word() -> None:
    """A space sorts before every letter: "Ek dalen" before "Ekbacken"."""
    assert sorted(["Ekbacken", "Ek  dalen"], key=swedish_key) == [
        "Ek  dalen",
        "Ekbacken",
    ]


def test_letters_filed_with_another_sit_with_it() -> None:
    """é with e, ü with y, æ with ä, ø with ö (as Swedish dictionaries do)."""
    assert sorted(["Eva", "Ébo", "Edda"], key=swedish_key) == ["Ébo", "Edda", "Eva"]
    assert sorted(["Yxan", "Über", "Ytan"], key=swedish_key) == ["Über", "Ytan", "Yxan"]
    assert sorted(["Ærø", "Åse", "Ärla"], key=swedish_key) == ["Åse", "Ärla", "Ærø"]
    assert sorted(["Østen", "Örn", "Ävja"], key=swedish_key) == ["Ävja", "Örn", "Østen"]


def test_names_that_differ_only_in_case_keep_a_fixed_order() -> None:
    assert sorted(["norr", "Norr"], key=swedish_key) == ["Norr", "norr"]


@given(st.lists(st.text(max_size=12), max_size=8))
def test_the_order_is_total_and_independent_of_the_input_order(
    names: list[str],
) -> None:
    """Sorting any permutation gives the same list: two distinct names never
    compare equal."""
    once = sorted(names, key=swedish_key)
    assert sorted(reversed(names), key=swedish_key) == once
    assert sorted(once, key=swedish_key) == once
