"""journal: leaves in bundles and hashes in tiles (C2SP-style) instead of a row per leaf and per interior node

The leaves move into bundles of up to 256 (or 64 KiB), their ledger timestamp ranges into journal_batch_times,
and the hashes into tiles of eight levels. The tiles are built from the stored leaf hashes; the interior nodes
are recomputed from those (they are derived data, and the signed heads catch any change either way), and the
frontier this yields must equal the stored one or the migration stops. Downgrade writes the rows back.

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-27 21:00:00.000000
"""

from collections.abc import Iterator, Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op

from fintech_zone.journal import merkle, tiles

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ROWID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
PAGE = 10_000
BUNDLE_LEAVES, BUNDLE_BYTES = 256, 64 * 1024  # as journal.store writes them: the lengths, then the leaves

_old_leaves = sa.table(
    "journal_leaves",
    sa.column("idx", sa.BigInteger),
    sa.column("kind", sa.String),
    sa.column("data", sa.LargeBinary),
    sa.column("leaf_hash", sa.LargeBinary),
    sa.column("first_timestamp", sa.BigInteger),
    sa.column("last_timestamp", sa.BigInteger),
)
_old_nodes = sa.table("journal_nodes", sa.column("node", sa.BigInteger), sa.column("hash", sa.LargeBinary))
_state = sa.table(
    "journal_state", sa.column("id", sa.Integer), sa.column("tree_size", sa.BigInteger), sa.column("frontier")
)


def _create_new() -> tuple[sa.Table, sa.Table, sa.Table]:
    bundles = op.create_table(
        "journal_bundles",
        sa.Column("first_leaf", ROWID, autoincrement=False, nullable=False),
        sa.Column("n_leaves", sa.Integer(), nullable=False),
        sa.Column("kinds", sa.Text(), nullable=False),
        sa.Column("data", sa.LargeBinary(), nullable=False),
        sa.PrimaryKeyConstraint("first_leaf", name=op.f("pk_journal_bundles")),
    )
    tile_table = op.create_table(
        "journal_tiles",
        sa.Column("tile", ROWID, autoincrement=False, nullable=False),
        sa.Column("hashes", sa.LargeBinary(), nullable=False),
        sa.PrimaryKeyConstraint("tile", name=op.f("pk_journal_tiles")),
    )
    times = op.create_table(
        "journal_batch_times",
        sa.Column("last_timestamp", ROWID, autoincrement=False, nullable=False),
        sa.Column("first_timestamp", sa.BigInteger(), nullable=False),
        sa.Column("leaf", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("last_timestamp", name=op.f("pk_journal_batch_times")),
    )
    return bundles, tile_table, times


def _pages(conn: sa.Connection) -> Iterator[list[sa.Row[Any]]]:
    start = 0
    while True:
        rows = list(
            conn.execute(
                sa.select(_old_leaves).where(_old_leaves.c.idx >= start).order_by(_old_leaves.c.idx).limit(PAGE)
            )
        )
        if not rows:
            return
        yield rows
        start = int(rows[-1].idx) + 1


def _bundle(rows: list[sa.Row[Any]]) -> dict[str, object]:
    data = b"".join([len(r.data).to_bytes(4, "big") for r in rows] + [bytes(r.data) for r in rows])
    kinds = [r.kind for r in rows]
    same = kinds.count(kinds[0]) == len(kinds)  # one word stands for all when they are alike, as the store writes
    return {
        "first_leaf": int(rows[0].idx),
        "n_leaves": len(rows),
        "kinds": kinds[0] if same else " ".join(kinds),
        "data": data,
    }


def upgrade() -> None:
    conn = op.get_bind()
    bundles, tile_table, times = _create_new()
    size, frontier = 0, list[bytes]()
    edge: dict[int, bytes] = {}  # the right edge's partial tiles as last written
    pending: list[sa.Row[Any]] = []
    held = 0
    for rows in _pages(conn):
        if int(rows[0].idx) != size or int(rows[-1].idx) != size + len(rows) - 1:
            raise RuntimeError(f"journal_leaves is not numbered 0, 1, 2, … from leaf {size}: not migrated")
        new_size, frontier, levels = merkle.extend_levels(size, frontier, [bytes(r.leaf_hash) for r in rows])
        changed = tiles.updates(size, new_size, levels)
        blobs = {k: tiles.merged(edge.get(k), added) for k, added in changed.items()}
        conn.execute(sa.delete(tile_table).where(tile_table.c.tile.in_([k for k in blobs if k in edge])))
        conn.execute(tile_table.insert(), [{"tile": k, "hashes": b} for k, b in blobs.items()])
        edge = {k: b for k, b in {**edge, **blobs}.items() if tiles.width(b) < tiles.WIDTH}
        size = new_size
        out = []
        for r in rows:
            pending.append(r)
            held += len(r.data)
            if len(pending) == BUNDLE_LEAVES or held >= BUNDLE_BYTES:
                out.append(_bundle(pending))
                pending, held = [], 0
        if out:
            conn.execute(bundles.insert(), out)
        ranges = [
            {"last_timestamp": r.last_timestamp, "first_timestamp": r.first_timestamp, "leaf": r.idx}
            for r in rows
            if r.first_timestamp is not None and r.last_timestamp is not None
        ]
        if ranges:
            conn.execute(times.insert(), ranges)
    if pending:
        conn.execute(bundles.insert(), [_bundle(pending)])
    stored = conn.execute(sa.select(_state.c.tree_size, _state.c.frontier).where(_state.c.id == 1)).first()
    if stored is not None and (int(stored.tree_size) != size or bytes(stored.frontier) != b"".join(frontier)):
        raise RuntimeError("journal_leaves' hashes do not give the stored tree's size and frontier: not migrated")
    op.drop_table("journal_nodes")
    op.drop_index("ix_journal_leaves_last_timestamp", table_name="journal_leaves")
    op.drop_table("journal_leaves")


def downgrade() -> None:
    conn = op.get_bind()
    leaves = op.create_table(
        "journal_leaves",
        sa.Column("idx", ROWID, autoincrement=False, nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("data", sa.LargeBinary(), nullable=False),
        sa.Column("leaf_hash", sa.LargeBinary(), nullable=False),
        sa.Column("first_timestamp", sa.BigInteger(), nullable=True),
        sa.Column("last_timestamp", sa.BigInteger(), nullable=True),
        sa.PrimaryKeyConstraint("idx", name=op.f("pk_journal_leaves")),
    )
    op.create_index(
        "ix_journal_leaves_last_timestamp",
        "journal_leaves",
        ["last_timestamp"],
        unique=False,
        sqlite_where=sa.text("last_timestamp IS NOT NULL"),
        postgresql_where=sa.text("last_timestamp IS NOT NULL"),
    )
    nodes = op.create_table(
        "journal_nodes",
        sa.Column("node", ROWID, autoincrement=False, nullable=False),
        sa.Column("hash", sa.LargeBinary(), nullable=False),
        sa.PrimaryKeyConstraint("node", name=op.f("pk_journal_nodes")),
    )
    bundles = sa.table(
        "journal_bundles",
        sa.column("first_leaf", sa.BigInteger),
        sa.column("n_leaves", sa.Integer),
        sa.column("kinds", sa.Text),
        sa.column("data", sa.LargeBinary),
    )
    tile_table = sa.table("journal_tiles", sa.column("tile", sa.BigInteger), sa.column("hashes", sa.LargeBinary))
    times = sa.table(
        "journal_batch_times",
        sa.column("last_timestamp", sa.BigInteger),
        sa.column("first_timestamp", sa.BigInteger),
        sa.column("leaf", sa.BigInteger),
    )
    leaf_hash: dict[int, bytes] = {}
    mask = (1 << tiles.TIER_SHIFT) - 1
    for key, blob in conn.execute(sa.select(tile_table.c.tile, tile_table.c.hashes)):
        tier, tile = int(key) >> tiles.TIER_SHIFT, int(key) & mask
        node_rows = []
        for j, hashes in enumerate(tiles.levels(bytes(blob))):
            level = tier * tiles.HEIGHT + j
            for position, h in enumerate(hashes):
                index = (tile << (tiles.HEIGHT - j)) + position
                if level == 0:
                    leaf_hash[index] = h
                else:
                    node_rows.append({"node": level << 48 | index, "hash": h})
        if node_rows:
            conn.execute(nodes.insert(), node_rows)
    ranges = {int(r.leaf): (r.first_timestamp, r.last_timestamp) for r in conn.execute(sa.select(times))}
    for b in conn.execute(sa.select(bundles).order_by(bundles.c.first_leaf)).all():
        data, rows = bytes(b.data), []
        at = 4 * b.n_leaves
        kinds = b.kinds.split(" ")
        for i, kind in enumerate(kinds * b.n_leaves if len(kinds) == 1 else kinds):
            n = int.from_bytes(data[4 * i : 4 * i + 4], "big")
            index = int(b.first_leaf) + i
            first_ts, last_ts = ranges.get(index, (None, None))
            rows.append(
                {
                    "idx": index,
                    "kind": kind,
                    "data": data[at : at + n],
                    "leaf_hash": leaf_hash[index],
                    "first_timestamp": first_ts,
                    "last_timestamp": last_ts,
                }
            )
            at += n
        conn.execute(leaves.insert(), rows)
    op.drop_table("journal_batch_times")
    op.drop_table("journal_tiles")
    op.drop_table("journal_bundles")
