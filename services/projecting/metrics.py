"""The log's end and each read model's place in it, as Prometheus reads them
at scrape time (``infra.metrics``): a lag that is read when asked for cannot
be stale, even when the follower that would update it is stuck."""

from __future__ import annotations

from collections.abc import Iterator, Sequence

from prometheus_client.core import Metric

from infra.metrics import Probe, gauge, labelled
from infra.store import CaseLog
from services.projecting.runner import ProjectionRunner


def log_probe(app: CaseLog | None, runners: Sequence[ProjectionRunner]) -> Probe:
    """A probe for ``infra.metrics.add_probe``: ``boende_store_up``, the log's
    last position, and each read model's position and lag behind it. Without
    ``app`` (read models fed from Kafka) only the positions."""

    def probe() -> Iterator[Metric]:
        end: int | None = None
        if app is not None:
            try:
                end = app.recorder.max_notification_id() or 0
            except Exception:
                yield gauge("boende_store_up", _UP, 0)
                return
            yield gauge("boende_store_up", _UP, 1)
            yield gauge(
                "boende_log_position_events", "The event log's last position", end
            )
        positions = [
            (runner.projection.name, runner.store.position()) for runner in runners
        ]
        yield labelled(
            "boende_read_model_position_events",
            "The last log position each read model reflects",
            ["read_model"],
            (((name,), position) for name, position in positions),
        )
        if end is not None:
            yield labelled(
                "boende_read_model_lag_events",
                "Events in the log a read model does not yet reflect",
                ["read_model"],
                (((name,), max(end - position, 0)) for name, position in positions),
            )

    return probe


_UP = "1 if the event store answered at this scrape, else 0"
