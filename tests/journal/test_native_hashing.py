"""The compiled leaf and node hashes (journal/_sha256.c) against the Python reference and the CT test vectors."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from fintech_zone.journal import merkle
from tests.journal.test_merkle import CT_INPUTS, CT_LEAVES, CT_ROOTS


def test_the_compiled_hashes_are_built_and_in_use() -> None:
    # An optional extension fails to build quietly; this is where it becomes loud.
    assert merkle.NATIVE_HASHING, (
        "fintech_zone.journal._sha256 is not built: install a C compiler and OpenSSL's headers "
        "(Debian: gcc libssl-dev) and reinstall the package (pip install -e .)"
    )
    from fintech_zone.journal import _sha256

    assert merkle.leaf_hashes is _sha256.leaf_hashes
    assert merkle.node_hashes is _sha256.node_hashes


def _compiled_root(leaves: list[bytes]) -> bytes:
    """The root by whole levels with the compiled hashes: pairs hashed, an odd last node carried up as is, which
    is what RFC 9162's split at the largest power of two amounts to when the levels are folded right to left."""
    level, carried = leaves, []
    while len(level) > 1:
        if len(level) % 2:
            carried.append(level[-1])
        level = merkle.node_hashes(level)
    # Right fold of the complete subtrees, largest first: the carried nodes are the smaller, later ones.
    return merkle.frontier_root(level + carried[::-1])


def test_leaf_hashes_match_the_ct_vectors() -> None:
    assert merkle.leaf_hashes([bytes.fromhex(x) for x in CT_INPUTS]) == CT_LEAVES


@pytest.mark.parametrize("size", range(1, len(CT_LEAVES) + 1))
def test_levels_of_node_hashes_give_the_ct_roots(size: int) -> None:
    assert _compiled_root(CT_LEAVES[:size]).hex() == CT_ROOTS[size - 1]


@settings(max_examples=200, deadline=None)
@given(st.lists(st.binary(max_size=600), max_size=70))
def test_leaf_hashes_equal_the_python_reference(datas: list[bytes]) -> None:
    assert merkle.leaf_hashes(datas) == merkle.py_leaf_hashes(datas) == [merkle.leaf_hash(d) for d in datas]


@settings(max_examples=200, deadline=None)
@given(st.lists(st.binary(min_size=32, max_size=32), max_size=65))
def test_node_hashes_equal_the_python_reference(hashes: list[bytes]) -> None:
    expected = [merkle.node_hash(hashes[i], hashes[i + 1]) for i in range(0, len(hashes) - 1, 2)]
    assert merkle.node_hashes(hashes) == merkle.py_node_hashes(hashes) == expected


@settings(max_examples=100, deadline=None)
@given(st.integers(0, 600), st.integers(0, 600))
def test_extend_levels_is_the_same_compiled_or_not(size: int, added: int) -> None:
    leaves = merkle.py_leaf_hashes(i.to_bytes(4, "big") for i in range(size + added))
    tree = merkle.MemoryTree(leaves[:size])
    # The frontier of any size: the complete aligned subtrees along the right edge, largest first.
    frontier, start = [], 0
    for bit in range(size.bit_length() - 1, -1, -1):
        if size >> bit & 1:
            frontier.append(tree.subtree(start, start + (1 << bit)))
            start += 1 << bit
    compiled = merkle.extend_levels(size, frontier, leaves[size:])
    original = merkle.node_hashes
    try:
        merkle.node_hashes = merkle.py_node_hashes
        reference = merkle.extend_levels(size, frontier, leaves[size:])
    finally:
        merkle.node_hashes = original
    assert compiled == reference
    assert merkle.frontier_root(compiled[1]) == merkle.root(leaves)


def test_any_iterable_is_taken_and_nothing_is_an_empty_list() -> None:
    datas = [b"a", b"bc", b""]
    assert merkle.leaf_hashes(iter(datas)) == merkle.leaf_hashes(tuple(datas)) == merkle.py_leaf_hashes(datas)
    assert merkle.leaf_hashes([]) == []
    assert merkle.node_hashes([]) == []
    assert merkle.node_hashes([b"\x00" * 32]) == []  # an odd last hash waits for its sibling
    assert merkle.leaf_hashes({b"a"}) == merkle.py_leaf_hashes([b"a"])

    def failing() -> Iterator[bytes]:
        yield b"a"
        raise OSError("the source broke")

    with pytest.raises(OSError, match="the source broke"):  # the iterable's own error, not a generic one
        merkle.leaf_hashes(failing())


@pytest.mark.parametrize(
    ("call", "bad", "error", "message"),
    [
        ("leaf_hashes", [b"ok", "text"], TypeError, "item 1 is str, not bytes"),
        ("leaf_hashes", [bytearray(b"x")], TypeError, "item 0 is bytearray, not bytes"),
        ("leaf_hashes", 42, TypeError, "leaf_hashes takes a sequence of bytes"),
        ("node_hashes", [b"\x00" * 32, b"\x00" * 31], ValueError, "item 1 is 31 bytes, not a 32-byte hash"),
        ("node_hashes", [b"\x00" * 32, None], TypeError, "item 1 is NoneType, not bytes"),
        ("node_hashes", None, TypeError, "node_hashes takes a sequence of hashes"),
    ],
)
def test_bad_input_is_refused_with_a_clear_error(call: str, bad: object, error: type[Exception], message: str) -> None:
    with pytest.raises(error, match=message):
        getattr(merkle, call)(bad)


def test_large_leaves_hash_like_hashlib() -> None:
    big = [bytes(range(256)) * 4096, b"\xff" * 1_000_001]
    assert merkle.leaf_hashes(big) == [merkle.leaf_hash(d) for d in big]
