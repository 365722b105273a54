"""Organisation numbers (``domain/orgnummer.py``): each refusal in its own
words, which tell the submitter what to do and never repeat the number."""

from __future__ import annotations

import pytest

from domain.orgnummer import parse_orgnummer

SHAPE = "organisation number must be NNNNNN-NNNN (ten digits)"
SOLE_TRADER = (
    "a number whose third digit is 0 or 1 is a personnummer (a sole "
    "trader's); leave landlord_org_no out for such a landlord"
)
LUHN = "organisation number check digit (Luhn) does not match"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("55667-78899", SHAPE),
        ("", SHAPE),
        ("850317-1236", SOLE_TRADER),  # third digit 0
        ("851317-1235", SOLE_TRADER),  # third digit 1
        ("556677-8898", LUHN),  # 556677-8899 is right
    ],
)
def test_a_refusal_in_its_words(text: str, message: str) -> None:
    with pytest.raises(ValueError) as refusal:
        parse_orgnummer(text)
    assert str(refusal.value) == message


def test_third_digit_two_is_a_legal_person() -> None:
    assert parse_orgnummer("5520001230") == "552000-1230"
