"""Journal use cases: appending records' leaves inside their own transaction, tree heads and their signatures,
proofs and look-ups.

Lock order: a transaction that appends takes the journal's lock (``lock_in``) before any other context's lock
(the ledger's clock), so two writers can never wait on each other in opposite orders on PostgreSQL.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from sqlalchemy import Connection
from sqlalchemy.exc import IntegrityError

from fintech_zone.db import Database
from fintech_zone.errors import Conflict, FieldError, InvalidInput, NotFound
from fintech_zone.journal import merkle, store
from fintech_zone.journal.model import Entry, SignedHead, TreeHead, check_node, head_due


def lock_in(conn: Connection) -> None:
    """Take the log's lock in the caller's transaction, before the other locks it will take (module notes)."""
    if _DEFERRED not in conn.info:  # a deferring transaction took it when it began
        store.lock(conn)


def append_in(conn: Connection, entries: Sequence[Entry]) -> list[int]:
    """Append leaves in the caller's transaction, so they commit, or roll back, with their records. Returns their
    indices."""
    if not entries:
        return []
    pending: _Pending | None = conn.info.get(_DEFERRED)
    if pending is not None:
        first = pending.size + len(pending.entries)
        pending.entries.extend(entries)
        return list(range(first, first + len(entries)))
    size, frontier = store.lock(conn)
    _write(conn, size, frontier, entries)
    return list(range(size, size + len(entries)))


def _write(conn: Connection, size: int, frontier: list[bytes], entries: Sequence[Entry]) -> None:
    datas = [e.data for e in entries]
    store.append(conn, size, frontier, entries, datas, merkle.leaf_hashes(datas))


_DEFERRED = "fintech_zone.journal.deferred"


@dataclass
class _Pending:
    size: int
    frontier: list[bytes]
    entries: list[Entry]


@contextmanager
def deferred(conn: Connection) -> Iterator[None]:
    """Inside this block, the leaves ``append_in`` is given in this transaction are kept and written together when
    the block ends, still inside the transaction: one read and write of the log's state and tiles for many small
    appends (the rails' group commit: a payment appends two or three times). Takes the log's lock at once, so the
    lock order holds. Leaves get the indices they would have got; nothing in such a block may read the log back.
    Wrap each unit of work that may be undone alone in ``undone_with`` so that its leaves go with it."""
    if _DEFERRED in conn.info:
        raise RuntimeError("journal appends are already deferred in this transaction")
    size, frontier = store.lock(conn)
    pending = conn.info[_DEFERRED] = _Pending(size, frontier, [])
    try:
        yield
        if pending.entries:
            _write(conn, pending.size, pending.frontier, pending.entries)
    finally:
        del conn.info[_DEFERRED]


@contextmanager
def undone_with(conn: Connection) -> Iterator[None]:
    """A unit of work inside ``deferred`` whose failure (an exception, on which its savepoint rolls back) takes
    the leaves it appended with it. Outside ``deferred`` there is nothing to undo: its leaves were written in its
    savepoint."""
    pending: _Pending | None = conn.info.get(_DEFERRED)
    mark = len(pending.entries) if pending is not None else 0
    try:
        yield
    except BaseException:
        if pending is not None:
            del pending.entries[mark:]
        raise


def tree_size(db: Database) -> int:
    with db.read() as conn:
        return store.read_state(conn)[0]


# -- heads ----------------------------------------------------------------------------------------------------


def now_ms() -> int:
    return time.time_ns() // 1_000_000


def make_head(db: Database, every_leaves: int = 1, every_ms: int = 0, at_ms: int | None = None) -> TreeHead | None:
    """Record a new (unsigned) head of the log as it stands, when one is due; None otherwise."""
    at_ms = now_ms() if at_ms is None else at_ms
    with db.read() as conn:
        size, frontier = store.read_state(conn)
        last = store.latest_head(conn, final=False)
    if not head_due(size, last.head if last else None, at_ms, every_leaves, every_ms):
        return None
    head = TreeHead(size, merkle.frontier_root(frontier), max(at_ms, last.head.timestamp if last else 0))
    try:
        with db.transaction() as conn:
            store.insert_head(conn, head)
    except IntegrityError:
        return None  # another signer recorded the head of this size first
    return head


def sign_heads(db: Database, node: str, key: Ed25519PrivateKey) -> list[int]:
    """The validator ``node`` signs every head it has not signed yet, oldest first, after checking it: the root
    against the stored tree and its consistency with the last head it signed. Returns the sizes it signed; a
    head that fails a check is left unsigned and stops the run (Conflict), since every later head builds on it."""
    check_node(node)
    signed: list[int] = []
    with db.read() as conn:
        pending = store.unsigned_heads(conn, node)
        previous = store.last_signed_by(conn, node, pending[0].head.tree_size) if pending else None
    for candidate in pending:
        head = candidate.head
        with db.read() as conn:
            stored_root = _root_at(conn, head.tree_size)
            proof = consistency_in(conn, previous.head.tree_size, head.tree_size) if previous is not None else []
        if stored_root != head.root_hash:
            raise Conflict(f"head at size {head.tree_size}: its root is not the stored tree's; {node} did not sign")
        if previous is not None and not merkle.verify_consistency(
            previous.head.tree_size, head.tree_size, previous.head.root_hash, head.root_hash, proof
        ):
            raise Conflict(
                f"head at size {head.tree_size} is not consistent with size {previous.head.tree_size}; "
                f"{node} did not sign"
            )
        with db.transaction() as conn:
            store.add_signature(conn, head.tree_size, node, key.sign(head.signed_message()))
        signed.append(head.tree_size)
        previous = candidate
    return signed


def verify_head(head: SignedHead, keys: dict[str, bytes]) -> dict[str, bool]:
    """Each node's signature checked against its published Ed25519 public key (raw 32 bytes)."""
    result = {}
    for node, public in keys.items():
        signature = head.signatures.get(node)
        try:
            if signature is None:
                raise InvalidSignature
            Ed25519PublicKey.from_public_bytes(public).verify(signature, head.head.signed_message())
            result[node] = True
        except (InvalidSignature, ValueError):
            result[node] = False
    return result


def latest_head(db: Database) -> SignedHead:
    """The latest final head (signed by both validators)."""
    with db.read() as conn:
        head = store.latest_head(conn, final=True)
    if head is None:
        raise NotFound("no tree head has been signed by both validators yet")
    return head


def head_at(db: Database, tree_size: int) -> SignedHead:
    with db.read() as conn:
        head = store.head_at(conn, tree_size)
    if head is None:
        raise NotFound(f"no tree head at size {tree_size}")
    return head


def heads(db: Database) -> list[SignedHead]:
    with db.read() as conn:
        return store.all_heads(conn)


# -- leaves and proofs ----------------------------------------------------------------------------------------


def get_leaf(db: Database, index: int) -> tuple[str, bytes, bytes]:
    """(kind, data, leaf hash) of the leaf at ``index``."""
    with db.read() as conn:
        found = store.get_leaf(conn, index) if index >= 0 else None
    if found is None:
        raise NotFound(f"no leaf at index {index}")
    return found


def _subtree_reader(conn: Connection, ranges: list[tuple[int, int]]) -> tuple[int, merkle.SubtreeHash]:
    """The log's size, and a ``subtree`` callback answering the given ranges, from one read of the stored nodes."""
    parts = {r: merkle.range_parts(*r) for r in ranges}
    stored = store.subtree_hashes(conn, (p for ps in parts.values() for p in ps))

    def subtree(start: int, end: int) -> bytes:
        return merkle.fold_parts([stored[p] for p in parts[(start, end)]])

    return stored.tree_size, subtree


def _ranges(proof: object) -> list[tuple[int, int]]:
    asked: list[tuple[int, int]] = []

    def record(start: int, end: int) -> bytes:
        asked.append((start, end))
        return merkle.EMPTY_ROOT

    proof(record)  # type: ignore[operator]
    return asked


def _check_sizes(size: int, **sizes: int) -> None:
    errors = [
        FieldError(name, f"must be between 0 and the log's size {size}", "range")
        for name, value in sizes.items()
        if not 0 <= value <= size
    ]
    if errors:
        raise InvalidInput(errors)


def _proof(conn: Connection, run: Callable[[merkle.SubtreeHash], list[bytes]], **sizes: int) -> list[bytes]:
    """Run a proof over the stored tree: the ranges it asks for, read in one statement with the log's size, which
    the sizes asked about must not exceed."""
    size, subtree = _subtree_reader(conn, _ranges(run))
    _check_sizes(size, **sizes)
    return run(subtree)


def inclusion_in(conn: Connection, index: int, tree_size: int) -> list[bytes]:
    return _proof(conn, lambda sub: merkle.inclusion_proof(index, tree_size, sub), tree_size=tree_size)


def consistency_in(conn: Connection, first: int, second: int) -> list[bytes]:
    return _proof(conn, lambda sub: merkle.consistency_proof(first, second, sub), first=first, second=second)


def _root_at(conn: Connection, size: int) -> bytes:
    if size == 0:
        return merkle.EMPTY_ROOT
    return _proof(conn, lambda sub: [sub(0, size)], tree_size=size)[0]


def inclusion_proof(db: Database, index: int, tree_size: int) -> list[bytes]:
    """The RFC 9162 inclusion proof of leaf ``index`` in the tree of ``tree_size`` leaves: O(log n) stored hashes,
    one statement."""
    if not 0 <= index < tree_size:
        raise InvalidInput([FieldError("index", f"a leaf of a tree of size {tree_size} is 0..{max(tree_size - 1, 0)}")])
    with db.single_read() as conn:
        return inclusion_in(conn, index, tree_size)


def consistency_proof(db: Database, first: int, second: int) -> list[bytes]:
    """The RFC 9162 consistency proof between the trees of ``first`` and ``second`` leaves."""
    if first > second:
        raise InvalidInput([FieldError("first", "the first size cannot exceed the second", "order")])
    with db.single_read() as conn:
        return consistency_in(conn, first, second)


def root_at(db: Database, tree_size: int) -> bytes:
    _check_sizes(max(tree_size, 0), tree_size=tree_size)  # no negative size; the log's size is checked below
    with db.single_read() as conn:
        return _root_at(conn, tree_size)


def lookup(db: Database, ref: str) -> list[int]:
    """The leaves that hold a business reference, oldest first: a payment's UETR (one leaf per decision), an
    issuance's id, or a ledger transfer's id (the leaf of the batch that created it)."""
    with db.read() as conn:
        found = store.leaves_for_ref(conn, ref)
        if found:
            return found
        # Imported here: the ledger appends through this module, so it cannot be imported at the top.
        from fintech_zone.ledger import service as ledger

        timestamp = ledger.transfer_timestamp_in(conn, ref)
        index = store.ledger_leaf_for_timestamp(conn, timestamp) if timestamp is not None else None
    if index is None:
        raise NotFound(f"no leaf holds the reference {ref!r}")
    return [index]


@dataclass(frozen=True)
class Receipt:
    """What proves a record is in the log: its leaf, the latest final head, and the inclusion path between them
    (None while the leaf is newer than that head)."""

    ref: str
    index: int
    kind: str
    data: bytes
    leaf_hash: bytes
    head: SignedHead | None
    path: list[bytes] | None
    verified: bool  # the path leads from the leaf hash to the head's root (RFC 9162 §2.1.3.2)


def receipt(db: Database, ref: str) -> Receipt:
    """The proof a visitor or auditor asks for by business reference (the latest leaf holding it)."""
    index = lookup(db, ref)[-1]
    with db.read() as conn:
        found = store.get_leaf(conn, index)
        head = store.latest_head(conn, final=True)
        path = inclusion_in(conn, index, head.head.tree_size) if head and index < head.head.tree_size else None
    assert found is not None
    kind, data, leaf_hash = found
    verified = (
        head is not None
        and path is not None
        and merkle.leaf_hash(data) == leaf_hash
        and merkle.verify_inclusion(leaf_hash, index, head.head.tree_size, path, head.head.root_hash)
    )
    return Receipt(ref, index, kind, data, leaf_hash, head, path, verified)
