"""The tile layout and the level-wise extension against the in-memory reference tree: every complete subtree is
in exactly one tile, where ``locate`` says, after appends of any sizes, across tile and tier boundaries."""

from __future__ import annotations

import hashlib

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from fintech_zone.journal import merkle, tiles


def leaf(i: int) -> bytes:
    return merkle.leaf_hash(i.to_bytes(8, "big"))


def stored_tree(batches: list[int]) -> tuple[dict[int, bytes], int, list[bytes]]:
    """Tiles as a store keeps them after appending ``batches`` (a dict instead of a table)."""
    stored: dict[int, bytes] = {}
    size, frontier = 0, list[bytes]()
    for n in batches:
        new_size, frontier, levels = merkle.extend_levels(size, frontier, [leaf(i) for i in range(size, size + n)])
        for key, added in tiles.updates(size, new_size, levels).items():
            assert (key in stored) == tiles.holds_nodes(key, size)
            stored[key] = tiles.merged(stored.get(key), added)
        size = new_size
    return stored, size, frontier


def every_node(tree: merkle.MemoryTree) -> dict[tuple[int, int], bytes]:
    n = tree.size
    return {
        (level, i): tree.subtree(i << level, (i + 1) << level)
        for level in range(n.bit_length())
        for i in range(n >> level)
    }


@settings(max_examples=60, deadline=None)
@given(st.lists(st.integers(min_value=0, max_value=700), min_size=1, max_size=8))
def test_extend_levels_gives_extends_nodes_and_frontier(batches: list[int]) -> None:
    size, frontier = 0, list[bytes]()
    for n in batches:
        hashes = [leaf(i) for i in range(size, size + n)]
        expected_size, expected_frontier, expected_nodes = merkle.extend(size, frontier, hashes)
        new_size, new_frontier, levels = merkle.extend_levels(size, frontier, hashes)
        assert (new_size, new_frontier) == (expected_size, expected_frontier)
        assert levels[0] == hashes
        by_level = sorted(
            ((level, (size >> level) + k, h) for level, hs in enumerate(levels) for k, h in enumerate(hs) if level),
        )
        assert by_level == sorted(expected_nodes)
        size, frontier = new_size, new_frontier


@settings(max_examples=25, deadline=None)
@given(st.lists(st.integers(min_value=1, max_value=1200), min_size=1, max_size=6))
def test_tiles_hold_exactly_the_complete_subtrees(batches: list[int]) -> None:
    stored, size, frontier = stored_tree(batches)
    tree = merkle.MemoryTree(leaf(i) for i in range(size))
    assert merkle.frontier_root(frontier) == tree.root()
    expected = every_node(tree)
    for (level, i), h in expected.items():
        key, j, position = tiles.locate(level, i)
        assert tiles.node(stored[key], j, position) == h, (level, i)
    # Nothing else: the tiles hold one hash per complete subtree, and none of a subtree not yet complete.
    assert sum(len(blob) for blob in stored.values()) == 32 * len(expected)
    key, j, position = tiles.locate(0, size)
    assert key not in stored or tiles.node(stored[key], j, position) is None


def test_tiers_above_the_first_across_65536_leaves() -> None:
    # 65,536 = 256 ** 2 leaves complete the first tile of tier 1 and start tier 2 (level 16); appends straddle it.
    batches = [30_000, 35_535, 1, 2, 300, 1_000]
    stored, size, frontier = stored_tree(batches)
    tree = merkle.MemoryTree(leaf(i) for i in range(size))
    assert merkle.frontier_root(frontier) == tree.root()
    for level in range(size.bit_length()):
        for i in {0, 1, (size >> level) // 2, (size >> level) - 1}:
            if 0 <= i < size >> level:
                key, j, position = tiles.locate(level, i)
                assert tiles.node(stored[key], j, position) == tree.subtree(i << level, (i + 1) << level)
    assert tiles.locate(16, 0) == (tiles.key(2, 0), 0, 0)
    assert tiles.width(stored[tiles.key(2, 0)]) == 1  # level 16 holds one node so far: a partial tile of width 1
    assert tiles.width(stored[tiles.key(1, 0)]) == tiles.WIDTH


def test_locate_places_each_level_in_its_tier() -> None:
    assert tiles.locate(0, 0) == (0, 0, 0)
    assert tiles.locate(0, 255) == (0, 0, 255)
    assert tiles.locate(0, 256) == (1, 0, 0)
    assert tiles.locate(7, 1) == (0, 7, 1)  # leaves 128..255: the top level of tile 0 holds two nodes
    assert tiles.locate(7, 2) == (1, 7, 0)
    assert tiles.locate(3, 40) == (1, 3, 8)
    assert tiles.locate(8, 0) == (tiles.key(1, 0), 0, 0)
    assert tiles.locate(9, 300) == (tiles.key(1, 2), 1, 300 - 256)


def test_malformed_tiles_are_refused() -> None:
    h = hashlib.sha256(b"x").digest()
    with pytest.raises(ValueError, match="not the length of a tile"):
        tiles.width(b"\x00" * 33)
    with pytest.raises(ValueError, match="not the levels of a tile"):
        tiles.pack([[h, h], [], [], [], [], [], [], []])  # two nodes at level 0 make one at level 1
    with pytest.raises(ValueError, match="not the levels of a tile"):
        tiles.pack([[h] * 257] + [[]] * 7)
    blob = tiles.pack([[h, h, h], [h]] + [[]] * 6)
    assert tiles.width(blob) == 3 and tiles.node(blob, 1, 1) is None and tiles.node(blob, 0, 3) is None


@settings(max_examples=80, deadline=None)
@given(st.integers(min_value=1, max_value=255), st.integers(min_value=1, max_value=255), st.integers(0, 1000))
def test_merged_splices_what_unpacking_and_packing_would_give(before: int, after: int, seed: int) -> None:
    after = min(after, tiles.WIDTH - before)
    if after == 0:
        return
    hashes = [hashlib.sha256(f"{seed}:{i}".encode()).digest() for i in range(512)]
    by_level = [[hashes[(j * 64 + p) % 512] for p in range((before + after) >> j)] for j in range(tiles.HEIGHT)]
    old = tiles.pack([level[: before >> j] for j, level in enumerate(by_level)])
    added = [level[before >> j :] or None for j, level in enumerate(by_level)]
    assert tiles.merged(old, added) == tiles.pack(by_level)
    assert tiles.levels(tiles.merged(old, added)) == by_level


def test_merged_refuses_additions_that_do_not_fit_the_tile() -> None:
    h = hashlib.sha256(b"x").digest()
    old = tiles.pack([[h, h, h], [h]] + [[]] * 6)
    with pytest.raises(ValueError, match="not the levels of a tile"):
        tiles.merged(old, [[h], None, None, None, None, None, None, None])  # 4 nodes need a second at level 1
    with pytest.raises(ValueError, match="not the levels of a tile"):
        tiles.merged(tiles.pack([[h] * 255] + [[h] * (255 >> j) for j in range(1, 8)]), [[h, h]] + [None] * 7)
