"""The rebuild's peak memory is the child's own (bench.memory.high_water)."""

from __future__ import annotations

import subprocess
import sys
import time

from bench.memory import high_water

MIB = 1024 * 1024


def test_a_child_s_peak_is_its_own_not_its_parent_s() -> None:
    """``ru_maxrss`` of a child started by ``subprocess`` carries the
    parent's high-water mark; ``VmHWM`` read while it runs does not."""
    ballast = bytearray(300 * MIB)
    ballast[::4096] = b"\x01" * len(range(0, len(ballast), 4096))
    child = subprocess.Popen(
        [sys.executable, "-c", "import time; time.sleep(0.5)"],
        stdout=subprocess.DEVNULL,
    )
    try:
        peak = 0
        while child.poll() is None:
            peak = max(peak, high_water(child.pid))
            time.sleep(0.01)
    finally:
        child.wait()
    assert 0 < peak < 100 * MIB
    assert high_water(child.pid) == 0  # gone
    assert high_water(0) == 0  # no such process
    del ballast
