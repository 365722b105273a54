"""The tree-head signer: signs a head of the case log's Merkle tree whenever
the latest is ``tree_head_interval_minutes`` old, in a daemon thread of the
API process (started by ``services.http.proofs``' lifespan).

Before each head, ``AuditLog.sign_head`` re-checks the log's tail against
the last signed head (the store's or the newest head file): a log that
changed under it is refused, logged as an error for the operator, and never
re-signed on its own; so is a head that cannot be written outside the store
(``infra.head_mirror``)."""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator
from datetime import UTC, datetime

from prometheus_client.core import Metric

from infra.head_mirror import HeadNotMirrored
from infra.metrics import Probe, gauge
from infra.signing import parse_timestamp
from services.audit.log import AuditLog
from services.audit.tree import LogChanged

log = logging.getLogger(__name__)


class HeadSigner:
    """Signs a tree head whenever the latest one is ``interval_seconds`` old
    (or there is none), in a daemon thread, until stopped; after the first,
    it reads the log's tree for reports (``AuditLog.log_at``)."""

    def __init__(self, audit: AuditLog, interval_seconds: float) -> None:
        self.audit = audit
        self.interval = interval_seconds
        self._stop = threading.Event()
        self._thread = threading.Thread(
            target=self._run, name="tree-head-signer", daemon=True
        )

    def start(self) -> HeadSigner:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=30)

    def _run(self) -> None:
        delay = self.tick()
        self.warm()
        while not self._stop.wait(delay):
            delay = self.tick()

    def warm(self) -> None:
        """Read the log's tree and the signed tree once
        (``services.audit.tree``), so the first report or proof of this
        process does not wait for them."""
        try:
            position = self.audit.app.recorder.max_notification_id() or 0
            self.audit.log_at(position)
            self.audit.signed_tree.extend_to(self.audit.signed_size())
        except Exception:  # the first report will try again
            log.exception("reading the log's tree at startup failed")

    def tick(self) -> float:
        """Sign if due; the seconds until the next head is due."""
        try:
            latest = self.audit.latest_head()
            age = _age_seconds(latest.timestamp) if latest else self.interval
            if age >= self.interval:
                head = self.audit.sign_head()
                log.info("signed tree head: %d events", head.tree_size)
                return self.interval
            return self.interval - age
        except (LogChanged, HeadNotMirrored) as refused:  # for the operator
            log.error("no tree head signed: %s; retrying in a minute", refused)
            return min(60.0, self.interval)
        except Exception:  # the store may be down: try again, never die
            log.exception("signing a tree head failed; retrying in a minute")
            return min(60.0, self.interval)


def _age_seconds(timestamp: str) -> float:
    return (datetime.now(UTC) - parse_timestamp(timestamp)).total_seconds()


def head_probe(audit: AuditLog, interval_seconds: float) -> Probe:
    """A probe for ``infra.metrics.add_probe``: the latest signed head's size
    and age, read at scrape time (another replica may have signed it), and
    the signing interval, so an alert can compare the two."""

    def probe() -> Iterator[Metric]:
        yield gauge(
            "boende_tree_head_interval_seconds",
            "How often a tree head is signed (0: only on demand)",
            interval_seconds,
        )
        latest = audit.latest_head()
        if latest is None:
            return
        yield gauge(
            "boende_tree_head_size_events",
            "Events covered by the latest signed tree head",
            latest.tree_size,
        )
        yield gauge(
            "boende_tree_head_age_seconds",
            "Seconds since the latest tree head was signed",
            _age_seconds(latest.timestamp),
        )

    return probe
