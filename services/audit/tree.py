"""The Merkle tree of the case log at any position, cheaply: what every
oversight answer carries (``tree_size``, ``root_hash``) beside its
``as_of_position``.

The tree of the log up to position ``p`` is that of the events at positions
``1..p``: ``tree_size`` of them (PostgreSQL positions may have gaps, so it
can be less than ``p``), leaves in position order as in ``services.audit.log``.

A process keeps its own :class:`LogTree`: the stored subtree hashes of every
leaf it has read (``infra.merkle.SubtreeHashes``) and each leaf's position.
It is read once, then extended by the events recorded since it was last
asked, so a root costs a few lookups, not a pass over every leaf. Leaves come
from the leaf table written when heads are signed (``audit_leaves``) as far as
it goes, so a report's root is the signed one for a signed size; after that,
from the store, hashed as ``audit_log.canonical_event`` does.

Proofs are of the tree *as signed*, so they have a tree of their own,
:class:`SignedTree`: the same stored subtree hashes, of the leaf table only
(never the store). An inclusion or consistency proof is then a few dozen
lookups plus at most two 64-leaf chunks read again, not a pass over every
signed leaf.
"""

from __future__ import annotations

import gc
import threading
from array import array
from bisect import bisect_right
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from functools import cache

from eventsourcing.persistence import Notification

from infra import merkle
from infra.head_mirror import Found, signed_on
from infra.store import CaseLog
from infra.views import Sql, ViewStore

PAGE = 5000


@contextmanager
def paused_gc() -> Iterator[None]:
    """The cyclic garbage collector off while a pass holds a million small
    objects (leaves, hashes) that form no cycles: otherwise each collection
    walks them all again. Restored as it was, whatever happens."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


class LogTree:
    """The log's tree as far as this process has read it; thread-safe."""

    def __init__(
        self,
        app: CaseLog,
        leaf_table: ViewStore,
        leaf_bytes: Callable[[Notification], bytes],
    ) -> None:
        self.app = app
        self.leaf_table = leaf_table  # the audit_heads store: audit_leaves
        self.leaf_bytes = leaf_bytes  # an event's leaf (audit_log.canonical_event)
        self._lock = threading.Lock()
        self._hashes = merkle.SubtreeHashes()
        self._positions = array("q")  # of each leaf, by leaf index
        self._recorded = 0  # the first leaves, read from the leaf table

    def at(self, position: int) -> tuple[int, bytes]:
        """``(tree_size, root)`` of the log's events up to ``position``."""
        with self._lock:
            self._extend_to(position)
            size = bisect_right(self._positions, position)
            return size, self._hashes.root(size, self._chunk_leaves)

    def _extend_to(self, position: int) -> None:
        last = self._positions[-1] if self._positions else 0
        if position <= last:
            return
        if self._recorded == self._hashes.size:  # not yet past the leaf table
            for at, leaf in self._recorded_leaves(self._hashes.size, position):
                self._add(at, leaf)
                self._recorded += 1
            last = self._positions[-1] if self._positions else 0
        for at, leaf in self._stored_leaves(last, position):
            self._add(at, leaf)

    def _add(self, position: int, leaf: bytes) -> None:
        self._hashes.append(leaf)
        self._positions.append(position)

    def _recorded_leaves(
        self, first_index: int, last_position: int, count: int | None = None
    ) -> Iterator[tuple[int, bytes]]:
        """``(position, leaf hash)`` from the leaf table, from ``first_index``."""
        end = first_index + count if count is not None else 1 << 62
        while first_index < end:
            with self.leaf_table.transaction(commit=False) as sql:
                rows = sql.all(
                    "SELECT leaf_index, position, leaf_hash FROM audit_leaves "
                    "WHERE leaf_index >= ? AND leaf_index < ? AND position <= ? "
                    "ORDER BY leaf_index LIMIT ?",
                    [first_index, end, last_position, PAGE],
                )
            for row in rows:
                yield int(row["position"]), bytes.fromhex(row["leaf_hash"])
            if len(rows) < PAGE:
                return
            first_index = int(rows[-1]["leaf_index"]) + 1

    def _stored_leaves(
        self, after: int, last_position: int, count: int | None = None
    ) -> Iterator[tuple[int, bytes]]:
        """``(position, leaf hash)`` of the store's events after ``after``."""
        left = count if count is not None else 1 << 62
        while left > 0:
            limit = min(PAGE, left)
            page = self.app.recorder.select_notifications(
                after, limit, stop=last_position, inclusive_of_start=False
            )
            for note in page:
                yield note.id, merkle.leaf_hash(self.leaf_bytes(note))
            if len(page) < limit:
                return
            left -= limit
            after = page[-1].id

    def _chunk_leaves(self, chunk: int) -> list[bytes]:
        """The leaves of a complete chunk, read again as they were first read."""
        first = chunk * self._hashes.chunk
        end = first + self._hashes.chunk
        leaves = []
        if first < self._recorded:
            upto = min(end, self._recorded)
            recorded = self._recorded_leaves(first, 1 << 62, upto - first)
            leaves += [leaf for _, leaf in recorded]
        if len(leaves) < self._hashes.chunk:
            index = first + len(leaves)
            after = self._positions[index] - 1
            stored = self._stored_leaves(after, 1 << 62, end - index)
            leaves += [leaf for _, leaf in stored]
        return leaves


@dataclass(frozen=True)
class InclusionProof:
    """RFC 9162 §2.1.3: the leaf, its audit path, and the tree's root."""

    leaf: bytes
    path: list[bytes]
    root: bytes


@dataclass(frozen=True)
class ConsistencyProof:
    """RFC 9162 §2.1.4: both trees' roots and the proof between them."""

    first_root: bytes
    second_root: bytes
    path: list[bytes]


class SignedTree:
    """The tree of the leaves recorded when heads were signed
    (``audit_leaves``), as far as this process has read them; thread-safe.
    The table is append-only, so what was read stays right; it is extended
    by the leaves signed since, when a proof asks for a larger tree."""

    def __init__(self, leaf_table: ViewStore) -> None:
        self.leaf_table = leaf_table  # the audit_heads store: audit_leaves
        self._lock = threading.Lock()
        self._hashes = merkle.SubtreeHashes()

    def extend_to(self, size: int) -> None:
        """Read the recorded leaves up to ``size`` (the proofs do it too)."""
        with self._lock:
            self._extend_to(size)

    def inclusion(self, index: int, size: int) -> InclusionProof:
        """The audit path of leaf ``index`` in the signed tree of ``size``."""
        with self._lock:
            subtree = self._subtrees(size)
            path = merkle.inclusion_path(index, size, subtree)
            return InclusionProof(subtree(index, index + 1), path, subtree(0, size))

    def consistency(self, first_size: int, size: int) -> ConsistencyProof:
        """The proof that the signed tree of ``first_size`` is a prefix of
        that of ``size``."""
        with self._lock:
            subtree = self._subtrees(size)
            path = merkle.consistency_path(first_size, size, subtree)
            return ConsistencyProof(subtree(0, first_size), subtree(0, size), path)

    def _subtrees(self, size: int) -> merkle.SubtreeRoot:
        """Subtree roots of the leaf table's first ``size`` leaves (or more);
        a chunk whose leaves are needed is read once per proof."""
        self._extend_to(size)
        width = self._hashes.chunk

        @cache
        def chunk_leaves(chunk: int) -> list[bytes]:
            return self._leaves(chunk * width, (chunk + 1) * width)

        return lambda low, high: self._hashes.range_root(low, high, chunk_leaves)

    def _extend_to(self, size: int) -> None:
        while self._hashes.size < size:
            read = self._leaves(self._hashes.size, min(size, self._hashes.size + PAGE))
            if not read:
                raise merkle.ProofError(
                    f"the leaf table holds {self._hashes.size} leaves, not {size}"
                )
            self._hashes.extend(read)

    def _leaves(self, first: int, end: int) -> list[bytes]:
        """The recorded leaf hashes of indexes ``first..end-1``, as far as
        they go without a gap."""
        with self.leaf_table.transaction(commit=False) as sql:
            rows = sql.all(
                "SELECT leaf_index, leaf_hash FROM audit_leaves "
                "WHERE leaf_index >= ? AND leaf_index < ? ORDER BY leaf_index",
                [first, end],
            )
        found = []
        for expected, row in enumerate(rows, first):
            if int(row["leaf_index"]) != expected:
                break
            found.append(bytes.fromhex(row["leaf_hash"]))
        return found


#: Signed leaves compared with the store's events before the next head.
TAIL = 64


class LogChanged(RuntimeError):
    """The log no longer holds what the last head signed: no head is signed
    over it (re-signing is never automatic; the operator must look)."""


def check_tail(
    app: CaseLog,
    sql: Sql,
    signed: tuple[int, int],
    latest: Found,
    leaf_bytes: Callable[[Notification], bytes],
    root_at: Callable[[int], bytes],
) -> None:
    """Raise :class:`LogChanged` unless the signed leaves (``signed``: how
    many, and the last one's position) still match the store: no head
    (``latest``, the newest anywhere) covers more, the store holds as many
    events up to that position, its last ``TAIL`` of them are the ones
    signed, and the leaves' root at the head's size (``root_at``) is its."""
    (size, last), head, where = signed, latest.head, latest.where
    if head.tree_size > size:
        raise LogChanged(
            f"the head signed on {signed_on(head)} ({where}) covers "
            f"{head.tree_size} events, but only {size} are recorded as signed: "
            "the audit tables were rolled back or restored from an older backup?"
        )
    held = app.event_count(up_to=last)
    if held != size:
        raise LogChanged(
            f"the log holds {held} events up to position {last}, where {size} "
            "were signed: rolled back or restored from an older backup?"
        )
    tail = sql.all(
        "SELECT position, leaf_hash FROM audit_leaves WHERE leaf_index >= ? "
        "ORDER BY leaf_index",
        [size - TAIL],
    )
    notes = app.recorder.select_notifications(
        int(tail[0]["position"]) if tail else 0, TAIL, last
    )
    stored = {n.id: merkle.leaf_hash(leaf_bytes(n)).hex() for n in notes}
    for row in tail:
        if stored.get(int(row["position"])) != row["leaf_hash"]:
            raise LogChanged(
                f"the event at position {row['position']} is not the one "
                "signed: the log changed under the last signed head"
            )
    if root_at(head.tree_size).hex() != head.root_hash:
        raise LogChanged(
            f"the signed leaves' root at {head.tree_size} events is not that "
            f"of the head signed on {signed_on(head)} ({where}): altered"
        )
