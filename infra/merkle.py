"""The Merkle tree of RFC 9162 §2.1 (the same tree as RFC 6962), SHA-256.

Leaves are hashed as ``SHA-256(0x00 ‖ data)`` and inner nodes as
``SHA-256(0x01 ‖ left ‖ right)``; a tree of ``n`` leaves splits at the largest
power of two smaller than ``n``. Everything here works on *leaf hashes*, in
log order from index 0, so callers decide what the leaf bytes are.

Pure and small on purpose: the offline verifier of an audit bundle needs
nothing but this module, ``hashlib`` and ``cryptography``.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable, Sequence

HASH_SIZE = 32
EMPTY_ROOT = hashlib.sha256(b"").digest()  # MTH({}) = SHA-256()


class ProofError(ValueError):
    """A proof was asked for sizes or indexes the tree does not have."""


def leaf_hash(data: bytes) -> bytes:
    """``SHA-256(0x00 ‖ data)``: the hash of one leaf's bytes."""
    return hashlib.sha256(b"\x00" + data).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    """``SHA-256(0x01 ‖ left ‖ right)``: the hash of an inner node."""
    return hashlib.sha256(b"\x01" + left + right).digest()


def split_point(n: int) -> int:
    """The largest power of two smaller than ``n`` (``n`` ≥ 2)."""
    return 1 << ((n - 1).bit_length() - 1)


def root(leaf_hashes: Sequence[bytes]) -> bytes:
    """MTH of the leaves, level by level.

    Pairing neighbours and carrying an odd last node up unchanged builds
    exactly the RFC's left-heavy tree, and keeps the loop in C-speed list
    comprehensions: a million leaves take about a second.
    """
    if not leaf_hashes:
        return EMPTY_ROOT
    level = list(leaf_hashes)
    sha256 = hashlib.sha256
    while len(level) > 1:
        paired = [
            sha256(b"\x01" + left + right).digest()
            for left, right in zip(level[0::2], level[1::2], strict=False)
        ]
        if len(level) % 2:
            paired.append(level[-1])
        level = paired
    return level[0]


def verify_leaves(leaf_hashes: Sequence[bytes], expected_root: bytes) -> bool:
    """Whether these leaf hashes, all of them in order, have ``expected_root``:
    the fast path for checking a whole log against one signed head."""
    return root(leaf_hashes) == expected_root


class CompactRange:
    """A streaming tree: the roots of the perfect subtrees covering the leaves
    appended so far (at most one per bit of the size), so appending is O(1)
    amortised, memory is O(log n), and the root is available at any size.
    """

    def __init__(self) -> None:
        self.size = 0
        self._peaks: list[bytes] = []  # largest (leftmost) subtree first

    def append(self, leaf: bytes) -> None:
        """Add one leaf hash at index ``size``."""
        node = leaf
        size = self.size
        while size & 1:  # each trailing one bit is a full subtree to merge
            node = node_hash(self._peaks.pop(), node)
            size >>= 1
        self._peaks.append(node)
        self.size += 1

    def extend(self, leaves: Iterable[bytes]) -> None:
        for leaf in leaves:
            self.append(leaf)

    def root(self) -> bytes:
        """MTH of the leaves appended so far: fold the peaks right to left."""
        if not self._peaks:
            return EMPTY_ROOT
        node = self._peaks[-1]
        for peak in reversed(self._peaks[:-1]):
            node = node_hash(peak, node)
        return node

    def copy(self) -> CompactRange:
        clone = CompactRange()
        clone.size, clone._peaks = self.size, list(self._peaks)
        return clone


class SubtreeHashes:
    """The hashes of every complete, aligned subtree of ``2**chunk_bits``
    leaves or more, kept as leaves are appended, so that the root at any
    size up to ``size`` is at most one lookup per bit of the size plus the
    root of fewer than ``2**chunk_bits`` leaves.

    A tree of ``n`` leaves is its perfect subtrees, one per one bit of ``n``,
    largest (leftmost) first, each aligned to a multiple of its own size;
    its root folds their roots from the right. Those of a chunk or more are
    looked up here; the leaves of the last, incomplete chunk are kept too,
    and for a size inside an earlier chunk the caller passes that chunk's
    leaves. Memory: 64 bytes per chunk (a megabyte for a million leaves with
    64-leaf chunks), plus one chunk of leaves.
    """

    def __init__(self, chunk_bits: int = 6) -> None:
        self.chunk = 1 << chunk_bits
        self.size = 0
        self._levels: list[bytearray] = []  # [j]: subtrees of chunk * 2**j leaves
        self._open: list[bytes] = []  # the leaves after the last complete chunk

    def append(self, leaf: bytes) -> None:
        """Add one leaf hash at index ``size``."""
        self._open.append(leaf)
        self.size += 1
        if len(self._open) == self.chunk:
            self._push(root(self._open))
            self._open = []

    def extend(self, leaves: Iterable[bytes]) -> None:
        for leaf in leaves:
            self.append(leaf)

    def _push(self, node: bytes) -> None:
        """Record a complete chunk, and every subtree it completes."""
        for row in self._levels:
            row += node
            if len(row) // HASH_SIZE % 2:
                return
            node = node_hash(bytes(row[-2 * HASH_SIZE : -HASH_SIZE]), node)
        self._levels.append(bytearray(node))

    def root(
        self, size: int, chunk_leaves: Callable[[int], Sequence[bytes]] | None = None
    ) -> bytes:
        """MTH of the first ``size`` leaves. When ``size`` ends inside a
        complete chunk, ``chunk_leaves(c)`` must give chunk ``c``'s leaves
        (indexes ``c * chunk`` on)."""
        if not 0 <= size <= self.size:
            raise ProofError(f"no tree of {size} leaves inside one of {self.size}")
        chunks, rest = divmod(size, self.chunk)
        peaks, offset = [], 0
        for level in reversed(range(chunks.bit_length())):
            if chunks >> level & 1:
                peaks.append(self._stored(level, offset >> level))
                offset += 1 << level
        if rest:
            peaks.append(root(self._leaves(chunks, chunk_leaves)[:rest]))
        if not peaks:
            return EMPTY_ROOT
        node = peaks[-1]
        for peak in reversed(peaks[:-1]):
            node = node_hash(peak, node)
        return node

    def range_root(
        self,
        low: int,
        high: int,
        chunk_leaves: Callable[[int], Sequence[bytes]] | None = None,
    ) -> bytes:
        """MTH of the leaves ``low..high-1``: what a proof is made of. A
        complete aligned block of a chunk or more is one lookup; a range
        inside one chunk hashes that chunk's leaves (``chunk_leaves`` as for
        :meth:`root`); any other range splits as the RFC's tree does. The
        ranges of RFC 9162 proofs are aligned blocks or a block's right
        edge, so each is a few lookups and at most one partial chunk."""
        if not 0 <= low <= high <= self.size:
            raise ProofError(f"no leaves {low}..{high - 1} in a tree of {self.size}")
        width = high - low
        if width == 0:
            return EMPTY_ROOT
        if width >= self.chunk and width & (width - 1) == 0 and low % width == 0:
            return self._stored((width // self.chunk).bit_length() - 1, low // width)
        chunk = low // self.chunk
        if (high - 1) // self.chunk == chunk:
            start = chunk * self.chunk
            return root(self._leaves(chunk, chunk_leaves)[low - start : high - start])
        k = split_point(width)
        return node_hash(
            self.range_root(low, low + k, chunk_leaves),
            self.range_root(low + k, high, chunk_leaves),
        )

    def _stored(self, level: int, index: int) -> bytes:
        """The ``index``-th complete subtree of ``chunk * 2**level`` leaves."""
        at = index * HASH_SIZE
        return bytes(self._levels[level][at : at + HASH_SIZE])

    def _leaves(
        self, chunk: int, chunk_leaves: Callable[[int], Sequence[bytes]] | None
    ) -> Sequence[bytes]:
        """The leaves of chunk ``chunk``: kept, if it is the open one."""
        if chunk == self.size // self.chunk:
            return self._open
        if chunk_leaves is None:
            raise ProofError(f"the leaves of chunk {chunk} are needed")
        return chunk_leaves(chunk)


def roots_at(leaf_hashes: Iterable[bytes], sizes: Iterable[int]) -> dict[int, bytes]:
    """The root at each of ``sizes``, in one pass over the leaves; a size past
    the last leaf is left out of the answer."""
    wanted = sorted(set(sizes))
    found: dict[int, bytes] = {}
    tree = CompactRange()
    pending = iter(wanted)
    target = next(pending, None)
    while target == 0:
        found[0], target = EMPTY_ROOT, next(pending, None)
    for leaf in leaf_hashes:
        if target is None:
            break
        tree.append(leaf)
        while target == tree.size:
            found[target], target = tree.root(), next(pending, None)
    return found


SubtreeRoot = Callable[[int, int], bytes]  # (low, high) -> MTH(D[low:high])


def inclusion_proof(index: int, leaf_hashes: Sequence[bytes]) -> list[bytes]:
    """PATH(index, D[n]) of RFC 9162 §2.1.3.1, nearest sibling first, over
    every leaf (the reference: ``SubtreeHashes.range_root`` answers it in a
    few lookups through :func:`inclusion_path`)."""
    return inclusion_path(index, len(leaf_hashes), _slices_of(leaf_hashes))


def consistency_proof(first_size: int, leaf_hashes: Sequence[bytes]) -> list[bytes]:
    """PROOF(m, D[n]) of RFC 9162 §2.1.4.1 over every leaf; empty when
    ``m`` is 0 or ``n`` (the reference for :func:`consistency_path`)."""
    return consistency_path(first_size, len(leaf_hashes), _slices_of(leaf_hashes))


def inclusion_path(index: int, size: int, subtree: SubtreeRoot) -> list[bytes]:
    """PATH(index, D[size]), nearest sibling first, with each sibling's root
    from ``subtree(low, high)``: every range asked is an aligned complete
    subtree or the right edge of one."""
    if not 0 <= index < size:
        raise ProofError(f"leaf index {index} is not in a tree of {size} leaves")
    siblings: list[bytes] = []
    low, high = 0, size
    while high - low > 1:
        k = split_point(high - low)
        if index < low + k:
            siblings.append(subtree(low + k, high))
            high = low + k
        else:
            siblings.append(subtree(low, low + k))
            low += k
    return siblings[::-1]


def consistency_path(first_size: int, size: int, subtree: SubtreeRoot) -> list[bytes]:
    """PROOF(first_size, D[size]), with each node's root from ``subtree``
    (ranges as for :func:`inclusion_path`)."""
    if not 0 <= first_size <= size:
        raise ProofError(f"no tree of {first_size} leaves inside one of {size}")
    if first_size in (0, size):
        return []
    nodes: list[bytes] = []
    m, low, high, complete = first_size, 0, size, True
    while m != high - low:  # SUBPROOF(m, D[low:high], complete)
        k = split_point(high - low)
        if m <= k:
            nodes.append(subtree(low + k, high))
            high = low + k
        else:
            nodes.append(subtree(low, low + k))
            m, low, complete = m - k, low + k, False
    if not complete:
        nodes.append(subtree(low, high))
    return nodes[::-1]


def _slices_of(leaf_hashes: Sequence[bytes]) -> SubtreeRoot:
    return lambda low, high: root(leaf_hashes[low:high])


def verify_inclusion(
    index: int, tree_size: int, leaf: bytes, proof: Sequence[bytes], expected: bytes
) -> bool:
    """RFC 9162 §2.1.3.2: does ``proof`` put ``leaf`` at ``index`` under
    ``expected``, the root of a tree of ``tree_size`` leaves?"""
    if not 0 <= index < tree_size or not _hashes_ok([leaf, expected, *proof]):
        return False
    fn, sn, node = index, tree_size - 1, leaf
    for sibling in proof:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            node = node_hash(sibling, node)
            while not fn & 1 and fn != 0:
                fn, sn = fn >> 1, sn >> 1
        else:
            node = node_hash(node, sibling)
        fn, sn = fn >> 1, sn >> 1
    return sn == 0 and node == expected


def verify_consistency(
    first_size: int,
    second_size: int,
    proof: Sequence[bytes],
    first_root: bytes,
    second_root: bytes,
) -> bool:
    """RFC 9162 §2.1.4.2: is the tree of ``first_size`` leaves with
    ``first_root`` a prefix of the one of ``second_size`` with ``second_root``?
    Equal sizes need equal roots and an empty proof; an empty first tree is a
    prefix of every larger tree, with an empty proof."""
    if not 0 <= first_size <= second_size:
        return False
    if first_size == second_size:
        return not proof and first_root == second_root
    if first_size == 0:
        return not proof
    if not proof or not _hashes_ok([first_root, second_root, *proof]):
        return False
    path = list(proof)
    if first_size & (first_size - 1) == 0:  # a power of two: its root is a node
        path.insert(0, first_root)
    fn, sn = first_size - 1, second_size - 1
    while fn & 1:
        fn, sn = fn >> 1, sn >> 1
    fr = sr = path[0]
    for node in path[1:]:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            fr, sr = node_hash(node, fr), node_hash(node, sr)
            while not fn & 1 and fn != 0:
                fn, sn = fn >> 1, sn >> 1
        else:
            sr = node_hash(sr, node)
        fn, sn = fn >> 1, sn >> 1
    return fr == first_root and sr == second_root and sn == 0


def _hashes_ok(hashes: Iterable[bytes]) -> bool:
    return all(len(h) == HASH_SIZE for h in hashes)
