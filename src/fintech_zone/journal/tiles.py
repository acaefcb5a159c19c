"""How the journal's stored hashes are packed into tiles: pure layout, no I/O.

A tile holds eight levels of the tree, as C2SP's tiled transparency logs group them: tier ``t`` covers levels
8t .. 8t+7, and its tile ``k`` the nodes at level 8t with indices 256k .. 256k+255 together with every complete
node above them up to level 8t+7 (128, 64, … 2 of them): 510 hashes, 16,320 bytes, one row instead of 510. A node at
level 8t+8 is the first level of the tier above. The right edge's tiles are partial: a tile whose base level holds
``w`` < 256 nodes holds ``w >> j`` at its level j, and is written again as the log grows (appends only ever add
to the end of each level, so a proof for an older size reads the same hashes from it).

A tile's bytes are its levels one after another, lowest first, each a run of 32-byte hashes in index order; its
width is known from its length alone (``width``).
"""

from __future__ import annotations

from collections.abc import Sequence
from itertools import chain

HEIGHT = 8
WIDTH = 1 << HEIGHT
TIER_SHIFT = 40
"""A tile's key is tier << 40 | index: one integer primary key, room for 2**40 tiles per tier."""

_HASH = 32


def _count(width: int) -> int:
    return sum(width >> j for j in range(HEIGHT))


_WIDTH_OF_LENGTH = {_count(w) * _HASH: w for w in range(1, WIDTH + 1)}
_OFFSETS = {w: [sum(w >> i for i in range(j)) for j in range(HEIGHT)] for w in range(1, WIDTH + 1)}


def key(tier: int, index: int) -> int:
    return tier << TIER_SHIFT | index


def locate(level: int, index: int) -> tuple[int, int, int]:
    """Where the node (level, index) lives: (tile key, its level in the tile, its position in that level)."""
    tier, j = divmod(level, HEIGHT)
    tile = (index << j) >> HEIGHT
    return key(tier, tile), j, index - (tile << (HEIGHT - j))


def holds_nodes(tile_key: int, size: int) -> bool:
    """Whether the tile already holds nodes in a tree of ``size`` leaves (only a tier's right-edge tile can be
    both touched by an append and already written)."""
    tier, tile = tile_key >> TIER_SHIFT, tile_key & ((1 << TIER_SHIFT) - 1)
    return size >> (tier * HEIGHT) > tile << HEIGHT


def width(blob: bytes) -> int:
    """A tile's base-level width from its length; ValueError for a length no tile has."""
    try:
        return _WIDTH_OF_LENGTH[len(blob)]
    except KeyError:
        raise ValueError(f"{len(blob)} bytes is not the length of a tile") from None


def node(blob: bytes, j: int, position: int) -> bytes | None:
    """The hash at ``position`` of level ``j`` in a tile, or None when the tile does not hold it (yet)."""
    w = width(blob)
    if not 0 <= position < w >> j:
        return None
    start = (_OFFSETS[w][j] + position) * _HASH
    return blob[start : start + _HASH]


def levels(blob: bytes) -> list[list[bytes]]:
    """A tile's hashes, level by level."""
    w = width(blob)
    return [
        [blob[(_OFFSETS[w][j] + p) * _HASH : (_OFFSETS[w][j] + p + 1) * _HASH] for p in range(w >> j)]
        for j in range(HEIGHT)
    ]


def pack(by_level: Sequence[Sequence[bytes]]) -> bytes:
    """A tile's bytes from its levels (HEIGHT lists; level j must hold ``len(level 0) >> j`` hashes)."""
    w = len(by_level[0])
    if not 0 < w <= WIDTH or len(by_level) != HEIGHT or any(len(by_level[j]) != w >> j for j in range(HEIGHT)):
        raise ValueError("not the levels of a tile")
    return b"".join(chain.from_iterable(by_level))


def updates(size: int, new_size: int, new_levels: Sequence[list[bytes]]) -> dict[int, list[list[bytes] | None]]:
    """The tiles an append from ``size`` to ``new_size`` touches, each as HEIGHT lists of new hashes per level to
    add after what the stored tile already holds (``merkle.extend_levels``' levels, sliced per tile)."""
    touched: dict[int, list[list[bytes] | None]] = {}
    tier = 0
    while new_size >> (tier * HEIGHT) > size >> (tier * HEIGHT):
        base = tier * HEIGHT
        first_tile = (size >> base) >> HEIGHT
        last_tile = ((new_size >> base) - 1) >> HEIGHT
        for tile in range(first_tile, last_tile + 1):
            parts: list[list[bytes] | None] = []
            for j in range(HEIGHT):
                level = base + j
                lo = max(tile << (HEIGHT - j), size >> level)
                hi = min((tile + 1) << (HEIGHT - j), new_size >> level)
                start = size >> level
                parts.append(new_levels[level][lo - start : hi - start] if hi > lo else None)
            touched[key(tier, tile)] = parts
        tier += 1
    return touched


def merged(old: bytes | None, added: Sequence[Sequence[bytes] | None]) -> bytes:
    """A tile's new bytes: what it held and the hashes ``updates`` adds to each level.

    Spliced level by level as byte runs: the rails append a leaf or two at a time, and unpacking the right edge's
    tile into 510 hashes and back cost more than the rest of such an append (docs/benchmarks.md, Payment rails).
    """
    if not old:
        return pack([level or () for level in added])
    w = width(old)
    new_w = w + len(added[0] or ())
    if not 0 < new_w <= WIDTH or any((w >> j) + len(added[j] or ()) != new_w >> j for j in range(HEIGHT)):
        raise ValueError("not the levels of a tile")
    offsets, parts = _OFFSETS[w], []
    for j in range(HEIGHT):
        start = offsets[j] * _HASH
        parts.append(old[start : start + (w >> j) * _HASH])
        parts.extend(added[j] or ())
    return b"".join(parts)
