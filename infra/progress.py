"""How far a long command has come, for the person or the log watching it.

``with progress("replaying the case log", total) as shown: shown.advance(n)``.
On a terminal: a bar with the count, the rate and the time left (``rich``).
Anywhere else (a pipe, a log file, cron): one plain line every ``interval``
seconds (five by default) with done/total, the rate per second and the time
left. Either way the last line says what was done: how many, in how long, at
what rate — or, if the command stopped early, how far it got.

Capabilities never import this: they take a plain ``on_progress(n)`` callback
and the command that runs them passes ``shown.advance``. ``advance`` is cheap
(a counter and a clock read), so it may be called once per event. Work that
comes in steps (a purge: read the log, then record erasures) takes a callback
``(step, n, total)`` instead, and :func:`steps` shows each step in turn.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import ExitStack, contextmanager
from typing import Any, TextIO

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    ProgressColumn,
    Task,
    TextColumn,
    TimeRemainingColumn,
)
from rich.progress import Progress as Bar
from rich.text import Text

Clock = Callable[[], float]
LINE_INTERVAL_S = 5.0
BAR_REFRESH_S = 0.1  # how often the bar is told the count (it redraws itself)


class Reporter:
    """Counts what is done and shows it: a bar, or a line now and then."""

    def __init__(
        self,
        description: str,
        total: int | None,
        unit: str,
        stream: TextIO,
        clock: Clock,
        interval: float,
        bar: Bar | None,
    ) -> None:
        self.description = description
        self.total = total
        self.unit = unit
        self.done = 0
        self._stream = stream
        self._clock = clock
        self._interval = BAR_REFRESH_S if bar is not None else interval
        self._bar = bar
        self._task = bar.add_task(description, total=total) if bar else None
        self.started = clock()
        self._due = self.started + self._interval

    def advance(self, n: int = 1) -> None:
        """``n`` more done."""
        self.done += n
        now = self._clock()
        if now >= self._due:
            self._due = now + self._interval
            self._show(now)

    def line(self, now: float | None = None) -> str:
        """The periodic line: done/total, rate per second, time left."""
        elapsed = (self._clock() if now is None else now) - self.started
        rate = self.done / elapsed if elapsed > 0 else 0.0
        shown = f"{self.description}: {self.done:,}"
        if self.total:
            shown += f"/{self.total:,} {self.unit} ({self.done / self.total:.0%})"
        else:
            shown += f" {self.unit}"
        shown += f", {rate:,.0f}/s"
        if self.total and rate > 0 and self.done < self.total:
            shown += f", about {duration((self.total - self.done) / rate)} left"
        return shown

    def final_line(self, finished: bool = True) -> str:
        """What was done: how many, in how long, at what rate."""
        elapsed = self._clock() - self.started
        rate = self.done / elapsed if elapsed > 0 else 0.0
        if not finished:
            of = f" of {self.total:,}" if self.total is not None else ""
            return (
                f"{self.description}: stopped after {self.done:,}{of} {self.unit} "
                f"({elapsed:.1f} s)"
            )
        return (
            f"{self.description}: {self.done:,} {self.unit} in {elapsed:.1f} s "
            f"({rate:,.0f}/s)"
        )

    def _show(self, now: float) -> None:
        if self._bar is not None and self._task is not None:
            self._bar.update(self._task, completed=self.done)
        else:
            print(self.line(now), file=self._stream, flush=True)


@contextmanager
def progress(
    description: str,
    total: int | None,
    *,
    unit: str = "events",
    stream: TextIO | None = None,
    clock: Clock = time.monotonic,
    interval: float = LINE_INTERVAL_S,
    terminal: bool | None = None,
) -> Iterator[Reporter]:
    """Show the progress of the block on ``stream`` (standard error): a bar
    if it is a terminal (or ``terminal``), else a line every ``interval``
    seconds; a final line either way. ``total`` may be unknown (``None``)."""
    stream = sys.stderr if stream is None else stream
    tty = stream.isatty() if terminal is None else terminal
    bar = _bar(stream, unit) if tty else None
    reporter = Reporter(description, total, unit, stream, clock, interval, bar)
    finished = False
    try:
        if bar is not None:
            bar.start()
        yield reporter
        finished = True
    finally:
        if bar is not None:
            bar.stop()
        print(reporter.final_line(finished), file=stream, flush=True)


#: Told of work in steps: the step it is on, ``n`` more done, the step's total.
StepCallback = Callable[[str, int, "int | None"], None]


@contextmanager
def steps(
    units: Mapping[str, str] | None = None, unit: str = "events", **options: Any
) -> Iterator[StepCallback]:
    """A callback ``(step, n, total)`` that shows each step as its own
    :func:`progress` (counted in ``units[step]``, else ``unit``), the previous
    one finished when the next begins."""
    stack = ExitStack()
    current: dict[str, Reporter] = {}

    def told(step: str, n: int, total: int | None) -> None:
        if step not in current:
            stack.close()
            current.clear()
            counted = (units or {}).get(step, unit)
            shown = progress(step, total, unit=counted, **options)
            current[step] = stack.enter_context(shown)
        current[step].advance(n)

    with stack:
        yield told


def duration(seconds: float) -> str:
    """``0:07``, ``12:30``, ``2:05:00``: minutes and seconds, hours if any."""
    whole = max(round(seconds), 0)
    hours, rest = divmod(whole, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02}:{secs:02}" if hours else f"{minutes}:{secs:02}"


class _Rate(ProgressColumn):
    """The rate, in the unit counted: ``8,123 events/s``."""

    def __init__(self, unit: str) -> None:
        super().__init__()
        self.unit = unit

    def render(self, task: Task) -> Text:
        speed = task.finished_speed or task.speed
        shown = f"{speed:,.0f}" if speed else "?"
        return Text(f"{shown} {self.unit}/s", style="progress.data.speed")


def _bar(stream: TextIO, unit: str) -> Bar:
    """A bar that is cleared when done: the final line replaces it."""
    return Bar(
        TextColumn("{task.description}", markup=False),
        BarColumn(),
        MofNCompleteColumn(),
        _Rate(unit),
        TimeRemainingColumn(),
        console=Console(file=stream, force_terminal=True),
        transient=True,
    )
