"""The Merkle core against transparency-dev/merkle's published RFC 6962
vectors, the RFC's own edge cases, and properties over random trees: every
proof the code produces verifies, and any changed leaf or proof element makes
verification fail."""

from __future__ import annotations

import hashlib
import json
import random
import time
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from infra import merkle

VECTORS: dict[str, Any] = json.loads(
    (Path(__file__).parent.parent / "data" / "merkle_vectors.json").read_text()
)
LEAF_HASHES = [merkle.leaf_hash(bytes.fromhex(x)) for x in VECTORS["leaves"]]
ROOTS = [bytes.fromhex(x) for x in VECTORS["roots_by_size"]]
SOME_HASH = bytes.fromhex(
    "abacaba000000000000000000000000000000000000000000060061e00123456"
)


def unhex(values: list[str]) -> list[bytes]:
    return [bytes.fromhex(v) for v in values]


def flip(value: bytes, bit: int = 3) -> bytes:
    return bytes([value[0] ^ (1 << bit)]) + value[1:]


# -- the published vectors ---------------------------------------------------


def test_the_empty_root_is_the_hash_of_nothing() -> None:
    assert merkle.root([]) == hashlib.sha256(b"").digest() == ROOTS[0]
    assert merkle.CompactRange().root() == ROOTS[0]


@pytest.mark.parametrize("size", range(9))
def test_roots_of_every_size(size: int) -> None:
    tree = merkle.CompactRange()
    tree.extend(LEAF_HASHES[:size])
    assert merkle.root(LEAF_HASHES[:size]) == ROOTS[size]
    assert tree.root() == ROOTS[size]
    assert merkle.verify_leaves(LEAF_HASHES[:size], ROOTS[size])


def test_the_eight_leaf_root_is_the_published_one() -> None:
    assert merkle.root(LEAF_HASHES).hex() == (
        "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328"
    )


def test_roots_at_many_sizes_in_one_pass() -> None:
    assert merkle.roots_at(LEAF_HASHES, range(12)) == dict(enumerate(ROOTS))


def test_node_hashes_of_every_perfect_subtree() -> None:
    for level, nodes in enumerate(VECTORS["node_hashes_by_level"]):
        width = 1 << level
        for i, node in enumerate(unhex(nodes)):
            assert merkle.root(LEAF_HASHES[i * width : (i + 1) * width]) == node


@pytest.mark.parametrize("vector", VECTORS["inclusion_proofs"])
def test_published_inclusion_proofs(vector: dict[str, Any]) -> None:
    index, size = vector["leaf_index"], vector["tree_size"]
    proof = unhex(vector["proof"])
    assert merkle.inclusion_proof(index, LEAF_HASHES[:size]) == proof
    assert merkle.verify_inclusion(index, size, LEAF_HASHES[index], proof, ROOTS[size])
    for probe in corrupt_inclusion(index, size, proof, ROOTS[size], LEAF_HASHES[index]):
        assert not merkle.verify_inclusion(*probe[1:]), probe[0]


@pytest.mark.parametrize("vector", VECTORS["consistency_proofs"])
def test_published_consistency_proofs(vector: dict[str, Any]) -> None:
    m, n, proof = vector["first_size"], vector["second_size"], unhex(vector["proof"])
    assert merkle.consistency_proof(m, LEAF_HASHES[:n]) == proof
    assert merkle.verify_consistency(m, n, proof, ROOTS[m], ROOTS[n])
    if proof:
        for probe in corrupt_consistency(m, n, ROOTS[m], ROOTS[n], proof):
            assert not merkle.verify_consistency(*probe[1:]), probe[0]


def corrupt_inclusion(
    index: int, size: int, proof: list[bytes], root: bytes, leaf: bytes
) -> list[tuple[Any, ...]]:
    """transparency-dev's corruptions of a good inclusion proof."""
    probes: list[tuple[Any, ...]] = [
        ("index - 1", index - 1, size, leaf, proof, root),
        ("index + 1", index + 1, size, leaf, proof, root),
        ("index ^ 2", index ^ 2, size, leaf, proof, root),
        ("size * 2", index, size * 2, leaf, proof, root),
        ("size / 2", index, size // 2, leaf, proof, root),
        ("wrong leaf", index, size, b"WrongLeaf", proof, root),
        ("empty root", index, size, leaf, proof, ROOTS[0]),
        ("random root", index, size, leaf, proof, SOME_HASH),
        ("trailing garbage", index, size, leaf, [*proof, b""], root),
        ("trailing root", index, size, leaf, [*proof, root], root),
        ("preceding garbage", index, size, leaf, [b"", *proof], root),
        ("preceding root", index, size, leaf, [root, *proof], root),
    ]
    for i in range(len(proof)):
        bad = [*proof[:i], flip(proof[i]), *proof[i + 1 :]]
        probes.append((f"flipped proof[{i}]", index, size, leaf, bad, root))
    if proof:
        probes.append(("removed component", index, size, leaf, proof[:-1], root))
    if len(proof) > 1:
        inserted = [proof[0], SOME_HASH, *proof[1:]]
        probes.append(("inserted component", index, size, leaf, inserted, root))
    return probes


def corrupt_consistency(
    m: int, n: int, first: bytes, second: bytes, proof: list[bytes]
) -> list[tuple[Any, ...]]:
    """transparency-dev's corruptions of a good consistency proof."""
    probes: list[tuple[Any, ...]] = [
        ("m - 1", m - 1, n, proof, first, second),
        ("m + 1", m + 1, n, proof, first, second),
        ("m ^ 2", m ^ 2, n, proof, first, second),
        ("n * 2", m, n * 2, proof, first, second),
        ("n / 2", m, n // 2, proof, first, second),
        ("wrong first root", m, n, proof, b"WrongRoot", second),
        ("wrong second root", m, n, proof, first, b"WrongRoot"),
        ("swapped roots", m, n, proof, second, first),
        ("empty proof", m, n, [], first, second),
        ("trailing garbage", m, n, [*proof, b""], first, second),
        ("trailing first root", m, n, [*proof, first], first, second),
        ("trailing second root", m, n, [*proof, second], first, second),
        ("preceding garbage", m, n, [b"", *proof], first, second),
        ("preceding first root", m, n, [first, *proof], first, second),
        ("preceding second root", m, n, [second, *proof], first, second),
        ("preceding proof[0]", m, n, [proof[0], *proof], first, second),
        ("truncated", m, n, proof[:-1], first, second),
    ]
    for i in range(len(proof)):
        bad = [*proof[:i], flip(proof[i], 4), *proof[i + 1 :]]
        probes.append((f"flipped proof[{i}]", m, n, bad, first, second))
    return probes


# -- the RFC's edge cases ----------------------------------------------------


@pytest.mark.parametrize(("index", "size"), [(0, 0), (0, 1), (1, 0), (2, 1)])
def test_inclusion_in_impossible_or_wrong_trees_fails(index: int, size: int) -> None:
    for leaf, root in [(SOME_HASH, b""), (b"", ROOTS[0]), (SOME_HASH, ROOTS[0])]:
        assert not merkle.verify_inclusion(index, size, leaf, [], root)


def test_a_single_leaf_is_its_own_root_and_hashes_must_be_32_bytes() -> None:
    leaf = merkle.leaf_hash(b"data")
    assert merkle.verify_inclusion(0, 1, leaf, [], leaf)
    assert not merkle.verify_inclusion(0, 1, b"", [], leaf)
    assert not merkle.verify_inclusion(0, 1, leaf, [], b"")
    assert not merkle.verify_inclusion(0, 1, b"", [], b"")


@pytest.mark.parametrize(
    ("m", "n", "first", "second", "proof", "ok"),
    [
        (0, 0, b"r1", b"r2", [], False),
        (1, 1, b"r1", b"r2", [], False),
        (0, 0, b"r1", b"r1", [], True),
        (0, 1, b"r1", b"r2", [], True),
        (1, 1, b"r2", b"r2", [], True),
        (1, 0, b"r1", b"r2", [], False),
        (2, 1, b"r1", b"r2", [], False),
        (1, 2, b"r1", b"r2", [], False),
        (0, 0, ROOTS[0], b"r2", [], False),
        (1, 1, ROOTS[0], b"r2", [], False),
        (0, 0, ROOTS[0], ROOTS[0], [ROOTS[0]], False),
        (0, 1, ROOTS[0], ROOTS[0], [ROOTS[0]], False),
        (1, 1, ROOTS[0], ROOTS[0], [ROOTS[0]], False),
    ],
)
def test_consistency_edge_cases(
    m: int, n: int, first: bytes, second: bytes, proof: list[bytes], ok: bool
) -> None:
    assert merkle.verify_consistency(m, n, proof, first, second) is ok


def test_proofs_outside_the_tree_are_refused() -> None:
    with pytest.raises(merkle.ProofError):
        merkle.inclusion_proof(8, LEAF_HASHES)
    with pytest.raises(merkle.ProofError):
        merkle.consistency_proof(9, LEAF_HASHES)


# -- properties over random trees -----------------------------------------------

leaf_lists = st.lists(st.binary(max_size=12), min_size=1, max_size=70)


@st.composite
def tree_and_index(draw: st.DrawFn) -> tuple[list[bytes], int]:
    leaves = [merkle.leaf_hash(x) for x in draw(leaf_lists)]
    return leaves, draw(st.integers(0, len(leaves) - 1))


@settings(max_examples=150, deadline=None)
@given(tree_and_index(), st.data())
def test_every_inclusion_proof_verifies_and_any_change_breaks_it(
    case: tuple[list[bytes], int], data: st.DataObject
) -> None:
    leaves, index = case
    n, root = len(leaves), merkle.root(leaves)
    proof = merkle.inclusion_proof(index, leaves)
    assert merkle.verify_inclusion(index, n, leaves[index], proof, root)
    assert not merkle.verify_inclusion(index, n, flip(leaves[index]), proof, root)
    if proof:
        i = data.draw(st.integers(0, len(proof) - 1), label="proof element")
        bad = [*proof[:i], flip(proof[i]), *proof[i + 1 :]]
        assert not merkle.verify_inclusion(index, n, leaves[index], bad, root)
    # Any other leaf changed: the tree's proof no longer reaches the old root.
    j = data.draw(st.integers(0, n - 1), label="changed leaf")
    changed = [*leaves[:j], flip(leaves[j]), *leaves[j + 1 :]]
    new_proof = merkle.inclusion_proof(index, changed)
    assert not merkle.verify_inclusion(index, n, changed[index], new_proof, root)


@settings(max_examples=150, deadline=None)
@given(tree_and_index(), st.data())
def test_every_consistency_proof_verifies_and_any_change_breaks_it(
    case: tuple[list[bytes], int], data: st.DataObject
) -> None:
    leaves, _ = case
    n = len(leaves)
    m = data.draw(st.integers(0, n), label="first size")
    first, second = merkle.root(leaves[:m]), merkle.root(leaves)
    proof = merkle.consistency_proof(m, leaves)
    assert merkle.verify_consistency(m, n, proof, first, second)
    if proof:
        i = data.draw(st.integers(0, len(proof) - 1), label="proof element")
        bad = [*proof[:i], flip(proof[i]), *proof[i + 1 :]]
        assert not merkle.verify_consistency(m, n, bad, first, second)
    if m > 0:
        # History rewritten inside the first tree: the new tree is no extension.
        j = data.draw(st.integers(0, m - 1), label="rewritten leaf")
        rewritten = [*leaves[:j], flip(leaves[j]), *leaves[j + 1 :]]
        new_proof = merkle.consistency_proof(m, rewritten)
        assert not merkle.verify_consistency(
            m, n, new_proof, first, merkle.root(rewritten)
        )


@settings(max_examples=100, deadline=None)
@given(leaf_lists, st.lists(st.integers(0, 80), max_size=6))
def test_the_streaming_tree_agrees_with_the_level_by_level_root(
    data: list[bytes], sizes: list[int]
) -> None:
    leaves = [merkle.leaf_hash(x) for x in data]
    expected = {s: merkle.root(leaves[:s]) for s in sizes if s <= len(leaves)}
    assert merkle.roots_at(leaves, sizes) == expected
    tree = merkle.CompactRange()
    for count, leaf in enumerate(leaves, 1):
        tree.append(leaf)
        assert tree.size == count
    assert tree.root() == merkle.root(leaves)


@pytest.mark.parametrize("chunk_bits", [0, 1, 3])
def test_stored_subtrees_give_the_root_at_every_size(chunk_bits: int) -> None:
    leaves = [merkle.leaf_hash(i.to_bytes(4, "big")) for i in range(150)]
    tree = merkle.SubtreeHashes(chunk_bits)
    asked: list[int] = []

    def chunk_leaves(c: int) -> list[bytes]:
        asked.append(c)
        return leaves[c * tree.chunk : (c + 1) * tree.chunk]

    for count, leaf in enumerate(leaves, 1):
        tree.append(leaf)
        assert tree.root(count) == merkle.root(leaves[:count])
    for size in range(len(leaves) + 1):
        assert tree.root(size, chunk_leaves) == merkle.root(leaves[:size]), size
    inside_a_chunk = [
        s for s in range(150) if s % tree.chunk and s < 150 - 150 % tree.chunk
    ]
    assert asked == [s // tree.chunk for s in inside_a_chunk]
    with pytest.raises(merkle.ProofError):
        tree.root(151)
    if chunk_bits:
        with pytest.raises(merkle.ProofError, match="leaves of chunk"):
            tree.root(1)


@pytest.mark.parametrize("chunk_bits", [0, 2, 6])
def test_proofs_from_stored_subtrees_equal_the_reference(chunk_bits: int) -> None:
    """At random sizes, leaf indexes and first sizes (and at the edges of
    chunks and powers of two), the proofs made from stored subtree hashes
    are the reference proofs over every leaf, whether the stored tree ends
    at that size (the open chunk is kept) or goes on past it; and no proof
    reads more than two chunks again."""
    rng = random.Random(9162 + chunk_bits)
    leaves = [merkle.leaf_hash(i.to_bytes(4, "big")) for i in range(3000)]
    edges = [1, 2, 3, 63, 64, 65, 127, 128, 129, 1024, 2047, 2048, 2049, 2944, 3000]
    sizes = sorted({*edges, *(rng.randint(1, 3000) for _ in range(30))})
    whole = merkle.SubtreeHashes(chunk_bits)
    whole.extend(leaves)
    growing = merkle.SubtreeHashes(chunk_bits)
    for size in sizes:
        growing.extend(leaves[growing.size : size])
        indexes = {0, size - 1, rng.randrange(size), rng.randrange(size)}
        firsts = {0, 1, size, rng.randint(0, size), 1 << (size.bit_length() - 1)}
        for tree in (growing, whole):
            for index in indexes:
                subtree, read = subtrees(tree, leaves)
                expected = merkle.inclusion_proof(index, leaves[:size])
                assert merkle.inclusion_path(index, size, subtree) == expected
                assert subtree(index, index + 1) == leaves[index]
                assert subtree(0, size) == merkle.root(leaves[:size])
                assert len(read) <= 2, (size, index, read)
            for first in firsts:
                subtree, read = subtrees(tree, leaves)
                expected = merkle.consistency_proof(first, leaves[:size])
                assert merkle.consistency_path(first, size, subtree) == expected
                assert subtree(0, first) == merkle.root(leaves[:first])
                assert len(read) <= 2, (size, first, read)


def subtrees(
    tree: merkle.SubtreeHashes, leaves: list[bytes]
) -> tuple[merkle.SubtreeRoot, set[int]]:
    """``tree``'s range roots, and the chunks they read again."""
    read: set[int] = set()

    def chunk_leaves(c: int) -> list[bytes]:
        read.add(c)
        return leaves[c * tree.chunk : (c + 1) * tree.chunk]

    return lambda low, high: tree.range_root(low, high, chunk_leaves), read


def test_range_roots_outside_the_stored_tree_are_refused() -> None:
    tree = merkle.SubtreeHashes(2)
    tree.extend(LEAF_HASHES)
    assert tree.range_root(3, 3) == merkle.EMPTY_ROOT
    assert tree.range_root(2, 7, lambda c: LEAF_HASHES[c * 4 : c * 4 + 4]) == (
        merkle.root(LEAF_HASHES[2:7])
    )
    for low, high in [(-1, 2), (3, 2), (0, 9)]:
        with pytest.raises(merkle.ProofError):
            tree.range_root(low, high)
    with pytest.raises(merkle.ProofError, match="leaves of chunk 0"):
        tree.range_root(1, 2)


# -- speed -------------------------------------------------------------------------


def test_time_to_verify_100_000_leaves(capsys: pytest.CaptureFixture[str]) -> None:
    """Printed, not asserted: the machine decides."""
    entries = [i.to_bytes(8, "big") * 16 for i in range(100_000)]
    started = time.perf_counter()
    leaves = [merkle.leaf_hash(e) for e in entries]
    hashed = time.perf_counter()
    expected = merkle.root(leaves)
    assert merkle.verify_leaves(leaves, expected)
    verified = time.perf_counter()
    tree = merkle.CompactRange()
    tree.extend(leaves)
    assert tree.root() == expected
    streamed = time.perf_counter()
    stored = merkle.SubtreeHashes()
    stored.extend(leaves)
    kept = time.perf_counter()
    for size in range(99_000, 100_001, 10):
        assert stored.root(size, lambda c: leaves[c * 64 : c * 64 + 64])
    looked_up = (time.perf_counter() - kept) / 101
    assert stored.root(100_000) == expected
    proved = time.perf_counter()
    for index in range(0, 100_000, 997):
        subtree, _ = subtrees(stored, leaves)
        merkle.inclusion_path(index, 99_999, subtree)
        merkle.consistency_path(index + 1, 99_999, subtree)
    per_proof = (time.perf_counter() - proved) / 2 / len(range(0, 100_000, 997))
    with capsys.disabled():
        print(
            f"\n100,000 leaves: hashing {hashed - started:.3f} s, "
            f"verify_leaves {(verified - hashed) / 2:.3f} s per root, "
            f"streaming root {streamed - verified:.3f} s, stored subtrees "
            f"{kept - streamed:.3f} s, then {looked_up * 1e6:.0f} µs per root, "
            f"{per_proof * 1e6:.0f} µs per proof"
        )
