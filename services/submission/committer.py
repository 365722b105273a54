"""Group commit: concurrent HTTP submissions share one store transaction.

Request threads hand their envelope to a single writer thread and wait. The
writer takes everything queued (up to ``max_batch``), records it with
``SubmissionService.record_batch`` in one transaction, and answers each
waiter. Under load the batches grow by themselves; alone, a submission is
committed at once. One writer per process also means concurrent submissions
for the same case are decided in arrival order, not by a lost race.

A non-2xx means nothing was recorded, now or later. So a caller that has
waited ``timeout`` gives up (503 ``unavailable``) only while its submission
is still queued, and the writer takes only submissions whose caller is still
waiting: both decide under the submission's own lock (:class:`Pending`). Once
taken, the caller waits for the commit's answer, which the store bounds.

A batch (``POST /v1/submissions/batch``) queues its submissions together
(``submit_many_async``): the same writer, the same transactions, one wake-up
of the request when the last is answered.
"""

from __future__ import annotations

import asyncio
import logging
import queue
import threading
from collections.abc import Sequence
from concurrent.futures import Future
from typing import Protocol

from infra import metrics
from infra.logs import REQUEST_ID
from services.errors import StoreUnavailable
from services.submission.envelope import Envelope
from services.submission.service import Outcome, SubmissionService
from services.submission.submitters import Submitter

log = logging.getLogger(__name__)

_STOP = object()


class Waiter(Protocol):
    def resolve(self, outcome: Outcome) -> None: ...
    def fail(self, error: BaseException) -> None: ...


class ThreadWaiter:
    """A caller blocked in a thread (the Kafka ingest, tests)."""

    def __init__(self) -> None:
        self.future: Future[Outcome] = Future()

    def resolve(self, outcome: Outcome) -> None:
        self.future.set_result(outcome)

    def fail(self, error: BaseException) -> None:
        self.future.set_exception(error)


class LoopWaiter:
    """A request awaiting in the event loop: answered without a thread hop."""

    def __init__(self) -> None:
        self.request_id = REQUEST_ID.get()  # for the writer thread's log lines
        self.loop = asyncio.get_running_loop()
        self.future: asyncio.Future[Outcome] = self.loop.create_future()

    def resolve(self, outcome: Outcome) -> None:
        self.loop.call_soon_threadsafe(_settle, self.future, outcome, None)

    def fail(self, error: BaseException) -> None:
        self.loop.call_soon_threadsafe(_settle, self.future, None, error)


def _settle(
    future: asyncio.Future[Outcome],
    outcome: Outcome | None,
    error: BaseException | None,
) -> None:
    if future.done():  # the request gave up waiting
        return
    if error is not None:
        future.set_exception(error)
    else:
        assert outcome is not None
        future.set_result(outcome)


class Gathered:
    """The waiters of one batch's submissions (``submit_many_async``): the
    writer answers each as its transaction ends; the request awaiting them in
    the event loop is woken once, when the last is answered."""

    def __init__(self, count: int) -> None:
        self.loop = asyncio.get_running_loop()
        self.future: asyncio.Future[None] = self.loop.create_future()
        self.outcomes: list[Outcome | BaseException | None] = [None] * count
        self._left = count
        self._lock = threading.Lock()

    def waiter(self, index: int) -> Waiter:
        return _Member(self, index)

    def settle(self, index: int, outcome: Outcome | BaseException) -> None:
        """Any thread: the answer for submission ``index``."""
        with self._lock:
            self.outcomes[index] = outcome
            self._left -= 1
            last = self._left == 0
        if last:
            self.loop.call_soon_threadsafe(_finish, self.future)


class _Member:
    def __init__(self, gathered: Gathered, index: int) -> None:
        self.gathered, self.index = gathered, index

    def resolve(self, outcome: Outcome) -> None:
        self.gathered.settle(self.index, outcome)

    def fail(self, error: BaseException) -> None:
        self.gathered.settle(self.index, error)


def _finish(future: asyncio.Future[None]) -> None:
    if not future.done():
        future.set_result(None)


class Pending:
    """One submission between its caller and the writer: ``queued``, then
    either ``taken`` into a batch by the writer or ``abandoned`` by its caller,
    never both (the lock decides which came first)."""

    def __init__(
        self, sub: Envelope, waiter: Waiter, by: Submitter | None = None
    ) -> None:
        self.sub = sub
        self.by = by  # who sent it: recorded as its facts' submitted_by
        self.waiter = waiter
        self.state = "queued"
        self._lock = threading.Lock()

    def take(self) -> bool:
        """The writer: True if the caller still waits; it will be answered."""
        return self._move("taken")

    def abandon(self) -> bool:
        """The caller: True if the writer had not taken it; it never will."""
        return self._move("abandoned")

    def _move(self, state: str) -> bool:
        with self._lock:
            if self.state != "queued":
                return False
            self.state = state
            return True


def _gave_up(timeout: float) -> StoreUnavailable:
    return StoreUnavailable(
        f"not recorded: the store did not take the submission within "
        f"{timeout:g} s; retry with the same submission_id"
    )


class GroupCommitter:
    """A writer thread that records queued submissions in shared transactions."""

    def __init__(
        self, service: SubmissionService, max_batch: int = 256, timeout: float = 10.0
    ) -> None:
        self.service = service
        self.max_batch = max_batch
        self.timeout = timeout  # longest wait in the queue (a taken one waits on)
        self._queue: queue.Queue[Pending | object] = queue.Queue()
        self._thread = threading.Thread(
            target=self._run, name="group-commit", daemon=True
        )
        self._thread.start()

    def submit(
        self, sub: Envelope, timeout: float | None = None, by: Submitter | None = None
    ) -> Outcome:
        """Queue ``sub`` (sent by ``by``) and wait for its outcome; 503 if the
        writer has not taken it within ``timeout``."""
        if not self._thread.is_alive():
            return StoreUnavailable("the writer is stopped; retry later")
        waiter = ThreadWaiter()
        pending = Pending(sub, waiter, by)
        self._queue.put(pending)
        wait = self.timeout if timeout is None else timeout
        try:
            return waiter.future.result(wait)
        except TimeoutError:
            if pending.abandon():
                return _gave_up(wait)
        return waiter.future.result()  # being committed: its answer will come

    async def submit_async(
        self, sub: Envelope, timeout: float | None = None, by: Submitter | None = None
    ) -> Outcome:
        """Queue ``sub`` (sent by ``by``) from the event loop and await its
        outcome; 503 if the writer has not taken it within ``timeout``."""
        if not self._thread.is_alive():
            return StoreUnavailable("the writer is stopped; retry later")
        waiter = LoopWaiter()
        pending = Pending(sub, waiter, by)
        self._queue.put(pending)
        wait = self.timeout if timeout is None else timeout
        try:
            return await asyncio.wait_for(asyncio.shield(waiter.future), wait)
        except TimeoutError:
            if pending.abandon():
                return _gave_up(wait)
        return await waiter.future  # being committed: its answer will come

    async def submit_many_async(
        self,
        subs: Sequence[Envelope],
        by: Sequence[Submitter | None],
        timeout: float | None = None,
    ) -> list[Outcome | BaseException]:
        """Queue one batch's submissions together, in order, and await every
        outcome (an exception where the writer failed). The writer takes them
        as it takes any: up to ``max_batch`` per transaction, in order, so a
        submission sees the earlier ones of its batch. Any the writer has not
        taken within ``timeout`` are given up from the last one back (503,
        never recorded): what was taken is a prefix, answered when committed."""
        if not self._thread.is_alive():
            return [StoreUnavailable("the writer is stopped; retry later")] * len(subs)
        if not subs:
            return []
        gathered = Gathered(len(subs))
        batch = [
            Pending(sub, gathered.waiter(i), sender)
            for i, (sub, sender) in enumerate(zip(subs, by, strict=True))
        ]
        for pending in batch:
            self._queue.put(pending)
        wait = self.timeout if timeout is None else timeout
        try:
            await asyncio.wait_for(asyncio.shield(gathered.future), wait)
        except TimeoutError:
            for index in reversed(range(len(batch))):
                if batch[index].abandon():
                    gathered.settle(index, _gave_up(wait))
            await gathered.future  # the taken ones: their answers will come
        return [outcome for outcome in gathered.outcomes if outcome is not None]

    def close(self) -> None:
        """Finish what is queued, then stop the writer."""
        self._queue.put(_STOP)
        self._thread.join(timeout=30)

    def _run(self) -> None:
        while True:
            batch, stopping = self._take()
            if batch:
                self._commit(batch)
            if stopping:
                return

    def _take(self) -> tuple[list[Pending], bool]:
        """The next batch: queued submissions whose callers still wait."""
        item = self._queue.get()
        batch: list[Pending] = []
        while item is not _STOP:
            assert isinstance(item, Pending)
            if item.take():
                batch.append(item)
                if len(batch) >= self.max_batch:
                    return batch, False
            try:
                item = self._queue.get_nowait()
            except queue.Empty:
                return batch, False
        return batch, True

    def _commit(self, batch: list[Pending]) -> None:
        metrics.COMMIT_BATCH.observe(len(batch))
        try:
            outcomes = self.service.record_batch(
                [p.sub for p in batch], [p.by for p in batch]
            )
        except Exception as error:  # answer every waiter, keep the writer alive
            # The writer serves many requests at once: name them all.
            ids = [getattr(p.waiter, "request_id", None) for p in batch]
            log.exception(
                "group commit of %d failed",
                len(batch),
                extra={"request_ids": [i for i in ids if i]},
            )
            for pending in batch:
                pending.waiter.fail(error)
            return
        for pending, outcome in zip(batch, outcomes, strict=True):
            pending.waiter.resolve(outcome)
