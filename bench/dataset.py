"""The read-model bench's data: a case log of many simulated
municipalities ("worlds", five years each, different seeds, ids prefixed per
world), recorded through ``SubmissionService.record_batch`` in chunks of
``CHUNK`` submissions and kept under ``var/bench/projections-<size>/``
(``bench.projections``'s docstring says how it is used)."""

from __future__ import annotations

import json
import shutil
import time
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any
from uuid import NAMESPACE_URL, uuid5

from bench.measure import Clock
from bench.server import ROOT
from infra.progress import progress
from infra.settings import Settings
from services.bootstrap import bootstrap
from services.simulation.behaviour import add_months, stockholm_today
from services.simulation.scenario import generate
from services.submission.service import Accepted, parse

WORLD_MONTHS = 60  # five years: ~10,700 events and ~1,550 cases a world
CHUNK = 500  # submissions per record_batch call while building
DATASET_FILE = "dataset.json"
ID_NAMESPACE = uuid5(NAMESPACE_URL, "boende:bench:projections")


@dataclass(frozen=True)
class Dataset:
    """The cached case log (and its read models) the measurements run on."""

    data_dir: Path
    events: int
    submissions: int
    cases: int
    worlds: int
    built_at: str
    build_seconds: float
    built_now: bool

    def describe(self) -> str:
        how = (
            f"built now in {self.build_seconds:.0f} s"
            if self.built_now
            else f"reused, built {self.built_at} in {self.build_seconds:.0f} s"
        )
        rate = self.events / self.build_seconds if self.build_seconds else 0.0
        return (
            f"read-model data: {self.events:,} events, {self.cases:,} cases, "
            f"{self.submissions:,} submissions from {self.worlds} simulated "
            f"{WORLD_MONTHS}-month worlds in {_shown(self.data_dir)} ({how}; "
            f"record_batch x{CHUNK}: {rate:,.0f} events/s)"
        )


def size_label(events: int) -> str:
    if events % 1_000_000 == 0:
        return f"{events // 1_000_000}m"
    if events % 1_000 == 0:
        return f"{events // 1_000}k"
    return str(events)


def _shown(path: Path) -> str:
    try:
        return str(path.relative_to(ROOT))
    except ValueError:
        return str(path)


def settings_for(data_dir: Path) -> Settings:
    return Settings(data_dir=data_dir, log_level="WARNING")


def prepare(data_dir: Path, events: int, rebuild: bool) -> Dataset:
    """The cached log if it is big enough, else a freshly built one."""
    if not rebuild:
        cached = load_dataset(data_dir)
        if cached is not None and cached.events >= events:
            return cached
    return build(data_dir, events)


def load_dataset(data_dir: Path) -> Dataset | None:
    try:
        facts = json.loads((data_dir / DATASET_FILE).read_text())
    except (OSError, ValueError):
        return None
    return Dataset(data_dir=data_dir, built_now=False, **facts)


def world_envelopes(world: int, start: date, today: date) -> list[dict[str, Any]]:
    """One simulated municipality's submissions, in order, with ids of its own."""
    return [
        renamed(env, world) for env in generate(WORLD_MONTHS, world, start, today=today)
    ]


def renamed(env: dict[str, Any], world: int) -> dict[str, Any]:
    """``env`` with world-prefixed case and apartment ids and a fresh
    submission id (the same for the same world and original id)."""
    prefix = f"w{world}-"
    out = dict(env)
    out["submission_id"] = str(uuid5(ID_NAMESPACE, f"{world}:{env['submission_id']}"))
    for key in ("case_id", "apartment_id"):
        if key in out:
            out[key] = prefix + out[key]
    payload = out.get("payload")
    if isinstance(payload, dict) and "apartment_id" in payload:
        out["payload"] = {**payload, "apartment_id": prefix + payload["apartment_id"]}
    return out


def build(data_dir: Path, events: int) -> Dataset:
    """Record whole worlds, one after another, until the log holds ``events``
    events; build in a side directory and move it in place when done."""
    partial = data_dir.with_name(data_dir.name + ".partial")
    shutil.rmtree(partial, ignore_errors=True)
    shutil.rmtree(data_dir, ignore_errors=True)
    today = stockholm_today()
    start = add_months(today, -WORLD_MONTHS)
    boende = bootstrap(settings_for(partial))
    clock = Clock()
    submissions = cases = worlds = 0
    try:
        max_bytes = boende.settings.max_body_bytes
        position = 0
        with progress("building the read-model log", events) as shown:
            while position < events:
                worlds += 1
                envs = world_envelopes(worlds, start, today)
                for i in range(0, len(envs), CHUNK):
                    chunk = envs[i : i + CHUNK]
                    subs = [parse(json.dumps(e).encode(), max_bytes) for e in chunk]
                    outcomes = boende.service.record_batch(subs)
                    refused = [o for o in outcomes if not isinstance(o, Accepted)]
                    assert not refused, f"world {worlds}: refused {refused[:3]!r}"
                    submissions += len(chunk)
                    cases += sum(e["type"] == "application_filed" for e in chunk)
                    accepted = [o for o in outcomes if isinstance(o, Accepted)]
                    reached = max(o.position for o in accepted)
                    shown.advance(reached - position)  # SQLite: no gaps
                    position = reached
                    if position >= events:
                        break
        position = boende.app.recorder.max_notification_id() or 0
    finally:
        boende.close()
    took = clock.elapsed()
    facts: dict[str, Any] = {
        "events": position,
        "submissions": submissions,
        "cases": cases,
        "worlds": worlds,
        "built_at": time.strftime("%Y-%m-%d %H:%M:%S %Z"),
        "build_seconds": round(took, 1),
    }
    (partial / DATASET_FILE).write_text(json.dumps(facts, indent=2) + "\n")
    partial.rename(data_dir)
    return Dataset(data_dir=data_dir, built_now=True, **facts)
