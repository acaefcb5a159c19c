"""The ledger over HTTP, on SQLite and PostgreSQL: batches, two-phase transfers, queries, bad input."""

from __future__ import annotations

import json
from typing import Any

from fastapi.testclient import TestClient

from fintech_zone.auth import service as auth
from fintech_zone.auth.model import Role
from fintech_zone.db import Database

API = "/api/v1/ledger"


def _setup(client: TestClient, operator: dict[str, str], seeded: Database) -> None:
    r = client.post(
        f"{API}/assets",
        json={"code": "CNY", "kind": "fiat_reserve", "currency": "CNY", "exponent": 2, "issuer_id": "cn-pboc"},
        headers=operator,
    )
    assert r.status_code == 201, r.text
    accounts = [
        {
            "id": "bank-a",
            "ledger": "CNY",
            "code": 1,
            "flags": ["debits_must_not_exceed_credits"],
            "owner_id": "cn-pboc-cq",
        },
        {"id": "bank-b", "ledger": "CNY", "code": 1, "flags": ["history"], "owner_id": "sg-mas"},
        {"id": "issuer", "ledger": "CNY", "code": 9},
    ]
    r = client.post(f"{API}/accounts", json=accounts, headers=operator)
    assert r.json() == [{"id": a["id"], "result": "created"} for a in accounts]


def _transfers(client: TestClient, headers: dict[str, str], *events: dict[str, Any]) -> list[str]:
    r = client.post(f"{API}/transfers", json=list(events), headers=headers)
    assert r.status_code == 200, r.text
    assert [x["id"] for x in r.json()] == [e["id"] for e in events]
    return [x["result"] for x in r.json()]


def t(id: str, dr: str, cr: str, amount: int, **extra: Any) -> dict[str, Any]:
    return {
        "id": id,
        "debit_account_id": dr,
        "credit_account_id": cr,
        "amount": amount,
        "ledger": "CNY",
        "code": 1,
        **extra,
    }


def _balances(client: TestClient, headers: dict[str, str], account: str) -> tuple[int, int, int, int]:
    a = client.get(f"{API}/accounts/{account}", headers=headers).json()
    return a["debits_pending"], a["debits_posted"], a["credits_pending"], a["credits_posted"]


def test_transfers_two_phase_and_limits(client: TestClient, seeded: Database, operator: dict[str, str]) -> None:
    _setup(client, operator, seeded)
    assert _transfers(client, operator, t("fund", "issuer", "bank-a", 10_000)) == ["created"]
    assert _transfers(
        client,
        operator,
        t("p1", "bank-a", "bank-b", 6_000, flags=["pending"], timeout=3600),
        t("over", "bank-a", "bank-b", 5_000),  # 6,000 pending + 5,000 > 10,000 credited
        t("post", "", "", 4_000, flags=["post_pending_transfer"], pending_id="p1", ledger="", code=0),
    ) == ["created", "exceeds_credits", "created"]
    assert _balances(client, operator, "bank-a") == (0, 4_000, 0, 10_000)
    assert _balances(client, operator, "bank-b") == (0, 0, 0, 4_000)
    # the post released the rest of the hold: 6,000 more can go now
    assert _transfers(client, operator, t("rest", "bank-a", "bank-b", 6_000)) == ["created"]
    totals = client.get(f"{API}/totals", headers=operator).json()["CNY"]
    assert totals["debits_posted"] == totals["credits_posted"] == 20_000
    assert totals["debits_pending"] == totals["credits_pending"] == 0


def test_linked_chain_and_idempotency(client: TestClient, seeded: Database, operator: dict[str, str]) -> None:
    _setup(client, operator, seeded)
    _transfers(client, operator, t("fund", "issuer", "bank-a", 100))
    chain = [t("c1", "bank-a", "bank-b", 60, flags=["linked"]), t("c2", "bank-a", "bank-b", 60)]
    assert _transfers(client, operator, *chain) == ["linked_event_failed", "exceeds_credits"]
    assert _balances(client, operator, "bank-a") == (0, 0, 0, 100)
    # the first id failed before, so the chain fails at once and the second is not looked at
    assert _transfers(client, operator, *chain) == ["id_already_failed", "linked_event_failed"]
    assert _transfers(client, operator, t("fund", "issuer", "bank-a", 100)) == ["exists"]
    assert _transfers(client, operator, t("fund", "issuer", "bank-a", 101)) == ["exists_with_different_amount"]
    assert _balances(client, operator, "bank-a") == (0, 0, 0, 100)


def test_queries(client: TestClient, seeded: Database, operator: dict[str, str], viewer: dict[str, str]) -> None:
    _setup(client, operator, seeded)
    _transfers(client, operator, *[t(f"x{i}", "issuer", "bank-b", 10 + i) for i in range(5)])
    got = client.get(f"{API}/transfers/x3", headers=viewer).json()
    assert got["amount"] == 13 and got["flags"] == []
    seen, cursor = [], None
    while True:
        page = client.get(
            f"{API}/accounts/bank-b/transfers",
            params={"limit": 2, **({"cursor": cursor} if cursor else {})},
            headers=viewer,
        ).json()
        seen += [x["id"] for x in page["items"]]
        cursor = page["next_cursor"]
        if not cursor:
            break
    assert seen == [f"x{i}" for i in range(5)]
    stamps = [client.get(f"{API}/transfers/x{i}", headers=viewer).json()["timestamp"] for i in range(5)]
    assert stamps == sorted(stamps) and len(set(stamps)) == 5
    at = client.get(f"{API}/accounts/bank-b/balance", params={"at": stamps[2]}, headers=viewer).json()
    assert at["credits_posted"] == 10 + 11 + 12
    assert client.get(f"{API}/accounts/issuer/balance", params={"at": stamps[2]}, headers=viewer).status_code == 422
    assert client.get(f"{API}/accounts/nobody", headers=viewer).status_code == 404
    assert client.get(f"{API}/transfers/nobody", headers=viewer).status_code == 404
    assert client.get(f"{API}/accounts/bank-b/transfers", params={"cursor": "zz"}, headers=viewer).status_code == 422


def test_participant_sees_only_its_own_accounts(client: TestClient, seeded: Database, operator: dict[str, str]) -> None:
    _setup(client, operator, seeded)
    token, _ = auth.create_token(seeded, Role.PARTICIPANT, "sg-mas", None)
    mine = {"Authorization": f"Bearer {token}"}
    assert client.get(f"{API}/accounts/bank-b", headers=mine).status_code == 200
    assert client.get(f"{API}/accounts/bank-a", headers=mine).status_code == 404
    assert client.post(f"{API}/transfers", json=[t("z", "issuer", "bank-b", 1)], headers=mine).status_code == 403


def test_bad_input(client: TestClient, seeded: Database, operator: dict[str, str]) -> None:
    _setup(client, operator, seeded)
    assert (
        client.post(
            f"{API}/transfers", content=b"[{", headers={**operator, "content-type": "application/json"}
        ).status_code
        == 400
    )
    # Nested past the parser's depth: refused as malformed, not a 500.
    deep = client.post(
        f"{API}/transfers", content=b"[" * 100_000, headers={**operator, "content-type": "application/json"}
    )
    assert deep.status_code == 400 and deep.json()["type"].endswith("/malformed-json")
    too_many = [t(f"b{i}", "issuer", "bank-b", 1) for i in range(8191)]
    r = client.post(f"{API}/transfers", json=too_many, headers=operator)
    assert r.status_code in (413, 422)
    assert client.post(f"{API}/transfers", json=[], headers=operator).status_code == 422
    assert (
        client.post(
            f"{API}/transfers", json=[{**t("w", "issuer", "bank-b", 1), "amount": "1"}], headers=operator
        ).status_code
        == 422
    )
    assert (
        client.post(
            f"{API}/transfers", json=[{**t("w", "issuer", "bank-b", 1), "amount": 1.5}], headers=operator
        ).status_code
        == 422
    )
    # Past 64 bits: a range error on the field (the body is valid JSON), not "malformed".
    r = client.post(f"{API}/transfers", json=[{**t("w", "issuer", "bank-b", 1), "amount": 2**70}], headers=operator)
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "0.amount"
    assert (
        client.post(
            f"{API}/transfers", json=[{**t("w", "issuer", "bank-b", 1), "flags": ["fast"]}], headers=operator
        ).status_code
        == 422
    )
    assert _transfers(
        client,
        operator,
        t("n1", "issuer", "nobody", 1),
        t("n2", "issuer", "bank-b", 0),
        t("n3", "issuer", "bank-b", -5),
        t("n4", "issuer", "bank-b", 2**63),
        {**t("n5", "issuer", "bank-b", 1), "ledger": "SGD"},
        t("bad id!", "issuer", "bank-b", 1),
    ) == [
        "credit_account_not_found",
        "amount_must_not_be_zero",
        "amount_must_not_be_negative",
        "amount_exceeds_maximum",
        "transfer_must_have_the_same_ledger_as_accounts",
        "id_invalid",
    ]
    assert _balances(client, operator, "bank-b") == (0, 0, 0, 0)
    r = client.post(
        f"{API}/accounts",
        json=[{"id": "x", "ledger": "USD", "code": 1}, {"id": "bank-a", "ledger": "CNY", "code": 2}],
        headers=operator,
    )
    assert [x["result"] for x in r.json()] == ["ledger_not_found", "exists_with_different_code"]


def test_a_full_batch_over_http_is_taken_whole(client: TestClient, seeded: Database, operator: dict[str, str]) -> None:
    # 8,190 events with long ids and references are several MiB: more than other endpoints take, within the limit.
    _setup(client, operator, seeded)
    ref = "pilot settlement reference " * 5
    events = [t(f"full-batch-transfer-{i:08d}-" + "x" * 30, "issuer", "bank-b", 1, reference=ref) for i in range(8190)]
    body = json.dumps(events).encode()
    assert len(body) > 2 * 1024 * 1024
    r = client.post(f"{API}/transfers", content=body, headers={**operator, "content-type": "application/json"})
    assert r.status_code == 200, r.text[:300]
    assert {x["result"] for x in r.json()} == {"created"} and len(r.json()) == 8190
    assert _balances(client, operator, "bank-b") == (0, 0, 0, 8190)


def test_a_batch_body_over_its_limit_gets_413_and_writes_nothing(
    client: TestClient, seeded: Database, operator: dict[str, str]
) -> None:
    _setup(client, operator, seeded)
    body = json.dumps([t("big", "issuer", "bank-b", 1, reference="r" * (17 * 1024 * 1024))]).encode()
    r = client.post(f"{API}/transfers", content=body, headers={**operator, "content-type": "application/json"})
    assert r.status_code == 413
    assert r.headers["content-type"].startswith("application/problem+json")
    assert client.get(f"{API}/transfers/big", headers=operator).status_code == 404
