"""The case log as a Merkle tree (RFC 9162 §2.1): leaves, signed tree heads,
proofs, and the check that the store still holds what was signed.

**Leaves.** Every recorded event is one leaf, in log-position order, indexed
from 0 (PostgreSQL positions may have gaps; the index never does). Its bytes
are the sorted-key compact JSON (UTF-8) of the event *as stored*::

    {"originator_id": "<uuid>", "originator_version": 3, "position": 42,
     "state": "<base64 of the stored state bytes>", "topic": "domain.case:..."}

so a hash covers exactly what the store holds — personal data included as
stored (ciphertext once it is encrypted), which crypto-shredding leaves alone.

**Heads.** Signing reads the events after the last one already hashed,
appends their leaf hashes to ``audit_leaves`` (index, position, hash) and a
signed head to ``audit_tree_heads``, in one transaction of the
``audit_heads`` datastore. Both tables are append-only. The leaf table is how
``verify`` names the *first* position that no longer matches: it compares the
store's leaves with the leaves recorded at signing time, after checking the
recorded leaves against every signed root (so an edited leaf table is caught
too, and then the change is narrowed down to between two signed heads).

**Reports.** ``log_at(position)`` is the tree of the events up to a log
position (``tree_size``, ``root_hash``): what every oversight report carries
beside its ``as_of_position``, from ``services.audit.tree`` in a few lookups.
"""

from __future__ import annotations

import base64
import threading
from collections.abc import Callable, Iterator, Sequence
from dataclasses import astuple, dataclass, field
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from eventsourcing.persistence import Notification

from infra import merkle
from infra.head_mirror import Found, HeadMirror, newest, rollback
from infra.schema_lock import schema_lock
from infra.settings import Settings
from infra.signing import (
    AuditSigner,
    HeadCheck,
    SignedTreeHead,
    TreeHead,
    canonical_json,
    check_heads,
    key_id,
    load_or_create_signer,
    narrow_down,
    utc_timestamp,
)
from infra.store import CaseLog
from infra.views import Sql, ViewStore
from services.audit.leaves import leaf_pages
from services.audit.schema import tables
from services.audit.tree import LogTree, SignedTree, check_tail, paused_gc
from services.audit.verdict import Coverage

PAGE = 5000
_PG_LOCK = 0x42_4F_45_4E_44_45  # "BOENDE": one signer at a time per database


def signing_key_path(settings: Settings) -> Path:
    """Where the audit signing key lives (``signing_key_path`` or the data dir)."""
    return settings.signing_key_path or settings.data_dir / "keys" / "audit_signing.key"


def canonical_event(note: Notification) -> bytes:
    """The leaf bytes of one stored event (module docstring)."""
    return canonical_json(
        {
            "position": note.id,
            "originator_id": str(note.originator_id),
            "originator_version": note.originator_version,
            "topic": note.topic,
            "state": base64.b64encode(bytes(note.state)).decode("ascii"),
        }
    )


#: An ``on_progress``: told how many more events were read, page by page.
Told = Callable[[int], None] | None


def stored_events(
    app: CaseLog, after: int = 0, on_progress: Told = None
) -> Iterator[tuple[int, bytes]]:
    """``(position, leaf bytes)`` of every event after ``after``, in order."""
    # The same bytes as canonical_event, from raw columns (services.audit.leaves).
    return leaf_pages(app, after, PAGE, on_progress)


def stored_leaves(
    app: CaseLog, after: int = 0, on_progress: Told = None
) -> Iterator[tuple[int, bytes]]:
    """``(position, leaf hash)`` of every event after ``after``, in order."""
    for position, data in stored_events(app, after, on_progress):
        yield position, merkle.leaf_hash(data)


@dataclass
class VerifyReport:
    """What ``verify`` found; ``ok`` only when nothing is wrong."""

    event_count: int = 0
    heads_checked: int = 0
    signed_size: int = 0  # the largest tree_size any head claims
    problems: list[str] = field(default_factory=list)
    first_bad_position: int | None = None
    #: How many of the store's events the heads that verified cover.
    coverage: Coverage = field(default_factory=lambda: Coverage(0, 0))
    #: Where heads were found outside the store, and what could not be read.
    outside: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


class AuditLog:
    """Leaves, signed heads and proofs over one case log."""

    def __init__(
        self, settings: Settings, app: CaseLog, signer: AuditSigner | None = None
    ) -> None:
        self.settings = settings
        self.app = app
        self._signer = signer
        self._lock = threading.Lock()
        self._tree = merkle.CompactRange()  # of the recorded leaves, as last seen
        # API replicas starting at once on a fresh database: one at a time.
        with schema_lock(settings):
            self.store = ViewStore(settings, "audit_heads")
            with self.store.transaction(commit=True) as sql:
                for statement in tables(self.store.postgres):
                    sql.execute(statement)
        self.log_tree = LogTree(app, self.store, canonical_event)
        self.signed_tree = SignedTree(self.store)  # what proofs prove against
        self.mirror = HeadMirror(settings)  # every head, outside the store too

    @property
    def signer(self) -> AuditSigner:
        """The signing key, made on first use (production refuses a dev key)."""
        if self._signer is None:
            self._signer = load_or_create_signer(
                signing_key_path(self.settings), self.settings.environment
            )
        return self._signer

    def close(self) -> None:
        self.store.close()

    # -- signing -------------------------------------------------------------

    def sign_head(self, on_progress: Told = None) -> SignedTreeHead:
        """Hash the events recorded since the last head and sign the new root."""
        signer = self.signer
        with self._lock, self.store.transaction(commit=True) as sql:
            _one_signer_at_a_time(sql, self.store.postgres)
            size, last_position = _recorded_extent(sql)
            self._unchanged_since_last_head(sql, size, last_position)
            new = list(stored_leaves(self.app, last_position, on_progress))
            sql.executemany(
                "INSERT INTO audit_leaves (leaf_index, position, leaf_hash) "
                "VALUES (?, ?, ?)",
                [(size + i, p, h.hex()) for i, (p, h) in enumerate(new)],
            )
            tree = self._caught_up(sql, size + len(new))
            head = signer.sign(TreeHead(tree.size, tree.root().hex(), utc_timestamp()))
            self.mirror.write(head)  # before the commit: never a head without it
            sql.execute(
                f"INSERT INTO audit_tree_heads ({_HEAD_COLUMNS}) VALUES (?,?,?,?,?)",
                astuple(head),  # the columns' order
            )
        self._tree = tree
        return head

    def _unchanged_since_last_head(self, sql: Sql, size: int, last: int) -> None:
        """Refuse to sign over a log that changed under the last signed head
        (the store's, or the newest head file): ``tree.check_tail``."""
        stored = [Found(h, "in the store") for h in _newest_stored(sql)]
        latest = newest([*stored, *self.mirror.latest()])
        if latest is not None:
            root = lambda n: self._caught_up(sql, n).root()  # noqa: E731
            check_tail(self.app, sql, (size, last), latest, canonical_event, root)

    def _caught_up(self, sql: Sql, size: int) -> merkle.CompactRange:
        """The streaming tree of the first ``size`` recorded leaves, extended
        from the cached one (another process may have signed meanwhile)."""
        tree = self._tree.copy() if self._tree.size <= size else merkle.CompactRange()
        rows = sql.all(
            "SELECT leaf_hash FROM audit_leaves WHERE leaf_index >= ? "
            "AND leaf_index < ? ORDER BY leaf_index",
            [tree.size, size],
        )
        tree.extend(bytes.fromhex(row["leaf_hash"]) for row in rows)
        return tree

    # -- reading -------------------------------------------------------------

    def heads(self) -> list[SignedTreeHead]:
        """Every signed head, oldest first."""
        with self.store.transaction(commit=False) as sql:
            rows = sql.all(f"SELECT {_HEAD_COLUMNS} FROM audit_tree_heads ORDER BY id")
        return [_head(row) for row in rows]

    def latest_head(self, tree_size: int | None = None) -> SignedTreeHead | None:
        """The head signed last, or the last one signed at ``tree_size``."""
        at_size = tree_size is not None
        where, params = ("WHERE tree_size = ? ", [tree_size]) if at_size else ("", [])
        with self.store.transaction(commit=False) as sql:
            row = sql.one(
                f"SELECT {_HEAD_COLUMNS} FROM audit_tree_heads {where}"
                "ORDER BY id DESC LIMIT 1",
                params,
            )
        return _head(row) if row else None

    def recorded_leaves(self, size: int | None = None) -> list[tuple[int, bytes]]:
        """``(position, leaf hash)`` of the first ``size`` (default: all)
        leaves as recorded at signing time, in index order."""
        with self.store.transaction(commit=False) as sql:
            rows = sql.all(
                "SELECT position, leaf_hash FROM audit_leaves WHERE leaf_index < ? "
                "ORDER BY leaf_index",
                [(1 << 62) if size is None else size],
            )
        return [(int(r["position"]), bytes.fromhex(r["leaf_hash"])) for r in rows]

    def signed_size(self) -> int:
        """How many leaves are recorded: the size of the latest head's tree."""
        with self.store.transaction(commit=False) as sql:
            return _recorded_extent(sql)[0]

    def leaf_index(self, position: int) -> int | None:
        """The leaf index of the event at ``position``, once it has been signed."""
        with self.store.transaction(commit=False) as sql:
            row = sql.one(
                "SELECT leaf_index FROM audit_leaves WHERE position = ?", [position]
            )
        return int(row["leaf_index"]) if row else None

    def log_at(self, position: int) -> dict[str, Any]:
        """The log a report computed at ``position`` came from: ``tree_size``
        (the events up to ``position``) and ``root_hash``, hex. A few lookups
        (``services.audit.tree``), so every oversight answer can carry them.
        Nothing when this store has not reached ``position`` (read models fed
        from Kafka may be ahead of it): a shorter log's root would be wrong."""
        if position > (self.app.recorder.max_notification_id() or 0):
            return {}
        size, root = self.log_tree.at(position)
        return {"tree_size": size, "root_hash": root.hex()}

    def tree_at_position(self, position: int) -> dict[str, Any]:
        """:meth:`log_at`, and ``signed``: whether a head covers that tree
        yet (if not, a later head's consistency proof from ``tree_size``
        binds it)."""
        tree = self.log_at(position)
        if not tree:
            return tree
        return {**tree, "signed": tree["tree_size"] <= self.signed_size()}

    # -- checking ------------------------------------------------------------

    def verify(
        self,
        public_key: Ed25519PublicKey,
        extra_heads: Sequence[SignedTreeHead] = (),
        on_progress: Told = None,
    ) -> VerifyReport:
        """Recompute every leaf from the store and check it against every
        stored signed head and ``extra_heads`` (an auditor's own copies)."""
        mirrored = self.mirror.read(key_id(public_key))
        found = [Found(h, "in the store") for h in self.heads()] + mirrored.found
        found += [Found(h, "given to check") for h in extra_heads]
        heads = list(dict.fromkeys(f.head for f in found))  # each head once
        with paused_gc():  # a million leaves held: no collector passes over them
            store = list(stored_leaves(self.app, on_progress=on_progress))
            recorded = self.recorded_leaves()
        report = VerifyReport(event_count=len(store), heads_checked=len(heads))
        report.outside = mirrored.summary()
        report.signed_size = max((h.tree_size for h in heads), default=0)
        sizes = [h.tree_size for h in heads]
        roots = merkle.roots_at([h for _, h in store], sizes)  # the one Merkle pass
        checks = check_heads(public_key, heads, [h for _, h in store], roots)
        report.problems += [
            f"head {c.number} ({c.head.tree_size} events, {c.head.timestamp}): "
            f"{c.problem.replace('leaves', 'events')}"
            for c in checks
            if c.problem
        ]
        good = [c.head for c in checks if c.problem is None]
        report.coverage = Coverage.of(len(store), good, [p for p, _ in store])
        # A leaf table that is the store's first leaves has the store's roots.
        same = store[: len(recorded)] == recorded
        table_roots = (
            {size: root for size, root in roots.items() if size <= len(recorded)}
            if same
            else merkle.roots_at([h for _, h in recorded], sizes)
        )
        table = check_heads(public_key, heads, [h for _, h in recorded], table_roots)
        if all(c.problem is None for c in table if c.signature_ok):
            if not same:  # else every signed leaf is held as signed
                _locate(report, store, recorded)
        else:
            report.problems.append(
                "the leaf table no longer matches the signed heads: it was altered"
            )
        if report.problems and report.first_bad_position is None:
            _narrow(report, store, checks)
        if rolled_back := rollback(public_key, found, store, recorded):
            report.problems.insert(0, rolled_back)
        return report


def _locate(
    report: VerifyReport,
    store: Sequence[tuple[int, bytes]],
    recorded: Sequence[tuple[int, bytes]],
) -> None:
    """Name the first signed leaf the store no longer holds as signed."""
    for index, (position, signed) in enumerate(recorded):
        if index >= len(store):
            last = store[-1][0] if store else "no event"
            what = f"missing from the store, which now ends at position {last}"
            return _bad(report, position, f"the signed event is {what} (truncated)")
        held, leaf = store[index]
        if held > position:
            return _bad(report, position, "the signed event is missing (deleted)")
        if held < position:
            what = f"an event that was never signed comes before {position} (inserted)"
            return _bad(report, held, what)
        if leaf != signed:
            return _bad(report, position, "the stored event is not the one signed")
    return None


def _bad(report: VerifyReport, position: int, what: str) -> None:
    report.first_bad_position = position
    report.problems.insert(0, f"position {position}: {what}")


def _narrow(
    report: VerifyReport,
    store: Sequence[tuple[int, bytes]],
    checks: Sequence[HeadCheck],
) -> None:
    """Without a trusted leaf table, bracket the change between two heads."""
    span = narrow_down(checks)
    if span is None:
        return
    low, high = span
    first = store[low][0] if low < len(store) else "the end of the log"
    report.problems.append(
        f"the first change is among leaves {low}..{high - 1} "
        f"(from position {first}), between two signed heads"
    )


_HEAD_COLUMNS = "tree_size, root_hash, signed_at, key_id, signature"


def _head(row: dict[str, Any]) -> SignedTreeHead:
    return SignedTreeHead(
        int(row["tree_size"]),
        row["root_hash"],
        row["signed_at"],
        row["key_id"],
        row["signature"],
    )


def _one_signer_at_a_time(sql: Sql, postgres: bool) -> None:
    """Take the write lock first, so a signer in another process waits here
    instead of failing when it upgrades its read to a write."""
    if postgres:
        sql.execute("SELECT pg_advisory_xact_lock(?)", [_PG_LOCK])
    else:  # writes nothing (and fires no trigger), but locks the SQLite file
        sql.execute("UPDATE audit_tree_heads SET id = id WHERE 0")


def _newest_stored(sql: Sql) -> list[SignedTreeHead]:
    row = sql.one(
        f"SELECT {_HEAD_COLUMNS} FROM audit_tree_heads "
        "ORDER BY tree_size DESC, id DESC LIMIT 1"
    )
    return [_head(row)] if row else []


def _recorded_extent(sql: Sql) -> tuple[int, int]:
    """How many leaves are recorded, and the position of the last one."""
    row = sql.one(
        "SELECT leaf_index, position FROM audit_leaves ORDER BY leaf_index DESC LIMIT 1"
    )
    return (int(row["leaf_index"]) + 1, int(row["position"])) if row else (0, 0)
