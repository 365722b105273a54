"""Invalid submissions for the simulation: each built from the world's state
at that point to be refused for sure (``services.simulation.world``)."""

from __future__ import annotations

import copy
import random
from collections.abc import Container
from datetime import date, timedelta
from typing import Any, Protocol

from services.simulation.behaviour import (
    Case,
    Envelope,
    Flat,
    Planned,
    applicant_payload,
    envelope,
    new_uuid,
)


class World(Protocol):
    """What the mischief reads of the world (``services.simulation.world``):
    the day, its tag, its cases, flats and what it has planned so far."""

    now: date
    today: date
    tag: str
    cases: dict[str, Case]
    flats: dict[str, Flat]
    items: list[Planned]


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
