"""The rules of IVO's individual report without a store: the three digits of
an IVO id, the report kind of a row, the offer day of a declined offer, and a
note sealed so that it opens only as the note of its own case."""

from __future__ import annotations

from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st

from domain.errors import OfferDateInvalid
from domain.remarks import check_offer_date
from infra import crypto
from projections.ivo import report_kind
from services.privacy.ivo import IvoPerson, ivo_digits, person_identity

KEY = bytes(range(32))


@given(st.text(min_size=1, max_size=40))
def test_a_woman_gets_an_even_last_digit_and_a_man_an_odd_one(identity: str) -> None:
    woman, man = ivo_digits(KEY, identity, "woman"), ivo_digits(KEY, identity, "man")
    assert len(woman) == len(man) == 3 and woman.isdigit() and man.isdigit()
    assert int(woman) % 2 == 0 and int(man) == int(woman) + 1
    assert ivo_digits(KEY, identity, "woman") == woman  # stable


def test_the_digits_depend_on_the_key_and_the_person() -> None:
    people = [f"key:{n:032x}" for n in range(200)]
    digits = {ivo_digits(KEY, p, "other") for p in people}
    assert len(digits) > 150  # spread over 000-999, not one value
    other_key = bytes(32)
    changed = sum(
        ivo_digits(KEY, p, "woman") != ivo_digits(other_key, p, "woman") for p in people
    )
    assert changed > 190


def test_the_identity_is_the_key_id_never_the_number() -> None:
    sealed = {"v": 1, "alg": "AES-256-GCM", "key_id": "ab" * 16, "nonce": "x",
              "ciphertext": "y"}  # fmt: skip
    assert person_identity(sealed, date(2026, 1, 1)) == "key:" + "ab" * 16
    clear = {"personnummer": "850317-1236", "name": None}
    assert person_identity(clear, date(2026, 1, 1)) == "personnummer:19850317-1236"


def test_an_ivo_id_has_the_birth_date_and_none_once_erased() -> None:
    assert IvoPerson(date(1985, 3, 17), "482", True, "readable").ivo_id == (
        "19850317-T482"
    )
    assert IvoPerson(None, "482", True, "erased").ivo_id is None


@pytest.mark.parametrize(
    ("section", "status", "kind"),
    [
        ("new", "unexecuted", "new"),
        ("earlier_standing", "unexecuted", "re_report"),
        ("earlier_resolved", "executed", "executed"),
        ("new", "executed", "executed"),  # late and executed in one quarter
        ("earlier_resolved", "cancelled", "ended"),
        ("new", "cancelled", "ended"),
    ],
)
def test_the_report_kind_of_a_row(section: str, status: str, kind: str) -> None:
    assert report_kind(section, status) == kind


@pytest.mark.parametrize(
    ("reason", "offered_on", "problem"),
    [
        ("offer_declined", date(2025, 4, 10), None),  # the decision day
        ("offer_declined", date(2025, 6, 2), None),  # the day it was declined
        ("offer_declined", date(2025, 4, 9), "before the decision day"),
        ("offer_declined", date(2025, 6, 3), "after occurred_on"),
        ("other", date(2025, 5, 1), "only with reason offer_declined"),
    ],
)
def test_an_offer_day_lies_between_the_decision_and_the_decline(
    reason: str, offered_on: date, problem: str | None
) -> None:
    def check() -> None:
        check_offer_date(reason, offered_on, date(2025, 4, 10), date(2025, 6, 2))

    if problem is None:
        check()
        return
    with pytest.raises(OfferDateInvalid) as refused:
        check()
    assert refused.value.code == "invalid_submission"
    details: list[dict[str, str]] = refused.value.details["details"]  # type: ignore[assignment]
    [detail] = details
    assert detail["loc"] == "payload.offered_on" and problem in detail["problem"]


def test_a_sealed_note_opens_only_as_the_note_of_its_case() -> None:
    data_key = crypto.new_key()
    sealed = crypto.encrypt_note(data_key, "k1", "c-1", "Tackade nej\ttill 2 rok")
    assert b"Tackade" not in repr(sealed).encode()
    assert crypto.decrypt_note(data_key, sealed, "c-1") == "Tackade nej\ttill 2 rok"
    with pytest.raises(crypto.DecryptionFailed):
        crypto.decrypt_note(data_key, sealed, "c-2")  # moved to another case
    applicant = crypto.encrypt_applicant(
        data_key, "k1", "c-1", {"personnummer": "19850317-1236", "name": None}
    )
    with pytest.raises(crypto.DecryptionFailed):
        crypto.decrypt_note(data_key, applicant, "c-1")  # not a note
    with pytest.raises(crypto.DecryptionFailed):
        crypto.decrypt_applicant(data_key, sealed, "c-1")  # not an applicant
    short, long = (
        crypto.encrypt_note(data_key, "k1", "c-1", text) for text in ("a", "a" * 40)
    )
    assert len(short["ciphertext"]) == len(long["ciphertext"])  # padded
