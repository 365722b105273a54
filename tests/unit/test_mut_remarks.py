"""A case officer's remarks (``domain/remarks.py``): what the case keeps of
a delay reason and a follow-up, key by key, and why an offer day is refused,
in words and details."""

from __future__ import annotations

from datetime import date
from types import SimpleNamespace

import pytest

from domain.errors import OfferDateInvalid
from domain.remarks import check_offer_date, remark
from tests.unit.test_mut_domain import executed, granted, stamp


def test_a_delay_reason_is_kept_with_its_version_day_offer_and_note() -> None:
    case = granted()  # filed (version 1), granted on 2021-04-01 (version 2)
    sealed = {"ciphertext": "x", "key_id": "k"}
    case.record_delay_reason(
        stamp("2021-04-10"), "offer_declined", sealed, date(2021, 4, 5)
    )
    case.record_delay_reason(stamp("2021-04-20"), "no_apartment", None)
    assert case.delay_reasons == [
        {
            "version": 3,
            "code": "offer_declined",
            "occurred_on": date(2021, 4, 10),
            "offered_on": date(2021, 4, 5),
            "note": sealed,
        },
        {
            "version": 4,
            "code": "no_apartment",
            "occurred_on": date(2021, 4, 20),
            "offered_on": None,
            "note": None,
        },
    ]
    assert case.delay_reason == "no_apartment"


def test_a_follow_up_is_kept_with_its_version_day_and_note() -> None:
    case, _ = executed()  # filed, granted, executed: versions 1 to 3
    case.record_follow_up(stamp("2021-06-01"), "on_track", "fine")
    assert case.follow_up_outcomes == [
        {
            "version": 4,
            "code": "on_track",
            "occurred_on": date(2021, 6, 1),
            "offered_on": None,
            "note": "fine",
        }
    ]


def test_a_remark_of_a_fact_without_a_note_keeps_none() -> None:
    """(``getattr(event, "note", None)``: facts recorded before notes.)"""
    event = SimpleNamespace(originator_version=7, occurred_on=date(2021, 1, 2))
    assert remark(event, "c", date(2021, 1, 1)) == {
        "version": 7,
        "code": "c",
        "occurred_on": date(2021, 1, 2),
        "offered_on": date(2021, 1, 1),
        "note": None,
    }


@pytest.mark.parametrize(
    ("reason", "offered_on", "granted_on", "problem"),
    [
        (
            "no_apartment",
            date(2021, 4, 5),
            date(2021, 4, 1),
            "only with reason offer_declined",
        ),
        (
            "offer_declined",
            date(2021, 3, 31),
            date(2021, 4, 1),
            "must not be before the decision day (2021-04-01)",
        ),
        (
            "offer_declined",
            date(2021, 4, 11),
            date(2021, 4, 1),
            "must not be after occurred_on (2021-04-10)",
        ),
        (
            "offer_declined",
            date(2021, 4, 11),
            None,
            "must not be after occurred_on (2021-04-10)",
        ),
    ],
)
def test_an_offer_day_refused_says_why_in_words_and_details(
    reason: str, offered_on: date, granted_on: date | None, problem: str
) -> None:
    with pytest.raises(OfferDateInvalid) as refusal:
        check_offer_date(reason, offered_on, granted_on, date(2021, 4, 10))
    assert refusal.value.message == f"payload.offered_on {problem}"
    assert refusal.value.details == {
        "details": [{"loc": "payload.offered_on", "problem": problem}]
    }


@pytest.mark.parametrize(
    ("offered_on", "granted_on"),
    [
        (date(2021, 4, 1), date(2021, 4, 1)),  # on the decision day
        (date(2021, 4, 10), date(2021, 4, 1)),  # on the day it is declined
        (date(2021, 1, 1), None),  # no decision day to compare with
    ],
)
def test_an_offer_day_between_decision_and_decline_is_taken(
    offered_on: date, granted_on: date | None
) -> None:
    check_offer_date("offer_declined", offered_on, granted_on, date(2021, 4, 10))
