"""Issue 15's goals beside what this run measured: one line each, with the
figure, the goal and whether it was met. ``make bench`` prints the table
after every part has run; a run of every part on both backends also writes
it to ``docs/performance.md`` between ``<!-- bench:goals -->`` and
``<!-- /bench:goals -->``, and every run saves it as JSON under
``bench/results/``.

A goal this run did not measure (a part left out, PostgreSQL unreachable)
says so: it is never shown as met.
"""

from __future__ import annotations

import json
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

from bench import memory
from bench.batch import BATCH
from bench.report import Row
from bench.results import RESULTS

#: HTTP submissions at the highest concurrency: the one-event-per-save
#: library rate's share, per backend; SQLite also p99 and server CPU.
HTTP_RATIO = {"sqlite": 0.6, "postgres": 0.8}
HTTP_P99_MS = 50.0
HTTP_SERVER_US = 600.0
BULK_RATIO = 0.5  # of the library's ten-events-per-save events/s
REBUILD_RATIO = 0.5  # of the library's read and decode, events/s
VERIFY_EVENTS_S = 100_000.0
COUNTS_P99_MS = 5.0
KNOWN_AT_P99_MS = 50.0


@dataclass(frozen=True)
class Verdict:
    """One goal: what was measured (``None``: not this run), and whether it
    was met."""

    path: str
    measured: str | None
    goal: str
    met: bool | None

    def cells(self) -> list[str]:
        if self.met is None:
            return [self.path, self.measured or "not measured", self.goal, "—"]
        verdict = "met" if self.met else "not met"
        return [self.path, self.measured or "", self.goal, verdict]


@dataclass
class Goals:
    """Collects the rows of a run as they are emitted, then judges them."""

    rows: list[Row] = field(default_factory=list)
    serve_growth: float | None = None  # RSS, second half of the submissions
    rebuild_peak: int | None = None  # bytes
    rebuild_exit: int | None = None

    def observe(self, row: Row) -> None:
        if row.sample is not None:
            self.rows.append(row)

    def memory(self, readings: list[memory.Reading]) -> None:
        half, last = readings[len(readings) // 2], readings[-1]
        self.serve_growth = (last.rss - half.rss) / half.rss if half.rss else None

    def rebuild(self, code: int, peak: int) -> None:
        self.rebuild_exit, self.rebuild_peak = code, peak

    def _find(self, backend: str, name: str, *, prefix: bool = False) -> list[Row]:
        """The rows of ``backend`` named ``name`` (or starting with it)."""
        return [
            r
            for r in self.rows
            if r.backend == backend
            and (r.measurement.startswith(name) if prefix else r.measurement == name)
        ]

    def verdicts(self) -> list[Verdict]:
        found = [*self._http("sqlite"), *self._http("postgres")]
        found += [*self._bulk("sqlite"), *self._bulk("postgres")]
        found += [self._rebuild(), self._verify(), *self._counts(), *self._memory()]
        return found

    def _http(self, backend: str) -> list[Verdict]:
        rows = self._find(backend, "submissions ", prefix=True)
        top = max((r.concurrency or 0 for r in rows), default=0)
        goal = f"≥ {HTTP_RATIO[backend]:g}× library 1 event/save"  # noqa: RUF001
        if backend == "sqlite":
            goal += f", p99 ≤ {HTTP_P99_MS:g} ms, ≤ {HTTP_SERVER_US:g} µs server CPU"
        if not rows:
            return [Verdict(f"HTTP submissions, {backend}", None, goal, None)]
        found = []
        for row in (r for r in rows if r.concurrency == top):
            s = row.sample
            assert s is not None
            ratio = s.rate / row.library_rate if row.library_rate else 0.0
            p99 = s.percentile_ms(99)
            cpu_us = (s.server_cpu or 0.0) / max(s.ok, 1) * 1e6
            met = ratio >= HTTP_RATIO[backend]
            measured = f"{ratio:.2f}×"  # noqa: RUF001
            if backend == "sqlite":
                met = met and p99 <= HTTP_P99_MS and cpu_us <= HTTP_SERVER_US
                measured += f", p99 {p99:.0f} ms, {cpu_us:,.0f} µs"
            setup = row.measurement.removeprefix("submissions ")
            path = f"HTTP submissions, {top} clients, {backend}, {setup}"
            found.append(Verdict(path, measured, goal, met and not s.failed))
        return found

    def _bulk(self, backend: str) -> list[Verdict]:
        goal = f"≥ {BULK_RATIO:g}× library 10 events/save, events/s"  # noqa: RUF001
        bulk = self._find(backend, BATCH.name)
        library = self._find(backend, "library 10 events/save")
        path = f"bulk door, {backend}"
        if not bulk or not library:
            return [Verdict(path, None, goal, None)]
        b, lib = bulk[-1].sample, library[-1].sample
        assert b is not None and lib is not None
        ratio = b.events_rate / lib.events_rate if lib.events_rate else 0.0
        measured = f"{b.events_rate:,.0f} ev/s = {ratio:.2f}×"  # noqa: RUF001
        return [Verdict(path, measured, goal, ratio >= BULK_RATIO and not b.failed)]

    def _rebuild(self) -> Verdict:
        goal = f"≥ {REBUILD_RATIO:g}× library read+decode"  # noqa: RUF001
        path = "rebuild all read models, 1M events"
        together = self._find("sqlite", "rebuild all", prefix=True)
        decode = self._find("sqlite", "lib read+decode log")
        if not together or not decode:
            return Verdict(path, None, goal, None)
        s, d = together[-1].sample, decode[-1].sample
        assert s is not None and d is not None
        ratio = s.events_rate / d.events_rate if d.events_rate else 0.0
        measured = f"{s.events_rate:,.0f} ev/s = {ratio:.2f}×"  # noqa: RUF001
        if together[-1].note:  # a prefix of the log, within the time budget
            measured += f" ({together[-1].note})"
        return Verdict(path, measured, goal, ratio >= REBUILD_RATIO)

    def _verify(self) -> Verdict:
        goal = f"≥ {VERIFY_EVENTS_S:,.0f} events/s"
        rows = self._find("sqlite", "audit verify (all)")
        if not rows or rows[-1].sample is None:
            return Verdict("boende audit verify", None, goal, None)
        rate = rows[-1].sample.events_rate
        proved = not rows[-1].note.startswith("FAILED")  # the log did not verify
        measured = f"{rate:,.0f} ev/s" + ("" if proved else f", {rows[-1].note}")
        met = proved and rate >= VERIFY_EVENTS_S
        return Verdict("boende audit verify", measured, goal, met)

    def _counts(self) -> list[Verdict]:
        found = []
        for label, path, limit in (
            ("counts random as_of", "counts as_of, 1M events", COUNTS_P99_MS),
            ("counts +random known_at", "counts as_of + known_at", KNOWN_AT_P99_MS),
        ):
            rows = self._find("sqlite", label)
            goal = f"p99 ≤ {limit:g} ms"
            if not rows or rows[-1].sample is None:
                found.append(Verdict(path, None, goal, None))
                continue
            s = rows[-1].sample
            p50, p99 = s.percentile_ms(50), s.percentile_ms(99)
            measured = f"p50 {p50:.1f} / p99 {p99:.1f} ms"
            found.append(Verdict(path, measured, goal, p99 <= limit))
        return found

    def _memory(self) -> list[Verdict]:
        serve_goal = f"flat: ≤ +{memory.FLAT:.0%} over the second 50k"
        peak_goal = f"≤ {memory.REBUILD_GOAL // memory.MIB:,} MiB"
        serve = Verdict("serve RSS, 100k submissions", None, serve_goal, None)
        if self.serve_growth is not None:
            growth = self.serve_growth
            serve = Verdict(
                serve.path, f"{growth:+.1%}", serve_goal, growth <= memory.FLAT
            )
        peak = Verdict("rebuild all, peak RSS", None, peak_goal, None)
        if self.rebuild_peak is not None:
            mib = self.rebuild_peak / memory.MIB
            met = self.rebuild_exit == 0 and self.rebuild_peak <= memory.REBUILD_GOAL
            peak = Verdict(peak.path, f"{mib:,.0f} MiB", peak_goal, met)
        return [serve, peak]

    def markdown(self) -> str:
        lines = ["| path | measured | goal | |", "|---|---|---|---|"]
        for verdict in self.verdicts():
            lines.append("| " + " | ".join(verdict.cells()) + " |")
        return "\n".join(lines)

    def save(self, facts: dict[str, object]) -> Path:
        """``bench/results/<date>-goals.json``: the machine and the verdicts."""
        RESULTS.mkdir(parents=True, exist_ok=True)
        stamp = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime())
        path = RESULTS / f"{stamp}-goals.json"
        body = {"machine": facts, "goals": [asdict(v) for v in self.verdicts()]}
        path.write_text(json.dumps(body, indent=1, ensure_ascii=False) + "\n")
        return path
