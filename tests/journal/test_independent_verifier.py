"""What the server publishes, checked the way an outside auditor would: leaves, roots and RFC 9162 proofs fetched
over the public HTTP API and verified with ``rfc9162_verifier`` (hashlib and the RFC's text, nothing of
``fintech_zone.journal``), on real ledger batches and payments and on hundreds of synthetic leaves, on SQLite
and PostgreSQL. Tampered proofs must fail."""

from __future__ import annotations

import base64
import hashlib
import json
from collections.abc import Iterator, Sequence
from typing import Any

import pytest
from fastapi.testclient import TestClient

from fintech_zone.db import Database
from fintech_zone.journal import keys, service
from fintech_zone.journal.model import Entry
from fintech_zone.settings import Settings
from tests.journal import rfc9162_verifier as rfc
from tests.journal.test_merkle import CT_CONSISTENCY, CT_EMPTY_TREE_HASH, CT_INCLUSION, CT_INPUTS, CT_ROOTS
from tests.payments.conftest import Rails, make_rails, rails  # noqa: F401  (fixtures: a real rails world)

API = "/api/v1/journal"


# -- the verifier itself, against Certificate Transparency's known answers ------------------------------------------


def test_the_independent_verifier_agrees_with_the_ct_test_vectors() -> None:
    entries = [bytes.fromhex(x) for x in CT_INPUTS]
    ref = rfc.Reference(entries)
    assert rfc.mth([]) == rfc.EMPTY == bytes.fromhex(CT_EMPTY_TREE_HASH)
    for n in range(1, len(entries) + 1):
        assert rfc.mth(entries[:n]) == ref.root(n) == bytes.fromhex(CT_ROOTS[n - 1])
    for index, size, path_hex in CT_INCLUSION:
        path = [bytes.fromhex(x) for x in path_hex]
        assert rfc.reference_path(index, entries[:size]) == path
        assert rfc.verify_inclusion(rfc.hash_leaf(entries[index]), index, size, path, ref.root(size))
    for first, second, proof_hex in CT_CONSISTENCY:
        proof = [bytes.fromhex(x) for x in proof_hex]
        assert rfc.reference_proof(first, entries[:second]) == proof
        assert rfc.verify_consistency(first, second, ref.root(first), ref.root(second), proof)


# -- tampering ----------------------------------------------------------------------------------------------------


def flips(path: Sequence[bytes]) -> Iterator[list[bytes]]:
    """The path with one bit flipped, in each element, at its first and last byte."""
    for j, h in enumerate(path):
        for k, bit in ((0, 0x01), (len(h) - 1, 0x80)):
            changed = h[:k] + bytes([h[k] ^ bit]) + h[k + 1 :]
            yield [*path[:j], changed, *path[j + 1 :]]


def mangled(path: Sequence[bytes], extra: bytes) -> Iterator[list[bytes]]:
    """Bit flips, each element missing, an element too many (at either end and in the middle), two swapped."""
    yield from flips(path)
    for j in range(len(path)):
        yield [*path[:j], *path[j + 1 :]]
    yield [*path, extra]
    yield [extra, *path]
    yield [*path[:1], extra, *path[1:]]
    yield [*path, *path[-1:]]
    if len(path) >= 2 and path[0] != path[1]:
        yield [path[1], path[0], *path[2:]]
    yield [h[:-1] for h in path]  # truncated hashes
    yield [h + b"\x00" for h in path]  # padded hashes


def assert_inclusion_tampering_fails(ref: rfc.Reference, index: int, size: int, path: list[bytes]) -> None:
    leaf, root = ref.leaf_hashes[index], ref.root(size)
    n = len(ref.leaf_hashes)
    for bad in mangled(path, ref.leaf_hashes[0]):
        if bad != path:
            assert not rfc.verify_inclusion(leaf, index, size, bad, root), (index, size, "path", bad)
    for other in {index - 1, index + 1, index ^ 1, 0, size - 1, size, size + 1, -1}:
        if other != index:
            assert not rfc.verify_inclusion(leaf, other, size, path, root), (index, size, "index", other)
    # Another size, with that size's own root (as a tree head would state them together), or no tree at all.
    for other in {size - 1, size + 1, 2 * size, size // 2, index, 0}:
        if other != size and 0 <= other <= n:
            assert not rfc.verify_inclusion(leaf, index, other, path, ref.root(other)), (index, size, "size", other)
    for other_leaf in (ref.leaf_hashes[(index + 1) % n], rfc.EMPTY, bytes(32)):
        if other_leaf != leaf:
            assert not rfc.verify_inclusion(other_leaf, index, size, path, root)
    assert not rfc.verify_inclusion(leaf, index, size, path, ref.root(size - 1) if size > 1 else bytes(32))


def assert_consistency_tampering_fails(ref: rfc.Reference, first: int, second: int, path: list[bytes]) -> None:
    r1, r2 = ref.root(first), ref.root(second)
    n = len(ref.leaf_hashes)
    for bad in mangled(path, r1) if path else iter([[r1], [r2], [rfc.EMPTY]]):
        if bad != path:
            assert not rfc.verify_consistency(first, second, r1, r2, bad), (first, second, "path", bad)
    if first not in (0, second):
        assert not rfc.verify_consistency(first, second, r2, r1, path)
        assert not rfc.verify_consistency(first, second, bytes(32), r2, path)
        assert not rfc.verify_consistency(first, second, r1, bytes(32), path)
    for other in {first - 1, first + 1, second, 0}:
        if other != first and 0 <= other <= second and (other, first) != (0, 0):
            if not path and other in (0, second):  # the empty tree, or the same tree: no proof is the proof
                continue
            assert not rfc.verify_consistency(other, second, ref.root(other), r2, path), (first, second, other)
    for other in {second - 1, second + 1, 2 * second, first} if first > 0 else ():  # the empty tree: any second
        if other != second and first <= other <= n:
            assert not rfc.verify_consistency(first, other, r1, ref.root(other), path), (first, second, other)


# -- what an auditor fetches ----------------------------------------------------------------------------------------


def get(client: TestClient, path: str, **params: int | str) -> Any:
    r = client.get(API + path, params=params)
    assert r.status_code == 200, (path, params, r.text)
    return r.json()


def fetch_leaves(client: TestClient, size: int) -> list[bytes]:
    """Every leaf's exact bytes, each checked against the hash the server states for it."""
    out = []
    for i in range(size):
        body = get(client, f"/leaves/{i}")
        data = base64.b64decode(body["data"], validate=True)
        assert body["index"] == i and bytes.fromhex(body["leaf_hash"]) == rfc.hash_leaf(data)
        out.append(data)
    return out


def inclusion(client: TestClient, index: int, size: int) -> list[bytes]:
    body = get(client, "/proofs/inclusion", index=index, tree_size=size)
    assert (body["leaf_index"], body["tree_size"]) == (index, size)
    return [bytes.fromhex(h) for h in body["path"]]


def consistency(client: TestClient, first: int, second: int) -> list[bytes]:
    body = get(client, "/proofs/consistency", first=first, second=second)
    assert (body["first"], body["second"]) == (first, second)
    return [bytes.fromhex(h) for h in body["path"]]


def check_proofs(
    client: TestClient,
    ref: rfc.Reference,
    inclusion_pairs: Sequence[tuple[int, int]],
    consistency_pairs: Sequence[tuple[int, int]],
    tamper: int,
) -> None:
    """Each proof the server gives is the RFC's and verifies independently; proofs of trees of at most ``tamper``
    leaves are also tampered with, every way ``mangled`` knows."""
    for index, size in inclusion_pairs:
        path = inclusion(client, index, size)
        assert path == ref.path(index, size), (index, size)
        assert rfc.verify_inclusion(ref.leaf_hashes[index], index, size, path, ref.root(size)), (index, size)
        if size <= tamper:
            assert_inclusion_tampering_fails(ref, index, size, path)
    for first, second in consistency_pairs:
        path = consistency(client, first, second)
        assert path == ref.proof(first, second), (first, second)
        assert rfc.verify_consistency(first, second, ref.root(first), ref.root(second), path), (first, second)
        if second <= tamper:
            assert_consistency_tampering_fails(ref, first, second, path)


def sign_a_head(db: Database, settings: Settings) -> None:
    for node in ("cq", "sg"):
        if keys.load_private(settings.journal_key_dir, node) is None:
            keys.generate(settings.journal_key_dir, node)
    service.make_head(db)
    for node in ("cq", "sg"):
        key = keys.load_private(settings.journal_key_dir, node)
        assert key is not None
        service.sign_heads(db, node, key)


# -- real records ---------------------------------------------------------------------------------------------------


def test_real_ledger_batches_and_payments_verify_for_every_index_size_and_pair(
    rails: Rails,  # noqa: F811
    client: TestClient,
    db: Database,
    settings: Settings,
) -> None:
    payments = "/api/v1/payments"
    sign_a_head(db, settings)  # after the rails' setup
    first_head = get(client, "/head")
    q = rails.quote("CNY", "SGD", source_amount=100_000)
    assert rails.post(payments, rails.payment(quote_id=q["id"]), "cq-bank").json()["status"] == "settled"
    local = rails.payment(target_asset="CNY", creditor_agent="sg-bank", source_amount=2_500)
    assert rails.post(payments, local, "cq-bank").json()["status"] == "settled"
    assert rails.post(payments, rails.payment(), "cq-bank").json()["status"] == "rejected"  # no quote
    body = {"participant_id": "sg-bank", "asset": "SGD", "amount": 1_000}
    assert rails.post(f"{payments}/redemption", body, "mas").status_code == 201
    sign_a_head(db, settings)

    size = service.tree_size(db)
    data = fetch_leaves(client, size)
    kinds = {rfc_kind(d) for d in data}
    assert {"ledger.batch", "payment.decision", "payments.issuance"} <= kinds
    ref = rfc.Reference(data)
    for n in range(size + 1):
        assert service.root_at(db, n) == rfc.mth(data[:n]) == ref.root(n)
    head = get(client, "/head")
    assert head["tree_size"] == size and bytes.fromhex(head["root_hash"]) == ref.root(size)
    assert bytes.fromhex(first_head["root_hash"]) == ref.root(first_head["tree_size"])
    path = consistency(client, first_head["tree_size"], size)
    assert rfc.verify_consistency(
        first_head["tree_size"], size, ref.root(first_head["tree_size"]), ref.root(size), path
    )

    # Every (index, size) and every (first, second) for the first trees and the last few (the log holds 30-odd
    # leaves; every pair of them over HTTP would take most of the time budget).
    assert size > 20
    sizes = [*range(1, 7), *range(size - 2, size + 1)]
    pairs = [(i, n) for n in sizes for i in range(n)]
    firsts = [(m, n) for n in [0, *sizes] for m in range(n + 1)]
    check_proofs(client, ref, pairs, firsts, tamper=6)


def rfc_kind(data: bytes) -> str:
    kind = json.loads(data)["kind"]
    assert isinstance(kind, str)
    return kind


# -- many synthetic leaves ------------------------------------------------------------------------------------------

BATCHES = [1, 1, 2, 3, 5, 8, 13, 21, 34, 55, 89, 1, 2, 7, 58]  # 300 leaves, in uneven transactions


@pytest.fixture
def synthetic(db: Database) -> list[bytes]:
    data: list[bytes] = []
    for batch in BATCHES:
        entries = [Entry("test.entry", f'{{"n":{len(data) + i}}}'.encode() * (1 + i % 3)) for i in range(batch)]
        with db.transaction() as conn:
            assert service.append_in(conn, entries) == list(range(len(data), len(data) + batch))
        data += [e.data for e in entries]
    assert len(data) == 300
    return data


def test_three_hundred_synthetic_leaves_verify_independently(
    synthetic: list[bytes], client: TestClient, db: Database
) -> None:
    n = len(synthetic)
    for i in (0, 1, 2, 99, 100, 127, 128, 255, 256, 298, 299):  # the exact bytes (all of them in the test above)
        body = get(client, f"/leaves/{i}")
        assert base64.b64decode(body["data"], validate=True) == synthetic[i]
    ref = rfc.Reference(synthetic)
    for size in sorted({*range(0, 70), *range(70, n + 1, 7), 127, 128, 129, 255, 256, 257, 299, 300}):
        assert service.root_at(db, size) == ref.root(size)
    for size in (0, 1, 2, 3, 5, 127, 128, 129, 300):
        assert ref.root(size) == rfc.mth(synthetic[:size])  # the memoised reference is the RFC's recursion

    small = 10
    pairs = [(i, size) for size in range(1, small + 1) for i in range(size)]
    firsts = [(m, size) for size in range(small + 1) for m in range(size + 1)]
    # Around powers of two and the batch boundaries, up to the whole log.
    edges = [31, 32, 33, 64, 65, 127, 128, 143, 232, 255, 256, 257, 299, 300]
    for size in edges:
        pairs += [(i, size) for i in sorted({0, 31, size // 2, size - 2, size - 1}) if i < size]
        firsts += [(m, size) for m in sorted({1, 3, 32, size // 2, size - 1}) if m < size]
    check_proofs(client, ref, pairs, firsts, tamper=small)


def test_leaves_are_hashed_with_the_rfc_prefix_not_raw(synthetic: list[bytes], client: TestClient) -> None:
    for i in (0, 7, 299):
        body = get(client, f"/leaves/{i}")
        data = base64.b64decode(body["data"])
        assert bytes.fromhex(body["leaf_hash"]) != hashlib.sha256(data).digest()
    # A "leaf" made of two children's hashes (the second-preimage attack) is not in the tree.
    ref = rfc.Reference(synthetic)
    inner = ref.leaf_hashes[0] + ref.leaf_hashes[1]
    path = inclusion(client, 0, 4)[1:]
    node = rfc.hash_children(ref.leaf_hashes[0], ref.leaf_hashes[1])
    assert rfc.verify_inclusion(node, 0, 2, path, ref.root(4))  # what the attack needs: the node as a leaf hash
    assert rfc.hash_leaf(inner) != node  # but a leaf's hash is of its bytes, prefixed: never an interior node's
    assert not rfc.verify_inclusion(rfc.hash_leaf(inner), 0, 2, path, ref.root(4))
