"""The journal's public HTTP API, on SQLite and PostgreSQL: the exact shape of every answer, tree heads whose
signatures verify with the published keys over the documented message, problem+json for every bad request (never
a 500), and no token needed anywhere."""

from __future__ import annotations

import base64
import hashlib
import json
import re
from dataclasses import dataclass
from typing import Any

import pytest
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from fastapi.testclient import TestClient

from fintech_zone.db import Database
from fintech_zone.journal import keys, service, store
from fintech_zone.journal.model import Entry
from fintech_zone.ledger import service as ledger
from fintech_zone.ledger.model import Asset, AssetKind, NewAccount, Transfer
from fintech_zone.settings import Settings
from tests.journal import rfc9162_verifier as rfc

API = "/api/v1/journal"
HEX64 = re.compile(r"^[0-9a-f]{64}\Z")
HEX128 = re.compile(r"^[0-9a-f]{128}\Z")
PROBLEM = "application/problem+json"


def signed_message(tree_size: int, root_hex: str, timestamp: int) -> bytes:
    """The documented format (model.TreeHead.signed_message, README "The journal"), rebuilt here by hand."""
    return f"fintech-zone journal tree head v1\n{tree_size}\n{root_hex}\n{timestamp}\n".encode("ascii")


def sign(db: Database, settings: Settings, *nodes: str) -> None:
    for node in nodes:
        key = keys.load_private(settings.journal_key_dir, node)
        assert key is not None
        service.sign_heads(db, node, key)


@dataclass
class Log:
    size: int
    data: list[bytes]
    transfer_ids: list[str]
    batch_leaf: int


@pytest.fixture
def log(client: TestClient, db: Database, settings: Settings) -> Log:
    """Eleven synthetic leaves with references, then a ledger batch; both validators' keys in the server's key
    directory (made after the server started, so its own signer is not running) and a head signed by both."""
    entries = [
        Entry("test.entry", json.dumps({"n": i, "kind": "test.entry"}).encode(), (f"ref-{i}",)) for i in range(11)
    ]
    with db.transaction() as conn:
        service.append_in(conn, entries)
    ledger.create_asset(db, Asset("CNY", AssetKind.FIAT_RESERVE, "CNY", 2))
    ledger.create_accounts(db, [NewAccount("acct-a", "CNY", 1), NewAccount("acct-b", "CNY", 1)])
    ids = ["tx-1", "tx-2", "tx-3"]
    results = ledger.create_transfers(db, [Transfer(i, "acct-a", "acct-b", 10, "CNY", 1) for i in ids])
    assert {r.result for r in results} == {"created"}
    size = service.tree_size(db)
    assert size == 13
    with db.read() as conn:
        data = [leaf[2] for leaf in store.iter_leaves(conn)]
    for node in ("cq", "sg"):
        keys.generate(settings.journal_key_dir, node)
    service.make_head(db)
    sign(db, settings, "cq", "sg")
    return Log(size, data, ids, size - 1)


def ok(client: TestClient, path: str, **params: Any) -> Any:
    r = client.get(API + path, params=params)
    assert r.status_code == 200, (path, params, r.text)
    assert r.headers["content-type"] == "application/json"
    return r.json()


# -- shapes ---------------------------------------------------------------------------------------------------------


def test_head_and_keys_have_their_exact_shape_and_the_signatures_verify(client: TestClient, log: Log) -> None:
    head = ok(client, "/head")
    assert set(head) == {"tree_size", "root_hash", "timestamp", "signatures", "signed_message"}
    assert head["tree_size"] == log.size and isinstance(head["timestamp"], int) and head["timestamp"] > 0
    assert HEX64.match(head["root_hash"]) and bytes.fromhex(head["root_hash"]) == rfc.mth(log.data)
    assert set(head["signatures"]) == {"cq", "sg"}
    assert all(HEX128.match(sig) for sig in head["signatures"].values())
    message = signed_message(head["tree_size"], head["root_hash"], head["timestamp"])
    assert head["signed_message"].encode("ascii") == message

    published = ok(client, "/keys")
    assert set(published) == {"cq", "sg"} and all(HEX64.match(k) for k in published.values())
    assert published["cq"] != published["sg"]
    for node in ("cq", "sg"):
        public = Ed25519PublicKey.from_public_bytes(bytes.fromhex(published[node]))
        signature = bytes.fromhex(head["signatures"][node])
        public.verify(signature, message)  # raises InvalidSignature if not
        for forged in (
            signed_message(head["tree_size"] + 1, head["root_hash"], head["timestamp"]),
            signed_message(head["tree_size"], "00" * 32, head["timestamp"]),
            signed_message(head["tree_size"], head["root_hash"], head["timestamp"] + 1),
            message.replace(b" v1\n", b" v2\n"),
        ):
            with pytest.raises(InvalidSignature):
                public.verify(signature, forged)
    # Each node signed with its own key.
    with pytest.raises(InvalidSignature):
        Ed25519PublicKey.from_public_bytes(bytes.fromhex(published["sg"])).verify(
            bytes.fromhex(head["signatures"]["cq"]), message
        )
    # The head at that size is the same head.
    assert ok(client, f"/heads/{log.size}") == head


def test_a_head_with_one_signature_is_shown_at_its_size_but_is_not_the_latest(
    client: TestClient, db: Database, settings: Settings, log: Log
) -> None:
    with db.transaction() as conn:
        service.append_in(conn, [Entry("test.entry", b'{"n":99}')])
    service.make_head(db)
    sign(db, settings, "cq")
    partial = ok(client, f"/heads/{log.size + 1}")
    assert set(partial) == {"tree_size", "root_hash", "timestamp", "signatures", "signed_message"}
    assert set(partial["signatures"]) == {"cq"} and partial["tree_size"] == log.size + 1
    assert ok(client, "/head")["tree_size"] == log.size  # the latest final head
    sign(db, settings, "sg")
    final = ok(client, "/head")
    assert final == ok(client, f"/heads/{log.size + 1}")
    assert set(final["signatures"]) == {"cq", "sg"} and final["signatures"]["cq"] == partial["signatures"]["cq"]
    assert {k: v for k, v in final.items() if k != "signatures"} == {
        k: v for k, v in partial.items() if k != "signatures"
    }


def test_leaves_have_their_exact_shape_and_bytes(client: TestClient, log: Log) -> None:
    for i in range(log.size):
        body = ok(client, f"/leaves/{i}")
        assert set(body) == {"index", "kind", "data", "leaf_hash"}
        assert body["index"] == i and HEX64.match(body["leaf_hash"])
        data = base64.b64decode(body["data"], validate=True)
        assert data == log.data[i]
        assert hashlib.sha256(b"\x00" + data).hexdigest() == body["leaf_hash"]
        assert json.loads(data)["kind"] == body["kind"]
    assert ok(client, f"/leaves/{log.batch_leaf}")["kind"] == "ledger.batch"


def test_proofs_and_lookups_have_their_exact_shape(client: TestClient, log: Log) -> None:
    ref = rfc.Reference(log.data)
    head = ok(client, "/head")
    root = bytes.fromhex(head["root_hash"])
    for index in range(log.size):
        body = ok(client, "/proofs/inclusion", index=index, tree_size=log.size)
        assert set(body) == {"leaf_index", "tree_size", "path"}
        assert (body["leaf_index"], body["tree_size"]) == (index, log.size)
        assert all(HEX64.match(h) for h in body["path"])
        path = [bytes.fromhex(h) for h in body["path"]]
        assert rfc.verify_inclusion(ref.leaf_hashes[index], index, log.size, path, root)
    for first in range(log.size + 1):
        body = ok(client, "/proofs/consistency", first=first, second=log.size)
        assert set(body) == {"first", "second", "path"} and (body["first"], body["second"]) == (first, log.size)
        path = [bytes.fromhex(h) for h in body["path"]]
        assert rfc.verify_consistency(first, log.size, ref.root(first), root, path)
    assert ok(client, "/proofs/consistency", first=0, second=0) == {"first": 0, "second": 0, "path": []}

    for i in range(11):
        body = ok(client, "/lookup", ref=f"ref-{i}")
        assert body == {"ref": f"ref-{i}", "index": i, "indices": [i]}
    for tid in log.transfer_ids:
        assert ok(client, "/lookup", ref=tid) == {"ref": tid, "index": log.batch_leaf, "indices": [log.batch_leaf]}


def test_the_endpoints_need_no_token(client: TestClient, log: Log) -> None:
    for path in ("/head", f"/heads/{log.size}", "/keys", "/leaves/0", "/lookup?ref=ref-0"):
        r = client.get(API + path)
        assert r.status_code == 200, (path, r.text)
    r = client.get(API + "/proofs/inclusion", params={"index": 0, "tree_size": log.size})
    assert r.status_code == 200
    r = client.get(API + "/proofs/consistency", params={"first": 1, "second": log.size})
    assert r.status_code == 200


# -- problems -------------------------------------------------------------------------------------------------------


def assert_problem(r: Any, status: int, field: str | None = None) -> None:
    assert r.status_code == status, (r.request.url, r.status_code, r.text)
    assert r.headers["content-type"] == PROBLEM, (r.request.url, r.headers["content-type"])
    body = r.json()
    assert {"type", "title", "status", "detail"} <= set(body) and body["status"] == status
    if field is not None:
        assert field in {e["field"] for e in body["errors"]}, (r.request.url, body)


def test_nothing_yet_is_not_found(client: TestClient, db: Database, settings: Settings) -> None:
    for path in ("/head", "/heads/0", "/heads/1", "/keys", "/leaves/0", "/lookup?ref=anything"):
        assert_problem(client.get(API + path), 404)
    assert_problem(client.get(API + "/proofs/inclusion?index=0&tree_size=0"), 422, "index")
    assert ok(client, "/proofs/consistency", first=0, second=0)["path"] == []
    # Leaves and a head signed by one validator only: still no final head.
    with db.transaction() as conn:
        service.append_in(conn, [Entry("test.entry", b'{"n":1}')])
    keys.generate(settings.journal_key_dir, "cq")
    service.make_head(db)
    sign(db, settings, "cq")
    assert_problem(client.get(API + "/head"), 404)
    assert set(ok(client, "/keys")) == {"cq", "sg"} and ok(client, "/keys")["sg"] is None
    assert set(ok(client, "/heads/1")["signatures"]) == {"cq"}


BIG = str(2**64)
BAD_INPUT: list[tuple[str, int, str | None]] = [
    # leaves and heads
    ("/leaves/13", 404, None),
    ("/leaves/1000000", 404, None),
    ("/leaves/abc", 422, "index"),
    ("/leaves/1.5", 422, "index"),
    ("/leaves/0x1", 422, "index"),
    ("/leaves/-1", 422, "index"),
    (f"/leaves/{2**62 + 1}", 422, "index"),
    (f"/leaves/{2**63}", 422, "index"),  # beyond a BIGINT: must not reach the database
    (f"/leaves/{BIG}", 422, "index"),
    (f"/leaves/{2**62}", 404, None),
    ("/heads/12", 404, None),
    ("/heads/abc", 422, "tree_size"),
    ("/heads/-1", 422, "tree_size"),
    (f"/heads/{2**63}", 422, "tree_size"),
    (f"/heads/{BIG}", 422, "tree_size"),
    # inclusion proofs
    ("/proofs/inclusion?index=-1&tree_size=13", 422, "index"),
    ("/proofs/inclusion?index=0&tree_size=-1", 422, "tree_size"),
    (f"/proofs/inclusion?index={BIG}&tree_size=13", 422, "index"),
    (f"/proofs/inclusion?index=0&tree_size={BIG}", 422, "tree_size"),
    (f"/proofs/inclusion?index=0&tree_size={2**62}", 422, "tree_size"),
    ("/proofs/inclusion?index=abc&tree_size=13", 422, "index"),
    ("/proofs/inclusion?index=1.5&tree_size=13", 422, "index"),
    ("/proofs/inclusion?index=0&tree_size=", 422, "tree_size"),
    ("/proofs/inclusion?index=13&tree_size=13", 422, "index"),  # index >= tree_size
    ("/proofs/inclusion?index=5&tree_size=3", 422, "index"),
    ("/proofs/inclusion?index=0&tree_size=0", 422, "index"),
    ("/proofs/inclusion?index=0&tree_size=14", 422, "tree_size"),  # beyond the log
    ("/proofs/inclusion?index=0", 422, "tree_size"),
    ("/proofs/inclusion?tree_size=13", 422, "index"),
    # consistency proofs
    ("/proofs/consistency?first=5&second=3", 422, "first"),
    ("/proofs/consistency?first=13&second=12", 422, "first"),
    ("/proofs/consistency?first=3&second=14", 422, "second"),
    ("/proofs/consistency?first=14&second=14", 422, None),
    ("/proofs/consistency?first=-1&second=3", 422, "first"),
    ("/proofs/consistency?first=0&second=-3", 422, "second"),
    (f"/proofs/consistency?first=0&second={BIG}", 422, "second"),
    ("/proofs/consistency?first=x&second=3", 422, "first"),
    ("/proofs/consistency?first=1", 422, "second"),
    # look-ups
    ("/lookup?ref=no-such-ref", 404, None),
    ("/lookup?ref=tx-404", 404, None),
    ("/lookup?ref=not%20an%20id", 404, None),
    ("/lookup?ref=" + "r" * 64, 404, None),
    ("/lookup?ref=" + "r" * 65, 422, "ref"),
    ("/lookup?ref=" + "r" * 1000, 422, "ref"),
    ("/lookup?ref=", 422, "ref"),
    ("/lookup", 422, "ref"),
]


def test_bad_requests_are_problems_never_server_errors(client: TestClient, log: Log) -> None:
    for path, status, field in BAD_INPUT:
        assert_problem(client.get(API + path), status, field)
