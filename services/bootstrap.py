"""The composition root: builds every part of Boende from one ``Settings``."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime
from zoneinfo import ZoneInfo

from infra.settings import Settings
from infra.store import CaseLog
from services.committer import GroupCommitter
from services.submissions import SubmissionService


def local_today(timezone: str) -> Callable[[], date]:
    """Today's date in the municipality's time zone."""
    zone = ZoneInfo(timezone)
    return lambda: datetime.now(zone).date()


@dataclass
class Boende:
    """Everything a process of Boende runs, built once and closed once."""

    settings: Settings
    app: CaseLog
    service: SubmissionService
    committer: GroupCommitter
    closers: list[Callable[[], None]] = field(default_factory=list)

    def close(self) -> None:
        for close in reversed(self.closers):
            close()


def bootstrap(
    settings: Settings | None = None, today: Callable[[], date] | None = None
) -> Boende:
    settings = settings or Settings()
    logging.basicConfig(
        level=settings.log_level,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    app = CaseLog(env=settings.eventsourcing_env())
    service = SubmissionService(app, today or local_today(settings.timezone))
    committer = GroupCommitter(service, max_batch=settings.commit_batch_max)
    boende = Boende(settings, app, service, committer)
    boende.closers += [app.close, committer.close]
    return boende
