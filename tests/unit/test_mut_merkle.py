"""Every proof of every small tree verifies, and a wrong size is refused by
name (mutants of ``infra/merkle.py`` that random trees happen to miss: a
path that climbs the right edge of a tree twice)."""

from __future__ import annotations

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
