"""The stored journal on SQLite and PostgreSQL: the tree in its tables against the in-memory reference, the cost
of a proof, transactions that roll back, what ledger batches and payments write, look-ups, tree heads and their
signatures, and concurrent writers."""

from __future__ import annotations

import json
import threading
import uuid
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select, update

from fintech_zone.app import create_app
from fintech_zone.db import Database
from fintech_zone.errors import Conflict, NotFound
from fintech_zone.journal import keys, merkle, service, store, tiles
from fintech_zone.journal.model import Entry, SignedHead
from fintech_zone.ledger import service as ledger
from fintech_zone.ledger.model import Asset, AssetKind, NewAccount, Transfer, TransferFlag
from fintech_zone.payments.screening import Screener, load_list
from fintech_zone.settings import Settings
from tests.journal.rfc9162_verifier import Reference
from tests.journal.rfc9162_verifier import mth as reference_mth
from tests.payments.conftest import Rails, make_rails  # noqa: F401  (a fixture: real payments' leaves)

PAYMENTS = "/api/v1/payments"


# -- helpers ----------------------------------------------------------------------------------------------------


def entry(n: int, *refs: str) -> Entry:
    return Entry("test.entry", f'{{"kind":"test.entry","n":{n},"v":1}}'.encode(), refs=refs)


def append(db: Database, entries: Sequence[Entry]) -> list[int]:
    with db.transaction() as conn:
        return service.append_in(conn, entries)


def stored_nodes(conn: Any) -> dict[tuple[int, int], bytes]:
    """Every hash the tiles hold, by (level, index)."""
    found = {}
    for k, blob in conn.execute(select(store.tile_table.c.tile, store.tile_table.c.hashes)):
        tier, tile = k >> tiles.TIER_SHIFT, k & ((1 << tiles.TIER_SHIFT) - 1)
        for j, hashes in enumerate(tiles.levels(bytes(blob))):
            for position, h in enumerate(hashes):
                found[(tier * tiles.HEIGHT + j, (tile << (tiles.HEIGHT - j)) + position)] = h
    return found


def counts(db: Database) -> tuple[int, int, int, int, list[bytes]]:
    """(leaves, stored hashes, refs, state's size, state's frontier)."""
    with db.read() as conn:
        n_leaves = conn.execute(select(func.coalesce(func.sum(store.bundles.c.n_leaves), 0))).scalar_one()
        n_nodes = len(stored_nodes(conn))
        n_refs = conn.execute(select(func.count()).select_from(store.refs)).scalar_one()
        size, frontier = store.read_state(conn)
    return n_leaves, n_nodes, n_refs, size, frontier


def all_leaf_data(db: Database) -> list[bytes]:
    with db.read() as conn:
        rows = list(store.iter_leaves(conn))
    assert [r[0] for r in rows] == list(range(len(rows))), "leaf indices are not gap-free from 0"
    for _, _, data, h in rows:
        assert merkle.leaf_hash(data) == h
    return [r[2] for r in rows]


CNY = Asset("CNY", AssetKind.FIAT_RESERVE, "CNY", 2)


def open_accounts(db: Database, *ids: str) -> None:
    if "CNY" not in {a.code for a in ledger.list_assets(db)}:
        ledger.create_asset(db, CNY)
    results = ledger.create_accounts(db, [NewAccount(i, "CNY", 1) for i in ids])
    assert {r.result for r in results} == {"created"}, results


def transfer(tid: str, dr: str = "a", cr: str = "b", amount: int = 100, **kw: Any) -> Transfer:
    return Transfer(tid, dr, cr, amount, "CNY", 1, **kw)


# -- the stored tree ----------------------------------------------------------------------------------------------

UNEVEN = [1, 2, 1, 5, 3, 8, 1, 1, 13, 2, 31, 1, 7, 33, 2, 19]  # 130 leaves


def test_stored_proofs_equal_the_memory_tree_for_every_index_and_size(db: Database) -> None:
    tree = merkle.MemoryTree()
    data: list[bytes] = []
    n = 0
    for batch in UNEVEN:
        entries = [entry(n + i) for i in range(batch)]
        assert append(db, entries) == list(range(n, n + batch))
        for e in entries:
            tree.append(merkle.leaf_hash(e.data))
            data.append(e.data)
        n += batch
        assert service.tree_size(db) == n
        assert service.root_at(db, n) == tree.root()
    assert n == sum(UNEVEN) == 130
    ref = Reference(data)

    with db.read() as conn:
        # The tiles hold exactly the complete aligned subtrees, leaves included.
        expected = {
            (level, i): ref.mth(i << level, (i + 1) << level)
            for level in range(n.bit_length())
            for i in range(n >> level)
        }
        assert stored_nodes(conn) == expected

        # Every (index, size) and every (first, second): the service's reader of stored nodes, asked for every
        # range all those proofs need in one read (a query per proof would take most of a minute).
        pairs = [(i, size) for size in range(1, n + 1) for i in range(size)]
        firsts = [(first, size) for size in range(n + 1) for first in range(size + 1)]
        ranges = {
            r
            for i, size in pairs
            for r in service._ranges(lambda sub, i=i, size=size: merkle.inclusion_proof(i, size, sub))
        }
        ranges |= {
            r
            for f, size in firsts
            for r in service._ranges(lambda sub, f=f, size=size: merkle.consistency_proof(f, size, sub))
        }
        _, reader = service._subtree_reader(conn, sorted(ranges))
        for index, size in pairs:
            assert merkle.inclusion_proof(index, size, reader) == tree.inclusion_proof(index, size)
        for first, size in firsts:
            assert merkle.consistency_proof(first, size, reader) == tree.consistency_proof(first, size)

        # And one query per proof, as the API asks, around every power of two and every batch boundary.
        boundaries = {sum(UNEVEN[:k]) for k in range(1, len(UNEVEN) + 1)}
        sizes = sorted(
            s for s in {1, 2, 3, *boundaries, *(p + d for p in (4, 8, 16, 32, 64, 128) for d in (-1, 0, 1))} if s <= n
        )
        for size in sizes:
            assert service._root_at(conn, size) == tree.root(size) == ref.root(size)
            for index in range(0, size, max(1, size // 16)):
                assert service.inclusion_in(conn, index, size) == tree.inclusion_proof(index, size)
            assert service.inclusion_in(conn, size - 1, size) == tree.inclusion_proof(size - 1, size)
            for first in sizes:
                if first <= size:
                    assert service.consistency_in(conn, first, size) == tree.consistency_proof(first, size)


@contextmanager
def counting_reads(monkeypatch: pytest.MonkeyPatch) -> Iterator[dict[str, list[int]]]:
    """Counts, per call of ``store.subtree_hashes`` (one SQL statement on the driver's cursor, which SQLAlchemy's
    events do not see), the subtrees asked for and the rows answered."""
    seen: dict[str, list[int]] = {"asked": [], "rows": [], "statements": []}
    real = store.subtree_hashes

    def spy(conn: Any, parts: Any) -> store.StoredNodes:
        wanted = list(parts)
        found = real(conn, wanted)
        seen["asked"].append(len(set(wanted)))
        seen["rows"].append(len(found))
        seen["statements"].append(1)
        return found

    monkeypatch.setattr(store, "subtree_hashes", spy)
    yield seen


def test_a_proof_reads_a_logarithmic_number_of_stored_nodes(db: Database, monkeypatch: pytest.MonkeyPatch) -> None:
    n = 1500
    for start in range(0, n, 500):
        append(db, [entry(i) for i in range(start, start + 500)])
    tree = merkle.MemoryTree(merkle.leaf_hash(entry(i).data) for i in range(n))
    cases = [(0, 1), (0, n), (n - 1, n), (700, 1023), (1022, 1023), (5, 1025), (1024, 1025), (777, 1499), (3, 1337)]
    with counting_reads(monkeypatch) as seen:
        for index, size in cases:
            bound = 2 * size.bit_length() + 1
            before = len(seen["statements"])
            assert service.inclusion_proof(db, index, size) == tree.inclusion_proof(index, size)
            assert service.consistency_proof(db, index, size) == tree.consistency_proof(index, size)
            assert service.root_at(db, size) == tree.root(size)
            # Three calls, each one statement (the nodes, the leaves and the log's size together).
            assert len(seen["statements"]) - before == 3
            assert seen["asked"][-3:] == seen["rows"][-3:], "a stored subtree the proof needs is missing"
            assert all(rows <= bound for rows in seen["rows"][-3:]), (index, size, seen["rows"][-3:])
    # Logarithmic, not linear: the largest answer for 1,500 leaves reads a couple of dozen rows.
    assert max(seen["rows"]) <= 2 * n.bit_length() + 1


# -- transactions -------------------------------------------------------------------------------------------------


class Boom(Exception):
    pass


def test_an_append_that_rolls_back_leaves_nothing_and_the_next_continues(db: Database) -> None:
    assert append(db, [entry(i, f"ref-{i}") for i in range(5)]) == [0, 1, 2, 3, 4]
    before = counts(db)
    root = service.root_at(db, 5)
    with pytest.raises(Boom), db.transaction() as conn:
        assert service.append_in(conn, [entry(100 + i, f"gone-{i}") for i in range(7)]) == list(range(5, 12))
        assert service.append_in(conn, [entry(200, "gone-x")]) == [12]
        raise Boom
    assert counts(db) == before
    assert service.tree_size(db) == 5 and service.root_at(db, 5) == root
    for ref in ("gone-0", "gone-6", "gone-x"):
        with pytest.raises(NotFound):
            service.lookup(db, ref)
    # A ledger batch in a caller's transaction that fails afterwards takes its leaf with it.
    open_accounts(db, "a", "b")
    after_accounts = counts(db)
    with pytest.raises(Boom), db.transaction() as conn:
        assert [r.result for r in ledger.create_transfers_in(conn, [transfer("t-rolled-back")])] == ["created"]
        raise Boom
    assert counts(db) == after_accounts
    # Later appends take the next index and the tree stays the one its leaves make.
    assert append(db, [entry(300, "next")]) == [after_accounts[3]]
    assert service.lookup(db, "next") == [after_accounts[3]]
    data = all_leaf_data(db)
    assert service.root_at(db, len(data)) == reference_mth(data)


def test_deferred_appends_write_the_same_log_once_and_failed_units_take_their_leaves(
    db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Group commit (journal.deferred): the leaves of a transaction's units are written together at its end, with
    the indices they would have had; a unit that fails takes its leaves back with its savepoint."""
    assert append(db, [entry(i, f"before-{i}") for i in range(3)]) == [0, 1, 2]
    writes: list[int] = []
    real_write = service._write

    def counted_write(conn: Any, size: int, frontier: list[bytes], entries: Sequence[Entry]) -> None:
        writes.append(len(entries))
        real_write(conn, size, frontier, entries)

    monkeypatch.setattr(service, "_write", counted_write)
    with db.transaction() as conn, service.deferred(conn):
        for unit in range(6):
            try:
                with conn.begin_nested(), service.undone_with(conn):
                    first = service.append_in(conn, [entry(10 * unit, f"unit-{unit}")])
                    second = service.append_in(conn, [entry(10 * unit + 1), entry(10 * unit + 2)])
                    assert second == [first[0] + 1, first[0] + 2]
                    if unit in (1, 4):
                        raise Boom
            except Boom:
                pass
        assert store.read_state(conn)[0] == 3 and writes == []  # nothing written before the block ends
    assert writes == [12]  # one write for the four units that held, three leaves each
    data = all_leaf_data(db)
    assert len(data) == 15 and service.root_at(db, 15) == reference_mth(data)
    kept = [json.loads(d)["n"] for d in data[3:]]
    assert kept == [n for unit in (0, 2, 3, 5) for n in (10 * unit, 10 * unit + 1, 10 * unit + 2)]
    assert [service.lookup(db, f"unit-{u}") for u in (0, 2, 3, 5)] == [[3], [6], [9], [12]]
    for unit in (1, 4):
        with pytest.raises(NotFound):
            service.lookup(db, f"unit-{unit}")


def test_a_deferring_transaction_that_fails_writes_nothing_and_cannot_nest(db: Database) -> None:
    assert append(db, [entry(0)]) == [0]
    before = counts(db)
    with pytest.raises(Boom), db.transaction() as conn, service.deferred(conn):
        service.append_in(conn, [entry(1, "lost")])
        raise Boom
    assert counts(db) == before
    with db.transaction() as conn, service.deferred(conn):
        with pytest.raises(RuntimeError, match="already deferred"), service.deferred(conn):
            pass
        assert service.append_in(conn, [entry(2, "kept")]) == [1]
    assert service.lookup(db, "kept") == [1]
    # Outside a deferring block, undone_with has nothing to undo and lets the failure through.
    with db.transaction() as conn, pytest.raises(Boom), service.undone_with(conn):
        raise Boom
    assert service.tree_size(db) == 2


# -- what ledger batches write --------------------------------------------------------------------------------------


def last_leaf(db: Database) -> tuple[int, dict[str, Any]]:
    size = service.tree_size(db)
    kind, data, _ = service.get_leaf(db, size - 1)
    value = json.loads(data)
    assert value["kind"] == kind
    return size - 1, value


def test_a_batch_that_only_fails_is_journalled_and_one_that_changes_nothing_is_not(db: Database) -> None:
    open_accounts(db, "a", "b")
    size = service.tree_size(db)
    _, leaf = last_leaf(db)
    assert leaf["kind"] == "ledger.batch" and [row[0] for row in leaf["accounts"]] == ["a", "b"]

    # Every event fails, for the first time: the failures are remembered, so the batch is journalled.
    failing = [transfer("f-1", dr="ghost"), transfer("f-2", cr="ghost"), transfer("f-3", amount=-1)]
    results = [r.result for r in ledger.create_transfers(db, failing)]
    assert "created" not in results and "exists" not in results
    assert service.tree_size(db) == size + 1
    _, leaf = last_leaf(db)
    assert leaf["transfers"] == [] and leaf["accounts"] == [] and leaf["balances"] == []
    assert leaf["failed"] == [
        ["transfer", tid, res] for tid, res in sorted(zip(["f-1", "f-2", "f-3"], results, strict=True))
    ]

    # The same events again: id_already_failed, nothing changed, no leaf.
    assert {r.result for r in ledger.create_transfers(db, failing)} == {"id_already_failed"}
    # Invalid ids are not remembered either: nothing to journal.
    assert {r.result for r in ledger.create_transfers(db, [transfer("bad id"), transfer("")])} == {"id_invalid"}
    assert service.tree_size(db) == size + 1

    # A created transfer, then the same event again: `exists`, nothing changed, no leaf.
    assert [r.result for r in ledger.create_transfers(db, [transfer("t-1")])] == ["created"]
    assert service.tree_size(db) == size + 2
    assert [r.result for r in ledger.create_transfers(db, [transfer("t-1")])] == ["exists"]
    assert [r.result for r in ledger.create_accounts(db, [NewAccount("a", "CNY", 1)])] == ["exists"]
    assert service.tree_size(db) == size + 2
    data = all_leaf_data(db)
    assert service.root_at(db, len(data)) == reference_mth(data)


def transfer_as_documented(t: Transfer) -> list[Any]:
    """ledger/journal_leaf.py's layout: [id, debit, credit, amount, requested_amount, ledger, code, flags (sorted
    names), pending_id, timeout, reference, user_data, timestamp]."""
    return [
        t.id, t.debit_account_id, t.credit_account_id, t.amount, t.requested_amount, t.ledger, t.code,
        sorted(f.value for f in t.flags), t.pending_id, t.timeout, t.reference, t.user_data, t.timestamp,
    ]  # fmt: skip


def test_a_batch_leaf_holds_exactly_the_transfers_it_created(db: Database) -> None:
    open_accounts(db, "a", "b", "c")
    events = [
        transfer("p-1", amount=500, flags=frozenset({TransferFlag.PENDING}), timeout=3600, reference="inv 1"),
        transfer("p-1", amount=500),  # exists_with_different_flags: not created, not failed for good
        transfer("x-1", dr="ghost"),  # fails
        transfer("t-2", dr="b", cr="c", amount=2**40, user_data=7),
        transfer("t-3", dr="c", cr="a", amount=1, flags=frozenset({TransferFlag.LINKED})),
        transfer("t-4", dr="a", cr="c", amount=2),
    ]
    results = [r.result for r in ledger.create_transfers(db, events)]
    created = [e.id for e, r in zip(events, results, strict=True) if r == "created"]
    assert created == ["p-1", "t-2", "t-3", "t-4"], results
    _, leaf = last_leaf(db)
    stored = [ledger.get_transfer(db, tid) for tid in created]
    assert leaf["transfers"] == [transfer_as_documented(t) for t in stored]
    timestamps = [row[-1] for row in leaf["transfers"]]
    assert timestamps == sorted(timestamps) and len(set(timestamps)) == len(timestamps)
    balances = {row[0]: row[1:] for row in leaf["balances"]}
    for account_id in ("a", "b", "c"):
        a = ledger.get_account(db, account_id)
        assert balances[account_id] == [a.debits_pending, a.debits_posted, a.credits_pending, a.credits_posted]
    assert leaf["pendings"] == [["p-1", "pending", leaf["pendings"][0][2], 0]]
    assert [row[:2] for row in leaf["failed"]] == [["transfer", "x-1"]]

    # Posting the pending transfer: a new leaf with the post and the pending's new state.
    post = Transfer("p-1-post", "", "", 0, "", 0, frozenset({TransferFlag.POST_PENDING_TRANSFER}), pending_id="p-1")
    assert [r.result for r in ledger.create_transfers(db, [post])] == ["created"]
    _, leaf = last_leaf(db)
    assert leaf["transfers"] == [transfer_as_documented(ledger.get_transfer(db, "p-1-post"))]
    assert [p[:2] + p[3:] for p in leaf["pendings"]] == [["p-1", "posted", 500]]


def test_lookup_by_transfer_id_finds_its_batch_leaf(db: Database) -> None:
    open_accounts(db, "a", "b")
    leaf_of: dict[str, int] = {}
    for b in range(6):
        ids = [f"b{b}-t{i}" for i in range(b + 1)]
        ledger.create_transfers(db, [transfer(i, amount=b + 1) for i in ids])
        append(db, [entry(b, f"between-{b}")])  # other leaves between the batches
        for i in ids:
            leaf_of[i] = service.tree_size(db) - 2
    for tid, index in leaf_of.items():
        assert service.lookup(db, tid) == [index]
        kind, data, _ = service.get_leaf(db, index)
        assert kind == "ledger.batch" and tid in [row[0] for row in json.loads(data)["transfers"]]
    ledger.create_transfers(db, [transfer("never", dr="ghost")])
    for unknown in ("never", "b9-t0", "not a valid id", "x" * 64):
        with pytest.raises(NotFound):
            service.lookup(db, unknown)
    # A reference stored with a leaf is found by the refs table (one leaf, however many times the entry names it).
    append(db, [Entry("test.entry", b"{}", refs=("dup", "dup", "other"))])
    assert service.lookup(db, "dup") == service.lookup(db, "other") == [service.tree_size(db) - 1]


def decisions(db: Database, uetr: str) -> tuple[list[int], list[dict[str, Any]]]:
    found = service.lookup(db, uetr)
    leaves = [json.loads(service.get_leaf(db, i)[1]) for i in found]
    assert all(leaf["kind"] == "payment.decision" and leaf["uetr"] == uetr for leaf in leaves)
    return found, leaves


def test_lookup_by_uetr_gives_one_leaf_per_decision_in_order(
    make_rails: Callable[..., Rails],  # noqa: F811
    settings: Settings,
    db: Database,
    tmp_path: Path,
) -> None:
    listed = tmp_path / "list.csv"
    listed.write_text('id,name,aliases,kind,source\nL-1,Zhen Jiaming,,individual,"test list"\n', encoding="utf-8")
    near = "Zhen Jiamin Wu"
    score = Screener(load_list(listed)).screen(near).score
    tuned = settings.model_copy(
        update={
            "screening_list": listed,
            "screening_review_threshold": max(score - 1, 0),
            "screening_reject_threshold": min(score + 1, 100),
        }
    )
    r = make_rails()
    with TestClient(create_app(tuned, db), raise_server_exceptions=False) as client:
        r.client = client
        settled = r.post(PAYMENTS, r.payment(target_asset="CNY", creditor_agent="sg-bank"), "cq-bank").json()
        rejected = r.post(PAYMENTS, r.payment(), "cq-bank").json()  # cross-border without a quote: NARR
        held = r.post(PAYMENTS, r.payment(target_asset="CNY", creditor={"name": near, "account": "1"}), "cq-bank")
        held_uetr = held.json()["uetr"]
        assert (settled["status"], rejected["status"], held.json()["status"]) == ("settled", "rejected", "held")
        between = append(db, [entry(1, "between")])[0]
        review = {"decision": "release", "reason": "same surname, different person: checked ID"}
        released = r.post(f"{PAYMENTS}/{held_uetr}/review", review).json()
        assert released["status"] == "settled", released

    for payment in (settled, rejected, released):
        found, leaves = decisions(db, payment["uetr"])
        assert found == sorted(found) and len(found) == len(payment["history"])
        assert [leaf["seq"] for leaf in leaves] == list(range(len(found)))
        assert [leaf["status"] for leaf in leaves] == [h["status"] for h in payment["history"]]
        # No party data in the clear.
        blob = b"".join(service.get_leaf(db, i)[1] for i in found)
        for clear in (b"Li Ming", b"6222020200112233", b"Tan Ah Kow", b"invoice 42", near.encode()):
            assert clear not in blob

    found, leaves = decisions(db, settled["uetr"])
    assert found == list(range(found[0], found[0] + 3))
    # The payment as it stood after the commit that made the leaves: settled in all three.
    assert {leaf["payment"]["status"] for leaf in leaves} == {"settled"}
    # The settlement's ledger batch comes just after the decisions (a group commit writes its payments' legs as
    # one batch at its end), holds the legs, and their ids find it.
    kind, data, _ = service.get_leaf(db, found[-1] + 1)
    legs = [row[0] for row in json.loads(data)["transfers"]]
    assert kind == "ledger.batch" and legs
    assert all(leg in settled["history"][-1]["detail"] for leg in legs)
    for leg in legs:
        assert service.lookup(db, leg) == [found[-1] + 1]

    found, leaves = decisions(db, rejected["uetr"])
    assert [leaf["status"] for leaf in leaves] == ["received", "rejected"] and leaves[1]["reason"] == "NARR"

    # Held, then released in a later transaction: two leaves, other leaves, then the two of the review.
    found, leaves = decisions(db, held_uetr)
    assert [leaf["status"] for leaf in leaves] == ["received", "held", "screened", "settled"]
    assert found[1] + 1 == found[0] + 2 <= between < found[2] == found[3] - 1
    assert [leaf["payment"]["status"] for leaf in leaves] == ["held", "held", "settled", "settled"]
    assert service.receipt(db, held_uetr).index == found[-1]

    # An issuance's id finds its leaf too.
    body = {"participant_id": "cq-bank", "asset": "CNY", "amount": 1_000}
    issued = r.post(f"{PAYMENTS}/issuance", body, "pboc-cq")
    assert issued.status_code == 201, issued.text
    record_id = issued.json()["id"]
    (index,) = service.lookup(db, record_id)
    leaf = json.loads(service.get_leaf(db, index)[1])
    assert leaf["kind"] == "payments.issuance" and leaf["id"] == record_id and leaf["amount"] == 1_000


# -- tree heads and their signatures --------------------------------------------------------------------------------

T0 = 1_790_000_000_000  # a fixed moment (ms) for heads made at a chosen time


def test_a_head_is_made_only_when_one_is_due(db: Database) -> None:
    # The first head is due at once, even of the empty log (its root: SHA-256 of nothing); then only growth counts.
    empty = service.make_head(db, every_leaves=10, every_ms=60_000, at_ms=T0)
    assert empty is not None and (empty.tree_size, empty.root_hash) == (0, merkle.EMPTY_ROOT)
    assert service.make_head(db, every_leaves=1, every_ms=0, at_ms=T0) is None  # no growth
    append(db, [entry(i) for i in range(5)])
    assert service.make_head(db, every_leaves=10, every_ms=60_000, at_ms=T0 + 59_999) is None  # 5 leaves, 59.999 s
    first = service.make_head(db, every_leaves=5, every_ms=60_000, at_ms=T0)
    assert first is not None and (first.tree_size, first.timestamp) == (5, T0)
    assert first.root_hash == service.root_at(db, 5)
    assert service.make_head(db, every_leaves=10, every_ms=60_000, at_ms=T0 + 120_000) is None  # no growth
    append(db, [entry(i) for i in range(5, 8)])
    assert service.make_head(db, every_leaves=10, every_ms=60_000, at_ms=T0 + 59_999) is None  # 3 leaves, 59.999 s
    by_time = service.make_head(db, every_leaves=10, every_ms=60_000, at_ms=T0 + 60_000)
    assert by_time is not None and (by_time.tree_size, by_time.timestamp) == (8, T0 + 60_000)
    append(db, [entry(i) for i in range(8, 18)])
    by_size = service.make_head(db, every_leaves=10, every_ms=60_000, at_ms=T0 + 60_001)
    assert by_size is not None and by_size.tree_size == 18
    # A head is never dated before the one it follows, whatever the clock says.
    append(db, [entry(18)])
    late = service.make_head(db, every_leaves=1, every_ms=0, at_ms=T0)
    assert late is not None and late.timestamp == T0 + 60_001
    assert [h.head for h in service.heads(db)] == [empty, first, by_time, by_size, late]
    assert all(not h.signatures for h in service.heads(db))
    with pytest.raises(NotFound):
        service.latest_head(db)  # none is final before both validators sign


@pytest.fixture
def validator_keys(tmp_path: Path) -> dict[str, Any]:
    directory = tmp_path / "validators"
    for node in ("cq", "sg"):
        keys.generate(directory, node)
    private = {node: keys.load_private(directory, node) for node in ("cq", "sg")}
    return {"private": private, "public": keys.public_keys(directory)}


def test_heads_are_signed_by_both_validators_and_verify(db: Database, validator_keys: dict[str, Any]) -> None:
    private, public = validator_keys["private"], validator_keys["public"]
    append(db, [entry(i) for i in range(3)])
    service.make_head(db, at_ms=T0)
    append(db, [entry(i) for i in range(3, 10)])
    service.make_head(db, at_ms=T0 + 1)
    assert service.sign_heads(db, "cq", private["cq"]) == [3, 10]
    assert service.sign_heads(db, "cq", private["cq"]) == []  # nothing left to sign
    with pytest.raises(NotFound):
        service.latest_head(db)  # one signature is not final
    partial = service.head_at(db, 10)
    assert set(partial.signatures) == {"cq"} and not partial.final
    assert service.verify_head(partial, public) == {"cq": True, "sg": False}

    assert service.sign_heads(db, "sg", private["sg"]) == [3, 10]
    latest = service.latest_head(db)
    assert latest.final and latest.head.tree_size == 10 and latest.head.root_hash == service.root_at(db, 10)
    assert service.verify_head(latest, public) == {"cq": True, "sg": True}
    for size in (3, 10):
        assert service.verify_head(service.head_at(db, size), public) == {"cq": True, "sg": True}

    # Any change to what was signed, or the wrong key, and the signatures no longer verify.
    h = latest.head
    for changed in (
        type(h)(h.tree_size + 1, h.root_hash, h.timestamp),
        type(h)(h.tree_size, bytes(32), h.timestamp),
        type(h)(h.tree_size, h.root_hash, h.timestamp + 1),
    ):
        assert service.verify_head(SignedHead(changed, latest.signatures), public) == {"cq": False, "sg": False}
    swapped = {"cq": public["sg"], "sg": public["cq"]}
    assert service.verify_head(latest, swapped) == {"cq": False, "sg": False}
    assert service.verify_head(latest, {"cq": b"\x00" * 31}) == {"cq": False}


def test_a_head_whose_stored_root_was_altered_is_refused(db: Database, validator_keys: dict[str, Any]) -> None:
    private = validator_keys["private"]
    append(db, [entry(i) for i in range(4)])
    service.make_head(db, at_ms=T0)
    assert service.sign_heads(db, "cq", private["cq"]) == [4]
    append(db, [entry(i) for i in range(4, 9)])
    service.make_head(db, at_ms=T0 + 1)
    forged = bytes(32)
    with db.transaction() as conn:
        conn.execute(update(store.heads).where(store.heads.c.tree_size == 9).values(root_hash=forged))
    for node in ("cq", "sg"):
        with pytest.raises(Conflict, match="size 9"):
            service.sign_heads(db, node, private[node])
    # sg signed the honest head at 4 before refusing the forged one; cq had signed it already.
    assert set(service.head_at(db, 4).signatures) == {"cq", "sg"}
    assert service.head_at(db, 9).signatures == {}
    assert service.latest_head(db).head.tree_size == 4

    # A head that matches the stored tree but not the last head a validator signed: refused as inconsistent.
    with db.transaction() as conn:
        conn.execute(update(store.heads).where(store.heads.c.tree_size == 9).values(root_hash=service.root_at(db, 9)))
        conn.execute(update(store.heads).where(store.heads.c.tree_size == 4).values(root_hash=forged))
    with pytest.raises(Conflict, match="not consistent"):
        service.sign_heads(db, "cq", private["cq"])
    assert service.head_at(db, 9).signatures == {}


# -- concurrent writers ---------------------------------------------------------------------------------------------


def test_concurrent_appends_give_a_gap_free_log_whose_root_is_its_leaves(db: Database) -> None:
    open_accounts(db, "a", "b")  # also creates the journal's and the ledger clock's rows (a truncated schema)
    threads_n, transactions = 4, 50
    got: dict[int, list[list[int]]] = {t: [] for t in range(threads_n)}
    ledger_batches: list[str] = []
    errors: list[BaseException] = []
    start = threading.Barrier(threads_n + 1)

    def writer(t: int) -> None:
        try:
            start.wait()
            for k in range(transactions):
                batch = [entry(t * 1000 + k * 10 + j, f"w{t}-{k}") for j in range(1 + (t + k) % 3)]
                got[t].append(append(db, batch))
        except BaseException as exc:
            errors.append(exc)

    def ledger_writer() -> None:
        try:
            start.wait()
            for k in range(15):
                tid = f"c-{uuid.uuid4().hex[:12]}"
                assert [r.result for r in ledger.create_transfers(db, [transfer(tid, amount=k + 1)])] == ["created"]
                ledger_batches.append(tid)
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=writer, args=(t,)) for t in range(threads_n)]
    threads.append(threading.Thread(target=ledger_writer))
    for th in threads:
        th.start()
    for th in threads:
        th.join(timeout=120)
    assert not errors, errors
    assert not any(th.is_alive() for th in threads)

    base = 1  # the accounts' leaf
    indices = [i for t in got for batch in got[t] for i in batch]
    for t in got:  # each transaction's leaves are consecutive, each writer's transactions in order
        assert all(batch == list(range(batch[0], batch[0] + len(batch))) for batch in got[t])
        flat = [i for batch in got[t] for i in batch]
        assert flat == sorted(flat)
    total = base + len(indices) + len(ledger_batches)
    ledger_leaves = {service.lookup(db, tid)[0] for tid in ledger_batches}
    assert sorted([*range(base), *indices, *ledger_leaves]) == list(range(total))
    assert service.tree_size(db) == total
    data = all_leaf_data(db)
    assert len(data) == total
    assert service.root_at(db, total) == reference_mth(data)
    with db.read() as conn:
        assert store.read_state(conn)[1] == merkle.extend(0, [], (merkle.leaf_hash(d) for d in data))[1]
    for t in got:
        for k, batch in enumerate(got[t]):
            assert service.lookup(db, f"w{t}-{k}") == batch


def test_bundles_split_at_their_limits_and_every_leaf_reads_back(db: Database) -> None:
    # 300 small leaves of two kinds, then one leaf above the byte limit between small ones, in one append each.
    small = [Entry("test.a" if i % 3 else "test.b", entry(i).data) for i in range(300)]
    big = Entry("test.big", b'{"kind":"test.big","pad":"' + b"x" * (store.BUNDLE_BYTES + 10) + b'","v":1}')
    assert append(db, small) == list(range(300))
    assert append(db, [entry(300), big, entry(302)]) == [300, 301, 302]
    assert append(db, [entry(303 + i) for i in range(5)]) == list(range(303, 308))
    expected = [*small, entry(300), big, entry(302), *(entry(303 + i) for i in range(5))]
    with db.read() as conn:
        rows = conn.execute(select(store.bundles.c.first_leaf, store.bundles.c.n_leaves, store.bundles.c.kinds)).all()
        assert [(r.first_leaf, r.n_leaves) for r in rows] == [(0, 256), (256, 44), (300, 2), (302, 1), (303, 5)]
        assert rows[-1].kinds == "test.entry"  # alike: one word for all five
        assert len(rows[0].kinds.split(" ")) == 256  # mixed: one each
        for i, e in enumerate(expected):
            assert store.get_leaf(conn, i) == (e.kind, e.data, merkle.leaf_hash(e.data))
        assert store.get_leaf(conn, len(expected)) is None
        assert [(i, k, d) for i, k, d, _ in store.iter_leaves(conn, 299, 304, chunk=1)] == [
            (i, expected[i].kind, expected[i].data) for i in range(299, 304)
        ]


def test_a_kind_is_one_word() -> None:
    with pytest.raises(ValueError, match="one word"):
        Entry("two words", b"{}")
    with pytest.raises(ValueError, match="one word"):
        Entry("", b"{}")
