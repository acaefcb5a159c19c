"""An independent RFC 9162 (Certificate Transparency 2.0) verifier, for checking what the journal serves.

Written from the RFC's text alone, with hashlib and nothing from ``fintech_zone``: the journal's own
``merkle.py`` must not be able to vouch for itself. Sections followed:

- §2.1.1   the Merkle Tree Hash ``mth`` (recursive, as the definition reads), and the leaf/node domain separation
- §2.1.3.1 the inclusion path ``PATH(m, D[n])`` (``reference_path``)
- §2.1.3.2 verifying an inclusion proof (``verify_inclusion``)
- §2.1.4.1 the consistency proof ``PROOF(m, D[n])`` / ``SUBPROOF`` (``reference_proof``)
- §2.1.4.2 verifying a consistency proof (``verify_consistency``)

The verifiers never raise on a bad proof: anything malformed (wrong hash length, a missing or extra element, an
index outside the tree) is simply "not proven", i.e. False. Where §2.1.4.2 assumes ``0 < first < second``, the
edge cases are decided here as the RFC's §2.1.4 describes them: a tree is consistent with itself (no proof, equal
roots), and the empty tree with any tree (no proof; its root is the hash of the empty string).
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence

__all__ = [
    "EMPTY",
    "Reference",
    "hash_children",
    "hash_leaf",
    "mth",
    "reference_path",
    "reference_proof",
    "verify_consistency",
    "verify_inclusion",
]

EMPTY = hashlib.sha256(b"").digest()
"""MTH({}) = SHA-256() (§2.1.1)."""


def hash_leaf(entry: bytes) -> bytes:
    """MTH({d0}) = SHA-256(0x00 || d0)."""
    return hashlib.sha256(b"\x00" + entry).digest()


def hash_children(left: bytes, right: bytes) -> bytes:
    """SHA-256(0x01 || left || right)."""
    return hashlib.sha256(b"\x01" + left + right).digest()


def _k(n: int) -> int:
    """The largest power of two smaller than n (n > 1)."""
    k = 1
    while k * 2 < n:
        k *= 2
    return k


def mth(entries: Sequence[bytes]) -> bytes:
    """MTH(D[n]) of §2.1.1, recursively over the entries' *data* (not their hashes)."""
    n = len(entries)
    if n == 0:
        return EMPTY
    if n == 1:
        return hash_leaf(entries[0])
    k = _k(n)
    return hash_children(mth(entries[:k]), mth(entries[k:]))


class Reference:
    """§2.1.1, §2.1.3.1 and §2.1.4.1 over one list of entries, with the subtree hashes memoised (D[a:b] for every
    range the recursion meets), so that every path and proof of a few hundred leaves can be computed quickly. The
    recursion is the RFC's; only the hashing of a range is remembered."""

    def __init__(self, entries: Sequence[bytes]) -> None:
        self.leaf_hashes = [hash_leaf(e) for e in entries]
        self._memo: dict[tuple[int, int], bytes] = {}

    def mth(self, start: int, end: int) -> bytes:
        """MTH(D[start:end])."""
        n = end - start
        if n == 0:
            return EMPTY
        if n == 1:
            return self.leaf_hashes[start]
        found = self._memo.get((start, end))
        if found is None:
            k = _k(n)
            found = hash_children(self.mth(start, start + k), self.mth(start + k, end))
            self._memo[(start, end)] = found
        return found

    def root(self, n: int) -> bytes:
        return self.mth(0, n)

    def path(self, m: int, n: int) -> list[bytes]:
        """PATH(m, D[n]) of §2.1.3.1."""
        return self._path(m, 0, n)

    def _path(self, m: int, start: int, end: int) -> list[bytes]:
        n = end - start
        if n == 1:
            return []
        k = _k(n)
        if m < k:
            return [*self._path(m, start, start + k), self.mth(start + k, end)]
        return [*self._path(m - k, start + k, end), self.mth(start, start + k)]

    def proof(self, m: int, n: int) -> list[bytes]:
        """PROOF(m, D[n]) = SUBPROOF(m, D[n], true) of §2.1.4.1 (empty for m = 0 or m = n)."""
        if m == 0 or m == n:
            return []
        return self._subproof(m, 0, n, True)

    def _subproof(self, m: int, start: int, end: int, b: bool) -> list[bytes]:
        n = end - start
        if m == n:
            return [] if b else [self.mth(start, end)]
        k = _k(n)
        if m <= k:
            return [*self._subproof(m, start, start + k, b), self.mth(start + k, end)]
        return [*self._subproof(m - k, start + k, end, False), self.mth(start, start + k)]


def reference_path(m: int, entries: Sequence[bytes]) -> list[bytes]:
    """PATH(m, D[n]) for the whole list of entries."""
    return Reference(entries).path(m, len(entries))


def reference_proof(m: int, entries: Sequence[bytes]) -> list[bytes]:
    """PROOF(m, D[n]) for the whole list of entries."""
    return Reference(entries).proof(m, len(entries))


def _hashes(*values: object) -> bool:
    return all(isinstance(v, bytes) and len(v) == 32 for v in values)


def verify_inclusion(leaf_hash: bytes, index: int, size: int, path: Sequence[bytes], root: bytes) -> bool:
    """§2.1.3.2: does ``path`` prove the leaf with ``leaf_hash`` at ``index`` in the tree (``size``, ``root``)?"""
    if not isinstance(index, int) or not isinstance(size, int) or index < 0 or size < 0:
        return False
    if not _hashes(leaf_hash, root, *path):
        return False
    # 1. leaf_index >= tree_size: fail.
    if index >= size:
        return False
    # 2. fn = leaf_index, sn = tree_size - 1.  3. r = hash.
    fn, sn = index, size - 1
    r = leaf_hash
    # 4. For each p in the inclusion path:
    for p in path:
        # a. sn is 0: stop and fail.
        if sn == 0:
            return False
        # b. LSB(fn) set, or fn equal to sn:
        if fn & 1 == 1 or fn == sn:
            r = hash_children(p, r)
            # ii. LSB(fn) not set: right-shift fn and sn equally until LSB(fn) is set or fn is 0.
            if fn & 1 == 0:
                while fn & 1 == 0 and fn != 0:
                    fn >>= 1
                    sn >>= 1
        else:
            r = hash_children(r, p)
        # c. right-shift fn and sn once.
        fn >>= 1
        sn >>= 1
    # 5. sn must be 0 and r the root.
    return sn == 0 and r == root


def verify_consistency(first: int, second: int, first_root: bytes, second_root: bytes, path: Sequence[bytes]) -> bool:
    """§2.1.4.2: does ``path`` prove the tree (``first``, ``first_root``) a prefix of (``second``, ``second_root``)?"""
    if not isinstance(first, int) or not isinstance(second, int) or first < 0 or second < 0 or first > second:
        return False
    if not _hashes(first_root, second_root, *path):
        return False
    if first == second:
        return len(path) == 0 and first_root == second_root and (first > 0 or first_root == EMPTY)
    if first == 0:
        return len(path) == 0 and first_root == EMPTY
    # 1. An empty consistency path: fail.
    if len(path) == 0:
        return False
    proof = list(path)
    # 2. first an exact power of 2: prepend first_hash.
    if first & (first - 1) == 0:
        proof.insert(0, first_root)
    # 3. fn = first - 1, sn = second - 1.
    fn, sn = first - 1, second - 1
    # 4. LSB(fn) set: right-shift fn and sn equally until LSB(fn) is not set.
    while fn & 1 == 1:
        fn >>= 1
        sn >>= 1
    # 5. fr = sr = the first value of the path.
    fr = sr = proof[0]
    # 6. For each subsequent value c:
    for c in proof[1:]:
        # a. sn is 0: stop and fail.
        if sn == 0:
            return False
        # b. LSB(fn) set, or fn equal to sn:
        if fn & 1 == 1 or fn == sn:
            fr = hash_children(c, fr)
            sr = hash_children(c, sr)
            # ii. LSB(fn) not set: right-shift fn and sn equally until LSB(fn) is set or fn is 0.
            if fn & 1 == 0:
                while fn & 1 == 0 and fn != 0:
                    fn >>= 1
                    sn >>= 1
        else:
            sr = hash_children(sr, c)
        # c. right-shift fn and sn once.
        fn >>= 1
        sn >>= 1
    # 7. fr must be first_hash, sr second_hash, and sn 0.
    return fr == first_root and sr == second_root and sn == 0
