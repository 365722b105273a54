"""The submission service: envelope in, durable fact (or clear refusal) out.

Both transports end here. ``parse`` (``services.submission.parsing``) turns
raw bytes into a validated envelope (422/413 otherwise). ``record_batch``
runs many envelopes against the domain and saves every accepted one, their
submission receipts included, in **one** store transaction (group commit).
Repeats are answered from the receipts; a refused submission changes nothing.
Each submission may come with who sent it (``by``: the ``submitted_by`` the
door found, ``services.submission.submitters``), recorded on its facts.
"""

from __future__ import annotations

import contextlib
import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import date
from typing import Any

from eventsourcing.domain import Aggregate
from eventsourcing.persistence import IntegrityError, PersistenceError

from domain.districts import DEFAULT_DISTRICTS, DistrictList, parse_district_list
from domain.errors import DomainError
from domain.facts import Stamp
from infra.person_keys import PersonKeyConflict, PersonKeyError, person_keys_of
from infra.store import CaseLog, Receipt, bound_waits, never_sent
from services.errors import (
    ConcurrentUpdate,
    InvalidSubmission,
    ServiceError,
    StoreUnavailable,
    SubmissionIdConflict,
)
from services.submission.commands import apply_submission, open_workspace
from services.submission.envelope import Envelope, district_coded
from services.submission.parsing import body_sha256, parse
from services.submission.submitters import Submitter

#: ``parse`` is imported from here by the transports and the tests.
__all__ = ["Accepted", "Outcome", "Refusal", "SubmissionService", "parse"]

log = logging.getLogger(__name__)

Refusal = DomainError | ServiceError


@dataclass(frozen=True)
class Accepted:
    """A recorded submission: where it landed in the log."""

    submission_id: str
    position: int
    aggregate_type: str
    aggregate_id: str
    version: int
    repeated: bool = False

    def as_json(self) -> dict[str, Any]:
        return {
            "submission_id": self.submission_id,
            "position": self.position,
            "aggregate_type": self.aggregate_type,
            "aggregate_id": self.aggregate_id,
            "version": self.version,
            "repeated": self.repeated,
        }


Outcome = Accepted | Refusal


class SubmissionService:
    """Records submissions in the case log, once each."""

    def __init__(
        self,
        app: CaseLog,
        today: Callable[[], date],
        earliest: date = date(1990, 1, 1),
        districts: DistrictList | None = None,
    ) -> None:
        self.app = app
        self.today = today
        self.earliest = earliest  # no fact dated before it (BOENDE_EARLIEST_DAY)
        # The district codes an acquisition may name (BOENDE_DISTRICTS_FILE).
        self.districts = districts or parse_district_list(DEFAULT_DISTRICTS)
        # The person keys' pool fails fast and recovers fast too (no keys
        # attached: no filing can be recorded anyway).
        with contextlib.suppress(PersonKeyError):
            bound_waits(person_keys_of(app).table.datastore)

    def submit(self, sub: Envelope, by: Submitter | None = None) -> Accepted:
        """Record one submission, or raise its refusal."""
        outcome = self.record_batch([sub], [by])[0]
        if isinstance(outcome, Accepted):
            return outcome
        raise outcome

    def record_batch(
        self, subs: Sequence[Envelope], by: Sequence[Submitter | None] | None = None
    ) -> list[Outcome]:
        """Record many submissions in one transaction; one outcome each, in order.
        ``by``: who sent each (None: recorded without ``submitted_by``).

        If the shared transaction fails (another writer got there first), each
        submission is retried on its own so one conflict cannot sink the rest.
        """
        senders: list[Submitter | None] = [None] * len(subs) if by is None else [*by]
        try:
            return self._record_together(subs, senders)
        except IntegrityError:
            if len(subs) == 1:
                return [self._explain_conflict(subs[0])]
            return [
                self._record_alone(sub, sender)
                for sub, sender in zip(subs, senders, strict=True)
            ]
        except PersistenceError as error:
            log.warning("store unavailable: %s", type(error).__name__)
            unavailable = StoreUnavailable(
                "the event store is unreachable; retry later"
            )
            return [unavailable for _ in subs]

    def _record_alone(self, sub: Envelope, by: Submitter | None) -> Outcome:
        try:
            return self._record_together([sub], [by])[0]
        except IntegrityError:
            return self._explain_conflict(sub)
        except PersistenceError:
            return StoreUnavailable("the event store is unreachable; retry later")

    def _explain_conflict(self, sub: Envelope) -> Outcome:
        """After a lost race: a repeat of a recorded id, or a true conflict."""
        known = self.app.recorder.select_receipts([str(sub.submission_id)])  # type: ignore[attr-defined]
        if known:
            return _repeat(known[str(sub.submission_id)], body_sha256(sub))
        return ConcurrentUpdate("another submission changed this case first; retry")

    def _record_together(
        self, subs: Sequence[Envelope], by: list[Submitter | None]
    ) -> list[Outcome]:
        try:
            return self._decide_and_save(subs, by)
        except PersonKeyConflict:
            # Another process made a data key for one of these persons first;
            # a second run finds it. A second conflict is a lost race like any.
            return self._decide_and_save(subs, by)

    def _decide_and_save(
        self, subs: Sequence[Envelope], by: list[Submitter | None]
    ) -> list[Outcome]:
        ids = [str(sub.submission_id) for sub in subs]
        known: dict[str, Receipt] = self.app.recorder.select_receipts(ids)  # type: ignore[attr-defined]
        today = self.today()
        new = [sub for sid, sub in zip(ids, subs, strict=True) if sid not in known]
        work = open_workspace(self.app, new, today)
        outcomes: list[Outcome | None] = [None] * len(subs)
        fresh: dict[str, Receipt] = {}  # accepted in this batch, by submission id
        repeats: dict[int, str] = {}  # index -> digest, of in-batch repeats
        events: list[Any] = []  # in submission order
        for index, sub in enumerate(subs):
            digest = body_sha256(sub)
            sid = ids[index]
            if sid in known:
                outcomes[index] = _repeat(known[sid], digest)
            elif sid in fresh:
                repeats[index] = digest
            else:
                try:
                    _refuse_too_early(sub, self.earliest)
                    coded = district_coded(sub, self.districts)
                    stamp = _stamp(sub, today, by[index])
                    aggregate = apply_submission(coded, work, stamp)
                except (DomainError, ServiceError) as refusal:
                    outcomes[index] = refusal
                    continue
                fresh[sid] = _receipt(sub, aggregate, digest)
                events += work.collect_events(last=aggregate)
        work.store_new_keys()
        saved = self._save(events, list(fresh.values()))
        for index, sid in enumerate(ids):
            if index in repeats:
                outcomes[index] = _repeat(saved[sid], repeats[index])
            elif outcomes[index] is None:
                outcomes[index] = _accepted(saved[sid])
        assert all(o is not None for o in outcomes), "every submission gets an outcome"
        return self._recheck_refusals(ids, subs, outcomes)  # type: ignore[arg-type]

    def _recheck_refusals(
        self, ids: list[str], subs: Sequence[Envelope], outcomes: list[Outcome]
    ) -> list[Outcome]:
        """Before a refusal is answered, the receipts are read again: another
        process may have recorded the same submission after our first look,
        and the state we refused against is then its own fact (a repeat seen
        as ``transition_not_allowed``). A refusal of a recorded id is a repeat."""
        refused = [i for i, o in enumerate(outcomes) if not isinstance(o, Accepted)]
        if not refused:
            return outcomes
        try:
            known = self.app.recorder.select_receipts([ids[i] for i in refused])  # type: ignore[attr-defined]
        except PersistenceError:  # unsure now; what was saved stays answered
            for index in refused:
                outcomes[index] = StoreUnavailable(
                    "the event store stopped answering; retry later"
                )
            return outcomes
        for index in refused:
            if ids[index] in known:
                outcomes[index] = _repeat(known[ids[index]], body_sha256(subs[index]))
        return outcomes

    def _save(self, events: list[Any], receipts: list[Receipt]) -> dict[str, Receipt]:
        """Append ``events`` and their receipts in one transaction."""
        if not receipts:
            return {}
        for tries_left in (1, 0):
            try:
                recordings = self.app.save(*events, receipts=receipts)
                break
            except IntegrityError:
                raise
            except PersistenceError as error:
                if never_sent(error):
                    raise  # no connection was had: nothing was recorded
                settled = self._settle_doubt(receipts)
                if settled is not None:
                    return settled
                if not tries_left:
                    raise  # the store says it was not recorded: 503 is the truth
                # Not recorded, and the store answers again (a pooled
                # connection left broken by a restart, say): once more.
        position = {
            (
                r.domain_event.originator_id,
                r.domain_event.originator_version,
            ): r.notification.id
            for r in recordings
        }
        return {
            r.submission_id: replace(r, position=position[(r.originator_id, r.version)])
            for r in receipts
        }

    def _settle_doubt(self, receipts: list[Receipt]) -> dict[str, Receipt] | None:
        """After a commit that failed mid-way (the connection lost, maybe after
        the server committed): ask the store until it answers whether the
        transaction landed, by its receipts (all or none: one transaction).
        None: it did not. The callers wait meanwhile; their batch is being
        committed, so none of them may be told "not recorded" too early."""
        ids = [r.submission_id for r in receipts]
        log.warning(
            "a commit of %d submissions was cut off; asking the store", len(ids)
        )
        while True:
            try:
                found: dict[str, Receipt] = self.app.recorder.select_receipts(ids)  # type: ignore[attr-defined]
            except PersistenceError:
                time.sleep(_DOUBT_PAUSE_S)
                continue
            if not found:
                return None
            return {sid: found[sid] for sid in ids}


_DOUBT_PAUSE_S = 0.5


def _receipt(sub: Envelope, aggregate: Aggregate, digest: str) -> Receipt:
    """The receipt of ``sub``, whose last event is ``aggregate``'s newest."""
    return Receipt(
        submission_id=str(sub.submission_id),
        body_sha256=digest,
        aggregate_type="case" if hasattr(sub, "case_id") else "apartment",
        aggregate_key=sub.aggregate_key,
        originator_id=aggregate.id,
        version=aggregate.version,
    )


#: The envelope's dates, where they are (the payload's depend on the type).
_DATES = (("occurred_on",), ("payload", "lease_starts_on"),
          ("payload", "landlord_consented_on"))  # fmt: skip


def _refuse_too_early(sub: Envelope, earliest: date) -> None:
    """422 for any date of ``sub`` before ``earliest``, naming each."""
    problems = []
    for path in _DATES:
        value: Any = sub
        for name in path:
            value = getattr(value, name, None)
        if isinstance(value, date) and value < earliest:
            problem = f"must not be before {earliest.isoformat()}"
            problems.append({"loc": ".".join(path), "problem": problem})
    if problems:
        raise InvalidSubmission(
            f"{len(problems)} date(s) before the earliest day", details=problems
        )


def _stamp(sub: Envelope, today: date, by: Submitter | None) -> Stamp:
    return Stamp(
        submission_id=str(sub.submission_id),
        committee=sub.actor.committee,
        user=sub.actor.user,
        occurred_on=sub.occurred_on,
        today=today,
        submitted_by=by,
    )


def _accepted(receipt: Receipt, *, repeated: bool = False) -> Accepted:
    return Accepted(
        submission_id=receipt.submission_id,
        position=receipt.position,
        aggregate_type=receipt.aggregate_type,
        aggregate_id=receipt.aggregate_key,
        version=receipt.version,
        repeated=repeated,
    )


def _repeat(receipt: Receipt, digest: str) -> Outcome:
    if receipt.body_sha256 != digest:
        return SubmissionIdConflict(
            "this submission_id was used before with a different body",
            submission_id=receipt.submission_id,
        )
    return _accepted(receipt, repeated=True)
