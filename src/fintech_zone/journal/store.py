"""The journal's tables and queries.

Leaves are stored in bundles and hashes in tiles, as C2SP's tiled transparency logs store them, so an append of
many leaves writes a few large rows instead of three small ones a leaf:

- ``journal_bundles``: the leaves of one append, up to 256 (and about 64 KiB) a row, keyed by the first one's
  index: their lengths (4 bytes each, big-endian), then their bytes one after another; and their kinds (one word
  when they are all alike).
- ``journal_tiles``: every complete subtree's hash, eight levels a row (``tiles``). A proof reads the few tiles
  holding the nodes it needs, all in one statement: O(log n) hashes, never a pass over the leaves.
- ``journal_batch_times``: the transfer timestamps a ledger batch's leaf covers, so a transfer id finds its leaf
  without a look-up row per transfer; ``journal_refs``: business references (UETRs, issuance ids) to leaves.
- ``journal_state``: the size and the frontier (the right edge's complete subtrees), which is all an append needs
  besides the right edge's partial tiles; its row is the log's lock.
"""

from __future__ import annotations

import struct
from collections.abc import Iterable, Iterator, Sequence
from operator import attrgetter
from typing import Any

from sqlalchemy import (
    BigInteger,
    Column,
    Connection,
    Integer,
    LargeBinary,
    String,
    Table,
    Text,
    bindparam,
    select,
    update,
)

from fintech_zone.db.driver import Driver
from fintech_zone.db.metadata import metadata
from fintech_zone.journal import merkle, tiles
from fintech_zone.journal.model import NODES, Entry, SignedHead, TreeHead

# On SQLite an INTEGER PRIMARY KEY is the table's rowid: BIGINT would add a second B-tree for the key, which
# cost every append a third of its time.
RowId = BigInteger().with_variant(Integer(), "sqlite")

BUNDLE_LEAVES = 256
BUNDLE_BYTES = 64 * 1024
"""A bundle closes at 256 leaves or once it holds 64 KiB, so reading one leaf never reads much more than it."""

state = Table(
    "journal_state",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=False),  # one row
    Column("tree_size", BigInteger, nullable=False),
    Column("frontier", LargeBinary, nullable=False),  # 32-byte hashes, one per set bit of tree_size, largest first
)

bundles = Table(
    "journal_bundles",
    metadata,
    Column("first_leaf", RowId, primary_key=True, autoincrement=False),
    Column("n_leaves", Integer, nullable=False),
    Column("kinds", Text, nullable=False),  # the leaves' kinds, space-separated; one word when all are alike
    Column("data", LargeBinary, nullable=False),
)

tile_table = Table(
    "journal_tiles",
    metadata,
    Column("tile", RowId, primary_key=True, autoincrement=False),  # tiles.key(tier, index)
    Column("hashes", LargeBinary, nullable=False),
)

batch_times = Table(
    "journal_batch_times",
    metadata,
    # A ledger batch's leaf covers the transfer timestamps [first, last]; the ledger's timestamps only grow.
    Column("last_timestamp", RowId, primary_key=True, autoincrement=False),
    Column("first_timestamp", BigInteger, nullable=False),
    Column("leaf", BigInteger, nullable=False),
)

refs = Table(
    "journal_refs",
    metadata,
    Column("ref", String(64), primary_key=True),  # a business reference: a payment's UETR, an issuance id
    Column("leaf", BigInteger, primary_key=True, autoincrement=False),
)

heads = Table(
    "journal_heads",
    metadata,
    Column("tree_size", BigInteger, primary_key=True, autoincrement=False),
    Column("root_hash", LargeBinary, nullable=False),
    Column("timestamp", BigInteger, nullable=False),  # milliseconds since the Unix epoch
    Column("sig_cq", LargeBinary, nullable=True),
    Column("sig_sg", LargeBinary, nullable=True),
)

_SIG = {"cq": heads.c.sig_cq, "sg": heads.c.sig_sg}


def _split_frontier(blob: bytes) -> list[bytes]:
    return [blob[i : i + merkle.HASH_SIZE] for i in range(0, len(blob), merkle.HASH_SIZE)]


def lock(conn: Connection) -> tuple[int, list[bytes]]:
    """The log's size and frontier, locked until the transaction ends (appends go one after another). On the
    driver's cursor: every payment takes this lock a few times, and a Core statement cost 0.3 ms each time."""
    driver = Driver(conn)
    # SQLite's BEGIN IMMEDIATE already holds the database's write lock.
    sql = _LOCK_STATE if driver.sqlite else _LOCK_STATE + " FOR UPDATE"
    try:
        driver.cursor.execute(sql)
        row = driver.cursor.fetchone()
        if row is None:
            # The migration inserts the row; a table emptied since (tests truncate) gets it back here. Two first
            # appends at once must not both insert it: one does, both then lock it.
            driver.cursor.execute(
                f"INSERT INTO {state.name} (id, tree_size, frontier) VALUES (1, 0, {driver.mark})"
                " ON CONFLICT DO NOTHING",
                (b"",),
            )
            driver.cursor.execute(sql)
            row = driver.cursor.fetchone()
    finally:
        driver.cursor.close()
    return int(row[0]), _split_frontier(bytes(row[1]))


_LOCK_STATE = f"SELECT tree_size, frontier FROM {state.name} WHERE id = 1"


def read_state(conn: Connection) -> tuple[int, list[bytes]]:
    row = conn.execute(select(state.c.tree_size, state.c.frontier).where(state.c.id == 1)).first()
    if row is None:
        return 0, []
    return int(row.tree_size), _split_frontier(bytes(row.frontier))


_LAST_TIMESTAMP = attrgetter("last_timestamp")
_REFS = attrgetter("refs")


def _kinds(kinds: list[str]) -> str:
    # A bulk append is mostly of one kind: the word once stands for all of them.
    return kinds[0] if kinds.count(kinds[0]) == len(kinds) else " ".join(kinds)


def _bundle(datas: list[bytes]) -> bytes:
    return b"".join([struct.pack(f">{len(datas)}I", *map(len, datas)), *datas])


def _bundle_rows(size: int, new: Sequence[Entry], datas: list[bytes]) -> list[tuple[int, int, str, bytes]]:
    # Bulk appends are mostly small leaves: each run of 256 is checked against the byte limit at once, and only
    # a run that passes it (a ledger batch's leaf can be 1 MB) is split leaf by leaf.
    kinds = [e.kind for e in new]
    rows: list[tuple[int, int, str, bytes]] = []
    for run in range(0, len(new), BUNDLE_LEAVES):
        part = datas[run : run + BUNDLE_LEAVES]
        if sum(map(len, part)) <= BUNDLE_BYTES:
            rows.append((size + run, len(part), _kinds(kinds[run : run + BUNDLE_LEAVES]), _bundle(part)))
            continue
        first, held = run, 0
        for i in range(run, run + len(part)):
            held += len(datas[i])
            if held >= BUNDLE_BYTES or i == run + len(part) - 1:
                rows.append((size + first, i + 1 - first, _kinds(kinds[first : i + 1]), _bundle(datas[first : i + 1])))
                first, held = i + 1, 0
    return rows


def append(
    conn: Connection,
    size: int,
    frontier: list[bytes],
    new: Sequence[Entry],
    datas: list[bytes],
    hashes: list[bytes],
) -> None:
    """Store leaves (numbered from ``size``; ``datas`` and ``hashes`` are their bytes and leaf hashes), the tiles
    they change, their references and the new state."""
    new_size, new_frontier, levels = merkle.extend_levels(size, frontier, hashes)
    changed = tiles.updates(size, new_size, levels)
    driver = Driver(conn)
    try:
        # Only the first tile of a tier can already exist: the right edge's partial tile, written again here.
        partial = [k for k in changed if tiles.holds_nodes(k, size)]
        old: dict[int, bytes] = {}
        if partial:
            where, params = driver.any_of(partial)
            driver.cursor.execute(f"SELECT tile, hashes FROM {tile_table.name} WHERE tile {where}", params)
            old = {int(k): bytes(h) for k, h in driver.cursor.fetchall()}
        rows = [(k, tiles.merged(old.get(k), added)) for k, added in changed.items()]
        driver.cursor.executemany(
            f"INSERT INTO {tile_table.name} (tile, hashes) VALUES ({driver.mark}, {driver.mark})"
            " ON CONFLICT (tile) DO UPDATE SET hashes = excluded.hashes",
            rows,
        )
        driver.insert(bundles, ("first_leaf", "n_leaves", "kinds", "data"), _bundle_rows(size, new, datas))
        # Most bulk leaves have neither: one pass in C (map, any) tells, before a pass in Python builds rows.
        if set(map(_LAST_TIMESTAMP, new)) != {None}:
            driver.insert(
                batch_times,
                ("last_timestamp", "first_timestamp", "leaf"),
                [
                    (leaf.last_timestamp, leaf.first_timestamp, i)
                    for i, leaf in enumerate(new, start=size)
                    if leaf.first_timestamp is not None and leaf.last_timestamp is not None
                ],
            )
        if any(map(_REFS, new)):
            driver.insert(
                refs,
                ("ref", "leaf"),
                [(ref, i) for i, leaf in enumerate(new, start=size) if leaf.refs for ref in dict.fromkeys(leaf.refs)],
            )
        m = driver.mark
        driver.cursor.execute(
            f"UPDATE {state.name} SET tree_size = {m}, frontier = {m} WHERE id = 1",
            (new_size, b"".join(new_frontier)),
        )
    finally:
        driver.cursor.close()


class StoredNodes(dict[tuple[int, int], bytes]):
    """Stored subtree hashes by (level, index), and the log's size read in the same statement."""

    tree_size: int = 0


def subtree_hashes(conn: Connection, parts: Iterable[tuple[int, int]]) -> StoredNodes:
    """Stored hashes of complete aligned subtrees (level, index) and the log's size, in ONE statement on the
    driver's cursor: a proof is a handful of tiles, and three statements through SQLAlchemy cost most of its time
    (docs/benchmarks.md)."""
    where_is = {p: tiles.locate(*p) for p in set(parts)}
    driver = Driver(conn)
    where, params = driver.any_of(sorted({k for k, _, _ in where_is.values()}))
    sql = (
        f"SELECT tile, hashes FROM {tile_table.name} WHERE tile {where}"
        f" UNION ALL SELECT -1 - tree_size, frontier FROM {state.name} WHERE id = 1"
    )
    found = StoredNodes()
    got: dict[int, bytes] = {}
    try:
        driver.cursor.execute(sql, params)
        for k, blob in driver.cursor.fetchall():
            if k < 0:
                found.tree_size = -1 - k
            else:
                got[k] = bytes(blob)
    finally:
        driver.cursor.close()
    for part, (k, j, position) in where_is.items():
        blob = got.get(k)
        h = tiles.node(blob, j, position) if blob is not None else None
        if h is not None:
            found[part] = h
    return found


def _unbundle(first: int, count: int, kinds: str, data: bytes) -> Iterator[tuple[int, str, bytes]]:
    names = kinds.split(" ")
    if len(names) == 1:
        names *= count
    if len(names) != count or len(data) < 4 * count:
        raise ValueError(f"the bundle at leaf {first} is not one of {count} leaves")
    lengths = struct.unpack_from(f">{count}I", data)
    if 4 * count + sum(lengths) != len(data):
        raise ValueError(f"the bundle at leaf {first}: its leaves' lengths do not add up to its size")
    at = 4 * count
    for i, n in enumerate(lengths):
        yield first + i, names[i], data[at : at + n]
        at += n


def _leaf_hashes_of(conn: Connection, start: int, end: int) -> dict[int, bytes]:
    """Stored leaf hashes (level 0 of the tiles) of the leaves [start, end)."""
    if end <= start:
        return {}
    keys = list(range(start >> tiles.HEIGHT, ((end - 1) >> tiles.HEIGHT) + 1))
    found: dict[int, bytes] = {}
    for k, blob in conn.execute(select(tile_table.c.tile, tile_table.c.hashes).where(tile_table.c.tile.in_(keys))):
        for position, h in enumerate(tiles.levels(bytes(blob))[0]):
            index = (int(k) << tiles.HEIGHT) + position
            if start <= index < end:
                found[index] = h
    return found


def get_leaf(conn: Connection, index: int) -> tuple[str, bytes, bytes] | None:
    row = conn.execute(
        select(bundles).where(bundles.c.first_leaf <= index).order_by(bundles.c.first_leaf.desc()).limit(1)
    ).first()
    if row is None or not row.first_leaf <= index < row.first_leaf + row.n_leaves:
        return None
    for i, kind, data in _unbundle(int(row.first_leaf), int(row.n_leaves), row.kinds, bytes(row.data)):
        if i == index:
            h = _leaf_hashes_of(conn, index, index + 1).get(index)
            return None if h is None else (kind, data, h)
    return None


def iter_leaves(
    conn: Connection, start: int = 0, end: int | None = None, chunk: int = 16
) -> Iterator[tuple[int, str, bytes, bytes | None]]:
    """(index, kind, data, stored leaf hash) in index order, ``chunk`` bundles at a time so a large log streams.
    A bundle that cannot be read raises ValueError naming it."""
    if start > 0:
        holder = (
            select(bundles.c.first_leaf)
            .where(bundles.c.first_leaf <= start)
            .order_by(bundles.c.first_leaf.desc())
            .limit(1)
        )
        start_bundle = conn.execute(holder).scalar() or 0
    else:
        start_bundle = 0
    while True:
        query = select(bundles).where(bundles.c.first_leaf >= start_bundle)
        if end is not None:
            query = query.where(bundles.c.first_leaf < end)
        rows = conn.execute(query.order_by(bundles.c.first_leaf).limit(chunk)).all()
        if not rows:
            return
        last = rows[-1]
        stored = _leaf_hashes_of(conn, int(rows[0].first_leaf), int(last.first_leaf) + int(last.n_leaves))
        for r in rows:  # bundle by bundle: the leaves before one that cannot be read still come out
            for index, kind, data in _unbundle(int(r.first_leaf), int(r.n_leaves), r.kinds, bytes(r.data)):
                if index >= start and (end is None or index < end):
                    yield index, kind, data, stored.get(index)
        start_bundle = int(rows[-1].first_leaf) + 1


def leaves_for_ref(conn: Connection, ref: str) -> list[int]:
    return [int(i) for i in conn.execute(select(refs.c.leaf).where(refs.c.ref == ref).order_by(refs.c.leaf)).scalars()]


def ledger_leaf_for_timestamp(conn: Connection, timestamp: int) -> int | None:
    """The ledger batch leaf whose timestamp range holds ``timestamp``."""
    row = conn.execute(
        select(batch_times.c.leaf, batch_times.c.first_timestamp)
        .where(batch_times.c.last_timestamp >= timestamp)
        .order_by(batch_times.c.last_timestamp)
        .limit(1)
    ).first()
    if row is None or row.first_timestamp > timestamp:
        return None
    return int(row.leaf)


def _signed(row: Any) -> SignedHead:
    sigs = {node: bytes(getattr(row, f"sig_{node}")) for node in NODES if getattr(row, f"sig_{node}") is not None}
    return SignedHead(TreeHead(int(row.tree_size), bytes(row.root_hash), int(row.timestamp)), sigs)


def latest_head(conn: Connection, final: bool = True) -> SignedHead | None:
    query = select(heads)
    if final:
        query = query.where(heads.c.sig_cq.is_not(None), heads.c.sig_sg.is_not(None))
    row = conn.execute(query.order_by(heads.c.tree_size.desc()).limit(1)).first()
    return None if row is None else _signed(row)


def all_heads(conn: Connection) -> list[SignedHead]:
    return [_signed(r) for r in conn.execute(select(heads).order_by(heads.c.tree_size))]


def head_at(conn: Connection, tree_size: int) -> SignedHead | None:
    row = conn.execute(select(heads).where(heads.c.tree_size == tree_size)).first()
    return None if row is None else _signed(row)


def insert_head(conn: Connection, head: TreeHead) -> None:
    conn.execute(heads.insert().values(tree_size=head.tree_size, root_hash=head.root_hash, timestamp=head.timestamp))


def unsigned_heads(conn: Connection, node: str) -> list[SignedHead]:
    return [_signed(r) for r in conn.execute(select(heads).where(_SIG[node].is_(None)).order_by(heads.c.tree_size))]


def last_signed_by(conn: Connection, node: str, below: int) -> SignedHead | None:
    row = conn.execute(
        select(heads).where(_SIG[node].is_not(None), heads.c.tree_size < below).order_by(heads.c.tree_size.desc())
    ).first()
    return None if row is None else _signed(row)


def add_signature(conn: Connection, tree_size: int, node: str, signature: bytes) -> None:
    conn.execute(
        update(heads)
        .where(heads.c.tree_size == bindparam("size"), _SIG[node].is_(None))
        .values({_SIG[node]: signature}),
        {"size": tree_size},
    )
