"""Every proof of every small tree verifies, and a wrong size is refused by
name (mutants of ``infra/merkle.py`` that random trees happen to miss: a
path that climbs the right edge of a tree twice)."""

from __future__ import annotations

from typing import Any

import pytest

from infra import merkle

LEAVES = [merkle.leaf_hash(bytes([i])) for i in range(40)]


@pytest.mark.parametrize("size", range(1, 40))
def test_every_inclusion_proof_of_a_small_tree_verifies(size: int) -> None:
    leaves = LEAVES[:size]
    top = merkle.root(leaves)
    for index in range(size):
        proof = merkle.inclusion_proof(index, leaves)
        assert merkle.verify_inclusion(index, size, leaves[index], proof, top), index


@pytest.mark.parametrize("second", range(2, 40))
def test_every_consistency_proof_of_a_small_tree_verifies(second: int) -> None:
    leaves = LEAVES[:second]
    top = merkle.root(leaves)
    for first in range(1, second):
        proof = merkle.consistency_proof(first, leaves)
        first_root = merkle.root(leaves[:first])
        assert merkle.verify_consistency(first, second, proof, first_root, top), first


def test_a_root_beyond_the_stored_leaves_is_refused_by_name() -> None:
    stored = merkle.SubtreeHashes(chunk_bits=2)
    stored.extend(LEAVES[:5])
    with pytest.raises(merkle.ProofError) as refusal:
        stored.root(6)
    assert str(refusal.value) == "no tree of 6 leaves inside one of 5"


# -- stored subtrees: every chunk size, every range -----------------------------------


def chunks_of(leaves: list[bytes], chunk: int) -> Any:
    return lambda c: leaves[c * chunk : (c + 1) * chunk]


@pytest.mark.parametrize("chunk_bits", [0, 1, 2, 3])
def test_stored_subtrees_give_every_root_and_range_of_the_leaves(
    chunk_bits: int,
) -> None:
    leaves = LEAVES[:37]
    stored = merkle.SubtreeHashes(chunk_bits=chunk_bits)
    assert (stored.chunk, stored.size) == (1 << chunk_bits, 0)
    assert stored.root(0) == merkle.EMPTY_ROOT
    stored.extend(leaves)
    assert stored.size == 37
    chunk_leaves = chunks_of(leaves, stored.chunk)
    for size in range(38):
        assert stored.root(size, chunk_leaves) == merkle.root(leaves[:size]), size
    for low in range(38):
        for high in range(low, 38):
            expected = merkle.root(leaves[low:high])
            got = stored.range_root(low, high, chunk_leaves)
            assert got == expected, (low, high)


@pytest.mark.parametrize("chunk_bits", [0, 2])
def test_proofs_from_stored_subtrees_are_the_reference_ones(chunk_bits: int) -> None:
    leaves = LEAVES[:29]
    stored = merkle.SubtreeHashes(chunk_bits=chunk_bits)
    stored.extend(leaves)
    chunk_leaves = chunks_of(leaves, stored.chunk)

    def subtree(low: int, high: int) -> bytes:
        return stored.range_root(low, high, chunk_leaves)

    for size in range(1, 30):
        for index in range(size):
            reference = merkle.inclusion_proof(index, leaves[:size])
            assert merkle.inclusion_path(index, size, subtree) == reference
        for first in range(size + 1):
            reference = merkle.consistency_proof(first, leaves[:size])
            assert merkle.consistency_path(first, size, subtree) == reference


def test_the_open_chunk_needs_no_leaves_from_the_caller() -> None:
    stored = merkle.SubtreeHashes(chunk_bits=2)
    stored.extend(LEAVES[:6])  # one complete chunk, two leaves open
    assert stored.root(6) == merkle.root(LEAVES[:6])
    assert stored.root(4) == merkle.root(LEAVES[:4])
    assert stored.range_root(4, 6) == merkle.root(LEAVES[4:6])
    with pytest.raises(merkle.ProofError) as refusal:
        stored.root(3)
    assert str(refusal.value) == "the leaves of chunk 0 are needed"


def test_refusals_name_what_was_asked() -> None:
    stored = merkle.SubtreeHashes(chunk_bits=1)
    stored.extend(LEAVES[:5])
    for low, high in [(-1, 2), (3, 2), (0, 6)]:
        with pytest.raises(merkle.ProofError) as refusal:
            stored.range_root(low, high)
        assert str(refusal.value) == f"no leaves {low}..{high - 1} in a tree of 5"
    with pytest.raises(merkle.ProofError) as refusal:
        stored.root(-1)
    assert str(refusal.value) == "no tree of -1 leaves inside one of 5"
    for index in (-1, 5):
        with pytest.raises(merkle.ProofError) as refusal:
            merkle.inclusion_path(index, 5, stored.range_root)
        assert str(refusal.value) == f"leaf index {index} is not in a tree of 5 leaves"
    for first in (-1, 6):
        with pytest.raises(merkle.ProofError) as refusal:
            merkle.consistency_path(first, 5, stored.range_root)
        assert str(refusal.value) == f"no tree of {first} leaves inside one of 5"


def test_a_copy_of_a_compact_range_goes_on_alone() -> None:
    tree = merkle.CompactRange()
    tree.extend(LEAVES[:5])
    clone = tree.copy()
    assert (clone.size, clone.root()) == (5, merkle.root(LEAVES[:5]))
    clone.extend(LEAVES[5:9])
    assert (clone.size, clone.root()) == (9, merkle.root(LEAVES[:9]))
    assert (tree.size, tree.root()) == (5, merkle.root(LEAVES[:5]))
    tree.append(LEAVES[20])
    assert clone.root() == merkle.root(LEAVES[:9])


def test_roots_at_several_sizes_in_one_pass() -> None:
    leaves = LEAVES[:10]
    assert merkle.roots_at(leaves, [5, 3, 0, 5]) == {
        0: merkle.EMPTY_ROOT,
        3: merkle.root(leaves[:3]),
        5: merkle.root(leaves[:5]),
    }
    assert merkle.roots_at(leaves, [10, 11]) == {10: merkle.root(leaves)}
    assert merkle.roots_at(leaves, []) == {}


def test_the_hashes_are_rfc_9162s() -> None:
    """Known answers, from the RFC's definitions written out with hashlib:
    an auditor's own verifier computes the same."""
    import hashlib

    def sha(data: bytes) -> bytes:
        return hashlib.sha256(data).digest()

    assert sha(b"") == merkle.EMPTY_ROOT
    assert merkle.leaf_hash(b"") == bytes.fromhex(
        "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d"
    )
    a, b = merkle.leaf_hash(b"a"), merkle.leaf_hash(b"b")
    assert a == sha(b"\x00a")
    assert merkle.node_hash(a, b) == sha(b"\x01" + a + b)
    assert merkle.root([a, b, a]) == sha(b"\x01" + sha(b"\x01" + a + b) + a)


def test_stored_subtrees_keep_64_leaf_chunks_by_default() -> None:
    """The docstring's memory figure (a megabyte for a million leaves)."""
    assert merkle.SubtreeHashes().chunk == 64
