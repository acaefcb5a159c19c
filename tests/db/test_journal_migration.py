"""Migration 0008 moves the journal from a row per leaf and per interior node (0007) to bundles and tiles, and
back: every leaf's bytes, kind, hash, references and ledger timestamps survive both ways, the proofs are the same,
and a log whose stored hashes do not give its frontier is refused rather than migrated."""

from __future__ import annotations

import pytest
from alembic import command
from sqlalchemy import text

from fintech_zone.db import Database
from fintech_zone.db.migrate import alembic_config, upgrade
from fintech_zone.journal import merkle, service, store
from fintech_zone.journal.model import Entry

# Enough leaves for full and partial tiles of two tiers; one leaf above the 64 KiB bundle limit.
SIZES = [60] * 300 + [70_000] + [90] * 40


def leaf_data(i: int) -> bytes:
    return f'{{"kind":"test.entry","n":{i},"pad":"{"x" * SIZES[i]}","v":1}}'.encode()


def _insert_0007(db: Database) -> list[bytes]:
    """A log written the way revision 0007 wrote it: leaf rows, interior node rows, state, refs."""
    datas = [leaf_data(i) for i in range(len(SIZES))]
    hashes = merkle.leaf_hashes(datas)
    size, frontier, nodes = merkle.extend(0, [], hashes)
    with db.transaction() as conn:
        conn.execute(
            text(
                "INSERT INTO journal_leaves (idx, kind, data, leaf_hash, first_timestamp, last_timestamp)"
                " VALUES (:i, 'test.entry', :d, :h, :f, :l)"
            ),
            [
                {
                    "i": i,
                    "d": d,
                    "h": h,
                    "f": 1000 + 10 * i if i % 7 == 0 else None,
                    "l": 1005 + 10 * i if i % 7 == 0 else None,
                }
                for i, (d, h) in enumerate(zip(datas, hashes, strict=True))
            ],
        )
        conn.execute(
            text("INSERT INTO journal_nodes (node, hash) VALUES (:k, :h)"),
            [{"k": level << 48 | i, "h": h} for level, i, h in nodes],
        )
        conn.execute(text("INSERT INTO journal_refs (ref, leaf) VALUES ('uetr-5', 5), ('uetr-5', 9)"))
        conn.execute(
            text("UPDATE journal_state SET tree_size = :s, frontier = :f WHERE id = 1"),
            {"s": size, "f": b"".join(frontier)},
        )
    return datas


def _rows_0007(db: Database) -> tuple[list[tuple[object, ...]], list[tuple[object, ...]]]:
    with db.read() as conn:
        leaves = conn.execute(text("SELECT * FROM journal_leaves ORDER BY idx")).all()
        nodes = conn.execute(text("SELECT * FROM journal_nodes ORDER BY node")).all()
    return [tuple(bytes(v) if isinstance(v, memoryview) else v for v in r) for r in leaves], [
        (r[0], bytes(r[1])) for r in nodes
    ]


def test_0008_moves_the_log_into_bundles_and_tiles_and_back(fresh_url: str) -> None:
    db = Database.from_url(fresh_url)
    try:
        upgrade(db.engine, "0007")
        datas = _insert_0007(db)
        before = _rows_0007(db)
        n = len(datas)
        tree = merkle.MemoryTree(merkle.leaf_hashes(datas))

        upgrade(db.engine, "0008")
        with db.read() as conn:
            assert [(i, d) for i, _, d, _ in store.iter_leaves(conn)] == list(enumerate(datas))
            assert [h for *_, h in store.iter_leaves(conn)] == merkle.leaf_hashes(datas)
            assert store.get_leaf(conn, 300) == ("test.entry", datas[300], merkle.leaf_hash(datas[300]))
            assert store.ledger_leaf_for_timestamp(conn, 1000 + 10 * 14 + 3) == 14
            assert store.ledger_leaf_for_timestamp(conn, 1000 + 10 * 15) is None
            bundle_sizes = [r[0] for r in conn.execute(text("SELECT n_leaves FROM journal_bundles ORDER BY 1"))]
        assert sum(bundle_sizes) == n and max(bundle_sizes) <= store.BUNDLE_LEAVES
        assert service.lookup(db, "uetr-5") == [5, 9]
        for index, size in [(0, 1), (5, n), (299, 300), (300, 301), (n - 1, n), (256, 257), (17, 255)]:
            assert service.inclusion_proof(db, index, size) == tree.inclusion_proof(index, size)
        assert service.consistency_proof(db, 255, n) == tree.consistency_proof(255, n)
        assert service.root_at(db, n) == tree.root()

        # The migrated log takes appends as any other does.
        extra = [Entry("test.entry", leaf_data(i % 300)) for i in range(3)]
        with db.transaction() as conn:
            assert service.append_in(conn, extra) == [n, n + 1, n + 2]
        for e in extra:
            tree.append(merkle.leaf_hash(e.data))
        assert service.root_at(db, n + 3) == tree.root()

        command.downgrade(alembic_config(db.engine), "0007")
        leaves, nodes = _rows_0007(db)
        assert leaves[:n] == before[0]
        assert [r[2] for r in leaves[n:]] == [e.data for e in extra]
        expected_nodes = {
            level << 48 | i: tree.subtree(i << level, (i + 1) << level)
            for level in range(1, (n + 3).bit_length())
            for i in range((n + 3) >> level)
        }
        assert dict(nodes) == expected_nodes
    finally:
        db.dispose()


def test_0008_refuses_a_log_whose_hashes_do_not_give_its_frontier(fresh_url: str) -> None:
    db = Database.from_url(fresh_url)
    try:
        upgrade(db.engine, "0007")
        _insert_0007(db)
        with db.transaction() as conn:
            conn.execute(text("UPDATE journal_leaves SET leaf_hash = :h WHERE idx = 3"), {"h": b"\x00" * 32})
        with pytest.raises(RuntimeError, match="do not give the stored tree"):
            upgrade(db.engine, "0008")
        with db.read() as conn:  # nothing half-done: the old tables are still there, with every leaf
            assert conn.execute(text("SELECT count(*) FROM journal_leaves")).scalar_one() == len(SIZES)
    finally:
        db.dispose()
