"""The simulated municipality's parameters and parts: rates and delays, the
names, landlords and districts it draws from, the random helpers, and the
records of cases, flats and planned submissions (``services.simulation.world``
says how they behave)."""

from __future__ import annotations

import math
import random
import uuid
from calendar import monthrange
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from domain.personnummer import luhn_check_digit
from infra.settings import Settings

Envelope = dict[str, Any]
Action = Callable[[], None]

FILINGS_PER_WEEK = 6.0
DECISION_DAYS = (14, 56)
DECISIONS = {"grant": 0.80, "reject": 0.15, "withdraw": 0.05}
P_APPEAL, APPEAL_DAYS = 0.25, (28, 84)
P_BOENDESOCIAL = 0.15
BATCH_DAYS, BATCH_SIZE = (28, 42), (3, 10)
P_RETURN, RETURN_AFTER_DAYS = 0.3, 14
P_DEFECT, DEFECT_RETURN_DAYS = 0.04, (5, 20)
OFFER_DAYS, P_DECLINE = (3, 14), 0.10
DELAY_FIRST_DAYS, DELAY_EVERY_DAYS = 42, 91
P_CANCEL_WEEKLY, P_CANCEL_WEEKLY_LONG = 0.01, 0.03
FOLLOW_UP_DAYS = (84, 100)
P_CONVERT, CONVERT_DAYS = 0.30, (365, 730)
P_TERMINATE, TERMINATE_DAYS = 0.25, (45, 720)
P_ALN_EXECUTES = 0.25


def words(text: str) -> tuple[str, ...]:
    return tuple(text.split())


GENDERS = {"man": 0.56, "woman": 0.40, "other": 0.01, "unknown": 0.03}
WOMEN = words("Anna Maria Sara Fatima Elin Amina Karin Sofia Leila Hanna Zahra Linnéa")
MEN = words("Erik Lars Mohammed Johan Anders Ali Karl Ahmed Mikael Omar Hassan Björn")
SURNAMES = words(
    "Andersson Johansson Karlsson Nilsson Eriksson Larsson Olsson Persson Svensson "
    "Hussein Mohamed Lindberg Ahmadi Jönsson Abdi Nordström Öberg Yilmaz"
)
#: Landlords (name, organisationsnummer: fictitious, Luhn-checked) and their
#: weights. A sole trader has no number of their own (their personnummer
#: serves, which Boende does not take): sent without one, grouped by name.
LANDLORDS = {
    ("Kommunbostäder AB", "556012-3456"): 5.0,
    ("Bostads AB Solgården", "556400-1112"): 2.0,
    ("Fastighets AB Lärkan", "556999-0012"): 2.0,
    ("Hyresgården i Norrby AB", "556999-0020"): 1.0,
    ("Stiftelsen Hemmet", "802012-3454"): 1.0,
    ("Anders Lindqvists Fastigheter", None): 0.5,
}
#: The default district list's codes (``domain.districts``).
DISTRICTS = words("centrum norrby söderberga västerdal österäng björkhaga ekbacken")
ROOMS = {1: 0.40, 2: 0.35, 3: 0.18, 4: 0.07}
RENT_BASE = {1: 5200, 2: 6900, 3: 8600, 4: 10400}
CHILDREN = {0: 0.55, 1: 0.15, 2: 0.13, 3: 0.09, 4: 0.05, 5: 0.03}
REJECT_REASONS = (
    "behovet kan tillgodoses på annat sätt",
    "bedöms kunna ordna eget boende",
    "uppfyller inte förutsättningarna för bistånd",
)
WITHDRAW_REASONS = ("har ordnat eget boende", "flyttar från kommunen", None)
CANCEL_REASONS = dict(own_housing_found=0.5, moved_away=0.25, other=0.2, deceased=0.05)
DELAY_REASONS = dict(no_apartment_available=0.8, client_unreachable=0.1, other=0.1)
FOLLOW_UPS = dict(on_track=0.75, rent_arrears=0.12, disturbance=0.08, other=0.05)
END_REASONS = dict(
    moved_out=0.4, own_housing_found=0.3, eviction=0.15, other=0.12, deceased=0.03
)


def stockholm_today() -> date:
    """The simulation's today: the day ``BOENDE_TODAY`` fixes, as the
    service's clock does (``services.bootstrap.clock``), else Stockholm's."""
    fixed = Settings().today
    return fixed or datetime.now(ZoneInfo("Europe/Stockholm")).date()


def api_address(settings: Settings) -> str:
    """Where ``boende serve`` listens under these settings (``BOENDE_HOST``,
    ``BOENDE_PORT``), as a client reaches it: a wildcard address is this
    machine, an IPv6 address goes in brackets."""
    host = {"0.0.0.0": "127.0.0.1", "::": "::1", "": "127.0.0.1"}.get(
        settings.host, settings.host
    )
    return f"http://{f'[{host}]' if ':' in host else host}:{settings.port}"


def add_months(day: date, months: int) -> date:
    """``day`` moved by whole calendar months, clamped to the month's end."""
    index = day.year * 12 + day.month - 1 + months
    year, month = divmod(index, 12)
    return date(year, month + 1, min(day.day, monthrange(year, month + 1)[1]))


def workday(day: date) -> date:
    """``day``, or the Monday after it if it falls on a weekend."""
    return day + timedelta(days=7 - day.weekday() if day.weekday() > 4 else 0)


def pick(rng: random.Random, weights: dict[Any, float]) -> Any:
    return rng.choices(list(weights), weights=list(weights.values()))[0]


def poisson(rng: random.Random, mean: float) -> int:
    limit, count, product = math.exp(-mean), 0, rng.random()
    while product > limit:
        count += 1
        product *= rng.random()
    return count


def new_uuid(rng: random.Random) -> str:
    return str(uuid.UUID(int=rng.getrandbits(128), version=4))


def envelope(
    sid: str, kind: str, key: str, day: date, actor: tuple[str, str], payload: Any
) -> Envelope:
    key_field = "apartment_id" if kind.startswith("apartment_") else "case_id"
    return {
        "submission_id": sid,
        "type": kind,
        key_field: key,
        "occurred_on": day.isoformat(),
        "actor": {"committee": actor[0], "user": actor[1]},
        "payload": payload,
    }


# -- applicants ----------------------------------------------------------------


def personnummer(
    rng: random.Random, birth: date, gender: str, coordination: bool = False
) -> str:
    """``YYYYMMDD-NNNN``: the serial's last digit even for women, odd for men."""
    gender_digit = rng.randrange(10)
    if gender in ("woman", "man"):
        gender_digit = rng.randrange(5) * 2 + (gender == "man")
    serial = f"{rng.randrange(100):02d}{gender_digit}"
    day = birth.day + (60 if coordination else 0)
    check = luhn_check_digit(f"{birth:%y%m}{day:02d}{serial}")
    return f"{birth:%Y%m}{day:02d}-{serial}{check}"


def applicant_payload(rng: random.Random, filed_on: date) -> dict[str, Any]:
    """An ``application_filed`` payload: a fictitious adult and their household."""
    gender = pick(rng, GENDERS)
    age = int(rng.triangular(18, 78, 30))
    birth = date(filed_on.year - age, 1, 1) + timedelta(days=rng.randrange(365))
    number = personnummer(rng, birth, gender, coordination=rng.random() < 0.03)
    names = WOMEN if gender == "woman" else MEN if gender == "man" else WOMEN + MEN
    applicant: dict[str, Any] = {"personnummer": number}
    if rng.random() < 0.95:
        applicant["name"] = f"{rng.choice(names)} {rng.choice(SURNAMES)}"
    adults = 2 if rng.random() < 0.2 else 1
    children = pick(rng, CHILDREN)
    return {
        "applicant": applicant,
        "household": {"adults": adults, "children": children},
        "gender": gender,
        "birth_year": birth.year,
    }


def acquisition_payload(rng: random.Random, rooms: int, rent: int) -> Envelope:
    """An ``apartment_acquired`` payload: a landlord (and its number, if it
    has one), a district code, the rooms and the rent ALN pays."""
    landlord, org_no = pick(rng, LANDLORDS)
    payload: Envelope = {"landlord": landlord}
    if org_no is not None:
        payload["landlord_org_no"] = org_no
    payload |= {
        "district": rng.choice(DISTRICTS),
        "rooms": rooms,
        "monthly_rent_sek": rent,
    }
    return payload


def rooms_needed(household: dict[str, int]) -> int:
    persons = household["adults"] + household["children"]
    return 1 if persons == 1 else 2 if persons <= 3 else 3 if persons <= 5 else 4


# -- the world -----------------------------------------------------------------


@dataclass
class Case:
    case_id: str
    officer: str
    rooms_needed: int
    state: str = "filed"
    last_on: date = date.min
    granted_on: date | None = None
    last_delay_on: date | None = None
    declines: int = 0
    matched: bool = False
    apartment_id: str | None = None
    executed_on: date | None = None


@dataclass
class Flat:
    apartment_id: str
    rooms: int
    rent: int
    last_on: date
    state: str = "available"
    reserved_for: str | None = None  # a case offered it, or "inspection"


@dataclass(frozen=True)
class Planned:
    """One submission, and whether the service should accept it."""

    envelope: Envelope
    valid: bool = True
    kind: str = "valid"  # for invalid ones: the refusal it is built to get


@dataclass
class Plan:
    """A simulation's submissions in send order, and the world they leave."""

    start: date
    end: date
    items: list[Planned]
    case_states: dict[str, str]
    apartment_states: dict[str, str]
    tenancies: dict[str, str]  # executed case -> its apartment, last known

    @property
    def envelopes(self) -> list[Envelope]:
        return [item.envelope for item in self.items]

    @property
    def expectations(self) -> list[bool]:
        return [item.valid for item in self.items]
