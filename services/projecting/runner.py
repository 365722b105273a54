"""Follows the case log and keeps read models up to date, exactly once.

Each projection has its own runner and tracking position. A runner reads the
notification log after its position in batches; each batch's view changes and
its last position commit in **one** transaction, so a crash anywhere neither
loses nor double-counts an event. It polls (SQLite has no push; on PostgreSQL
polling also sees other processes' writes), sleeping briefly when idle.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Sequence
from dataclasses import dataclass

from eventsourcing.persistence import IntegrityError, OperationalError
from eventsourcing.postgres import PostgresApplicationRecorder
from psycopg.sql import SQL, Identifier

from infra import metrics
from infra.settings import Settings
from infra.store import CaseLog
from infra.views import ViewStore, open_fresh
from projections.base import Projection, Recorded

log = logging.getLogger(__name__)

#: The schema version earlier releases marked a store with while they
#: rebuilt it in place: a store left so by a rebuild that died is rebuilt
#: at start. (A rebuild now builds beside the live store, which it leaves
#: whole, see ``rebuild_together``.)
REBUILDING = 0


@dataclass(frozen=True)
class Status:
    name: str
    position: int
    log_position: int

    @property
    def lag(self) -> int:
        return max(self.log_position - self.position, 0)


class ProjectionRunner:
    """One projection kept up to date from the case log."""

    def __init__(
        self,
        app: CaseLog | None,
        projection: Projection,
        store: ViewStore,
        batch_size: int = 1000,
        *,
        fresh: bool = False,
    ) -> None:
        """``fresh``: ``store`` is a fresh store a rebuild has just prepared
        (:meth:`rebuilding`), with no version to check."""
        self.app = app
        self.projection = projection
        self.store = store
        self.batch_size = batch_size
        if fresh:
            return
        with store.transaction(commit=True) as sql:
            store.hold(sql)
            built_by = store.schema_version(sql)
            if built_by != projection.version:
                if built_by == REBUILDING:
                    log.warning(
                        "the rebuild of the %s read model did not finish: "
                        "rebuilding it from the log",
                        projection.name,
                    )
                    metrics.READ_MODEL_REBUILDS.labels(projection.name).inc()
                elif built_by is not None or store.position(sql):
                    log.warning(
                        "the %s read model was built by version %s, this is %d: "
                        "rebuilding it from the log",
                        projection.name,
                        built_by,
                        projection.version,
                    )
                    metrics.READ_MODEL_REBUILDS.labels(projection.name).inc()
                projection.drop_tables(sql)
                store.forget_position(sql)
                store.set_schema_version(sql, projection.version)
            projection.create_tables(sql)

    def catch_up(self, until: int | None = None, batch_size: int | None = None) -> int:
        """Process everything recorded after our position; return how many.
        ``batch_size``: events per batch, if not the runner's."""
        processed = 0
        while until is None or self.store.position() < until:
            done = self.step(batch_size)
            if done == 0:
                break
            processed += done
        return processed

    def step(self, batch_size: int | None = None) -> int:
        """Process one batch after our position, in one transaction; 0 when
        there is nothing new. A batch another process overtook is read again."""
        assert self.app is not None, "this runner is fed from Kafka"
        while True:
            after = self.store.position()
            batch = read_batch(self.app, after, batch_size or self.batch_size)
            applied = self.apply(batch, after)
            if applied or not batch or self.store.position() == after:
                return applied

    def reset(self) -> None:
        """Drop the read model and its position: empty, at the log's start."""
        with self.store.transaction(commit=True) as sql:
            self.store.hold(sql)
            self.projection.drop_tables(sql)
            self.store.forget_position(sql)
            self.projection.create_tables(sql)
        metrics.READ_MODEL_REBUILDS.labels(self.projection.name).inc()

    def apply(self, batch: Sequence[Recorded], after: int | None = None) -> int:
        """Apply ``batch`` (in log order) and its last position in one
        transaction; positions already reflected are skipped, so a source that
        delivers at least once (Kafka) still counts each event once.

        ``after``: the position the batch was read after. If the read model
        is no longer there (a rebuild reset it meanwhile, or another process
        moved it on), nothing is applied: the batch would not follow on, and
        applying it would leave a hole behind the tracked position."""
        with self.store.transaction(commit=True) as sql:
            self.store.hold(sql)
            position = self.store.position(sql)
            if after is not None and position != after:
                return 0
            fresh = [r for r in batch if r.position > position]
            if not fresh:
                return 0
            with metrics.READ_MODEL_BATCH_SECONDS.labels(self.projection.name).time():
                self.projection.process_batch(sql, fresh)
                self.store.track(sql, fresh[-1].position)
        return len(fresh)

    def rebuilding(self) -> ProjectionRunner:
        """A runner that rebuilds this read model beside it: a new instance
        of the projection, to replay into a fresh, empty store
        (``open_fresh``) while this one goes on answering
        (``services.projecting.rebuild``). Its query indexes wait for
        :meth:`finish`, and its commits do not wait for the disk: a fresh
        store that is not taken over is thrown away, never read."""
        projection = type(self.projection)()
        store = open_fresh(self.store.settings, projection.name)
        try:
            with store.transaction(commit=True) as sql:
                projection.create_tables(sql, query_indexes=False)
        except BaseException:
            store.discard()
            raise
        return ProjectionRunner(
            self.app, projection, store, self.batch_size, fresh=True
        )

    def finish(self) -> None:
        """A rebuilding runner's replay is over: what the projection held
        back for its end written, and its query indexes built. Batches it
        applies after this are applied as a live runner applies them."""
        with self.store.transaction(commit=True) as sql:
            self.store.hold(sql)
            self.projection.finish_replay(sql)
            self.projection.create_query_indexes(sql)

    def take_over(self, rebuilt: ProjectionRunner) -> None:
        """The read model ``rebuilt`` built (finished) takes this one's
        place, in one transaction on this store: a query sees the old read
        model or the new one, never a mix and never an empty one (queries
        begun meanwhile wait for it: ``shut_out_readers``). Under this
        store's write lock no follower batch lands, and ``rebuilt`` is first
        brought up to where this one stands, so the position never goes back."""
        with self.store.taking_from(rebuilt.store) as sql:
            self.store.hold(sql)
            self.store.shut_out_readers(sql)
            rebuilt.catch_up(until=self.store.position(sql))
            position = rebuilt.store.position()
            self.projection.drop_tables(sql, None if self.store.postgres else "main")
            self.store.take_tables(sql, rebuilt.store, list(rebuilt.projection.tables))
            self.store.forget_position(sql)
            if position:
                self.store.track(sql, position)
            self.store.set_schema_version(sql, self.projection.version)
        metrics.READ_MODEL_REBUILDS.labels(self.projection.name).inc()

    def status(self) -> Status:
        position = self.store.position()
        if self.app is None:  # fed from Kafka: the log's end is not known here
            return Status(self.projection.name, position, position)
        return Status(
            self.projection.name, position, self.app.recorder.max_notification_id() or 0
        )


def read_batch(app: CaseLog, after: int, limit: int) -> list[Recorded]:
    """Up to ``limit`` events recorded after position ``after``, decoded."""
    notifications = app.recorder.select_notifications(
        after, limit, inclusive_of_start=False
    )
    return [Recorded(n.id, app.mapper.to_domain_event(n)) for n in notifications]


def step_together(
    runners: Sequence[ProjectionRunner], batch_size: int | None = None
) -> int:
    """One batch for each runner, with the log read and decoded once for all
    runners at the same position (decoding costs as much as most handlers).
    Each runner still commits its own transaction. Returns events applied.
    ``batch_size``: events per batch, if not the largest of the runners'."""
    at: dict[int, list[ProjectionRunner]] = {}
    for runner in runners:
        at.setdefault(runner.store.position(), []).append(runner)
    applied = 0
    for position, group in at.items():
        app = group[0].app
        assert app is not None, "these runners are fed from Kafka"
        size = batch_size or max(r.batch_size for r in group)
        batch = read_batch(app, position, size)
        applied += sum(runner.apply(batch, position) for runner in group)
    return applied


class LogSignal:
    """Says when the log may have grown. On PostgreSQL a listener thread
    LISTENs on the channel the library NOTIFYs on every insert, so writes of
    any process wake the follower at once; on SQLite, which cannot push, the
    follower simply polls."""

    def __init__(self, app: CaseLog, stop: threading.Event) -> None:
        self.grown = threading.Event()
        self.stop = stop
        self.pushes = isinstance(app.recorder, PostgresApplicationRecorder)
        if self.pushes:
            listener = threading.Thread(
                target=self._listen,
                args=(app.recorder,),
                name="log-listen",
                daemon=True,
            )
            listener.start()

    def wait(self, timeout: float) -> None:
        self.grown.wait(timeout)
        self.grown.clear()

    def _listen(self, recorder: PostgresApplicationRecorder) -> None:
        listen = SQL("LISTEN {0}").format(Identifier(recorder.channel_name))
        while not self.stop.is_set():
            try:
                with recorder.datastore.get_connection() as conn:
                    conn.execute(listen)
                    while not self.stop.is_set():
                        for _ in conn.notifies(timeout=0.5, stop_after=1):
                            self.grown.set()
            except Exception:  # reconnect; polling covers the gap
                log.warning("log listener lost its connection; reconnecting")
                self.grown.set()
                self.stop.wait(1.0)


class Follower:
    """Runs a set of runners in a background thread until stopped."""

    def __init__(
        self, runners: Sequence[ProjectionRunner], poll_seconds: float = 0.05
    ) -> None:
        self.runners = runners
        self._stop = threading.Event()
        app = runners[0].app if runners else None
        self._signal = LogSignal(app, self._stop) if app is not None else None
        pushes = self._signal is not None and self._signal.pushes
        # With a push, polling is only a safety net.
        self.poll_seconds = max(poll_seconds, 2.0) if pushes else poll_seconds
        self._thread = threading.Thread(
            target=self._run, name="projections", daemon=True
        )

    def start(self) -> Follower:
        self._thread.start()
        return self

    def stop(self) -> None:
        self.request_stop()
        self._thread.join(timeout=30)

    def run_until_stopped(self) -> None:
        self._run()

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                busy = step_together(self.runners)
            except IntegrityError:  # another runner (a rebuild) got there first
                log.warning("projection batch already recorded elsewhere; re-reading")
                busy = 0
            except Exception as error:  # keep following; the next poll retries
                if _locked(error):  # SQLite's busy timeout: a take-over copying
                    log.warning(
                        "a read model stayed locked past its timeout (a rebuild "
                        "taking its place?); following again at the next poll"
                    )
                else:
                    log.exception("projection step failed")
                busy = 0
            if not busy and self._signal is not None:
                self._signal.wait(self.poll_seconds)
            elif not busy:
                self._stop.wait(self.poll_seconds)

    def request_stop(self) -> None:
        self._stop.set()
        if self._signal is not None:
            self._signal.grown.set()


def build_runners(
    settings: Settings, app: CaseLog | None, projections: Sequence[Projection]
) -> list[ProjectionRunner]:
    size = settings.projection_batch_size
    return [
        ProjectionRunner(app, p, ViewStore(settings, p.name), size) for p in projections
    ]


def _locked(error: Exception) -> bool:
    """Whether ``error`` is SQLite's "database is locked" (its busy timeout
    passed while another connection held the write lock)."""
    return isinstance(error, OperationalError) and "database is locked" in str(error)
