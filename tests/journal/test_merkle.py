"""Tests of the journal's Merkle core against the Certificate Transparency test vectors and RFC 9162 properties."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from fintech_zone.journal.merkle import (
    EMPTY_ROOT,
    HASH_SIZE,
    MemoryTree,
    consistency_proof,
    inclusion_proof,
    leaf_hash,
    node_hash,
    root,
    verify_consistency,
    verify_inclusion,
)

# ---------------------------------------------------------------------------------------------------------------
# Known-answer vectors, transcribed from the certificate-transparency project's test data:
#   google/certificate-transparency, cpp/merkletree/merkle_tree_test.cc
#     (kSHA256EmptyTreeHash, kInputs, kSHA256Roots, kSHA256Paths, kSHA256Proofs)
#   identical values in google/certificate-transparency-go, merkletree/merkle_verifier_test.go
#     (getInputs, getRoots, getInclusionTestVector, getConsistencyProofs).
# In those files leaf numbers in the path vectors are 1-based; here they are converted to 0-based indices.
# ---------------------------------------------------------------------------------------------------------------
CT_EMPTY_TREE_HASH = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"

CT_INPUTS = [
    "",
    "00",
    "10",
    "2021",
    "3031",
    "40414243",
    "5051525354555657",
    "606162636465666768696a6b6c6d6e6f",
]

# CT_ROOTS[n - 1] is the root of the tree of the first n inputs.
CT_ROOTS = [
    "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
    "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
    "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
    "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
    "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
    "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
    "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
    "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
]

# (0-based leaf index, tree size, inclusion proof); CT's {leaf 1, 1, 8, 6, 3, 2} -> index {0, 0, 5, 2, 1}.
CT_INCLUSION = [
    (0, 1, []),
    (
        0,
        8,
        [
            "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4",
        ],
    ),
    (
        5,
        8,
        [
            "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
            "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
            "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
        ],
    ),
    (2, 3, ["fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125"]),
    (
        1,
        5,
        [
            "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
        ],
    ),
]

# (old size, new size, consistency proof)
CT_CONSISTENCY = [
    (1, 1, []),
    (
        1,
        8,
        [
            "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4",
        ],
    ),
    (
        6,
        8,
        [
            "0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
            "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
            "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
        ],
    ),
    (
        2,
        5,
        [
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
        ],
    ),
]


def _h(hexes: list[str]) -> list[bytes]:
    return [bytes.fromhex(x) for x in hexes]


CT_LEAVES = [leaf_hash(bytes.fromhex(x)) for x in CT_INPUTS]


@pytest.fixture
def ct_tree() -> MemoryTree:
    return MemoryTree(CT_LEAVES)


# --- known answers ---------------------------------------------------------------------------------------------


def test_empty_root_is_the_ct_empty_tree_hash() -> None:
    assert EMPTY_ROOT.hex() == CT_EMPTY_TREE_HASH
    assert root([]) == EMPTY_ROOT
    assert MemoryTree().root() == EMPTY_ROOT


@pytest.mark.parametrize("size", range(1, 9))
def test_roots_match_ct_vectors(size: int, ct_tree: MemoryTree) -> None:
    assert root(CT_LEAVES[:size]).hex() == CT_ROOTS[size - 1]
    assert ct_tree.root(size).hex() == CT_ROOTS[size - 1]
    # Built leaf by leaf, the tree's current root is the same.
    assert MemoryTree(CT_LEAVES[:size]).root().hex() == CT_ROOTS[size - 1]


@pytest.mark.parametrize(("index", "size", "expected"), CT_INCLUSION)
def test_inclusion_proofs_match_ct_vectors(index: int, size: int, expected: list[str], ct_tree: MemoryTree) -> None:
    proof = ct_tree.inclusion_proof(index, size)
    assert [p.hex() for p in proof] == expected
    assert verify_inclusion(CT_LEAVES[index], index, size, _h(expected), bytes.fromhex(CT_ROOTS[size - 1]))


@pytest.mark.parametrize(("old", "new", "expected"), CT_CONSISTENCY)
def test_consistency_proofs_match_ct_vectors(old: int, new: int, expected: list[str], ct_tree: MemoryTree) -> None:
    proof = ct_tree.consistency_proof(old, new)
    assert [p.hex() for p in proof] == expected
    old_root, new_root = bytes.fromhex(CT_ROOTS[old - 1]), bytes.fromhex(CT_ROOTS[new - 1])
    assert verify_consistency(old, new, old_root, new_root, _h(expected))


@pytest.mark.parametrize(("index", "size", "expected"), [v for v in CT_INCLUSION if v[2]])
def test_ct_inclusion_vectors_reject_tampering(index: int, size: int, expected: list[str]) -> None:
    # The negative cases of CT's VerifierCheck.
    proof, good_root, leaf = _h(expected), bytes.fromhex(CT_ROOTS[size - 1]), CT_LEAVES[index]
    empty = bytes.fromhex(CT_EMPTY_TREE_HASH)
    for wrong_index in (index - 1, index + 1, index ^ 2):
        if wrong_index >= 0:
            assert not verify_inclusion(leaf, wrong_index, size, proof, good_root)
    assert not verify_inclusion(leaf, index, size * 2, proof, good_root)
    assert not verify_inclusion(leaf, index, size // 2, proof, good_root)
    assert not verify_inclusion(leaf_hash(b"WrongLeaf"), index, size, proof, good_root)
    assert not verify_inclusion(leaf, index, size, proof, empty)
    for j in range(len(proof)):
        assert not verify_inclusion(leaf, index, size, [*proof[:j], empty, *proof[j + 1 :]], good_root)
    for bad in ([*proof, b""], [*proof, good_root], proof[:-1], [b"", *proof], [good_root, *proof]):
        assert not verify_inclusion(leaf, index, size, bad, good_root)


@pytest.mark.parametrize(("old", "new", "expected"), [v for v in CT_CONSISTENCY if v[2]])
def test_ct_consistency_vectors_reject_tampering(old: int, new: int, expected: list[str]) -> None:
    # The negative cases of CT's VerifierConsistencyCheck.
    proof = _h(expected)
    r1, r2 = bytes.fromhex(CT_ROOTS[old - 1]), bytes.fromhex(CT_ROOTS[new - 1])
    empty = bytes.fromhex(CT_EMPTY_TREE_HASH)
    for wrong_old in (old - 1, old + 1, old ^ 2):
        assert not verify_consistency(wrong_old, new, r1, r2, proof)
    assert not verify_consistency(old, new * 2, r1, r2, proof)
    assert not verify_consistency(old, new // 2, r1, r2, proof)
    assert not verify_consistency(old, new, r1, b"WrongRoot", proof)
    assert not verify_consistency(old, new, b"WrongRoot", r2, proof)
    assert not verify_consistency(old, new, r2, r1, proof)
    assert not verify_consistency(old, new, r1, r2, [])
    for j in range(len(proof)):
        assert not verify_consistency(old, new, r1, r2, [*proof[:j], empty, *proof[j + 1 :]])
    for bad in ([*proof, b""], [*proof, proof[-1]], proof[:-1], [b"", *proof], [proof[0], *proof]):
        assert not verify_consistency(old, new, r1, r2, bad)


def test_ct_consistency_edge_cases() -> None:
    # CT's "snapshots that are always consistent" / "time travel" / "roots don't match" cases, with our stricter
    # rule that a claimed empty tree must have EMPTY_ROOT.
    assert verify_consistency(0, 0, EMPTY_ROOT, EMPTY_ROOT, [])
    assert verify_consistency(0, 1, EMPTY_ROOT, CT_LEAVES[0], [])
    r1 = bytes.fromhex(CT_ROOTS[0])
    assert verify_consistency(1, 1, r1, r1, [])
    assert not verify_consistency(1, 0, r1, EMPTY_ROOT, [])
    assert not verify_consistency(2, 1, r1, r1, [])
    assert not verify_consistency(1, 2, r1, bytes.fromhex(CT_ROOTS[1]), [])
    assert not verify_consistency(1, 1, r1, bytes.fromhex(CT_ROOTS[1]), [])
    assert not verify_consistency(0, 0, EMPTY_ROOT, EMPTY_ROOT, [EMPTY_ROOT])
    assert not verify_consistency(0, 1, EMPTY_ROOT, r1, [EMPTY_ROOT])
    assert not verify_consistency(1, 1, r1, r1, [r1])


# --- hashing and second-preimage safety ------------------------------------------------------------------------


def test_leaf_and_node_hashes_are_domain_separated() -> None:
    a, b = leaf_hash(b"a"), leaf_hash(b"b")
    parent = node_hash(a, b)
    # Presenting the two children as one 64-byte "leaf" gives a different hash than the node they form, so a
    # 2-leaf tree's root cannot be passed off as a 1-leaf tree holding forged data.
    assert leaf_hash(a + b) != parent
    assert root([a, b]) == parent
    assert not verify_inclusion(leaf_hash(a + b), 0, 1, [], parent)
    assert len(parent) == len(a) == HASH_SIZE


# --- malformed input -------------------------------------------------------------------------------------------


def test_malformed_inclusion_returns_false() -> None:
    tree = MemoryTree(CT_LEAVES)
    r, proof, leaf = tree.root(), tree.inclusion_proof(3), CT_LEAVES[3]
    assert verify_inclusion(leaf, 3, 8, proof, r)
    assert not verify_inclusion(leaf, 8, 8, proof, r)  # index == size
    assert not verify_inclusion(leaf, 9, 8, proof, r)
    assert not verify_inclusion(leaf, 0, 0, [], EMPTY_ROOT)  # nothing is in an empty tree
    assert not verify_inclusion(leaf[:-1], 3, 8, proof, r)  # short leaf hash
    assert not verify_inclusion(leaf, 3, 8, proof, r + b"\x00")  # long root
    assert not verify_inclusion(leaf, 3, 8, [*proof[:-1], proof[-1][:16]], r)  # short element
    assert not verify_inclusion(leaf, 3, 8, [], r)
    assert not verify_inclusion(leaf, 3, 8, [*proof, proof[0]], r)
    assert not verify_inclusion(leaf, 0, 1, [leaf], leaf)  # size 1 takes no proof
    assert verify_inclusion(leaf, 0, 1, [], leaf)
    assert not verify_inclusion(leaf, 0, 2**70, proof, r)  # absurd but non-negative sizes are just False


def test_malformed_consistency_returns_false() -> None:
    tree = MemoryTree(CT_LEAVES)
    r3, r8, proof = tree.root(3), tree.root(8), tree.consistency_proof(3, 8)
    assert verify_consistency(3, 8, r3, r8, proof)
    assert not verify_consistency(8, 3, r8, r3, proof)  # old > new
    assert not verify_consistency(0, 8, r3, r8, [])  # a claimed empty tree whose root is not EMPTY_ROOT
    assert not verify_consistency(0, 8, EMPTY_ROOT, r8, proof)  # nothing to prove from empty
    assert not verify_consistency(8, 8, r8, r8, proof)  # nothing to prove between equal sizes
    assert not verify_consistency(3, 8, r3[:31], r8, proof)
    assert not verify_consistency(3, 8, r3, r8 + b"\x00", proof)
    assert not verify_consistency(3, 8, r3, r8, [proof[0][:1], *proof[1:]])
    assert not verify_consistency(3, 8, r3, r8, proof[:-1])
    assert not verify_consistency(3, 8, r3, r8, [*proof, proof[-1]])
    assert not verify_consistency(3, 2**70, r3, r8, proof)


def test_negative_arguments_raise() -> None:
    leaf = CT_LEAVES[0]
    with pytest.raises(ValueError):
        verify_inclusion(leaf, -1, 1, [], leaf)
    with pytest.raises(ValueError):
        verify_inclusion(leaf, 0, -1, [], leaf)
    with pytest.raises(ValueError):
        verify_consistency(-1, 1, leaf, leaf, [])
    with pytest.raises(ValueError):
        verify_consistency(0, -1, EMPTY_ROOT, EMPTY_ROOT, [])


def test_proof_generation_rejects_impossible_requests() -> None:
    tree = MemoryTree(CT_LEAVES)
    with pytest.raises(ValueError):
        tree.inclusion_proof(8)
    with pytest.raises(ValueError):
        tree.inclusion_proof(0, 9)
    with pytest.raises(ValueError):
        inclusion_proof(0, 0, tree.subtree)
    with pytest.raises(ValueError):
        consistency_proof(5, 4, tree.subtree)
    with pytest.raises(ValueError):
        tree.consistency_proof(1, 9)
    with pytest.raises(ValueError):
        tree.subtree(3, 3)
    with pytest.raises(ValueError):
        tree.root(9)
    with pytest.raises(ValueError):
        tree.append(b"short")
    assert tree.consistency_proof(0) == []
    assert tree.consistency_proof(8) == []


def test_size_is_bound_by_the_root_not_the_inclusion_proof() -> None:
    # Documented limit (module notes): leaf 0's path in a 3-leaf tree has the same shape as in a 4-leaf tree, so it
    # verifies against the 3-leaf root under either claimed size. Size and root must come from one tree head.
    tree = MemoryTree(CT_LEAVES)
    proof = tree.inclusion_proof(0, 3)
    assert verify_inclusion(CT_LEAVES[0], 0, 4, proof, tree.root(3))
    assert not verify_inclusion(CT_LEAVES[0], 0, 4, proof, tree.root(4))


# --- properties ------------------------------------------------------------------------------------------------


def _reference_mth(leaves: list[bytes]) -> bytes:
    """RFC 9162 §2.1.1 written as literally as possible, as an oracle for the stored tree."""
    if not leaves:
        return EMPTY_ROOT
    if len(leaves) == 1:
        return leaves[0]
    k = 1
    while k * 2 < len(leaves):
        k *= 2
    return node_hash(_reference_mth(leaves[:k]), _reference_mth(leaves[k:]))


def _leaves(n: int) -> list[bytes]:
    return [leaf_hash(i.to_bytes(4, "big")) for i in range(n)]


def _flips(proof: list[bytes]) -> list[list[bytes]]:
    """Every proof with exactly one byte of one element changed (all bits flipped)."""
    out = []
    for j, element in enumerate(proof):
        for k in range(len(element)):
            changed = element[:k] + bytes([element[k] ^ 0xFF]) + element[k + 1 :]
            out.append([*proof[:j], changed, *proof[j + 1 :]])
    return out


sizes = st.integers(min_value=1, max_value=300)


@settings(max_examples=60, deadline=None)
@given(data=st.data(), n=sizes)
def test_inclusion_proofs_verify_and_tampering_fails(data: st.DataObject, n: int) -> None:
    leaves = _leaves(n)
    tree = MemoryTree(leaves)
    size = data.draw(st.integers(min_value=1, max_value=n), label="size")
    index = data.draw(st.integers(min_value=0, max_value=size - 1), label="index")
    r = tree.root(size)
    assert r == root(leaves[:size]) == _reference_mth(leaves[:size])
    proof = tree.inclusion_proof(index, size)
    assert verify_inclusion(leaves[index], index, size, proof, r)
    for bad in _flips(proof):
        assert not verify_inclusion(leaves[index], index, size, bad, r)
    other_index = data.draw(st.integers(min_value=0, max_value=n), label="other_index")
    if other_index != index:
        assert not verify_inclusion(leaves[index], other_index, size, proof, r)
    # A different size with that size's own root (the way a tree head would state it) never verifies.
    other_size = data.draw(st.integers(min_value=1, max_value=n), label="other_size")
    if other_size != size:
        assert not verify_inclusion(leaves[index], index, other_size, proof, tree.root(other_size))
    for wrong_size in (size * 2, size // 2):
        assert not verify_inclusion(leaves[index], index, wrong_size, proof, r)


@settings(max_examples=60, deadline=None)
@given(data=st.data(), n=sizes)
def test_every_inclusion_proof_of_a_tree_verifies(data: st.DataObject, n: int) -> None:
    leaves = _leaves(n)
    tree = MemoryTree(leaves)
    size = data.draw(st.integers(min_value=1, max_value=n), label="size")
    r = tree.root(size)
    for index in range(size):
        assert verify_inclusion(leaves[index], index, size, tree.inclusion_proof(index, size), r)


@settings(max_examples=80, deadline=None)
@given(data=st.data(), n=sizes)
def test_consistency_proofs_verify_and_tampering_fails(data: st.DataObject, n: int) -> None:
    leaves = _leaves(n)
    tree = MemoryTree(leaves)
    new = data.draw(st.integers(min_value=1, max_value=n), label="new")
    old = data.draw(st.integers(min_value=1, max_value=new), label="old")
    r_old, r_new = tree.root(old), tree.root(new)
    proof = tree.consistency_proof(old, new)
    assert verify_consistency(old, new, r_old, r_new, proof)
    assert verify_consistency(0, new, EMPTY_ROOT, r_new, [])
    if old == new:
        assert proof == []
        return
    for bad in _flips(proof):
        assert not verify_consistency(old, new, r_old, r_new, bad)
    assert not verify_consistency(old, new, r_new, r_old, proof)
    assert not verify_consistency(old, new, r_old, r_new, proof[:-1])
    assert not verify_consistency(old, new, r_old, r_new, [*proof, proof[-1]])
    # Wrong sizes, each with its own true root: the proof is for (old, new) only.
    other_old = data.draw(st.integers(min_value=1, max_value=n), label="other_old")
    if other_old != old and other_old <= new:
        assert not verify_consistency(other_old, new, tree.root(other_old), r_new, proof)
    other_new = data.draw(st.integers(min_value=1, max_value=n), label="other_new")
    if other_new != new and other_new >= old:
        assert not verify_consistency(old, other_new, r_old, tree.root(other_new), proof)
    for wrong_new in (new * 2, new // 2):
        assert not verify_consistency(old, wrong_new, r_old, r_new, proof)


def _read_bound(n: int) -> int:
    # One read per level of the ragged right edge at most.
    return max(1, n.bit_length())


@settings(max_examples=60, deadline=None)
@given(data=st.data(), n=sizes)
def test_proofs_cost_logarithmic_reads(data: st.DataObject, n: int) -> None:
    tree = MemoryTree(_leaves(n))
    size = data.draw(st.integers(min_value=1, max_value=n), label="size")
    old = data.draw(st.integers(min_value=1, max_value=size), label="old")
    index = data.draw(st.integers(min_value=0, max_value=size - 1), label="index")
    per_call: list[int] = []

    def counting(start: int, end: int) -> bytes:
        before = tree.reads
        h = tree.subtree(start, end)
        per_call.append(tree.reads - before)
        return h

    tree.reads = 0
    inclusion_proof(index, size, counting)
    consistency_proof(old, size, counting)
    # Each range a proof asks for costs O(log n) stored reads, each proof O(log n) in total.
    assert all(0 < c <= _read_bound(size) for c in per_call)
    assert tree.reads <= 2 * (2 * size.bit_length() + 1)
    tree.reads = 0
    tree.root(size)
    assert tree.reads <= _read_bound(size)


def test_memory_tree_storage_is_linear_and_past_roots_stay_stable() -> None:
    leaves = _leaves(300)
    tree = MemoryTree()
    roots = []
    for i, h in enumerate(leaves):
        assert tree.append(h) == i
        roots.append(tree.root())
    assert tree.size == 300
    assert all(tree.root(k + 1) == roots[k] for k in range(300))
    assert sum(len(level) for level in tree._levels) < 2 * 300
    # Arbitrary (unaligned) ranges are answered too.
    assert tree.subtree(3, 10) == _reference_mth(leaves[3:10])
