"""Organisation numbers (``domain.orgnummer``): forms, the legal person's
third digit, Luhn; hypothesis over every number of the right shape."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from domain.orgnummer import parse_orgnummer
from domain.personnummer import luhn_check_digit


@pytest.mark.parametrize(
    ("text", "canonical"),
    [
        ("556677-8899", "556677-8899"),
        ("5566778899", "556677-8899"),
        ("212000-0183", "212000-0183"),  # a municipality's shape (group 2)
        ("802400-1235", "802400-1235"),  # a foundation's shape (group 8)
    ],
)
def test_valid_numbers_in_canonical_form(text: str, canonical: str) -> None:
    assert parse_orgnummer(text) == canonical


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("556677-8898", "Luhn"),
        ("55667-78899", "NNNNNN-NNNN"),
        ("556677 8899", "NNNNNN-NNNN"),
        ("16556677-8899", "NNNNNN-NNNN"),  # the twelve-digit form is not taken
        ("55667788990", "NNNNNN-NNNN"),
        ("abcdef-ghij", "NNNNNN-NNNN"),
        ("850317-1236", "personnummer"),  # a sole trader's: personal data
        ("851317-1235", "personnummer"),  # third digit 1
    ],
)
def test_invalid_numbers_never_echo_the_number(text: str, problem: str) -> None:
    with pytest.raises(ValueError, match=problem) as error:
        parse_orgnummer(text)
    assert text not in str(error.value)
    assert text.replace("-", "")[:6] not in str(error.value)


nine_digits = st.text("0123456789", min_size=9, max_size=9)


@given(nine=nine_digits, hyphen=st.booleans())
def test_every_number_is_accepted_iff_a_legal_persons_with_its_luhn_digit(
    nine: str, hyphen: bool
) -> None:
    digits = nine + str(luhn_check_digit(nine))
    text = f"{digits[:6]}-{digits[6:]}" if hyphen else digits
    if int(digits[2]) >= 2:
        assert parse_orgnummer(text) == f"{digits[:6]}-{digits[6:]}"
    else:
        with pytest.raises(ValueError, match="personnummer"):
            parse_orgnummer(text)


@given(nine=nine_digits.filter(lambda n: int(n[2]) >= 2), wrong=st.integers(1, 9))
def test_any_other_check_digit_is_refused(nine: str, wrong: int) -> None:
    check = (luhn_check_digit(nine) + wrong) % 10
    with pytest.raises(ValueError, match="Luhn"):
        parse_orgnummer(f"{nine[:6]}-{nine[6:]}{check}")


@given(
    nine=nine_digits.filter(lambda n: int(n[2]) >= 2),
    position=st.integers(0, 8),
    step=st.integers(1, 9),
)
def test_one_digit_mistyped_is_caught(nine: str, position: int, step: int) -> None:
    """Luhn catches every single-digit error: a typo never names another
    landlord."""
    digits = nine + str(luhn_check_digit(nine))
    typo = str((int(digits[position]) + step) % 10)
    mistyped = digits[:position] + typo + digits[position + 1 :]
    if int(mistyped[2]) < 2:
        return  # refused as a personnummer instead: also caught
    with pytest.raises(ValueError, match="Luhn"):
        parse_orgnummer(mistyped)
