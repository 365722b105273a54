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
- **The opening load** (``services.simulation.history``): the households
  already living in social contracts when the period starts, recorded
  first with their earlier dates, as a municipality loads its history once;
  their conversions and terminations fall in the period, so even one
  simulated year has every figure.

Supply (about 1.3 apartments a week) stays well below demand (about 5 grants
a week), as in many municipalities: the queue grows until cancellations
balance it, and delay reasons become the most frequent fact.

Invalid submissions (``invalid_share``) come from a second random stream, so
the valid stream is the same with or without them. Each is built from the
world's state at that point to be refused for sure, touches either a fresh id
or an aggregate whose state it cannot change, and is marked ``valid=False``.
"""

from __future__ import annotations

import heapq
import random
from datetime import date, timedelta
from functools import partial
from typing import Any

from services.simulation.behaviour import (
    APPEAL_DAYS,
    BATCH_DAYS,
    BATCH_SIZE,
    CANCEL_REASONS,
    CONVERT_DAYS,
    DECISION_DAYS,
    DECISIONS,
    DEFECT_RETURN_DAYS,
    DELAY_EVERY_DAYS,
    DELAY_FIRST_DAYS,
    DELAY_REASONS,
    END_REASONS,
    FILINGS_PER_WEEK,
    FOLLOW_UP_DAYS,
    FOLLOW_UPS,
    OFFER_DAYS,
    P_ALN_EXECUTES,
    P_APPEAL,
    P_BOENDESOCIAL,
    P_CANCEL_WEEKLY,
    P_CANCEL_WEEKLY_LONG,
    P_CONVERT,
    P_DECLINE,
    P_DEFECT,
    P_RETURN,
    P_TERMINATE,
    REJECT_REASONS,
    RENT_BASE,
    RETURN_AFTER_DAYS,
    ROOMS,
    TERMINATE_DAYS,
    WITHDRAW_REASONS,
    Action,
    Case,
    Flat,
    Plan,
    Planned,
    acquisition_payload,
    add_months,
    applicant_payload,
    envelope,
    new_uuid,
    pick,
    poisson,
    rooms_needed,
    workday,
)
from services.simulation.history import load_sitting_tenants
from services.simulation.mischief import Mischief


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
        self.at(self.start, partial(load_sitting_tenants, self))
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
            payload = acquisition_payload(self.rng, rooms, rent)
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
