"""Every code the contract names has a Swedish label (services.reporting.labels)."""

from __future__ import annotations

import re
from pathlib import Path
from typing import get_args

import pytest

from domain.apartment import ApartmentState
from domain.case import CaseState
from services.reporting.labels import LABELS, label
from services.submission import envelope as e

DOMAIN_TEXT = "".join(
    p.read_text(encoding="utf-8") for p in Path(__file__).parents[2].glob("domain/*.py")
)

CODE_LISTS = {
    "case_state": {s.value for s in CaseState},
    "apartment_state": {s.value for s in ApartmentState},
    "intervention": set(
        get_args(e.ApplicationGrantedPayload.model_fields["intervention"].annotation)
    ),
    "basis": set(
        get_args(e.ApplicationGrantedPayload.model_fields["basis"].annotation)
    ),
    "gender": set(
        get_args(e.ApplicationFiledPayload.model_fields["gender"].annotation)
    ),
    "delay_reason": set(
        get_args(e.DelayReasonRecordedPayload.model_fields["reason"].annotation)
    ),
    "cancel_reason": set(
        get_args(e.GrantCancelledPayload.model_fields["reason"].annotation)
    ),
    "follow_up_outcome": set(
        get_args(e.FollowUpRecordedPayload.model_fields["outcome"].annotation)
    ),
    "termination_reason": set(
        get_args(e.ContractTerminatedPayload.model_fields["reason"].annotation)
    ),
    "committee": set(get_args(e.Actor.model_fields["committee"].annotation)),
}


@pytest.mark.parametrize("kind", sorted(CODE_LISTS))
def test_every_code_of_the_contract_has_a_swedish_label(kind: str) -> None:
    assert CODE_LISTS[kind], kind  # the introspection found the codes
    assert set(LABELS[kind]) == CODE_LISTS[kind]


def test_every_submitted_event_type_has_a_label() -> None:
    submitted = {
        get_args(member.model_fields["type"].annotation)[0]
        for member in get_args(get_args(e.Submission)[0])
    }
    assert len(submitted) == 12
    assert submitted <= set(LABELS["event_type"])


def test_every_recorded_event_type_has_a_label() -> None:
    recorded = set(re.findall(r'type_name: ClassVar\[str\] = "(\w+)"', DOMAIN_TEXT))
    assert len(recorded) >= 16
    assert recorded == set(LABELS["event_type"])


def test_an_unknown_code_is_answered_as_itself() -> None:
    assert label("gender", "woman") == "Kvinna"
    assert label("gender", "robot") == "robot"
    assert label("no_such_list", "x") == "x"
