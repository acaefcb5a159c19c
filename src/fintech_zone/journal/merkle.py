"""Merkle-tree core of the journal, after RFC 9162 §2.1 (Certificate Transparency 2.0).

Pure: no I/O. The tree hashes are those of RFC 6962/9162 with SHA-256::

    MTH({})      = SHA-256()                                  (EMPTY_ROOT)
    MTH({d0})    = SHA-256(0x00 || d0)                        (leaf_hash)
    MTH(D[n])    = SHA-256(0x01 || MTH(D[0:k]) || MTH(D[k:n]))  (node_hash), k = largest power of two < n

Second-preimage safety: the one-byte domain separators 0x00 (leaf) and 0x01 (interior node) make the input of a
leaf hash and of a node hash disjoint. Without them an attacker could present the 64-byte concatenation of two
child hashes as a "leaf" and prove the inclusion of data that was never appended (the classic second-preimage
attack on unprefixed Merkle trees). With them, a leaf hash can only ever be the hash of a leaf. Callers must
therefore always pass *leaf hashes* (``leaf_hash(data)``) where this module asks for them, never raw data or
interior nodes.

Storage: proofs are produced through a ``subtree(start, end)`` callback that returns MTH(D[start:end]). Every range
the proofs ask for starts at a multiple of a power of two at least as large as the range, so it is either one
complete aligned subtree or the ragged right edge of the tree, which is a right fold of O(log n) complete aligned
subtrees. A store that keeps the hash of every complete aligned subtree (``MemoryTree`` here, a table later)
answers each proof with O(log n) reads and never needs to rehash leaves.

A note on what a proof binds: an inclusion proof binds (leaf, index, root); the tree *size* is bound by the root,
i.e. by the signed tree head that carries both. Verifying a valid proof against the right root but a different
size can succeed where the path shapes coincide (e.g. leaf 0 of a 3-leaf tree and of a 4-leaf tree), so verifiers
must take size and root together from the same signed tree head, never from separate sources.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable, Sequence

try:
    # The same hashes a list at a time in C (OpenSSL's SHA-256): appends spend half their time hashing, most of
    # it Python's per-call overhead. Built at install when a C compiler and OpenSSL's headers are there.
    from fintech_zone.journal import _sha256
except ImportError:  # pragma: no cover - the test suite requires the compiled module (tests/journal/test_merkle.py)
    _sha256 = None  # type: ignore[assignment]

__all__ = [
    "EMPTY_ROOT",
    "HASH_SIZE",
    "NATIVE_HASHING",
    "MemoryTree",
    "SubtreeHash",
    "consistency_proof",
    "extend",
    "extend_levels",
    "fold_parts",
    "frontier_root",
    "inclusion_proof",
    "leaf_hash",
    "leaf_hashes",
    "node_hash",
    "node_hashes",
    "range_parts",
    "root",
    "verify_consistency",
    "verify_inclusion",
]

HASH_SIZE = 32
"""Length in bytes of every hash in the tree (SHA-256)."""

_LEAF_PREFIX = b"\x00"
_NODE_PREFIX = b"\x01"

EMPTY_ROOT: bytes = hashlib.sha256(b"").digest()
"""MTH of the empty tree: RFC 9162 §2.1.1 defines it as the hash of the empty string (no prefix)."""

SubtreeHash = Callable[[int, int], bytes]
"""``subtree(start, end)`` -> MTH of the leaves [start, end); how proofs read the stored tree."""


def leaf_hash(data: bytes) -> bytes:
    """Hash of one leaf: SHA-256(0x00 || data)."""
    return hashlib.sha256(_LEAF_PREFIX + data).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    """Hash of an interior node: SHA-256(0x01 || left || right)."""
    return hashlib.sha256(_NODE_PREFIX + left + right).digest()


def py_leaf_hashes(datas: Iterable[bytes]) -> list[bytes]:
    """``leaf_hash`` of each, for appends of many leaves (one call, not one per leaf)."""
    sha256, prefix = hashlib.sha256, _LEAF_PREFIX
    return [sha256(prefix + d).digest() for d in datas]


def py_node_hashes(hashes: Sequence[bytes]) -> list[bytes]:
    """``node_hash`` of each consecutive pair (an odd last hash is left out): one level of a tree from the one
    below."""
    sha256, prefix = hashlib.sha256, _NODE_PREFIX
    pairs = iter(hashes)
    return [sha256(prefix + a + b).digest() for a, b in zip(pairs, pairs, strict=False)]


NATIVE_HASHING: bool = _sha256 is not None
"""Whether ``leaf_hashes`` and ``node_hashes`` run compiled (same results; the py_ versions are the reference)."""

leaf_hashes: Callable[[Iterable[bytes]], list[bytes]] = _sha256.leaf_hashes if _sha256 else py_leaf_hashes
node_hashes: Callable[[Sequence[bytes]], list[bytes]] = _sha256.node_hashes if _sha256 else py_node_hashes


def _split(n: int) -> int:
    """The largest power of two strictly smaller than ``n`` (n >= 2): where RFC 9162 splits a tree of n leaves."""
    return 1 << ((n - 1).bit_length() - 1)


def _check_size(name: str, value: int) -> None:
    if value < 0:
        raise ValueError(f"{name} must be >= 0, got {value}")


def root(leaf_hashes: Sequence[bytes]) -> bytes:
    """MTH (RFC 9162 §2.1.1) of a list of leaf hashes; ``EMPTY_ROOT`` for none.

    Computed in one pass with a stack of complete subtrees (like a binary counter), then folded right to left.
    That fold is exactly the recursive split at the largest power of two: the left part of every split is a
    complete subtree already on the stack, the right part is the fold of what lies after it.
    """
    stack: list[tuple[int, bytes]] = []  # (number of leaves, hash) of complete subtrees, sizes strictly decreasing
    for h in leaf_hashes:
        size, acc = 1, h
        while stack and stack[-1][0] == size:
            left_size, left = stack.pop()
            size, acc = left_size + size, node_hash(left, acc)
        stack.append((size, acc))
    if not stack:
        return EMPTY_ROOT
    acc = stack[-1][1]
    for _, h in reversed(stack[:-1]):
        acc = node_hash(h, acc)
    return acc


def inclusion_proof(index: int, size: int, subtree: SubtreeHash) -> list[bytes]:
    """PATH(index, D[size]) of RFC 9162 §2.1.3.1: sibling hashes ordered from the leaf up to the root.

    Raises ValueError unless 0 <= index < size: a proof for a leaf that is not in the tree cannot exist.
    """
    _check_size("size", size)
    if not 0 <= index < size:
        raise ValueError(f"index {index} is not in a tree of size {size}")
    path: list[bytes] = []
    start, end = 0, size
    # Walk down from the root; at each split the sibling of the half holding the leaf goes into the proof.
    # The recursion appends siblings on the way back up, so the walk's order is reversed at the end.
    while end - start > 1:
        mid = start + _split(end - start)
        if index < mid:
            path.append(subtree(mid, end))
            end = mid
        else:
            path.append(subtree(start, mid))
            start = mid
    path.reverse()
    return path


def consistency_proof(old_size: int, new_size: int, subtree: SubtreeHash) -> list[bytes]:
    """PROOF(old_size, D[new_size]) = SUBPROOF(old_size, D[new_size], true) of RFC 9162 §2.1.4.1.

    Empty when old_size is 0 or equal to new_size (nothing to prove). Raises ValueError for negative sizes or
    old_size > new_size: a tree cannot be consistent with a later, larger version of itself.
    """
    _check_size("old_size", old_size)
    _check_size("new_size", new_size)
    if old_size > new_size:
        raise ValueError(f"old_size {old_size} > new_size {new_size}")
    if old_size in (0, new_size):
        return []
    proof: list[bytes] = []
    start, end = 0, new_size
    # `whole` is SUBPROOF's flag b: true while the subtree still starts at leaf 0, i.e. while its old part is the
    # whole old tree, whose root the verifier already holds and so is not sent.
    whole = True
    while old_size != end:
        mid = start + _split(end - start)
        if old_size <= mid:
            # The old tree lies in the left half: prove the left half, send the right (new) half's hash.
            proof.append(subtree(mid, end))
            end = mid
        else:
            # The left half is complete and shared by both trees: send it, continue in the right half.
            proof.append(subtree(start, mid))
            start = mid
            whole = False
    if not whole:
        proof.append(subtree(start, end))
    proof.reverse()
    return proof


def _well_formed(*hashes: bytes) -> bool:
    return all(isinstance(h, bytes) and len(h) == HASH_SIZE for h in hashes)


def verify_inclusion(leaf_hash: bytes, index: int, size: int, proof: Sequence[bytes], root: bytes) -> bool:
    """True iff ``proof`` shows the leaf with hash ``leaf_hash`` at ``index`` in the tree of ``size`` with ``root``.

    The iterative algorithm of RFC 9162 §2.1.3.2. Any malformed input (index >= size, size 0, hashes that are not
    32 bytes, missing or extra proof elements) yields False; only a negative index or size raises ValueError,
    since no tree has those. ``size`` must come with ``root`` from the same signed tree head (see module notes).
    """
    _check_size("index", index)
    _check_size("size", size)
    if index >= size or not _well_formed(leaf_hash, root, *proof):
        return False
    fn, sn = index, size - 1
    r = leaf_hash
    for p in proof:
        if sn == 0:  # more proof elements than levels: reject rather than ignore trailing data
            return False
        if fn & 1 or fn == sn:
            # We are a right child (or the last node of a level, whose parent is skipped until it has a sibling).
            r = node_hash(p, r)
            if not fn & 1:
                while fn and not fn & 1:
                    fn >>= 1
                    sn >>= 1
        else:
            r = node_hash(r, p)
        fn >>= 1
        sn >>= 1
    # sn == 0 means we reached the root level exactly: a short proof leaves sn > 0.
    return sn == 0 and r == root


def verify_consistency(old_size: int, new_size: int, old_root: bytes, new_root: bytes, proof: Sequence[bytes]) -> bool:
    """True iff ``proof`` shows the tree (old_size, old_root) is a prefix of (new_size, new_root).

    The iterative algorithm of RFC 9162 §2.1.4.2 for 0 < old_size < new_size. The edge cases it leaves out:
    equal sizes are consistent iff the proof is empty and the roots are equal; old_size 0 is consistent with any
    tree iff the proof is empty and old_root is ``EMPTY_ROOT`` (stricter than CT's verifiers, which ignore the
    roots there). old_size > new_size, malformed hashes, missing or extra elements: False. Only negative sizes
    raise ValueError.
    """
    _check_size("old_size", old_size)
    _check_size("new_size", new_size)
    if old_size > new_size or not _well_formed(old_root, new_root, *proof):
        return False
    if old_size == new_size:
        return not proof and old_root == new_root and (old_size > 0 or old_root == EMPTY_ROOT)
    if old_size == 0:
        return not proof and old_root == EMPTY_ROOT
    if not proof:
        return False
    path = list(proof)
    if old_size & (old_size - 1) == 0:
        # The old tree is a complete subtree of the new one; its root is the proof's implicit first element.
        path.insert(0, old_root)
    fn, sn = old_size - 1, new_size - 1
    # Skip the levels where the old tree's last node is a right child: those are inside the first proof node.
    while fn & 1:
        fn >>= 1
        sn >>= 1
    fr = sr = path[0]
    for c in path[1:]:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            fr = node_hash(c, fr)
            sr = node_hash(c, sr)
            if not fn & 1:
                while fn and not fn & 1:
                    fn >>= 1
                    sn >>= 1
        else:
            # A node only the new tree has: it extends the new root, not the old one.
            sr = node_hash(sr, c)
        fn >>= 1
        sn >>= 1
    return sn == 0 and fr == old_root and sr == new_root


def extend(
    size: int, frontier: Sequence[bytes], leaf_hashes: Iterable[bytes]
) -> tuple[int, list[bytes], list[tuple[int, int, bytes]]]:
    """Append leaf hashes to a stored tree known only by its size and *frontier*, and say which nodes to store.

    The frontier is the hashes of the complete aligned subtrees along the tree's right edge, one per set bit of
    ``size``, largest first: all an append needs, however large the tree. Returns the new size, the new frontier
    and every newly complete interior subtree as (level, index at that level, hash), level >= 1 (level 0 is the
    leaf hashes themselves). Appending works like incrementing a binary counter: a carry is a new parent node.
    """
    if len(frontier) != size.bit_count():
        raise ValueError(f"a frontier of a tree of size {size} holds {size.bit_count()} hashes, not {len(frontier)}")
    levels = [bit for bit in range(size.bit_length() - 1, -1, -1) if size >> bit & 1]
    stack = list(zip(levels, frontier, strict=True))
    new: list[tuple[int, int, bytes]] = []
    sha256, prefix, add = hashlib.sha256, _NODE_PREFIX, new.append  # bound once: this loop runs per leaf
    for h in leaf_hashes:
        if len(h) != HASH_SIZE:
            raise ValueError(f"a leaf hash is {HASH_SIZE} bytes")
        level, acc = 0, h
        while stack and stack[-1][0] == level:
            acc = sha256(prefix + stack.pop()[1] + acc).digest()
            level += 1
            add((level, size >> level, acc))
        stack.append((level, acc))
        size += 1
    return size, [h for _, h in stack], new


def extend_levels(
    size: int, frontier: Sequence[bytes], leaf_hashes: Sequence[bytes]
) -> tuple[int, list[bytes], list[list[bytes]]]:
    """``extend`` a level at a time, for bulk appends: returns the new size, the new frontier and, per level L, the
    newly complete subtrees at that level in index order (the first has index ``size >> L``; level 0 is the leaf
    hashes). Each level is made by hashing the one below in pairs, which costs a fraction of ``extend``'s carry
    loop per leaf and hands a store the nodes already grouped the way tiles hold them.
    """
    if len(frontier) != size.bit_count():
        raise ValueError(f"a frontier of a tree of size {size} holds {size.bit_count()} hashes, not {len(frontier)}")
    if set(map(len, leaf_hashes)) - {HASH_SIZE}:
        raise ValueError(f"a leaf hash is {HASH_SIZE} bytes")
    new_size = size + len(leaf_hashes)
    old_by_level = dict(
        zip((bit for bit in range(size.bit_length() - 1, -1, -1) if size >> bit & 1), frontier, strict=True)
    )
    levels = [list(leaf_hashes)]
    level = 0
    while (new_size >> (level + 1)) > (size >> (level + 1)):
        below = levels[level]
        # An odd old count at this level leaves its last node (in the frontier) waiting for a right sibling.
        levels.append(node_hashes([old_by_level[level], *below] if size >> level & 1 else below))
        level += 1
    new_frontier = []
    for bit in range(new_size.bit_length() - 1, -1, -1):
        if new_size >> bit & 1:
            last = (new_size >> bit) - 1
            new_frontier.append(
                levels[bit][last - (size >> bit)] if bit < len(levels) and last >= size >> bit else old_by_level[bit]
            )
    return new_size, new_frontier, levels


def frontier_root(frontier: Sequence[bytes]) -> bytes:
    """MTH of a tree from its frontier (see ``extend``): the right fold of its complete subtrees."""
    if not frontier:
        return EMPTY_ROOT
    acc = frontier[-1]
    for h in reversed(frontier[:-1]):
        acc = node_hash(h, acc)
    return acc


def range_parts(start: int, end: int) -> list[tuple[int, int]]:
    """The complete aligned subtrees, as (level, index at that level), whose right fold is MTH(D[start:end]).

    For the ranges proofs ask for (``start`` a multiple of a power of two >= end - start) that is the binary
    decomposition of the range's length, largest part first: at most one stored node per level.
    """
    n = end - start
    if n <= 0:
        raise ValueError(f"[{start}, {end}) is empty")
    if start % (1 << (n - 1).bit_length()) and start % (1 << (n.bit_length() - 1)):
        raise ValueError(f"[{start}, {end}) is not a range a proof asks for")
    parts = []
    for level in range(n.bit_length() - 1, -1, -1):
        if n >> level & 1:
            if start % (1 << level):
                raise ValueError(f"[{start}, {end}) is not a range a proof asks for")
            parts.append((level, start >> level))
            start += 1 << level
    return parts


def fold_parts(hashes: Sequence[bytes]) -> bytes:
    """The right fold of ``range_parts``' subtree hashes: MTH of the range they cover."""
    return frontier_root(hashes)


class MemoryTree:
    """An append-only tree in memory that stores the hash of every complete aligned subtree, level by level.

    ``levels[h][i]`` is MTH of the leaves [i * 2**h, (i + 1) * 2**h). Appending a leaf adds at most one node per
    level (when a level gets an even count), so storage is < 2n hashes and appends are O(log n). It is the shape
    a database table (level, index, hash) will have; ``reads`` counts stored-node look-ups so tests can check
    that proofs cost O(log n) reads.
    """

    def __init__(self, leaf_hashes: Iterable[bytes] = ()) -> None:
        self._levels: list[list[bytes]] = [[]]
        self.reads = 0
        for h in leaf_hashes:
            self.append(h)

    @property
    def size(self) -> int:
        return len(self._levels[0])

    def append(self, leaf_hash: bytes) -> int:
        """Append a leaf hash (``leaf_hash(data)``, not data); return its index."""
        if not _well_formed(leaf_hash):
            raise ValueError(f"a leaf hash is {HASH_SIZE} bytes")
        index = self.size
        self._levels[0].append(leaf_hash)
        level = 0
        while len(self._levels[level]) % 2 == 0:
            # This level just completed a pair: their parent is a new complete subtree one level up.
            pair = self._levels[level][-2:]
            if level + 1 == len(self._levels):
                self._levels.append([])
            self._levels[level + 1].append(node_hash(pair[0], pair[1]))
            level += 1
        return index

    def _stored(self, level: int, index: int) -> bytes:
        self.reads += 1
        return self._levels[level][index]

    def subtree(self, start: int, end: int) -> bytes:
        """MTH of the leaves [start, end), 0 <= start < end <= size.

        A complete aligned range is one stored read. Otherwise the range is split as RFC 9162 splits it; for the
        ranges proofs ask for (start aligned to a power of two >= end - start) the left parts are all complete,
        so this costs at most one read per level. Arbitrary ranges are answered too, with more reads.
        """
        if not 0 <= start < end <= self.size:
            raise ValueError(f"[{start}, {end}) is not a non-empty range of a tree of size {self.size}")
        return self._subtree(start, end)

    def _subtree(self, start: int, end: int) -> bytes:
        n = end - start
        if n & (n - 1) == 0 and start % n == 0:
            return self._stored(n.bit_length() - 1, start // n)
        mid = start + _split(n)
        return node_hash(self._subtree(start, mid), self._subtree(mid, end))

    def root(self, size: int | None = None) -> bytes:
        """MTH of the first ``size`` leaves (default: all), for the current or any past size."""
        size = self.size if size is None else size
        if not 0 <= size <= self.size:
            raise ValueError(f"size {size} is not in 0..{self.size}")
        return EMPTY_ROOT if size == 0 else self._subtree(0, size)

    def inclusion_proof(self, index: int, size: int | None = None) -> list[bytes]:
        size = self.size if size is None else size
        if size > self.size:
            raise ValueError(f"size {size} > {self.size}")
        return inclusion_proof(index, size, self.subtree)

    def consistency_proof(self, old_size: int, new_size: int | None = None) -> list[bytes]:
        new_size = self.size if new_size is None else new_size
        if new_size > self.size:
            raise ValueError(f"new_size {new_size} > {self.size}")
        return consistency_proof(old_size, new_size, self.subtree)
