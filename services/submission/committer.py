"""Group commit: concurrent HTTP submissions share one store transaction.

Request threads hand their envelope to a single writer thread and wait. The
writer takes everything queued (up to ``max_batch``), records it with
``SubmissionService.record_batch`` in one transaction, and answers each
waiter. Under load the batches grow by themselves; alone, a submission is
committed at once. One writer per process also means concurrent submissions
for the same case are decided in arrival order, not by a lost race.
"""

from __future__ import annotations

import asyncio
import logging
import queue
import threading
from concurrent.futures import Future
from typing import Protocol

from infra import metrics
from infra.logs import REQUEST_ID
from services.errors import StoreUnavailable
from services.submission.envelope import Envelope
from services.submission.service import Outcome, SubmissionService

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


class GroupCommitter:
    """A writer thread that records queued submissions in shared transactions."""

    def __init__(self, service: SubmissionService, max_batch: int = 256) -> None:
        self.service = service
        self.max_batch = max_batch
        self._queue: queue.Queue[tuple[Envelope, Waiter] | object] = queue.Queue()
        self._thread = threading.Thread(
            target=self._run, name="group-commit", daemon=True
        )
        self._thread.start()

    def submit(self, sub: Envelope, timeout: float = 30.0) -> Outcome:
        """Queue ``sub`` and wait for its outcome."""
        if not self._thread.is_alive():
            return StoreUnavailable("the writer is stopped; retry later")
        waiter = ThreadWaiter()
        self._queue.put((sub, waiter))
        return waiter.future.result(timeout)

    async def submit_async(self, sub: Envelope, timeout: float = 30.0) -> Outcome:
        """Queue ``sub`` from the event loop and await its outcome."""
        if not self._thread.is_alive():
            return StoreUnavailable("the writer is stopped; retry later")
        waiter = LoopWaiter()
        self._queue.put((sub, waiter))
        return await asyncio.wait_for(waiter.future, timeout)

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

    def _take(self) -> tuple[list[tuple[Envelope, Waiter]], bool]:
        item = self._queue.get()
        batch: list[tuple[Envelope, Waiter]] = []
        while item is not _STOP:
            batch.append(item)  # type: ignore[arg-type]
            if len(batch) >= self.max_batch:
                return batch, False
            try:
                item = self._queue.get_nowait()
            except queue.Empty:
                return batch, False
        return batch, True

    def _commit(self, batch: list[tuple[Envelope, Waiter]]) -> None:
        metrics.COMMIT_BATCH.observe(len(batch))
        try:
            outcomes = self.service.record_batch([sub for sub, _ in batch])
        except Exception as error:  # answer every waiter, keep the writer alive
            # The writer serves many requests at once: name them all.
            ids = [getattr(waiter, "request_id", None) for _, waiter in batch]
            log.exception(
                "group commit of %d failed",
                len(batch),
                extra={"request_ids": [i for i in ids if i]},
            )
            for _, waiter in batch:
                waiter.fail(error)
            return
        for (_, waiter), outcome in zip(batch, outcomes, strict=True):
            waiter.resolve(outcome)
