"""The progress reporter (``infra.progress``): plain lines every few seconds
when nobody watches a terminal, a bar when somebody does, and a last line
with the right numbers either way. A fake clock stands in for time."""

from __future__ import annotations

import io

import pytest

from infra.progress import duration, progress, steps


class FakeClock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_a_log_gets_a_line_every_interval_and_a_last_line_with_the_numbers() -> None:
    clock, out = FakeClock(), io.StringIO()
    with progress("replaying the case log", 10_000, stream=out, clock=clock) as shown:
        for _ in range(100):  # 100 events every second, for 100 seconds
            clock.now += 1.0
            shown.advance(100)
    lines = out.getvalue().splitlines()
    assert lines[0] == (
        "replaying the case log: 500/10,000 events (5%), 100/s, about 1:35 left"
    )
    assert lines[1].startswith("replaying the case log: 1,000/10,000 events (10%)")
    assert len(lines) == 20 + 1  # one every 5 s of the 100, then the last one
    assert lines[-1] == "replaying the case log: 10,000 events in 100.0 s (100/s)"


def test_nothing_is_printed_before_the_first_interval_but_the_last_line() -> None:
    clock, out = FakeClock(), io.StringIO()
    with progress("signing", 3, stream=out, clock=clock, interval=5.0) as shown:
        shown.advance()
        clock.now += 4.9
        shown.advance(2)
    assert out.getvalue() == "signing: 3 events in 4.9 s (1/s)\n"


def test_the_interval_and_the_unit_are_the_callers() -> None:
    clock, out = FakeClock(), io.StringIO()
    shown_every_second = progress(
        "recording erasures", 4, unit="cases", stream=out, clock=clock, interval=1.0
    )
    with shown_every_second as shown:
        for _ in range(4):
            clock.now += 1.0
            shown.advance()
    assert out.getvalue().splitlines() == [
        "recording erasures: 1/4 cases (25%), 1/s, about 0:03 left",
        "recording erasures: 2/4 cases (50%), 1/s, about 0:02 left",
        "recording erasures: 3/4 cases (75%), 1/s, about 0:01 left",
        "recording erasures: 4/4 cases (100%), 1/s",
        "recording erasures: 4 cases in 4.0 s (1/s)",
    ]


def test_an_unknown_total_shows_the_count_and_the_rate() -> None:
    clock, out = FakeClock(), io.StringIO()
    with progress("reading", None, stream=out, clock=clock) as shown:
        clock.now += 5.0
        shown.advance(2_500)
    assert out.getvalue().splitlines() == [
        "reading: 2,500 events, 500/s",
        "reading: 2,500 events in 5.0 s (500/s)",
    ]


def test_a_command_that_stops_early_says_how_far_it_got() -> None:
    clock, out = FakeClock(), io.StringIO()
    with (
        pytest.raises(KeyboardInterrupt),
        progress("replaying the case log", 1_000, stream=out, clock=clock) as shown,
    ):
        shown.advance(400)
        clock.now += 2.0
        raise KeyboardInterrupt
    assert out.getvalue() == (
        "replaying the case log: stopped after 400 of 1,000 events (2.0 s)\n"
    )


def test_a_terminal_gets_a_bar_that_gives_way_to_the_last_line() -> None:
    out = io.StringIO()
    with progress("replaying the case log", 50, stream=out, terminal=True) as shown:
        for _ in range(50):
            shown.advance()
    written = out.getvalue()
    assert "\x1b[" in written  # the bar, drawn and then cleared
    last = written.rsplit("\x1b[2K", 1)[-1]
    assert last.startswith("replaying the case log: 50 events in ")


def test_steps_show_one_after_the_other_each_in_its_unit() -> None:
    clock, out = FakeClock(), io.StringIO()
    units = {"recording erasures": "cases"}
    with steps(units, unit="positions", stream=out, clock=clock) as told:
        told("reading the case log", 600, 1_000)
        told("reading the case log", 400, 1_000)
        clock.now += 2.0
        told("recording erasures", 1, 2)
        told("recording erasures", 1, 2)
    assert out.getvalue().splitlines() == [
        "reading the case log: 1,000 positions in 2.0 s (500/s)",
        "recording erasures: 2 cases in 0.0 s (0/s)",
    ]


@pytest.mark.parametrize(
    ("seconds", "shown"),
    [(0.4, "0:00"), (7, "0:07"), (750, "12:30"), (7500, "2:05:00")],
)
def test_durations_read_as_a_clock(seconds: float, shown: str) -> None:
    assert duration(seconds) == shown
