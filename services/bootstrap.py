"""The composition root: builds every part of Boende from one ``Settings``."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime
from zoneinfo import ZoneInfo

from domain.districts import DEFAULT_DISTRICTS, DistrictList, parse_district_list
from infra import logs, metrics
from infra.keys import check_pseudonym_key
from infra.person_keys import PersonKeys
from infra.person_keys import attach as attach_person_keys
from infra.schema_lock import schema_lock
from infra.settings import Settings
from infra.store import CaseLog
from infra.views import ViewStore
from projections.apartments import ApartmentStock
from projections.audit import AuditTrail
from projections.base import Projection
from projections.counts import Counts
from projections.landlords import LandlordRegister
from projections.lead_times import LeadTimes
from projections.tenancies import Tenancies
from projections.unexecuted import Unexecuted
from services.privacy.metrics import erasure_probe
from services.projecting.metrics import log_probe
from services.projecting.runner import Follower, ProjectionRunner, build_runners
from services.submission.committer import GroupCommitter
from services.submission.service import SubmissionService


def local_today(timezone: str) -> Callable[[], date]:
    """Today's date in the municipality's time zone."""
    zone = ZoneInfo(timezone)
    return lambda: datetime.now(zone).date()


def clock(settings: Settings) -> Callable[[], date]:
    """The one clock of the rules that depend on today: ``BOENDE_TODAY``
    when set (tests, replaying a day), else today in the municipality."""
    fixed = settings.today
    return (lambda: fixed) if fixed is not None else local_today(settings.timezone)


def districts_of(settings: Settings) -> DistrictList:
    """The district list ``BOENDE_DISTRICTS_FILE`` names (under the data dir),
    else the shipped one; a list that cannot be read stops the start, saying
    which line is wrong."""
    if settings.districts_file is None:
        return parse_district_list(DEFAULT_DISTRICTS)
    path = settings.data_dir / settings.districts_file
    try:
        return parse_district_list(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as error:
        raise ValueError(f"BOENDE_DISTRICTS_FILE {path}: {error}") from None


#: Every read model, in the order they are shown by ``boende projections``.
PROJECTIONS: list[type[Projection]] = [
    Counts,
    AuditTrail,
    ApartmentStock,
    LeadTimes,
    Unexecuted,
    Tenancies,
    LandlordRegister,
]


@dataclass
class Boende:
    """Everything a process of Boende runs, built once and closed once."""

    settings: Settings
    app: CaseLog
    service: SubmissionService
    committer: GroupCommitter
    runners: list[ProjectionRunner]
    follower: Follower | None = None
    closers: list[Callable[[], None]] = field(default_factory=list)

    @property
    def views(self) -> dict[str, ViewStore]:
        return {runner.projection.name: runner.store for runner in self.runners}

    def runner(self, name: str) -> ProjectionRunner:
        for runner in self.runners:
            if runner.projection.name == name:
                return runner
        raise KeyError(name)

    def close(self) -> None:
        """Stop what runs and close connections; safe to call twice."""
        while self.closers:
            self.closers.pop()()


def bootstrap(
    settings: Settings | None = None,
    today: Callable[[], date] | None = None,
    *,
    follow: bool = False,
) -> Boende:
    """Build Boende; with ``follow``, keep the read models up to date in a
    background thread of this process."""
    settings = settings or Settings()
    districts = districts_of(settings)  # a bad list stops the start before any I/O
    logs.configure(settings.log_level, settings.effective_log_format)
    with schema_lock(settings):  # processes starting at once on one database
        person_keys = PersonKeys.open(settings)  # first: production refuses dev keys
        check_pseudonym_key(settings.data_dir, settings.environment)
        app = CaseLog(env=settings.eventsourcing_env())
        runners = build_runners(settings, app, [p() for p in PROJECTIONS])
    attach_person_keys(app, person_keys)  # what the filing handler seals with
    service = SubmissionService(
        app, today or clock(settings), settings.earliest_day, districts
    )
    committer = GroupCommitter(
        service,
        max_batch=settings.commit_batch_max,
        timeout=settings.submission_wait_seconds,
    )
    boende = Boende(settings, app, service, committer, runners)
    boende.closers.append(person_keys.close)  # closed last: the committer seals
    boende.closers += [app.close, committer.close]
    boende.closers += [runner.store.close for runner in runners]
    boende.closers += [  # what Prometheus reads at scrape time (infra.metrics)
        metrics.add_probe(log_probe(app, runners)),
        metrics.add_probe(erasure_probe(person_keys.table, boende.views["audit"])),
    ]
    if follow:
        boende.follower = Follower(runners, settings.projection_poll_seconds).start()
        boende.closers.append(boende.follower.stop)
    return boende
