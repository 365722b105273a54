"""Who a decision in IVO's individual report (*individrapport*) is about,
and what the officers noted: read from the event store, decrypted with the
person's key.

IVO identifies a person as ``ÅÅÅÅMMDD-T123``: the birth date, then ``-T`` and
three digits the municipality chooses, the last even for a woman and odd for
a man, the same for that person in every report. Here:

- the **birth date** comes from the personnummer, decrypted with the person's
  key; once the key is erased there is none, and the report says so;
- the **three digits** come from a keyed hash (HMAC-SHA-256 under the
  installation's IVO key, ``infra.keys.ivo_key``) of who the person is to
  Boende: their data key's id (one key per person, for all their cases), or
  for an applicant recorded in clear before encryption their canonical
  personnummer. Never from the personnummer's own serial digits, which would
  hand IVO a piece of the number. The key id stays in the log after erasure,
  so the digits do too: an erased person keeps their ``T123``, only the
  birth date goes. The hash gives a number ``n``; a woman gets
  ``2 * (n mod 500)`` (even), a man that plus one (odd);
- a person recorded as ``other`` or ``unknown`` gender gets ``n mod 1000``:
  their last digit follows no rule, and ``gender_coded`` is false, so the
  rapporteur knows IVO's parity rule was not applied to them.

The notes (the free text of each delay reason) are opened with the same key:
gone once it is erased. A note recorded in clear before notes were sealed is
read as it is.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from eventsourcing.application import AggregateNotFoundError

from domain.case import HousingCase, case_id_to_uuid
from domain.errors import NotFound
from domain.personnummer import parse_personnummer
from infra import crypto
from infra.keys import ivo_key
from infra.person_keys import person_keys_of
from services.privacy.rights import Boende

log = logging.getLogger(__name__)

GENDER_PARITY = {"woman": 0, "man": 1}


@dataclass(frozen=True)
class IvoPerson:
    """The person a report row is about, as IVO names them."""

    birth_date: date | None  # None: the key is erased (or the data unreadable)
    digits: str  # the three digits after ``-T``
    gender_coded: bool  # whether the last digit tells the gender (IVO's rule)
    personal_data: str  # "readable", "erased" or "unreadable"

    @property
    def ivo_id(self) -> str | None:
        """``ÅÅÅÅMMDD-T123``, or ``None`` without a birth date."""
        if self.birth_date is None:
            return None
        return f"{self.birth_date:%Y%m%d}-T{self.digits}"


@dataclass(frozen=True)
class IvoCase:
    """One case's person and its delay notes (by event version), decrypted."""

    person: IvoPerson
    notes: dict[int, str | None] = field(default_factory=dict)


def ivo_digits(key: bytes, identity: str, gender: str) -> str:
    """The three digits of a person's IVO id: from the keyed hash of
    ``identity``, the last even for a woman and odd for a man."""
    number = int(crypto.keyed_hash(key, identity)[:16], 16)
    if gender in GENDER_PARITY:
        return f"{(number % 500) * 2 + GENDER_PARITY[gender]:03d}"
    return f"{number % 1000:03d}"


def person_identity(stored_applicant: dict[str, Any], today: date) -> str:
    """Who the applicant is to Boende, stable across cases and erasure: the
    data key's id, or the canonical number of one recorded in clear."""
    if crypto.is_sealed(stored_applicant):
        return f"key:{stored_applicant['key_id']}"
    number = parse_personnummer(stored_applicant["personnummer"], today)
    return f"personnummer:{number.canonical}"


class IvoReader:
    """Reads the person and the notes of the cases of one report."""

    def __init__(self, boende: Boende) -> None:
        settings = boende.settings
        self._boende = boende
        self._key = ivo_key(settings.data_dir, settings.environment)
        self._keys = person_keys_of(boende.app)
        self._today = boende.service.today()

    def read(self, case_id: str) -> IvoCase:
        """The case's person and delay notes; raises ``domain.errors.NotFound``
        for a case not in the store."""
        case = self._load(case_id)
        identity = person_identity(case.applicant, self._today)
        digits = ivo_digits(self._key, identity, case.gender)
        coded = case.gender in GENDER_PARITY
        try:
            applicant = self._keys.decrypt_applicant(case.applicant, case_id)
            notes = self._notes(case)
        except crypto.DecryptionFailed:
            log.warning("a sealed value of a case in the IVO report is unreadable")
            return IvoCase(IvoPerson(None, digits, coded, "unreadable"))
        if applicant is None:
            return IvoCase(IvoPerson(None, digits, coded, "erased"), notes)
        birth = parse_personnummer(applicant["personnummer"], self._today).birth_date
        return IvoCase(IvoPerson(birth, digits, coded, "readable"), notes)

    def _load(self, case_id: str) -> HousingCase:
        try:
            case: Any = self._boende.app.repository.get(case_id_to_uuid(case_id))
        except AggregateNotFoundError:
            raise NotFound(f"no case {case_id}", case_id=case_id) from None
        assert isinstance(case, HousingCase)
        return case

    def _notes(self, case: HousingCase) -> dict[int, str | None]:
        return {
            remark["version"]: self._keys.decrypt_note(remark["note"], case.case_id)
            for remark in case.delay_reasons
            if remark["note"] is not None
        }
