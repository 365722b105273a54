"""``public=true`` on the households answer
(``services.reporting.household_suppression``): each measure's total and its
three breakdowns, protected so that no withheld figure can be worked out
from the published ones (the oracle of ``test_suppression``: every table of
finest cells within one step that publishes the same), and nothing withheld
that need not be."""

from __future__ import annotations

from itertools import product
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from services.reporting.household_suppression import BREAKDOWNS, public_households
from services.reporting.suppression import HIDDEN
from tests.unit.test_suppression import Atom, Sums, assert_protected_and_minimal

PEOPLE = ("households", "adults", "children")


def people(households: int, adults: int, children: int) -> dict[str, int]:
    return {"households": households, "adults": adults, "children": children}


def answer(
    total: dict[str, int], **breakdowns: dict[str, dict[str, int]]
) -> dict[str, Any]:
    return {
        "as_of": "2025-04-02",
        "as_of_position": 41,
        "tree_size": 41,
        "root_hash": "ab" * 32,
        **total,
        **breakdowns,
    }


def test_a_small_group_and_its_partner_are_withheld_the_totals_shown() -> None:
    """Four women's households and two men's: both small, so the total 6 is
    shown (no cell of gender can be worked out from it: each is 1 to 4). Of
    the adults (5 and 3) the 3 is small, and the 5 is withheld with it (else
    8 - 5 gives it away). The three children live with women: "<5" for the
    total, the women and the under-18s' band alike, and 0 for the men."""
    body = answer(
        people(6, 8, 3),
        by_gender={"woman": people(4, 5, 3), "man": people(2, 3, 0)},
        by_household_type={"single_adult": people(6, 8, 3)},
        by_age_band={"25-34": people(6, 8, 3), "65+": people(0, 0, 0)},
    )
    shown = public_households(body)
    assert (shown["households"], shown["adults"], shown["children"]) == (6, 8, "<5")
    assert shown["by_gender"] == {
        "woman": {"households": "<5", "adults": HIDDEN, "children": "<5"},
        "man": {"households": "<5", "adults": "<5", "children": 0},
    }
    assert shown["by_household_type"] == {"single_adult": people(6, 8, "<5")}  # type: ignore[arg-type]
    assert shown["by_age_band"]["65+"] == people(0, 0, 0)
    assert shown["public"] is True
    assert shown["legend"]["<5"] == "a count from 1 to 4"
    assert (shown["as_of"], shown["as_of_position"], shown["root_hash"]) == (
        "2025-04-02",
        41,
        "ab" * 32,
    )


def test_a_total_no_breakdown_can_hide_takes_the_whole_measure_with_it() -> None:
    """1 + 1 = 2 with T = 3: each woman's and man's household is 1 to 2 and
    so is the total, which pins both at 1. The gender table cannot be
    protected, so its total is withheld; the age bands would then give it
    away (2 + 0), so every households figure is withheld. The adults (10:
    5 + 5) are shown in full."""
    body = answer(
        people(2, 10, 0),
        by_gender={"woman": people(1, 5, 0), "man": people(1, 5, 0)},
        by_household_type={"adults": people(2, 10, 0)},
        by_age_band={"35-44": people(2, 10, 0), "45-54": people(0, 0, 0)},
    )
    shown = public_households(body, threshold=3)
    assert shown["households"] == HIDDEN
    for breakdown in BREAKDOWNS:
        assert all(g["households"] == HIDDEN for g in shown[breakdown].values())
    assert shown["adults"] == 10
    assert shown["by_gender"]["woman"]["adults"] == 5
    assert shown["by_age_band"]["45-54"] == {
        "households": HIDDEN,
        "adults": 0,
        "children": 0,
    }


def test_the_answer_without_small_counts_is_published_as_it_is() -> None:
    body = answer(
        people(30, 41, 12),
        by_gender={"woman": people(18, 22, 12), "man": people(12, 19, 0)},
        by_household_type={"single_adult": people(30, 41, 12)},
        by_age_band={"25-34": people(30, 41, 12)},
    )
    shown = public_households(body)
    assert {k: v for k, v in shown.items() if k not in ("public", "legend")} == body


# -- the oracle: random households over two codes of each breakdown ----------------

CODES = {
    "by_gender": ("woman", "man"),
    "by_household_type": ("single_adult", "adults"),
    "by_age_band": ("18-24", "65+"),
}
ATOMS: list[Atom] = list(product(*CODES.values()))
#: Zeros and ones often: tiny tables are where a total gives cells away.
small_or_not = st.one_of(
    st.just(0), st.integers(1, 2), st.integers(0, 6), st.integers(0, 30)
)


def sums() -> Sums:
    """Each published households figure as the atoms (gender, type, band)
    whose households it adds up."""
    out: Sums = {"households": list(ATOMS)}
    for axis, (breakdown, codes) in enumerate(CODES.items()):
        for code in codes:
            out[f"{breakdown}.{code}"] = [a for a in ATOMS if a[axis] == code]
    return out


@settings(max_examples=300, deadline=None)
@given(st.lists(small_or_not, min_size=len(ATOMS), max_size=len(ATOMS)))
def test_random_households_are_protected_and_minimal(counts: list[int]) -> None:
    atoms = dict(zip(ATOMS, counts, strict=True))
    body = answer(
        people(sum(counts), 0, 0),
        **{
            breakdown: {
                code: people(sum(atoms[a] for a in sums()[f"{breakdown}.{code}"]), 0, 0)
                for code in codes
            }
            for breakdown, codes in CODES.items()
        },
    )
    for threshold in (3, 5):
        shown = public_households(body, threshold)
        published = {"households": shown["households"]} | {
            f"{b}.{code}": shown[b][code]["households"]
            for b, codes in CODES.items()
            for code in codes
        }
        assert_protected_and_minimal(atoms, sums(), published, threshold)
