"""The journal's tables and queries.

The tree is stored as the hash of every complete aligned subtree: leaf hashes with their leaves, interior nodes in
``journal_nodes`` under one integer key per (level, index). A proof reads each node it needs once, all in one
query: O(log n) rows, never a pass over the leaves. ``journal_state`` holds the size and the frontier (the right
edge's complete subtrees), which is all an append reads; its row is the log's lock.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Sequence
from typing import Any

from sqlalchemy import (
    BigInteger,
    Column,
    Connection,
    Index,
    Integer,
    LargeBinary,
    String,
    Table,
    bindparam,
    select,
    text,
    update,
)

from fintech_zone.db.metadata import metadata
from fintech_zone.journal import merkle
from fintech_zone.journal.model import NODES, SignedHead, TreeHead

# On SQLite an INTEGER PRIMARY KEY is the table's rowid: BIGINT would add a second B-tree for the key, which
# cost every append a third of its time.
RowId = BigInteger().with_variant(Integer(), "sqlite")

LEVEL_SHIFT = 48
"""A node's key is level << 48 | index: one integer primary key, room for 2**48 leaves."""

state = Table(
    "journal_state",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=False),  # one row
    Column("tree_size", BigInteger, nullable=False),
    Column("frontier", LargeBinary, nullable=False),  # 32-byte hashes, one per set bit of tree_size, largest first
)

leaves = Table(
    "journal_leaves",
    metadata,
    Column("idx", RowId, primary_key=True, autoincrement=False),
    Column("kind", String(32), nullable=False),
    Column("data", LargeBinary, nullable=False),
    Column("leaf_hash", LargeBinary, nullable=False),
    # A ledger batch's leaf covers the transfer timestamps [first, last]: how a transfer id finds its leaf
    # without a look-up row per transfer.
    Column("first_timestamp", BigInteger, nullable=True),
    Column("last_timestamp", BigInteger, nullable=True),
    # Only ledger batches' leaves have one: the other leaves add nothing to the index.
    Index(
        "ix_journal_leaves_last_timestamp",
        "last_timestamp",
        sqlite_where=text("last_timestamp IS NOT NULL"),
        postgresql_where=text("last_timestamp IS NOT NULL"),
    ),
)

nodes = Table(
    "journal_nodes",
    metadata,
    Column("node", RowId, primary_key=True, autoincrement=False),
    Column("hash", LargeBinary, nullable=False),
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


class _Driver:
    """The driver's cursor in the caller's transaction: appends write many small rows, cheapest this way."""

    def __init__(self, conn: Connection) -> None:
        self.sqlite = conn.dialect.name == "sqlite"
        self.cursor: Any = conn.connection.dbapi_connection.cursor()  # type: ignore[union-attr]
        self.mark = "?" if self.sqlite else "%s"

    def insert(self, table: Table, columns: Sequence[str], rows: list[tuple[Any, ...]]) -> None:
        if not rows:
            return
        if self.sqlite:
            marks = ", ".join("?" * len(columns))
            self.cursor.executemany(f"INSERT INTO {table.name} ({', '.join(columns)}) VALUES ({marks})", rows)
            return
        with self.cursor.copy(f"COPY {table.name} ({', '.join(columns)}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row(row)


def lock(conn: Connection) -> tuple[int, list[bytes]]:
    """The log's size and frontier, locked until the transaction ends (appends go one after another). On the
    driver's cursor: every payment takes this lock a few times, and a Core statement cost 0.3 ms each time."""
    driver = _Driver(conn)
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


LeafRow = tuple[int, str, bytes, bytes, int | None, int | None]
"""(index, kind, data, leaf hash, first ledger timestamp, last ledger timestamp)."""


def append(
    conn: Connection,
    size: int,
    frontier: list[bytes],
    rows: list[LeafRow],
    leaf_refs: list[tuple[str, int]],
) -> None:
    """Store leaves (already numbered from ``size``), their new interior nodes, references and the new state."""
    new_size, new_frontier, new_nodes = merkle.extend(size, frontier, [r[3] for r in rows])
    driver = _Driver(conn)
    try:
        driver.insert(leaves, ("idx", "kind", "data", "leaf_hash", "first_timestamp", "last_timestamp"), rows)
        driver.insert(nodes, ("node", "hash"), [(level << LEVEL_SHIFT | i, h) for level, i, h in new_nodes])
        driver.insert(refs, ("ref", "leaf"), leaf_refs)
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
    """Stored hashes of complete aligned subtrees (level, index) — leaves' from their table, the rest by key — and
    the log's size, in ONE statement on the driver's cursor: a proof is a handful of rows, and three statements
    through SQLAlchemy cost most of its time (docs/benchmarks.md)."""
    wanted = set(parts)
    leaf_ids = [i for level, i in wanted if level == 0]
    node_keys = [level << LEVEL_SHIFT | i for level, i in wanted if level > 0]
    driver = _Driver(conn)
    params: tuple[Any, Any]
    if driver.sqlite:
        where, params = "IN (SELECT value FROM json_each(?))", (json.dumps(leaf_ids), json.dumps(node_keys))
    else:
        where, params = "= ANY(%s)", (leaf_ids, node_keys)
    sql = (
        f"SELECT 0, idx, leaf_hash FROM {leaves.name} WHERE idx {where}"
        f" UNION ALL SELECT 1, node, hash FROM {nodes.name} WHERE node {where}"
        f" UNION ALL SELECT 2, tree_size, frontier FROM {state.name} WHERE id = 1"
    )
    found = StoredNodes()
    mask = (1 << LEVEL_SHIFT) - 1
    try:
        driver.cursor.execute(sql, params)
        for table, key, h in driver.cursor.fetchall():
            if table == 0:
                found[(0, key)] = bytes(h)
            elif table == 1:
                found[(key >> LEVEL_SHIFT, key & mask)] = bytes(h)
            else:
                found.tree_size = key
    finally:
        driver.cursor.close()
    return found


def get_leaf(conn: Connection, index: int) -> tuple[str, bytes, bytes] | None:
    row = conn.execute(select(leaves.c.kind, leaves.c.data, leaves.c.leaf_hash).where(leaves.c.idx == index)).first()
    return None if row is None else (row.kind, bytes(row.data), bytes(row.leaf_hash))


def iter_leaves(
    conn: Connection, start: int = 0, end: int | None = None, chunk: int = 2000
) -> Iterator[tuple[int, str, bytes, bytes]]:
    """(index, kind, data, leaf hash) in index order, read a chunk at a time so a large log streams."""
    while end is None or start < end:
        query = select(leaves.c.idx, leaves.c.kind, leaves.c.data, leaves.c.leaf_hash).where(leaves.c.idx >= start)
        if end is not None:
            query = query.where(leaves.c.idx < end)
        rows = conn.execute(query.order_by(leaves.c.idx).limit(chunk)).all()
        if not rows:
            return
        for r in rows:
            yield int(r.idx), r.kind, bytes(r.data), bytes(r.leaf_hash)
        start = int(rows[-1].idx) + 1


def leaves_for_ref(conn: Connection, ref: str) -> list[int]:
    return [int(i) for i in conn.execute(select(refs.c.leaf).where(refs.c.ref == ref).order_by(refs.c.leaf)).scalars()]


def ledger_leaf_for_timestamp(conn: Connection, timestamp: int) -> int | None:
    """The ledger batch leaf whose timestamp range holds ``timestamp``."""
    row = conn.execute(
        select(leaves.c.idx, leaves.c.first_timestamp)
        .where(leaves.c.last_timestamp >= timestamp)
        .order_by(leaves.c.last_timestamp)
        .limit(1)
    ).first()
    if row is None or row.first_timestamp > timestamp:
        return None
    return int(row.idx)


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
