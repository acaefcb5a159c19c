"""Several server processes on one database, many clients racing for the same quote, the same hot account and the
same UETR: exactly one winner each time, no overdraft, no double settlement, never a 500.

On SQLite the writers queue on the write lock (no "database is locked" may reach a client); on PostgreSQL they
serialise on the quote's row and the ledger's clock row.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from fintech_zone.db import Database
from fintech_zone.ledger import store as ledger_store
from tests.e2e.test_payments_crash import (
    FX_LIQUIDITY,
    PAYMENTS,
    Server,
    World,
    check_books,
    payment_body,
    servers,
    setup_world,
)

CLIENTS = 8
SERVERS = 2

Call = Callable[[httpx.Client], httpx.Response]


def race(procs: list[Server], calls: list[list[Call]]) -> list[list[httpx.Response]]:
    """Run each list of calls in its own thread (thread ``i`` talks to server ``i % len(procs)``), all starting at
    once; the answers in the same shape. A transport error or a 5xx fails the test, with the servers' logs."""
    answers: list[list[httpx.Response]] = [[] for _ in calls]
    errors: list[str] = []
    start = threading.Barrier(len(calls))

    def run(i: int) -> None:
        with httpx.Client(base_url=procs[i % len(procs)].url, timeout=60) as c:
            c.get("/healthz")  # connected before the race starts
            start.wait(timeout=30)
            try:
                for call in calls[i]:
                    answers[i].append(call(c))
            except httpx.HTTPError as exc:
                errors.append(f"client {i}: {exc!r}")

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(calls))]
    for th in threads:
        th.start()
    for th in threads:
        th.join(timeout=120)
    bad = [f"{r.status_code} {r.text[:300]}" for rs in answers for r in rs if r.status_code >= 500]
    logs = "\n".join(s.tail() for s in procs)
    assert errors == [] and bad == [], f"{errors} {bad}\n{logs}"
    assert all("locked" not in r.text for rs in answers for r in rs), logs
    assert [len(rs) for rs in answers] == [len(cs) for cs in calls]
    return answers


def post_payment(world: World, body: dict[str, Any]) -> Call:
    return lambda c: c.post(PAYMENTS, json=body, headers=world.headers(body["debtor_agent"]))


def no_tracebacks(procs: list[Server]) -> None:
    for s in procs:
        assert "Traceback" not in s.tail(1_000_000), s.tail()


def test_clients_racing_for_one_quote_settle_exactly_one_payment(db: Database, db_url: str, tmp_path: Path) -> None:
    rounds = 6
    with servers(db_url, tmp_path, SERVERS) as procs, httpx.Client(base_url=procs[0].url, timeout=30) as c:
        world = setup_world(db, procs[0].url)
        before = world.balances(c)
        winners: list[dict[str, Any]] = []
        for n in range(rounds):
            q = world.quote(c, "CNY", "SGD", 100_000 + 1_111 * n)
            bodies = [
                payment_body("cq-bank", "sg-bank", "CNY", "SGD", q["source_amount"], q["id"]) for _ in range(CLIENTS)
            ]
            answers = [rs[0] for rs in race(procs, [[post_payment(world, b)] for b in bodies])]
            assert [r.status_code for r in answers] == [201] * CLIENTS, [r.text for r in answers]
            settled = [r.json() for r in answers if r.json()["status"] == "settled"]
            refused = [r.json() for r in answers if r.json()["status"] != "settled"]
            assert len(settled) == 1, [r.json()["reason_detail"] for r in answers]
            for p in refused:
                assert (p["status"], p["reason"]) == ("rejected", "NARR"), p
                assert f"quote {q['id']} was used by another payment" in p["reason_detail"], p
            (winner,) = settled
            assert winner["target_amount"] == q["target_amount"]
            got = c.get(f"/api/v1/fx/quotes/{q['id']}", headers=world.operator).json()
            assert got["consumed_by"] == winner["uetr"]
            winners.append(winner)
        # Balances moved exactly once per quote.
        after = world.balances(c)
        sent, paid = sum(w["source_amount"] for w in winners), sum(w["target_amount"] for w in winners)
        assert after[("cq-bank", "CNY")] == before[("cq-bank", "CNY")] - sent
        assert after[("lion-fx", "CNY")] == before[("lion-fx", "CNY")] + sent
        assert after[("lion-fx", "SGD")] == before[("lion-fx", "SGD")] - paid
        assert after[("sg-bank", "SGD")] == before[("sg-bank", "SGD")] + paid
        assert after[("cq-bank", "SGD")] == before[("cq-bank", "SGD")]
        assert after[("sg-bank", "CNY")] == before[("sg-bank", "CNY")]
        payments = check_books(db, c, world)
        settled_uetrs = {u for u, p in payments.items() if p.status == "settled"} - world.funding
        assert settled_uetrs == {w["uetr"] for w in winners}
        assert len(payments) == len(world.funding) + rounds * CLIENTS
    no_tracebacks(procs)


def test_a_hot_debtor_bank_never_goes_negative(db: Database, db_url: str, tmp_path: Path) -> None:
    amount, balance = 50_000, 1_025_000  # room for exactly 20 payments of 50,000 out of 40
    per_client = 5
    with servers(db_url, tmp_path, SERVERS) as procs, httpx.Client(base_url=procs[0].url, timeout=30) as c:
        world = setup_world(db, procs[0].url, {"cq-bank": FX_LIQUIDITY + balance})
        assert world.balance(c, "cq-bank", "CNY") == balance
        before = world.balances(c)
        bodies: list[dict[str, Any]] = []
        for i in range(CLIENTS * per_client):
            if i % 2:  # cross-border, each with its own quote
                q = world.quote(c, "CNY", "SGD", amount)
                bodies.append(payment_body("cq-bank", "sg-bank", "CNY", "SGD", amount, q["id"]))
            else:
                bodies.append(payment_body("cq-bank", "sg-bank", "CNY", "CNY", amount))
        # Meanwhile a watcher reads cq-bank's balance over and over, through both servers.
        seen: list[int] = []
        watch_errors: list[str] = []
        done = threading.Event()

        def watch() -> None:
            with httpx.Client(timeout=30) as w:
                while not done.is_set():
                    for s in procs:
                        r = w.get(f"{s.url}{PAYMENTS}/participants/cq-bank/holdings", headers=world.operator)
                        if r.status_code != 200:
                            watch_errors.append(f"{r.status_code} {r.text[:300]}")
                            return
                        seen.append(next(h["balance"] for h in r.json() if h["asset"] == "CNY"))
                    time.sleep(0.002)

        watcher = threading.Thread(target=watch)
        watcher.start()
        try:
            calls = [[post_payment(world, b) for b in bodies[k::CLIENTS]] for k in range(CLIENTS)]
            answers = [r for rs in race(procs, calls) for r in rs]
        finally:
            done.set()
            watcher.join(timeout=30)
        assert [r.status_code for r in answers] == [201] * len(bodies), [r.text for r in answers]
        outcomes = {r.json()["uetr"]: r.json() for r in answers}
        settled = [p for p in outcomes.values() if p["status"] == "settled"]
        refused = [p for p in outcomes.values() if p["status"] != "settled"]
        assert len(settled) == balance // amount and len(refused) == len(bodies) - balance // amount
        for p in refused:
            assert (p["status"], p["reason"]) == ("rejected", "AM04"), p
            assert "pay:cq-bank:CNY holds less than 50000" in p["reason_detail"], p
        assert watch_errors == [] and seen and min(seen) >= 0, (watch_errors, seen)
        assert world.balance(c, "cq-bank", "CNY") == balance % amount
        # What left cq-bank's account is exactly what the settled payments sent.
        t = ledger_store.transfers
        with db.read() as conn:
            rows = conn.execute(
                select(t.c.id, t.c.amount).where(t.c.debit_account_id == "pay:cq-bank:CNY", t.c.id.like("pay:%"))
            ).all()
        left = {tid.split(":")[1]: a for tid, a in rows if tid.split(":")[1] not in world.funding}
        assert left == {p["uetr"]: amount for p in settled}
        assert sum(left.values()) == before[("cq-bank", "CNY")] - world.balance(c, "cq-bank", "CNY")
        # A refused payment keeps its quote unused; a settled one used its own.
        by_uetr = {b["uetr"]: b for b in bodies}
        for uetr, p in outcomes.items():
            if "quote_id" in by_uetr[uetr]:
                quote = c.get(f"/api/v1/fx/quotes/{by_uetr[uetr]['quote_id']}", headers=world.operator).json()
                assert quote["consumed_by"] == (uetr if p["status"] == "settled" else None), (p, quote)
        check_books(db, c, world)
    no_tracebacks(procs)


def test_the_same_uetr_sent_concurrently_is_one_payment(db: Database, db_url: str, tmp_path: Path) -> None:
    with servers(db_url, tmp_path, SERVERS) as procs, httpx.Client(base_url=procs[0].url, timeout=30) as c:
        world = setup_world(db, procs[0].url)
        before = world.balances(c)
        bodies: list[dict[str, Any]] = []
        for n in range(3):
            q = world.quote(c, "CNY", "SGD", 70_000 + n)
            bodies.append(payment_body("cq-bank", "sg-bank", "CNY", "SGD", 70_000 + n, q["id"]))
            q = world.quote(c, "SGD", "CNY", 9_000 + n)
            bodies.append(payment_body("sg-bank", "cq-bank", "SGD", "CNY", 9_000 + n, q["id"]))
            bodies.append(payment_body("cq-bank", "sg-bank", "CNY", "CNY", 33_000 + n))
            bodies.append(payment_body("sg-bank", "lion-fx", "SGD", "SGD", 4_400 + n))
        outcomes: dict[str, dict[str, Any]] = {}
        for body in bodies:
            answers = [rs[0] for rs in race(procs, [[post_payment(world, body)] for _ in range(CLIENTS)])]
            codes = sorted(r.status_code for r in answers)
            assert codes == [200] * (CLIENTS - 1) + [201], [r.text for r in answers]
            first = next(r.json() for r in answers if r.status_code == 201)
            assert first["status"] == "settled", first
            for r in answers:
                assert r.json() == first  # the same recorded outcome, history and all
            outcomes[body["uetr"]] = first
        # Sent once more, one at a time: still the recorded outcome, never a second settlement.
        for body in bodies[:4]:
            r = c.post(PAYMENTS, json=body, headers=world.headers(body["debtor_agent"]))
            assert r.status_code == 200 and r.json() == outcomes[body["uetr"]], r.text
        after = world.balances(c)
        moved: dict[tuple[str, str], int] = {}
        for body in bodies:
            p = outcomes[body["uetr"]]
            if body["source_asset"] == body["target_asset"]:
                legs = [(body["debtor_agent"], body["creditor_agent"], body["source_asset"], body["source_amount"])]
            else:
                legs = [
                    (body["debtor_agent"], "lion-fx", body["source_asset"], body["source_amount"]),
                    ("lion-fx", body["creditor_agent"], body["target_asset"], p["target_amount"]),
                ]
            for debit, credit, asset, amt in legs:
                moved[(debit, asset)] = moved.get((debit, asset), 0) - amt
                moved[(credit, asset)] = moved.get((credit, asset), 0) + amt
        for key, value in before.items():
            assert after[key] == value + moved.get(key, 0), key
        payments = check_books(db, c, world)
        assert set(payments) == world.funding | set(outcomes)
        for body in bodies:
            legs_n = [1] if body["source_asset"] == body["target_asset"] else [1, 2]
            for n in legs_n:
                r = c.get(f"/api/v1/ledger/transfers/pay:{body['uetr']}:{n}", headers=world.operator)
                assert r.status_code == 200, r.text
            extra = c.get(f"/api/v1/ledger/transfers/pay:{body['uetr']}:{len(legs_n) + 1}", headers=world.operator)
            assert extra.status_code == 404
    no_tracebacks(procs)


@pytest.fixture(autouse=True)
def _no_proxy(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("HTTP_PROXY", raising=False)
    monkeypatch.delenv("http_proxy", raising=False)
