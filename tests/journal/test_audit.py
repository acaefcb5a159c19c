"""The auditor's tool catches each tampering case, on SQLite and PostgreSQL: a balance, an amount, a deleted
transfer, reordered rows, a payment's field, a rewritten history re-signed with the wrong keys, and a database
that no longer matches an export. An untouched log verifies, over the CLI too (exit 0 / 1 / 2)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text
from typer.testing import CliRunner

from fintech_zone.cli import app as cli
from fintech_zone.db import Database
from fintech_zone.journal import audit, keys, service, store
from fintech_zone.journal.model import NODES, Entry, TreeHead
from tests.payments.conftest import Rails
from tests.payments.conftest import make_rails as make_rails  # the fixture, used by name


@pytest.fixture
def world(make_rails: Callable[..., Rails], tmp_path: Path) -> tuple[Rails, dict[str, bytes], Path]:
    rails = make_rails()
    for amount in (100_000, 250_000, 75_000):
        quote = rails.quote("CNY", "SGD", source_amount=amount)
        r = rails.post("/api/v1/payments", rails.payment(source_amount=amount, quote_id=quote["id"]), "cq-bank")
        assert r.status_code == 201 and r.json()["status"] == "settled", r.text
    key_dir = tmp_path / "keys"
    for node in NODES:
        keys.generate(key_dir, node)
    _sign(rails.db, key_dir)
    return rails, keys.public_keys(key_dir), key_dir


def _sign(db: Database, key_dir: Path) -> None:
    assert service.make_head(db) is not None
    for node in NODES:
        key = keys.load_private(key_dir, node)
        assert key is not None
        service.sign_heads(db, node, key)


def _sql(db: Database, *statements: str, **params: Any) -> None:
    with db.transaction() as conn:
        for sql in statements:
            conn.execute(text(sql), params)


def _one(db: Database, sql: str, **params: Any) -> Any:
    with db.read() as conn:
        return conn.execute(text(sql), params).first()


def _transfer_leaf(db: Database, transfer_id: str) -> int:
    return service.lookup(db, transfer_id)[0]


def test_an_untouched_log_verifies_and_every_kind_of_record_is_in_it(world: Any) -> None:
    rails, public, _ = world
    report = audit.verify(rails.db, public)
    assert report.ok, report.findings
    assert report.records_checked and report.heads == 1 and report.leaves == service.tree_size(rails.db) > 10
    with rails.db.read() as conn:
        kinds = {kind for _, kind, _, _ in store.iter_leaves(conn)}
    assert kinds == {"ledger.batch", "payment.decision", "payments.issuance"}


def test_a_changed_balance_is_named_with_its_leaf(world: Any) -> None:
    rails, public, _ = world
    account = "pay:cq-bank:CNY"
    _sql(rails.db, "UPDATE ledger_accounts SET credits_posted = credits_posted + 1 WHERE id = :id", id=account)
    first = audit.verify(rails.db, public).first
    assert first is not None and first.index is not None
    assert f"account '{account}' credits_posted" in first.what
    leaf = json.loads(service.get_leaf(rails.db, first.index)[1])
    assert account in [row[0] for row in leaf["balances"]]  # the last leaf that set that balance


def test_a_changed_amount_is_named_with_its_leaf(world: Any) -> None:
    rails, public, _ = world
    row = _one(rails.db, "SELECT id FROM ledger_transfers WHERE id LIKE 'pay:%' ORDER BY timestamp LIMIT 1")
    _sql(rails.db, "UPDATE ledger_transfers SET amount = amount + 100 WHERE id = :id", id=row.id)
    first = audit.verify(rails.db, public).first
    assert first is not None and first.index == _transfer_leaf(rails.db, row.id)
    assert f"transfer '{row.id}' amount is" in first.what


def test_a_deleted_transfer_is_named_with_its_leaf(world: Any) -> None:
    rails, public, _ = world
    row = _one(rails.db, "SELECT id FROM ledger_transfers WHERE id LIKE 'pay:%' ORDER BY timestamp DESC LIMIT 1")
    index = _transfer_leaf(rails.db, row.id)
    _sql(
        rails.db,
        "DELETE FROM ledger_postings WHERE timestamp = (SELECT timestamp FROM ledger_transfers WHERE id = :id)",
        id=row.id,
    )
    _sql(rails.db, "DELETE FROM ledger_transfers WHERE id = :id", id=row.id)
    first = audit.verify(rails.db, public).first
    assert first is not None and first.index == index and "does not hold" in first.what


def test_reordered_transfers_are_caught(world: Any) -> None:
    rails, public, _ = world
    sql = "SELECT id, timestamp FROM ledger_transfers WHERE id LIKE 'pay:%' ORDER BY timestamp LIMIT 2"
    (a, ta), (b, tb) = [(r.id, r.timestamp) for r in _rows(rails.db, sql)]
    index = _transfer_leaf(rails.db, a)  # before: the look-up goes by the (soon changed) timestamp
    # Swap the two transfers' places in time, through a free timestamp (the column is unique).
    _sql(
        rails.db,
        "UPDATE ledger_transfers SET timestamp = -1 WHERE id = :a",
        "UPDATE ledger_transfers SET timestamp = :ta WHERE id = :b",
        "UPDATE ledger_transfers SET timestamp = :tb WHERE id = :a",
        a=a,
        b=b,
        ta=ta,
        tb=tb,
    )
    first = audit.verify(rails.db, public).first
    assert first is not None and first.index == index
    assert f"transfer '{a}' timestamp is {tb} in the database, {ta} in the log" == first.what


def _rows(db: Database, sql: str) -> list[Any]:
    with db.read() as conn:
        return list(conn.execute(text(sql)))


def _set_leaf(db: Database, index: int, data: bytes) -> None:
    """Rewrite the stored bundle holding leaf ``index`` with other bytes for it, as someone with the database's
    files could."""
    with db.transaction() as conn:
        row = conn.execute(
            text(
                "SELECT first_leaf, n_leaves, kinds, data FROM journal_bundles WHERE first_leaf <= :i"
                " ORDER BY first_leaf DESC"
            ),
            {"i": index},
        ).first()
        leaves = [d for _, _, d in store._unbundle(row.first_leaf, row.n_leaves, row.kinds, bytes(row.data))]
        leaves[index - row.first_leaf] = data
        packed = b"".join([len(d).to_bytes(4, "big") for d in leaves] + leaves)
        conn.execute(
            text("UPDATE journal_bundles SET data = :d WHERE first_leaf = :f"), {"d": packed, "f": row.first_leaf}
        )


def _leaf_data(db: Database, index: int) -> bytes:
    with db.read() as conn:
        found = store.get_leaf(conn, index)
    assert found is not None
    return found[1]


def test_reordered_leaves_are_caught_at_the_first_moved_leaf(world: Any) -> None:
    rails, public, _ = world
    fourth, fifth = _leaf_data(rails.db, 4), _leaf_data(rails.db, 5)
    _set_leaf(rails.db, 4, fifth)
    _set_leaf(rails.db, 5, fourth)
    report = audit.verify(rails.db, public)
    assert report.first is not None and report.first.index == 4
    assert any("do not hash to the root signed" in f.what for f in report.findings)


def test_a_changed_payment_is_named_with_its_latest_leaf(world: Any) -> None:
    rails, public, _ = world
    uetr = _one(rails.db, "SELECT uetr FROM payments WHERE source_amount = 250000").uetr
    _sql(rails.db, "UPDATE payments SET creditor_name = 'Someone Else' WHERE uetr = :u", u=uetr)
    first = audit.verify(rails.db, public).first
    assert first is not None and first.index == service.lookup(rails.db, uetr)[-1]
    assert "parties_digest" in first.what


def test_a_rewritten_history_re_signed_with_other_keys_fails_on_the_published_keys(world: Any, tmp_path: Path) -> None:
    rails, public, _ = world
    db = rails.db
    # The forger changes an amount in the database AND in its leaf, rebuilds the whole tree so every stored hash
    # agrees, and signs fresh heads with keys of its own.
    row = _one(db, "SELECT id, amount FROM ledger_transfers WHERE id LIKE 'pay:%' ORDER BY timestamp LIMIT 1")
    index = _transfer_leaf(db, row.id)
    with db.read() as conn:
        entries = [(i, kind, data) for i, kind, data, _ in store.iter_leaves(conn)]
        spans = {
            r.leaf: (r.first_timestamp, r.last_timestamp)
            for r in conn.execute(text("SELECT leaf, first_timestamp, last_timestamp FROM journal_batch_times"))
        }
    leaf = json.loads(entries[index][2])
    for t in leaf["transfers"]:
        if t[0] == row.id:
            t[3] += 100
    forged_data = json.dumps(leaf, ensure_ascii=False, sort_keys=True, separators=(",", ":")).encode()
    entries[index] = (index, entries[index][1], forged_data)
    _sql(
        db,
        "UPDATE ledger_transfers SET amount = amount + 100 WHERE id = :id",
        "DELETE FROM journal_heads",
        "DELETE FROM journal_tiles",
        "DELETE FROM journal_refs",
        "DELETE FROM journal_bundles",
        "DELETE FROM journal_batch_times",
        "UPDATE journal_state SET tree_size = 0, frontier = :empty",
        id=row.id,
        empty=b"",
    )
    with db.transaction() as conn:
        service.append_in(conn, [Entry(kind, data, (), *spans.get(i, (None, None))) for i, kind, data in entries])
    forged_keys = tmp_path / "forged"
    for node in NODES:
        keys.generate(forged_keys, node)
    _sign(db, forged_keys)
    report = audit.verify(db, public)
    assert report.first is not None and report.first.index == 0
    assert "signature does not verify with the published key" in report.first.what
    assert audit.verify(db, keys.public_keys(forged_keys)).ok  # with the forger's keys it all adds up: keys matter


def test_a_database_that_no_longer_matches_an_export_is_caught(world: Any, tmp_path: Path) -> None:
    rails, public, _ = world
    exported = tmp_path / "journal.jsonl"
    leaves, heads = audit.export(rails.db, exported, public)
    assert heads == 1 and leaves == service.tree_size(rails.db)
    assert audit.verify(rails.db, public, exported).ok
    assert audit.verify(None, public, exported).ok  # the export alone, without a database
    _set_leaf(rails.db, 3, b'{"kind":"x","v":1}')
    report = audit.verify(rails.db, public, exported)
    assert report.first is not None and report.first.index == 3
    assert "differs from the exported one" in report.first.what


def test_a_malformed_export_is_a_clear_error(tmp_path: Path, world: Any) -> None:
    _, public, _ = world
    bad = tmp_path / "bad.jsonl"
    bad.write_text("not json\n", encoding="utf-8")
    with pytest.raises(Exception, match="not a fintech-zone-journal-export file"):
        audit.verify(None, public, bad)


def test_the_cli_exits_0_when_all_holds_1_naming_the_bad_leaf_and_2_on_bad_input(
    world: Any, monkeypatch: pytest.MonkeyPatch, db_url: str, tmp_path: Path
) -> None:
    rails, _, key_dir = world
    monkeypatch.setenv("FZ_DATABASE_URL", db_url)
    monkeypatch.setenv("FZ_JOURNAL_KEY_DIR", str(key_dir))
    runner = CliRunner()
    ok = runner.invoke(cli, ["journal", "verify"])
    assert ok.exit_code == 0, ok.output
    assert "every record matches its leaf" in ok.output
    row = _one(rails.db, "SELECT id FROM ledger_transfers WHERE id LIKE 'pay:%' ORDER BY timestamp LIMIT 1")
    _sql(rails.db, "UPDATE ledger_transfers SET amount = amount + 1 WHERE id = :id", id=row.id)
    bad = runner.invoke(cli, ["journal", "verify"])
    assert bad.exit_code == 1
    assert f"first bad leaf: {_transfer_leaf(rails.db, row.id)}" in bad.output
    # Bad input: the real entry point maps the domain error to a message and exit code 2.
    wrong = subprocess.run(
        [sys.executable, "-m", "fintech_zone", "journal", "verify", "--key-cq", "not-hex"],
        capture_output=True,
        text=True,
        env={**os.environ, "FZ_DATABASE_URL": db_url, "FZ_JOURNAL_KEY_DIR": str(key_dir)},
        check=False,
    )
    assert wrong.returncode == 2, wrong.stderr
    assert "64 hex digits" in wrong.stderr and "Traceback" not in wrong.stderr


def test_a_signed_empty_head_must_have_the_empty_trees_root(db: Database, tmp_path: Path) -> None:
    key_dir = tmp_path / "keys"
    for node in NODES:
        keys.generate(key_dir, node)
    bogus = TreeHead(0, b"\x11" * 32, 1_790_000_000_000)
    with db.transaction() as conn:
        store.insert_head(conn, bogus)
    for node in NODES:
        key = keys.load_private(key_dir, node)
        assert key is not None
        with db.transaction() as conn:  # signed by the real keys, so only the root itself can give it away
            store.add_signature(conn, 0, node, key.sign(bogus.signed_message()))
    first = audit.verify(db, keys.public_keys(key_dir)).first
    assert first is not None and first.index == 0 and "empty tree's root" in first.what


def test_a_bundle_that_cannot_be_read_is_named(world: Any) -> None:
    rails, public, _ = world
    _sql(rails.db, "UPDATE journal_bundles SET data = :d WHERE first_leaf = 2", d=b"\x00\x00\x00\x09short")
    report = audit.verify(rails.db, public)
    assert report.first is not None and report.first.index == 2
    assert "cannot be read" in report.first.what and "the bundle at leaf 2" in report.first.what
    assert not report.records_checked  # the records are not held against a log read only in part
