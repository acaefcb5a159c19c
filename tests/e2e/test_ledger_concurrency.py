"""Several server processes on one database, hammering the same hot accounts: no lost update, no broken limit."""

from __future__ import annotations

import threading
from pathlib import Path

import httpx

from fintech_zone.auth import service as auth
from fintech_zone.auth.model import Role
from fintech_zone.db import Database
from fintech_zone.ledger import service as ledger
from fintech_zone.ledger.model import AccountFlag, Asset, AssetKind, NewAccount, Transfer
from tests.e2e.test_ledger_crash import _start
from tests.servers import free_port

HOT = 4
CLIENTS = 4
BATCHES = 12
BATCH = 100


def test_processes_share_hot_accounts_safely(db: Database, db_url: str, tmp_path: Path) -> None:
    ledger.create_asset(db, Asset("SGD", AssetKind.FIAT_RESERVE, "SGD", 2))
    limited = frozenset({AccountFlag.DEBITS_MUST_NOT_EXCEED_CREDITS})
    ledger.create_accounts(
        db, [NewAccount("mint", "SGD", 9)] + [NewAccount(f"hot-{i}", "SGD", 1, limited) for i in range(HOT)]
    )
    # Each hot account starts with 1,000; clients then move money among them, often more than is there.
    ledger.create_transfers(db, [Transfer(f"seed-{i}", "mint", f"hot-{i}", 1_000, "SGD", 1) for i in range(HOT)])
    token, _ = auth.create_token(db, Role.OPERATOR, None, "concurrency test")
    headers = {"Authorization": f"Bearer {token}"}
    ports = [free_port(), free_port()]
    servers = [_start(db_url, port, tmp_path) for port in ports]
    results: dict[str, str] = {}
    errors: list[str] = []

    def client(n: int) -> None:
        with httpx.Client(base_url=f"http://127.0.0.1:{ports[n % 2]}", headers=headers, timeout=60) as c:
            for b in range(BATCHES):
                events = [
                    {
                        "id": f"c{n}-{b}-{i}",
                        # mostly from hot-0/1 to hot-2/3, so the first two run dry and must refuse
                        "debit_account_id": f"hot-{i % 2 if i % 5 else 2 + i % 2}",
                        "credit_account_id": f"hot-{2 + (n + b + i) % 2 if i % 5 else (n + i) % 2}",
                        "amount": 37 + (i * 7) % 50,
                        "ledger": "SGD",
                        "code": 1,
                    }
                    for i in range(BATCH)
                ]
                r = c.post("/api/v1/ledger/transfers", json=events)
                if r.status_code != 200:
                    errors.append(f"{r.status_code}: {r.text[:200]}")
                    return
                results.update((x["id"], x["result"]) for x in r.json())

    try:
        threads = [threading.Thread(target=client, args=(n,)) for n in range(CLIENTS)]
        for th in threads:
            th.start()
        for th in threads:
            th.join(timeout=240)
    finally:
        for s in servers:
            s.kill()
            s.wait(timeout=10)
    assert errors == []
    assert len(results) == CLIENTS * BATCHES * BATCH
    assert set(results.values()) <= {"created", "exceeds_credits"}
    assert "exceeds_credits" in results.values() and "created" in results.values()

    # Recompute every balance from the transfers the database holds: no update was lost.
    with db.read() as conn:
        rows = conn.exec_driver_sql(
            "SELECT debit_account_id, credit_account_id, amount, id FROM ledger_transfers"
        ).all()
    created = {r[3] for r in rows}
    assert created == {tid for tid, res in results.items() if res == "created"} | {f"seed-{i}" for i in range(HOT)}
    expected: dict[str, list[int]] = {}
    for dr, cr, amount, _ in rows:
        expected.setdefault(dr, [0, 0])[0] += amount
        expected.setdefault(cr, [0, 0])[1] += amount
    for account_id, (debits, credits) in expected.items():
        account = ledger.get_account(db, account_id)
        assert (account.debits_posted, account.credits_posted) == (debits, credits), account_id
        if AccountFlag.DEBITS_MUST_NOT_EXCEED_CREDITS in account.flags:
            assert account.debits_posted <= account.credits_posted, account_id
