"""The district code list (``domain.districts``): its file format, names
matched trimmed and case folded, the default list."""

from __future__ import annotations

import pytest

from domain.districts import DEFAULT_DISTRICTS, normalised, parse_district_list

LIST = """\
# Stadsdelar
01;Centrum
02 ; Norra  Hamnen   # a comment after an entry
sö;Södra Staden
"""


def test_a_list_in_its_order_with_trimmed_names() -> None:
    districts = parse_district_list(LIST)
    assert districts.codes == ["01", "02", "sö"]
    assert districts.names == {
        "01": "Centrum",
        "02": "Norra Hamnen",
        "sö": "Södra Staden",
    }


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("01", "01"),
        ("centrum", "01"),
        ("  CENTRUM ", "01"),
        ("norra hamnen", "02"),
        ("Norra   Hamnen", "02"),
        ("SÖ", "sö"),
        ("södra staden", "sö"),
        ("Norr", None),
        ("", None),
        ("03", None),
    ],
)
def test_a_district_is_named_by_code_or_name_in_any_case(
    text: str, code: str | None
) -> None:
    assert parse_district_list(LIST).code_of(text) == code


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("", "no district"),
        ("# only a comment\n", "no district"),
        ("01\n", "line 1"),
        ("01;\n", "line 1"),
        ("01;Centrum\nbad code!;Norr\n", "line 2"),
        ("01;Centrum\n01;Norr\n", "listed twice"),
        ("01;Centrum\n02; centrum \n", "listed twice"),
    ],
)
def test_a_bad_list_is_refused_naming_the_line(text: str, problem: str) -> None:
    with pytest.raises(ValueError, match=problem):
        parse_district_list(text)


def test_the_default_list_codes_are_its_names_normalised() -> None:
    """So a fact recorded before the list, naming "Norrby", groups with the
    new ones recording the code "norrby"."""
    districts = parse_district_list(DEFAULT_DISTRICTS)
    assert len(districts.codes) == 7
    assert all(normalised(name) == code for code, name in districts.names.items())
