"""For running the suite under Debian's ``faketime`` (docs/testing.md, "The
clock set years ahead"): put this directory on ``PYTHONPATH``. Not imported
otherwise.

Setting the system clock ahead moves the wall clock, not the monotonic one,
so the run sets ``FAKETIME_DONT_FAKE_MONOTONIC=1``. libfaketime 0.9.10 then
refuses (``EINVAL``) the absolute ``CLOCK_MONOTONIC`` ``clock_nanosleep``
that Python 3.11's ``time.sleep`` makes; here ``time.sleep`` waits in
``select()`` on the real monotonic clock instead. (Faking the monotonic
clock too is worse: ``Event.wait``, ``Lock.acquire`` and ``Queue.get`` with a
timeout then wait the whole offset, five years.) The run also sets
``FAKETIME_FORCE_MONOTONIC_FIX=0``: the fix, on by default with glibc 2.36,
makes every ``pthread_cond_timedwait`` on a monotonic condition variable
return at once when the monotonic clock is real, the GIL's 5 ms wait among
them, and threaded Python runs many times slower.
"""

import os
import select
import time

if os.environ.get("FAKETIME"):
    _monotonic = time.monotonic

    def _sleep(seconds: float) -> None:
        if seconds < 0:
            raise ValueError("sleep length must be non-negative")
        deadline = _monotonic() + seconds
        while (left := deadline - _monotonic()) > 0:
            select.select([], [], [], left)

    time.sleep = _sleep
