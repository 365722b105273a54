"""The simulated municipality: how IFN and ALN behave, as a seeded world model.

A discrete-event simulation over calendar days, from ``start`` to the end of
the period (never after today in Stockholm). Every action runs on its day, in
the order it was scheduled, and emits the submissions it stands for, so the
output is chronological and valid when sent in order. The behaviour:

- **Applications** (IFN): every week a Poisson number (mean 6) is filed on
  working days, by adults with a Luhn-checked personnummer whose gender digit
  and birth year match ``gender`` and ``birth_year`` (3% coordination numbers).
- **Decisions** after 2-8 weeks: 80% granted (mostly ``socialt_kontrakt``,
  15% ``boendesocial_insats``), 15% rejected, 5% withdrawn before deciding.
  A quarter of the rejections are granted on appeal 4-12 weeks later.
- **Stock** (ALN): a batch of 3-10 apartments every 4-6 weeks (landlords,
  districts, 1-4 rooms, rents by size); now and then an apartment that has
  stood empty for two weeks is returned to its landlord, and 4% fail ALN's
  inspection and are returned within three weeks, never offered.
- **Matching** (weekly, Wednesdays): granted cases wait in a FIFO queue; each
  gets the smallest free apartment that fits the household (its need to one
  room more). The offer is answered 3-14 days later: 10% decline (a delay
  reason the first time, the grant cancelled the second); otherwise the
  contract is executed (by IFN, or 25% by ALN).
- **Waiting**: after 6 weeks, and every 3 months after that, IFN records a
  delay reason (mostly ``no_apartment_available``); each week 1% of the
  waiting grants are cancelled (3% after three months of waiting).
- **Tenancy**: a follow-up every ~3 months; 30% are converted to first-hand
  leases 12-24 months in (the apartment leaves the stock), 25% terminated
  within two years (which frees the apartment for the queue).

Supply (about 1.3 apartments a week) stays well below demand (about 5 grants
a week), as in many municipalities: the queue grows until cancellations
balance it, and delay reasons become the most frequent fact.

Invalid submissions (``invalid_share``) come from a second random stream, so
the valid stream is the same with or without them. Each is built from the
world's state at that point to be refused for sure, touches either a fresh id
or an aggregate whose state it cannot change, and is marked ``valid=False``.
"""

from __future__ import annotations

import copy
import heapq
import math
import random
import uuid
from calendar import monthrange
from collections.abc import Callable, Container
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from functools import partial
from typing import Any
from zoneinfo import ZoneInfo

from domain.personnummer import luhn_check_digit

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
LANDLORDS = {
    "Kommunbostäder AB": 5.0,
    "Bostads AB Solgården": 2.0,
    "Fastighets AB Lärkan": 2.0,
    "Hyresgården i Norrby AB": 1.0,
    "Stiftelsen Hemmet": 1.0,
}
DISTRICTS = words("Centrum Norrby Söderberga Västerdal Österäng Björkhaga Ekbacken")
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
    return datetime.now(ZoneInfo("Europe/Stockholm")).date()


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


class World:
    """IFN and ALN at work: an agenda of dated actions, run in order."""

    def __init__(
        self, seed: int, start: date, end: date, today: date, invalid_share: float
    ) -> None:
        self.rng = random.Random(f"boende-simulate:{seed}:{start.isoformat()}")
        self.tag = f"{self.rng.getrandbits(32):08x}"
        self.start, self.end, self.today, self.now = start, end, today, start
        self.invalid_share = invalid_share
        self.mischief = Mischief(self, random.Random(f"invalid:{seed}:{start}"))
        self.agenda: list[tuple[date, int, Action]] = []
        self.scheduled = 0
        self.items: list[Planned] = []
        self.cases: dict[str, Case] = {}
        self.flats: dict[str, Flat] = {}
        self.queue: list[str] = []  # granted cases waiting, in grant order
        self.decisions = 0

    def run(self) -> Plan:
        self.at(self.start, self.filing_week)
        self.at(self.start, self.acquire_batch)
        self.at(
            self.start + timedelta(days=(2 - self.start.weekday()) % 7), self.weekly
        )
        while self.agenda:
            self.now, _, action = heapq.heappop(self.agenda)
            action()
        return Plan(
            self.start,
            self.end,
            self.items,
            {c.case_id: c.state for c in self.cases.values()},
            {f.apartment_id: f.state for f in self.flats.values()},
            {c.case_id: c.apartment_id for c in self.cases.values() if c.apartment_id},
        )

    def at(self, day: date, action: Action) -> None:
        assert day >= self.now, "the agenda never goes back in time"
        if day <= self.end:
            self.scheduled += 1
            heapq.heappush(self.agenda, (day, self.scheduled, action))

    def later(self, days: tuple[int, int], action: Action) -> None:
        self.at(workday(self.now + timedelta(days=self.rng.randint(*days))), action)

    def emit(self, kind: str, key: str, actor: tuple[str, str], payload: Any) -> None:
        sid = new_uuid(self.rng)
        self.items.append(Planned(envelope(sid, kind, key, self.now, actor, payload)))
        if self.invalid_share and self.mischief.rng.random() < self.invalid_share:
            self.items.append(self.mischief.make())

    def on_case(self, case: Case, kind: str, payload: Any, by: str = "IFN") -> None:
        user = case.officer if by == "IFN" else self.aln_user()
        self.emit(kind, case.case_id, (by, user), payload)
        case.last_on = self.now

    def aln_user(self) -> str:
        return f"aln-bostad-{self.rng.randint(1, 5):02d}"

    # -- applications and decisions ----------------------------------------

    def filing_week(self) -> None:
        for _ in range(poisson(self.rng, FILINGS_PER_WEEK)):
            self.later((0, 6), self.file)
        self.at(self.now + timedelta(days=7), self.filing_week)

    def file(self) -> None:
        seq = len(self.cases) + 1
        case_id = f"c-{self.tag}-{self.now.year}-{seq:04d}"
        payload = applicant_payload(self.rng, self.now)
        officer = f"ifn-handlaggare-{self.rng.randint(1, 14):02d}"
        case = Case(case_id, officer, rooms_needed(payload["household"]))
        self.cases[case_id] = case
        self.on_case(case, "application_filed", payload)
        outcome = pick(self.rng, DECISIONS)
        days = (5, 40) if outcome == "withdraw" else DECISION_DAYS
        self.later(days, partial(self.decide, case, outcome))

    def decide(self, case: Case, outcome: str) -> None:
        if case.state != "filed":
            return
        if outcome == "grant":
            self.grant(case, "assessment")
        elif outcome == "reject":
            payload = {
                "decision_id": self.decision_id(),
                "reason": self.rng.choice(REJECT_REASONS),
            }
            self.on_case(case, "application_rejected", payload)
            case.state = "rejected"
            if self.rng.random() < P_APPEAL:
                self.later(APPEAL_DAYS, partial(self.appeal, case))
        else:
            reason = self.rng.choice(WITHDRAW_REASONS)
            self.on_case(
                case, "application_withdrawn", {"reason": reason} if reason else {}
            )
            case.state = "withdrawn"

    def appeal(self, case: Case) -> None:
        if case.state == "rejected":
            self.grant(case, "appeal")

    def decision_id(self) -> str:
        self.decisions += 1
        return f"IFN-{self.now.year}-{self.decisions:04d}"

    def grant(self, case: Case, basis: str) -> None:
        social = self.rng.random() >= P_BOENDESOCIAL
        payload = {
            "decision_id": self.decision_id(),
            "intervention": "socialt_kontrakt" if social else "boendesocial_insats",
        }
        if basis == "appeal":
            payload["basis"] = "appeal"
        self.on_case(case, "application_granted", payload)
        case.state, case.granted_on = "granted", self.now
        self.queue.append(case.case_id)

    # -- the apartment stock -----------------------------------------------

    def acquire_batch(self) -> None:
        self.maybe_return_one()
        for _ in range(self.rng.randint(*BATCH_SIZE)):
            rooms = pick(self.rng, ROOMS)
            rent = RENT_BASE[rooms] + 50 * self.rng.randint(-12, 28)
            flat = Flat(
                f"apt-{self.tag}-{len(self.flats) + 1:04d}", rooms, rent, self.now
            )
            self.flats[flat.apartment_id] = flat
            payload = {
                "landlord": pick(self.rng, LANDLORDS),
                "district": self.rng.choice(DISTRICTS),
                "rooms": rooms,
                "monthly_rent_sek": rent,
            }
            self.emit(
                "apartment_acquired",
                flat.apartment_id,
                ("ALN", self.aln_user()),
                payload,
            )
            if self.rng.random() < P_DEFECT:  # the inspection finds it unfit
                flat.reserved_for = "inspection"
                self.later(DEFECT_RETURN_DAYS, partial(self.give_back, flat, "fukt"))
        self.later(BATCH_DAYS, self.acquire_batch)

    def free_flats(self) -> list[Flat]:
        return [
            f
            for f in self.flats.values()
            if f.state == "available" and not f.reserved_for
        ]

    def maybe_return_one(self) -> None:
        empty = [
            f
            for f in self.free_flats()
            if (self.now - f.last_on).days >= RETURN_AFTER_DAYS
        ]
        if empty and self.rng.random() < P_RETURN:
            self.give_back(min(empty, key=lambda f: f.last_on), "stått tom")

    def give_back(self, flat: Flat, why: str) -> None:
        assert flat.state == "available"
        payload = {"reason": f"återlämnad till hyresvärden: {why}"}
        actor = ("ALN", self.aln_user())
        self.emit("apartment_returned", flat.apartment_id, actor, payload)
        flat.state, flat.last_on, flat.reserved_for = "returned", self.now, None

    # -- the weekly review: matching, delays, cancellations ----------------

    def weekly(self) -> None:
        self.match()
        self.review_waiting()
        self.at(self.now + timedelta(days=7), self.weekly)

    def match(self) -> None:
        free = self.free_flats()
        for case_id in self.queue:
            case = self.cases[case_id]
            fits = [
                f for f in free if case.rooms_needed <= f.rooms <= case.rooms_needed + 1
            ]
            if case.matched or not fits:
                continue
            flat = min(fits, key=lambda f: (f.rooms, f.last_on))
            free.remove(flat)
            flat.reserved_for, case.matched = case_id, True
            self.later(OFFER_DAYS, partial(self.answer_offer, case, flat))

    def review_waiting(self) -> None:
        for case in [self.cases[c] for c in self.queue]:
            if case.matched:
                continue
            assert case.granted_on is not None
            waited = (self.now - case.granted_on).days
            p_cancel = P_CANCEL_WEEKLY if waited < 91 else P_CANCEL_WEEKLY_LONG
            if self.rng.random() < p_cancel:
                self.cancel(case, pick(self.rng, CANCEL_REASONS))
            elif self.delay_due(case, waited):
                self.record_delay(case, pick(self.rng, DELAY_REASONS))

    def delay_due(self, case: Case, waited: int) -> bool:
        if case.last_delay_on is None:
            return waited >= DELAY_FIRST_DAYS
        return (self.now - case.last_delay_on).days >= DELAY_EVERY_DAYS

    def record_delay(self, case: Case, reason: str) -> None:
        payload: dict[str, Any] = {"reason": reason}
        if reason != "no_apartment_available":
            payload["note"] = "se journalanteckning"
        self.on_case(case, "delay_reason_recorded", payload)
        case.last_delay_on = self.now

    def cancel(self, case: Case, reason: str) -> None:
        self.on_case(case, "grant_cancelled", {"reason": reason})
        case.state = "cancelled"
        self.queue.remove(case.case_id)

    def answer_offer(self, case: Case, flat: Flat) -> None:
        assert case.state == "granted" and flat.reserved_for == case.case_id
        flat.reserved_for, case.matched = None, False
        if self.rng.random() >= P_DECLINE:
            self.execute(case, flat)
            return
        case.declines += 1
        if case.declines >= 2:
            self.cancel(case, "offer_declined")
        else:
            self.record_delay(case, "offer_declined")

    # -- tenancies ---------------------------------------------------------

    def execute(self, case: Case, flat: Flat) -> None:
        by = "ALN" if self.rng.random() < P_ALN_EXECUTES else "IFN"
        starts = (
            self.now if self.now.day == 1 else add_months(self.now.replace(day=1), 1)
        )
        payload = {
            "apartment_id": flat.apartment_id,
            "monthly_rent_sek": flat.rent,
            "lease_starts_on": starts.isoformat(),
        }
        self.on_case(case, "contract_executed", payload, by=by)
        case.state, case.executed_on = "executed", self.now
        case.apartment_id = flat.apartment_id
        flat.state, flat.last_on = "occupied", self.now
        self.queue.remove(case.case_id)
        self.later(FOLLOW_UP_DAYS, partial(self.follow_up, case))
        fate = self.rng.random()
        if fate < P_CONVERT:
            self.later(CONVERT_DAYS, partial(self.convert, case, flat))
        elif fate < P_CONVERT + P_TERMINATE:
            self.later(TERMINATE_DAYS, partial(self.terminate, case, flat))

    def follow_up(self, case: Case) -> None:
        if case.state != "executed":
            return
        outcome = pick(self.rng, FOLLOW_UPS)
        payload = {"outcome": outcome}
        if outcome != "on_track":
            payload["note"] = "åtgärdsplan upprättad"
        self.on_case(case, "follow_up_recorded", payload)
        self.later(FOLLOW_UP_DAYS, partial(self.follow_up, case))

    def convert(self, case: Case, flat: Flat) -> None:
        assert case.executed_on is not None and case.state == "executed"
        consented = max(
            case.executed_on, self.now - timedelta(days=self.rng.randint(7, 45))
        )
        payload = {"landlord_consented_on": consented.isoformat()}
        self.on_case(case, "converted_to_first_hand", payload)
        case.state, flat.state, flat.last_on = "converted", "transferred", self.now

    def terminate(self, case: Case, flat: Flat) -> None:
        assert case.state == "executed"
        self.on_case(
            case, "contract_terminated", {"reason": pick(self.rng, END_REASONS)}
        )
        case.state, flat.state, flat.last_on = "terminated", "available", self.now


# -- invalid submissions -------------------------------------------------------


class Mischief:
    """Submissions built to be refused, from the world's state at that point.

    Each either names a fresh id or cannot change the aggregate it names (a
    refusal records nothing), so no later valid submission depends on it.
    """

    KINDS = (
        "bad_personnummer",
        "unknown_field",
        "future_date",
        "bad_value",
        "illegal_transition",
        "date_out_of_order",
        "forbidden",
        "apartment_unavailable",
        "not_found",
        "id_conflict",
    )
    ILLEGAL = {  # state -> event types DOMAIN.md refuses in it
        "filed": ("follow_up_recorded", "grant_cancelled"),
        "withdrawn": ("application_granted",),
        "rejected": ("application_granted",),  # without basis "appeal"
        "granted": ("application_rejected", "application_withdrawn"),
        "cancelled": ("application_granted", "delay_reason_recorded"),
        "executed": ("application_withdrawn", "grant_cancelled"),
        "converted": ("follow_up_recorded", "application_granted"),
        "terminated": ("follow_up_recorded",),
    }
    NEXT = {
        "filed": "application_withdrawn",
        "granted": "delay_reason_recorded",
        "executed": "follow_up_recorded",
    }
    PAYLOADS = {
        "application_granted": {
            "decision_id": "IFN-0000-0000",
            "intervention": "socialt_kontrakt",
        },
        "application_rejected": {"decision_id": "IFN-0000-0000", "reason": "-"},
        "application_withdrawn": {},
        "grant_cancelled": {"reason": "other"},
        "delay_reason_recorded": {"reason": "other"},
        "follow_up_recorded": {"outcome": "on_track"},
    }

    def __init__(self, world: World, rng: random.Random) -> None:
        self.world, self.rng, self.fresh = world, rng, 0

    def make(self) -> Planned:
        kind = self.rng.choice(self.KINDS)
        built = getattr(self, kind)()
        if built is None:
            kind, built = "bad_personnummer", self.bad_personnummer()
        return Planned(built, valid=False, kind=kind)

    def env(
        self,
        kind: str,
        key: str,
        payload: Any,
        day: date | None = None,
        by: str = "IFN",
    ) -> Envelope:
        actor = (by, "ifn-handlaggare-99" if by == "IFN" else f"{by.lower()}-sim-99")
        return envelope(
            new_uuid(self.rng), kind, key, day or self.world.now, actor, payload
        )

    def fresh_id(self, prefix: str) -> str:
        self.fresh += 1
        return f"{prefix}-{self.world.tag}-x{self.fresh:04d}"

    def a_case(self, states: Container[str]) -> Case | None:
        found = [c for c in self.world.cases.values() if c.state in states]
        return self.rng.choice(found) if found else None

    def filing(self) -> Envelope:
        payload = applicant_payload(self.rng, self.world.now)
        return self.env("application_filed", self.fresh_id("c"), payload)

    def bad_personnummer(self) -> Envelope:
        sub = self.filing()
        number = sub["payload"]["applicant"]["personnummer"]
        wrong = (int(number[-1]) + self.rng.randint(1, 9)) % 10
        sub["payload"]["applicant"]["personnummer"] = f"{number[:-1]}{wrong}"
        return sub

    def unknown_field(self) -> Envelope:
        sub = self.filing()
        sub["payload" if self.rng.random() < 0.5 else "actor"]["priority"] = "high"
        return sub

    def future_date(self) -> Envelope:
        sub = self.filing()
        later = self.world.today + timedelta(days=self.rng.randint(60, 365))
        sub["occurred_on"] = later.isoformat()
        return sub

    def bad_value(self) -> Envelope | None:
        if self.rng.random() < 0.5:
            sub = self.filing()
            sub["payload"]["household"]["adults"] = 0
            return sub
        case = self.a_case({"filed"})
        if case is None:
            return None
        payload = {"decision_id": "IFN-0000-0000", "intervention": "hyresgaranti"}
        return self.env("application_granted", case.case_id, payload)

    def illegal_transition(self) -> Envelope | None:
        case = self.a_case(self.ILLEGAL)
        if case is None:
            return None
        kind = self.rng.choice(self.ILLEGAL[case.state])
        return self.env(kind, case.case_id, self.PAYLOADS[kind])

    def date_out_of_order(self) -> Envelope | None:
        case = self.a_case(self.NEXT)
        if case is None:
            return None
        kind = self.NEXT[case.state]
        earlier = case.last_on - timedelta(days=self.rng.randint(1, 30))
        return self.env(kind, case.case_id, self.PAYLOADS[kind], day=earlier)

    def forbidden(self) -> Envelope | None:
        case = self.a_case({"filed"})
        if case is None:
            return None
        by = self.rng.choice(("ALN", "KS"))
        return self.env(
            "application_granted",
            case.case_id,
            self.PAYLOADS["application_granted"],
            by=by,
        )

    def apartment_unavailable(self) -> Envelope | None:
        case = self.a_case({"granted"})
        taken = [f for f in self.world.flats.values() if f.state != "available"]
        if case is None or not taken:
            return None
        flat = self.rng.choice(taken)
        payload = {
            "apartment_id": flat.apartment_id,
            "monthly_rent_sek": flat.rent,
            "lease_starts_on": self.world.now.isoformat(),
        }
        return self.env("contract_executed", case.case_id, payload)

    def not_found(self) -> Envelope:
        if self.rng.random() < 0.5:
            return self.env(
                "follow_up_recorded", self.fresh_id("c"), {"outcome": "on_track"}
            )
        return self.env("apartment_returned", self.fresh_id("apt"), {}, by="ALN")

    def id_conflict(self) -> Envelope | None:
        valid = [item for item in self.world.items if item.valid]
        if not valid:
            return None
        sub = copy.deepcopy(self.rng.choice(valid).envelope)
        sub["actor"]["user"] = f"{sub['actor']['user']}-annan"
        return sub


# -- the public entry points ---------------------------------------------------


def plan(
    months: int,
    seed: int,
    start: date | None = None,
    invalid_share: float = 0.0,
    *,
    today: date | None = None,
) -> Plan:
    """Simulate ``months`` from ``start`` (default: that many months before
    today); the period ends ``months`` after ``start`` or today, if earlier."""
    if months < 1:
        raise ValueError("months must be at least 1")
    if not 0.0 <= invalid_share <= 1.0:
        raise ValueError("invalid_share must be between 0 and 1")
    today = today or stockholm_today()
    start = start or add_months(today, -months)
    if start > today:
        raise ValueError(f"start {start} is after today ({today})")
    end = min(add_months(start, months), today)
    return World(seed, start, end, today, invalid_share).run()


def generate_with_expectations(
    months: int,
    seed: int,
    start: date | None = None,
    invalid_share: float = 0.0,
    *,
    today: date | None = None,
) -> list[tuple[Envelope, bool]]:
    """Every submission in send order, with whether it should be accepted."""
    result = plan(months, seed, start, invalid_share, today=today)
    return [(item.envelope, item.valid) for item in result.items]


def generate(
    months: int,
    seed: int,
    start: date | None = None,
    invalid_share: float = 0.0,
    *,
    today: date | None = None,
) -> list[Envelope]:
    """Every submission in send order (invalid ones mixed in, unmarked)."""
    return plan(months, seed, start, invalid_share, today=today).envelopes
