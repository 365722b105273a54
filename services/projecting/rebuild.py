"""Read models rebuilt from the whole log, beside the live ones.

``rebuild_together`` replays the log into a fresh store for each read model
(``ProjectionRunner.rebuilding``) while the live ones go on answering and
following the log, then each fresh one takes its live one's place
(``ProjectionRunner.take_over``). The replay runs in this process, reading
and decoding the log once for every read model, or is shared out over
several processes (``processes``), each reading the log for its share of
the read models: with the cores to run them, that is faster, since the read
models' own work, not the read, is most of a rebuild's time.
"""

from __future__ import annotations

import gc
import heapq
import logging
import multiprocessing
import os
import signal
import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import ExitStack, contextmanager
from multiprocessing.connection import wait

from infra import logs
from infra.schema_lock import RebuildRunning, rebuild_lock, schema_lock
from infra.settings import Settings
from infra.store import CaseLog
from infra.views import ViewStore, peek_position
from projections.base import Projection
from services.projecting.runner import ProjectionRunner, step_together

log = logging.getLogger(__name__)

#: Allocations between young collections during a replay (Python's: 700).
REPLAY_GC_THRESHOLD = 50_000
#: A replay (a rebuild) reads this many of the runners' batches at a time
#: and applies them in one transaction: read models fold a batch's changes
#: in memory (counts' monthly totals, the month-end snapshots) and write
#: each key and month once per batch, so fewer batches write them fewer
#: times. The rows do not depend on the batching.
REPLAY_BATCHES = 10
#: How often a rebuild shared out over processes looks at their progress
#: (and at ``should_stop``), in seconds.
POLL_S = 0.2


class RebuildStopped(Exception):
    """A rebuild was stopped before its replay reached the log's end: the
    live read models are as they were. ``replayed``: the events replayed."""

    def __init__(self, replayed: int) -> None:
        super().__init__(f"stopped after replaying {replayed} events")
        self.replayed = replayed


class RebuildFailed(Exception):
    """A rebuild failed: a process replaying a share of it (its error is on
    standard error), or a rebuilt read model taking its live one's place.
    ``replaced``: the read models that took their live ones' place before
    it failed, each whole and up to date (each take-over is a transaction
    of its own store); every other answers as before."""

    def __init__(self, message: str, replaced: Sequence[str] = ()) -> None:
        super().__init__(message)
        self.replaced = list(replaced)


def rebuild_together(
    runners: Sequence[ProjectionRunner],
    should_stop: Callable[[], bool] = lambda: False,
    on_progress: Callable[[int], None] | None = None,
    processes: int = 1,
) -> int:
    """Rebuild every runner's read model from the whole log
    (``boende projections rebuild all``), each into a fresh store that then
    takes its live one's place. ``processes``: how many processes share the
    replay (1: this one, the log read and decoded once for all).

    Returns the events replayed: those the log holds up to where the slowest
    fresh read model stands, counted in the log (positions may have gaps).
    ``on_progress`` is told how many more that is as the replay goes on.
    ``should_stop`` is asked as the replay goes on: once it says so, the
    fresh stores are thrown away, the live read models are left as they
    were, and ``RebuildStopped`` says how far the replay got. (Asked no more
    once the replay is over: the take-overs, seconds at most, all
    happen.) Raises ``RebuildRunning`` if another process rebuilds one of
    them, before anything is done; ``RebuildFailed`` if a process of the
    replay fails (nothing changed) or a take-over does (those before it
    done, in ``replaced``)."""
    with ExitStack() as held:
        for runner in runners:
            held.enter_context(
                rebuild_lock(runner.store.settings, runner.projection.name)
            )
        rebuilt: list[ProjectionRunner] = []
        try:
            for runner in runners:
                rebuilt.append(runner.rebuilding())
            shares = share_out(rebuilt, processes)
            if len(shares) > 1:
                replayed = _replay_in_processes(shares, should_stop, on_progress)
            else:
                replayed = _replay_here(rebuilt, should_stop, on_progress)
            _take_over(runners, rebuilt)
        finally:
            _discard(rebuilt)
    return replayed


def _take_over(
    runners: Sequence[ProjectionRunner], rebuilt: Sequence[ProjectionRunner]
) -> None:
    replaced: list[str] = []
    for runner, fresh in zip(runners, rebuilt, strict=True):
        try:
            runner.take_over(fresh)
        except Exception as error:
            name = runner.projection.name
            raise RebuildFailed(
                f"{name} could not take its live read model's place: {error}",
                replaced,
            ) from error
        replaced.append(runner.projection.name)


def _discard(rebuilt: Sequence[ProjectionRunner]) -> None:
    """Every fresh store removed; one that cannot be is logged (the next
    rebuild removes it) and does not hide why the rebuild ended."""
    for fresh in rebuilt:
        try:
            fresh.store.discard()
        except Exception:
            log.exception(
                "could not remove the fresh store of %s; the next rebuild will",
                fresh.projection.name,
            )


def rebuild_state(settings: Settings, name: str) -> str:
    """What ``boende projections status`` says of a rebuild of ``name``:
    ``-`` (none), ``starting``, ``at N`` (one runs; its replay has reached
    position N), or ``left at N`` (one that was killed left its fresh store
    there; the next rebuild removes it, the live read model is untouched;
    a stopped one removes its own). Looking takes the rebuild's lock for
    an instant: a rebuild started in that instant is refused, as if one
    ran."""
    try:
        with rebuild_lock(settings, name):
            running = False
    except RebuildRunning:
        running = True
    reached = peek_position(settings, name, fresh=True)
    if reached is None:
        return "starting" if running else "-"
    return f"at {reached}" if running else f"left at {reached}"


def processes_for(settings: Settings) -> int:
    """How many processes share a rebuild: ``BOENDE_REBUILD_PROCESSES``, or
    one per core this process may run on."""
    return settings.rebuild_processes or len(os.sched_getaffinity(0))


def share_out(
    runners: Sequence[ProjectionRunner], processes: int
) -> list[list[ProjectionRunner]]:
    """``runners`` in at most ``processes`` shares of about equal work:
    each, costliest first (``Projection.replay_cost``), to the share with
    the least so far. Shares keep the runners' order."""
    count = max(1, min(processes, len(runners)))
    loads = [(0.0, share) for share in range(count)]
    chosen: dict[int, int] = {}
    by_cost = sorted(
        range(len(runners)), key=lambda i: -runners[i].projection.replay_cost
    )
    for index in by_cost:
        load, share = heapq.heappop(loads)
        chosen[index] = share
        heapq.heappush(loads, (load + runners[index].projection.replay_cost, share))
    return [
        [runner for index, runner in enumerate(runners) if chosen[index] == share]
        for share in range(count)
        if share in chosen.values()
    ]


def _replay_here(
    rebuilt: Sequence[ProjectionRunner],
    should_stop: Callable[[], bool],
    on_progress: Callable[[int], None] | None,
) -> int:
    for fresh in rebuilt:
        fresh.projection.start_replay()
    with replaying():
        replayed, whole = _replay(rebuilt, should_stop, on_progress)
    if not whole:
        raise RebuildStopped(replayed)
    for fresh in rebuilt:
        fresh.finish()
    return replayed


class _Replayed:
    """Counts the events replayed: those the log holds up to where the
    slowest of ``runners`` stands (positions may have gaps)."""

    def __init__(
        self,
        runners: Sequence[ProjectionRunner],
        on_progress: Callable[[int], None] | None,
    ) -> None:
        self.runners = runners
        self.on_progress = on_progress
        self.count = self.reached = 0

    def update(self) -> None:
        slowest = min(runner.store.position() for runner in self.runners)
        if slowest > self.reached:
            app = self.runners[0].app
            assert app is not None, "these runners are fed from Kafka"
            passed = app.event_count(self.reached, slowest)
            self.count, self.reached = self.count + passed, slowest
            if self.on_progress is not None:
                self.on_progress(passed)


def _replay(
    runners: Sequence[ProjectionRunner],
    should_stop: Callable[[], bool],
    on_progress: Callable[[int], None] | None,
) -> tuple[int, bool]:
    """The log replayed into ``runners`` to its end, or until
    ``should_stop``: the events replayed, and whether it reached the end."""
    replayed = _Replayed(runners, on_progress)
    batch_size = max((r.batch_size for r in runners), default=1) * REPLAY_BATCHES
    while runners:
        if should_stop():
            return replayed.count, False
        applied = step_together(runners, batch_size)
        replayed.update()
        if applied == 0 and not any(_behind(runner) for runner in runners):
            break
    return replayed.count, True


def _replay_in_processes(
    shares: Sequence[Sequence[ProjectionRunner]],
    should_stop: Callable[[], bool],
    on_progress: Callable[[int], None] | None,
) -> int:
    """Each share replayed and finished by a process of its own (started
    afresh, not forked: this process may hold threads and connections),
    into the fresh stores prepared here. This process watches their
    positions for progress and ``should_stop``, and ends them if it stops
    or one of them fails. Ctrl-C reaches the processes too (a terminal
    signals the whole group): they are started ignoring it, so it is this
    process's to handle; one ended by SIGINT or SIGTERM (a service manager
    stopping the group) stopped, it did not fail."""
    context = multiprocessing.get_context("spawn")
    workers = [
        context.Process(
            target=_replay_share,
            args=(
                share[0].store.settings,
                [type(runner.projection) for runner in share],
                share[0].batch_size,
                os.getpid(),
            ),
            name=f"boende rebuild {','.join(r.projection.name for r in share)}",
            daemon=True,
        )
        for share in shares
    ]
    replayed = _Replayed([runner for share in shares for runner in share], on_progress)
    try:
        with _sigint_ignored_by_children():
            for worker in workers:
                worker.start()
        while True:
            failed = [w for w in workers if w.exitcode not in (None, 0)]
            if should_stop() or any(w.exitcode in _STOPPED for w in failed):
                raise RebuildStopped(replayed.count)
            if failed:
                raise RebuildFailed(
                    "; ".join(f"{w.name} exited with {w.exitcode}" for w in failed)
                )
            if all(worker.exitcode == 0 for worker in workers):
                replayed.update()
                return replayed.count
            wait([w.sentinel for w in workers if w.exitcode is None], timeout=POLL_S)
            replayed.update()
    finally:
        for worker in workers:
            if worker.pid is None:  # never started
                continue
            if worker.is_alive():
                worker.terminate()
            worker.join()


#: How a process ended by a stop signal exits (``Process.exitcode``).
_STOPPED = (-signal.SIGINT, -signal.SIGTERM)


@contextmanager
def _sigint_ignored_by_children() -> Iterator[None]:
    """Processes started meanwhile begin with SIGINT ignored (an ignored
    signal stays ignored across ``exec``, and Python then installs no
    handler of its own), so a Ctrl-C while they start cannot kill them. A
    SIGINT sent meanwhile to this process is held back, not lost (Linux
    keeps a blocked signal pending even while it is ignored), and handled
    once its handler is back. Outside the main thread (no handler can be
    set there) it only holds SIGINT back."""
    signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT})
    main = threading.current_thread() is threading.main_thread()
    handler = signal.signal(signal.SIGINT, signal.SIG_IGN) if main else None
    try:
        yield
    finally:
        if main:
            signal.signal(signal.SIGINT, handler)
        signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGINT})


def _replay_share(
    settings: Settings,
    projections: Sequence[type[Projection]],
    batch_size: int,
    parent: int,
) -> None:
    """In a process of its own: replay the log into the fresh stores of
    ``projections`` and finish them. Ctrl-C is the parent's to handle; if
    the parent goes, this stops at its next batch (what it built is thrown
    away by the next rebuild)."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # already, as it started
    logs.configure(settings.log_level, settings.effective_log_format)
    with schema_lock(settings):
        app = CaseLog(env=settings.eventsourcing_env())
        stores = [ViewStore(settings, p.name, fresh=True) for p in projections]
    try:
        runners = [
            ProjectionRunner(app, projection(), store, batch_size, fresh=True)
            for projection, store in zip(projections, stores, strict=True)
        ]
        for runner in runners:
            runner.projection.start_replay()
        with replaying():
            _, whole = _replay(runners, lambda: os.getppid() != parent, None)
        if not whole:
            raise SystemExit(1)
        for runner in runners:
            runner.finish()
    finally:
        for store in stores:
            store.close()
        app.close()


@contextmanager
def replaying() -> Iterator[None]:
    """The garbage collector eased for a replay: the heap built so far
    frozen (full collections no longer walk it) and young collections rare
    (each walked every decoded event of the batch in flight, again and
    again). Decoded events form no cycles. Restored when the last of the
    replays running in this process ends."""
    global _replays, _thresholds
    with _replays_lock:
        if _replays == 0:
            _thresholds = gc.get_threshold()
            gc.freeze()
            gc.set_threshold(REPLAY_GC_THRESHOLD, *_thresholds[1:])
        _replays += 1
    try:
        yield
    finally:
        with _replays_lock:
            _replays -= 1
            if _replays == 0:
                gc.set_threshold(*_thresholds)
                gc.unfreeze()


_replays_lock = threading.Lock()
_replays = 0
_thresholds: tuple[int, ...] = gc.get_threshold()


def _behind(runner: ProjectionRunner) -> bool:
    """Whether the log holds events the runner has not reached: a batch it
    lost to another process is read again rather than taken for the end."""
    assert runner.app is not None
    return runner.store.position() < (runner.app.recorder.max_notification_id() or 0)
