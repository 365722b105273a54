"""The opening load: the households already living in social contracts on
the first day of a simulation.

A municipality that starts recording in Boende loads its history once
(USERS.md: "a bulk door to load years of history once"): the contracts
executed before, with their filings, grants and apartments, dated when they
happened, 1-24 months back. Without them a simulated year would hold no
conversion — a first-hand lease comes 12-24 months after moving in — and
few terminations. Their futures fall in the period: a conversion when the
trial ends (soon, for those past it, the landlord's consent pending), a
termination within the year, a follow-up every ~3 months.

They are sent first, in date order per case and apartment, with no invalid
ones among them (``invalid_share`` plays on the period, not the load).
"""

from __future__ import annotations

from datetime import date, timedelta
from functools import partial
from typing import TYPE_CHECKING, Any

from services.simulation.behaviour import (
    CONVERT_DAYS,
    DECISION_DAYS,
    FOLLOW_UP_DAYS,
    P_BOENDESOCIAL,
    P_CONVERT,
    P_TERMINATE,
    RENT_BASE,
    Case,
    Flat,
    Planned,
    acquisition_payload,
    add_months,
    applicant_payload,
    envelope,
    new_uuid,
    rooms_needed,
    workday,
)

if TYPE_CHECKING:
    from services.simulation.world import World

#: How many households live in a social contract when the period starts.
SITTING_TENANTS = (18, 30)
#: How long before the start they moved in, in days.
LIVED_DAYS = (30, 730)


def load_sitting_tenants(world: World) -> None:
    """Record the sitting tenants' pasts and schedule their futures."""
    for _ in range(world.rng.randint(*SITTING_TENANTS)):
        moved_in = world.start - timedelta(days=world.rng.randint(*LIVED_DAYS))
        friday = moved_in - timedelta(days=max(0, moved_in.weekday() - 4))
        _sitting_tenant(world, friday)


def _sitting_tenant(world: World, moved_in: date) -> None:
    rng = world.rng
    filed_on = moved_in - timedelta(days=rng.randint(60, 150))
    granted_on = filed_on + timedelta(days=rng.randint(*DECISION_DAYS))
    case_id = f"c-{world.tag}-{filed_on.year}-{len(world.cases) + 1:04d}"
    payload = applicant_payload(rng, filed_on)
    officer = f"ifn-handlaggare-{rng.randint(1, 14):02d}"
    case = Case(case_id, officer, rooms_needed(payload["household"]))
    world.cases[case_id] = case
    ifn = ("IFN", officer)
    _record(world, filed_on, "application_filed", case_id, ifn, payload)
    social = rng.random() >= P_BOENDESOCIAL
    grant = {
        "decision_id": f"IFN-{granted_on.year}-L{len(world.cases):03d}",
        "intervention": "socialt_kontrakt" if social else "boendesocial_insats",
    }
    _record(world, granted_on, "application_granted", case_id, ifn, grant)
    rooms = case.rooms_needed
    rent = RENT_BASE[rooms] + 50 * rng.randint(-12, 28)
    flat = Flat(f"apt-{world.tag}-{len(world.flats) + 1:04d}", rooms, rent, moved_in)
    world.flats[flat.apartment_id] = flat
    acquired_on = moved_in - timedelta(days=rng.randint(7, 40))
    aln = ("ALN", world.aln_user())
    acquired = acquisition_payload(rng, rooms, rent)
    _record(world, acquired_on, "apartment_acquired", flat.apartment_id, aln, acquired)
    lease = moved_in if moved_in.day == 1 else add_months(moved_in.replace(day=1), 1)
    executed = {
        "apartment_id": flat.apartment_id,
        "monthly_rent_sek": rent,
        "lease_starts_on": lease.isoformat(),
    }
    _record(world, moved_in, "contract_executed", case_id, ifn, executed)
    case.state, case.granted_on, case.executed_on = "executed", granted_on, moved_in
    case.apartment_id, case.last_on = flat.apartment_id, moved_in
    flat.state, flat.last_on = "occupied", moved_in
    _schedule_future(world, case, flat)


def _schedule_future(world: World, case: Case, flat: Flat) -> None:
    rng = world.rng
    assert case.executed_on is not None
    world.at(_day(world, (7, FOLLOW_UP_DAYS[1])), partial(world.follow_up, case))
    fate = rng.random()
    if fate < P_CONVERT:
        trial_ends = case.executed_on + timedelta(days=rng.randint(*CONVERT_DAYS))
        soon = _day(world, (7, 120))
        world.at(max(workday(trial_ends), soon), partial(world.convert, case, flat))
    elif fate < P_CONVERT + P_TERMINATE:
        world.at(_day(world, (14, 360)), partial(world.terminate, case, flat))


def _day(world: World, days: tuple[int, int]) -> date:
    return workday(world.start + timedelta(days=world.rng.randint(*days)))


def _record(
    world: World, day: date, kind: str, key: str, actor: tuple[str, str], payload: Any
) -> None:
    sid = new_uuid(world.rng)
    world.items.append(Planned(envelope(sid, kind, key, day, actor, payload)))
