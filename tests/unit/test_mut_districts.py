"""The district code list (``domain/districts.py``): refusals word for word
with their line, the bounds of a code and a name, what is trimmed and folded,
and a name matched whatever its case and spacing."""

from __future__ import annotations

import pytest

from domain.districts import DEFAULT_DISTRICTS, normalised, parse_district_list

BAD_ENTRY = (
    "a district is 'code;name', the code 1-32 lower-case letters, digits, - or _"
)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "the district list names no district"),
        ("  # a comment\n\n", "the district list names no district"),
        ("norr\n", f"line 1: {BAD_ENTRY}"),
        ("norr;\n", f"line 1: {BAD_ENTRY}"),
        (";Norr\n", f"line 1: {BAD_ENTRY}"),
        ("# list\nnorr;Norr\nsö der;Söder\n", f"line 3: {BAD_ENTRY}"),
        ("a" * 33 + ";Lång\n", f"line 1: {BAD_ENTRY}"),
        ("lång;" + "x" * 201 + "\n", f"line 1: {BAD_ENTRY}"),
        ("norr;Norr\nNORR;Annat\n", "line 2: 'norr' or its name is listed twice"),
        ("norr;Norr\nnord; NORR \n", "line 2: 'nord' or its name is listed twice"),
        ("norr;Norrby\nnorrby;Annat\n", "line 2: 'norrby' or its name is listed twice"),
        ("norrby;Norr\nnorr;Annat\n", "line 2: 'norr' or its name is listed twice"),
        ("a;A\nb;B\nc;a\n", "line 3: 'c' or its name is listed twice"),  # not the last
    ],
)
def test_a_bad_list_is_refused_in_words_naming_the_line(
    text: str, message: str
) -> None:
    with pytest.raises(ValueError) as refusal:
        parse_district_list(text)
    assert str(refusal.value) == message


def test_the_longest_code_and_name_are_taken() -> None:
    code, name = "a" * 32, "x" * 200
    assert parse_district_list(f"{code};{name}").names == {code: name}


def test_every_character_a_code_may_hold() -> None:
    codes = ["åäö_é-ü", "0_9", "z"]
    text = "\n".join(f"{code};Namn {n}" for n, code in enumerate(codes))
    assert parse_district_list(text).codes == codes


def test_codes_fold_names_keep_their_case_and_comments_end_a_line() -> None:
    districts = parse_district_list(
        "  NORR ; Norra   Staden  # the old town\nsyd;Söder#2;x\nC;Centrum\n"
    )
    assert districts.names == {"norr": "Norra Staden", "syd": "Söder", "c": "Centrum"}
    assert districts.codes == ["norr", "syd", "c"]


def test_a_comment_runs_from_the_first_hash() -> None:
    assert parse_district_list("v;Väst # 1 # 2").names == {"v": "Väst"}


def test_a_name_may_hold_a_semicolon_after_the_first() -> None:
    assert parse_district_list("v;Väst;ra").names == {"v": "Väst;ra"}


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("norrby", "norrby"),
        ("  NORRBY\t", "norrby"),
        ("Söderberga", "söderberga"),
        ("SÖDERBERGA", "söderberga"),
        ("ekbacken", "ekbacken"),  # the last in the list
        ("Norr", None),
        ("", None),
    ],
)
def test_the_default_list_names_a_district_by_code_or_name(
    text: str, code: str | None
) -> None:
    assert parse_district_list(DEFAULT_DISTRICTS).code_of(text) == code


def test_a_name_is_found_whatever_its_spacing_and_case() -> None:
    districts = parse_district_list("n1;Norra  Hamnen\nn2;STRASSE")
    assert districts.code_of(" norra HAMNEN ") == "n1"
    assert districts.code_of("norra\thamnen") == "n1"
    assert districts.code_of("straße") == "n2"  # case folded, not only lowered


def test_the_default_list_in_its_order() -> None:
    assert parse_district_list(DEFAULT_DISTRICTS).names == {
        "centrum": "Centrum",
        "norrby": "Norrby",
        "söderberga": "Söderberga",
        "västerdal": "Västerdal",
        "österäng": "Österäng",
        "björkhaga": "Björkhaga",
        "ekbacken": "Ekbacken",
    }


def test_normalised_trims_joins_runs_and_folds() -> None:
    assert normalised("  Norra \t\n Hamnen  ") == "norra hamnen"
    assert normalised("STRASSE") == normalised("Straße") == "strasse"
    assert normalised("") == ""
