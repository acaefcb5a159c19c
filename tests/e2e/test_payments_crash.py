"""A kill -9 during load leaves no half-settled payment: a real ``fintech-zone serve`` on SQLite and PostgreSQL.

Client threads stream cross-border (quote, then payment) and same-asset payments, some of them refused, while the
server is killed with SIGKILL. After a restart on the same database every acknowledged payment is there with its
outcome, every settled payment has all its ledger legs and nothing else has any, every consumed quote belongs to a
settled payment, the books balance per asset, each token's supply agrees three ways, and payments still settle.

The helpers here (a server process, a funded rails world over HTTP, the books checks) serve the concurrency test
too.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
import uuid
from collections import defaultdict
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from fintech_zone.auth import service as auth
from fintech_zone.auth.model import Role
from fintech_zone.db import Database
from fintech_zone.journal import audit, keys
from fintech_zone.ledger import store as ledger_store
from fintech_zone.ledger.model import AccountFlag
from fintech_zone.payments import fx_store
from fintech_zone.payments import store as payments_store
from tests.payments.conftest import PARTICIPANTS
from tests.servers import free_port

PAYMENTS = "/api/v1/payments"
ISSUED = 20_000_000  # tokens each domestic bank is issued (fen, cents)
FX_LIQUIDITY = 5_000_000  # what each bank pays the FX provider in its token, so the provider can pay out
THREADS = 3
KILL_AFTER = 240  # acknowledged payments before the kill


# -- a server process -----------------------------------------------------------------------------------------


@dataclass
class Server:
    proc: subprocess.Popen[bytes]
    port: int
    log: Path

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait(timeout=10)

    def tail(self, chars: int = 4_000) -> str:
        """The end of the server's log (its tracebacks), for failure messages."""
        return self.log.read_text(encoding="utf-8", errors="replace")[-chars:] if self.log.exists() else ""


def start_server(db_url: str, tmp: Path, name: str = "server", port: int | None = None) -> Server:
    """``python -m fintech_zone serve`` on ``db_url``; its output goes to ``tmp/<name>.log``."""
    port = port or free_port()
    log = tmp / f"{name}.log"
    env = {
        **os.environ,
        "FZ_DATABASE_URL": db_url,
        "FZ_SECRET_KEY": "payments-e2e",
        "FZ_JOURNAL_KEY_DIR": str(tmp / "journal-keys"),
    }
    with log.open("ab") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "fintech_zone", "serve", "--port", str(port)],
            env=env,
            cwd=tmp,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    server = Server(proc, port, log)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            break
        try:
            if httpx.get(f"{server.url}/healthz", timeout=1).status_code == 200:
                return server
        except httpx.HTTPError:
            time.sleep(0.1)
    server.stop()
    raise RuntimeError(f"server did not start:\n{server.tail()}")


@contextmanager
def servers(db_url: str, tmp: Path, n: int = 1) -> Iterator[list[Server]]:
    started: list[Server] = []
    try:
        for i in range(n):
            started.append(start_server(db_url, tmp, f"server-{i}"))
        yield started
    finally:
        for s in started:
            s.stop()


# -- a funded rails world over HTTP ---------------------------------------------------------------------------


@dataclass
class World:
    """Two central banks, a bank in each country and an FX provider, with tokens issued and a CNY/SGD rate."""

    db: Database
    operator: dict[str, str]
    tokens: dict[str, dict[str, str]]
    funding: set[str] = field(default_factory=set)  # UETRs of the set-up payments

    def headers(self, as_: str = "operator") -> dict[str, str]:
        return self.operator if as_ == "operator" else self.tokens[as_]

    def quote(self, client: httpx.Client, source: str, target: str, source_amount: int) -> dict[str, Any]:
        r = client.post(
            "/api/v1/fx/quotes",
            json={"source_asset": source, "target_asset": target, "source_amount": source_amount},
            headers=self.operator,
        )
        assert r.status_code == 201, r.text
        return dict(r.json())

    def balance(self, client: httpx.Client, participant: str, asset: str) -> int:
        r = client.get(f"{PAYMENTS}/participants/{participant}/holdings", headers=self.operator)
        assert r.status_code == 200, r.text
        return int(next(h["balance"] for h in r.json() if h["asset"] == asset))

    def balances(self, client: httpx.Client) -> dict[tuple[str, str], int]:
        return {(p, a): self.balance(client, p, a) for p in ("cq-bank", "sg-bank", "lion-fx") for a in ("CNY", "SGD")}


def payment_body(
    debtor_agent: str,
    creditor_agent: str,
    source_asset: str,
    target_asset: str,
    amount: int,
    quote_id: str | None = None,
    uetr: str | None = None,
) -> dict[str, Any]:
    body: dict[str, Any] = {
        "uetr": uetr or str(uuid.uuid4()),
        "debtor_agent": debtor_agent,
        "creditor_agent": creditor_agent,
        "debtor": {"name": "Li Ming", "account": "6222020200112233"},
        "creditor": {"name": "Tan Ah Kow", "account": "SG-0012345678"},
        "source_asset": source_asset,
        "source_amount": amount,
        "target_asset": target_asset,
        "purpose": "GDDS",
        "remittance_info": "e2e",
    }
    if quote_id is not None:
        body["quote_id"] = quote_id
    return body


def setup_world(db: Database, base_url: str, issued: dict[str, int] | None = None) -> World:
    """Participants, reserves, caps, issuance (``issued`` per bank, default ``ISSUED``), the FX provider's
    liquidity in both tokens and its CNY/SGD rate: all over HTTP, as an operator and each participant would."""
    issued = {"cq-bank": ISSUED, "sg-bank": ISSUED, **(issued or {})}
    token, _ = auth.create_token(db, Role.OPERATOR, None, "payments e2e")
    world = World(db, {"Authorization": f"Bearer {token}"}, {})
    with httpx.Client(base_url=base_url, timeout=30) as c:
        for pid, bic, role, jur, en, zh in PARTICIPANTS:
            body = {"id": pid, "bic": bic, "role": role, "jurisdiction": jur, "name_en": en, "name_zh": zh}
            r = c.post(f"{PAYMENTS}/participants", json=body, headers=world.operator)
            assert r.status_code == 201, r.text
            participant_token, _ = auth.create_token(db, Role.PARTICIPANT, pid, f"payments e2e {pid}")
            world.tokens[pid] = {"Authorization": f"Bearer {participant_token}"}
        for central, bank, asset in (("pboc-cq", "cq-bank", "CNY"), ("mas", "sg-bank", "SGD")):
            h = world.headers(central)
            amount = {"participant_id": bank, "asset": asset, "amount": 100_000_000}
            assert c.post(f"{PAYMENTS}/reserves", json=amount, headers=h).status_code == 201
            cap = {"participant_id": bank, "asset": asset, "cap": 50_000_000}
            assert c.post(f"{PAYMENTS}/caps", json=cap, headers=h).status_code == 200
            issue = {"participant_id": bank, "asset": asset, "amount": issued[bank]}
            r = c.post(f"{PAYMENTS}/issuance", json=issue, headers=h)
            assert r.status_code == 201, r.text
        for bank, asset in (("cq-bank", "CNY"), ("sg-bank", "SGD")):
            funding = payment_body(bank, "lion-fx", asset, asset, FX_LIQUIDITY)
            r = c.post(PAYMENTS, json=funding, headers=world.headers(bank))
            assert r.status_code == 201 and r.json()["status"] == "settled", r.text
            world.funding.add(funding["uetr"])
        rate = {"provider_id": "lion-fx", "pair": "CNY/SGD", "rate": "0.1850", "spread_bps": 20, "valid_seconds": 3600}
        assert c.post("/api/v1/fx/rates", json=rate, headers=world.headers("lion-fx")).status_code == 201
    return world


# -- the books ------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Leg:
    debit: str
    credit: str
    amount: int
    asset: str


def expected_legs(p: Any) -> dict[int, Leg]:
    """The ledger legs a settled bank-to-bank payment (a row of the payments table) must have, by leg number."""
    if p.source_asset == p.target_asset:
        return {
            1: Leg(
                f"pay:{p.debtor_agent}:{p.source_asset}",
                f"pay:{p.creditor_agent}:{p.target_asset}",
                p.source_amount,
                p.source_asset,
            )
        }
    return {
        1: Leg(
            f"pay:{p.debtor_agent}:{p.source_asset}",
            f"pay:{p.fx_provider_id}:{p.source_asset}",
            p.source_amount,
            p.source_asset,
        ),
        2: Leg(
            f"pay:{p.fx_provider_id}:{p.target_asset}",
            f"pay:{p.creditor_agent}:{p.target_asset}",
            p.target_amount,
            p.target_asset,
        ),
    }


def check_books(db: Database, client: httpx.Client, world: World) -> dict[str, Any]:
    """Everything that must hold whatever happened: payments and their legs agree (all legs of a settled payment,
    none of any other), consumed quotes belong to settled payments, every account's balance is the sum of its
    transfers, the books balance per asset and each token's supply agrees three ways. Returns the payments table's
    rows by UETR."""
    p, q, t, a = payments_store.payments, fx_store.quotes, ledger_store.transfers, ledger_store.accounts
    with db.read() as conn:
        payments = {r.uetr: r for r in conn.execute(select(p))}
        quotes = list(conn.execute(select(q.c.id, q.c.consumed_by)))
        transfers = list(
            conn.execute(
                select(t.c.id, t.c.debit_account_id, t.c.credit_account_id, t.c.amount, t.c.ledger, t.c.reference)
            )
        )
        accounts = list(
            conn.execute(
                select(
                    a.c.id, a.c.flags, a.c.debits_posted, a.c.credits_posted, a.c.debits_pending, a.c.credits_pending
                )
            )
        )
    legs: dict[str, dict[int, Leg]] = defaultdict(dict)
    for tr in transfers:
        if tr.id.startswith("pay:"):
            _, uetr, n = tr.id.split(":")
            assert tr.reference == uetr, tr
            legs[uetr][int(n)] = Leg(tr.debit_account_id, tr.credit_account_id, tr.amount, tr.ledger)
    for uetr, pay in payments.items():
        if pay.status == "settled":
            assert legs.get(uetr) == expected_legs(pay), f"settled payment {uetr} is half-settled: {legs.get(uetr)}"
        else:
            assert uetr not in legs, f"{pay.status} payment {uetr} has ledger legs {legs[uetr]}"
    assert set(legs) <= set(payments), f"ledger legs without a payment: {sorted(set(legs) - set(payments))}"
    settled = {u for u, pay in payments.items() if pay.status == "settled"}
    for quote_id, consumed_by in quotes:
        if consumed_by is not None:
            assert consumed_by in settled, f"quote {quote_id} consumed by {consumed_by}, not a settled payment"
            assert payments[consumed_by].quote_id == quote_id, (quote_id, consumed_by)
    consumed = {consumed_by: quote_id for quote_id, consumed_by in quotes if consumed_by is not None}
    for uetr in settled:
        if payments[uetr].source_asset != payments[uetr].target_asset:
            assert consumed.get(uetr) == payments[uetr].quote_id, f"settled {uetr} did not consume its quote"
    # No lost update: every account's posted balance is the sum of the transfers the ledger holds for it.
    sums: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    for tr in transfers:
        sums[tr.debit_account_id][0] += tr.amount
        sums[tr.credit_account_id][1] += tr.amount
    for acc in accounts:
        assert [acc.debits_posted, acc.credits_posted] == sums.get(acc.id, [0, 0]), acc.id
        assert acc.debits_pending == acc.credits_pending == 0, acc.id
        if AccountFlag.DEBITS_MUST_NOT_EXCEED_CREDITS in ledger_store.ACCOUNT_FLAG_SETS[acc.flags]:
            assert acc.debits_posted <= acc.credits_posted, f"{acc.id} is overdrawn"
    totals = client.get("/api/v1/ledger/totals", headers=world.operator)
    assert totals.status_code == 200, totals.text
    for asset, tot in totals.json().items():
        assert tot["debits_posted"] == tot["credits_posted"], (asset, tot)
        assert tot["debits_pending"] == tot["credits_pending"] == 0, (asset, tot)
    for asset in ("CNY", "SGD"):
        r = client.get(f"{PAYMENTS}/supply/{asset}", headers=world.operator)
        assert r.status_code == 200, r.text
        s = r.json()
        assert s["issued_minus_redeemed"] == s["on_ledger"] == s["held"], s
    return payments


# -- the test -------------------------------------------------------------------------------------------------


@dataclass
class Stream:
    """What the client threads sent and what the server acknowledged."""

    sent: dict[str, dict[str, Any]] = field(default_factory=dict)  # UETR → body
    expected: dict[str, tuple[str, str | None]] = field(default_factory=dict)  # UETR → (status, reason)
    acknowledged: dict[str, dict[str, Any]] = field(default_factory=dict)  # UETR → the 201 answer
    interrupted: list[str] = field(default_factory=list)  # UETRs whose answer never came (the kill)
    errors: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)


def _stream(world: World, base_url: str, n: int, killed: threading.Event, out: Stream) -> None:
    """Quote-then-pay CNY → SGD and SGD → CNY, same-asset CNY payments, and some that the rails refuse (a used
    quote: NARR; more than the bank holds: AM04), until the server dies."""
    last_quote: dict[str, Any] | None = None
    with httpx.Client(base_url=base_url, timeout=30) as c:
        for k in range(100_000):
            amount = 1_000 + (n * 7_919 + k * 3_571) % 60_000
            kind = k % 6
            body: dict[str, Any] | None = None
            expect: tuple[str, str | None] = ("settled", None)
            try:
                if kind in (0, 1):
                    last_quote = world.quote(c, "CNY", "SGD", amount)
                    body = payment_body("cq-bank", "sg-bank", "CNY", "SGD", amount, last_quote["id"])
                elif kind == 2:
                    q = world.quote(c, "SGD", "CNY", amount // 5)
                    body = payment_body("sg-bank", "cq-bank", "SGD", "CNY", amount // 5, q["id"])
                elif kind == 3:
                    body = payment_body("cq-bank", "sg-bank", "CNY", "CNY", amount)
                elif kind == 4 and last_quote is not None:  # the quote is used up already: NARR
                    expect = ("rejected", "NARR")
                    body = payment_body(
                        "cq-bank", "sg-bank", "CNY", "SGD", last_quote["source_amount"], last_quote["id"]
                    )
                else:  # more than cq-bank holds: AM04
                    expect = ("rejected", "AM04")
                    body = payment_body("cq-bank", "lion-fx", "CNY", "CNY", 2 * ISSUED)
                with out.lock:
                    out.sent[body["uetr"]] = body
                    out.expected[body["uetr"]] = expect
                r = c.post(PAYMENTS, json=body, headers=world.headers(body["debtor_agent"]))
            except (httpx.HTTPError, AssertionError) as exc:
                if killed.is_set():
                    if body is not None:
                        with out.lock:
                            out.interrupted.append(body["uetr"])
                    return
                with out.lock:
                    out.errors.append(f"thread {n}: {exc!r}")
                return
            if r.status_code != 201 or r.json()["status"] not in ("settled", "rejected"):
                if killed.is_set() and r.status_code >= 500:
                    return
                with out.lock:
                    out.errors.append(f"thread {n}: {r.status_code} {r.text[:300]}")
                return
            with out.lock:
                out.acknowledged[body["uetr"]] = r.json()
            if killed.is_set():
                return


def test_kill_9_during_load_leaves_no_half_settled_payment(db: Database, db_url: str, tmp_path: Path) -> None:
    server = start_server(db_url, tmp_path, "before")
    out = Stream()
    killed = threading.Event()
    try:
        world = setup_world(db, server.url)
        threads = [threading.Thread(target=_stream, args=(world, server.url, n, killed, out)) for n in range(THREADS)]
        for th in threads:
            th.start()
        deadline = time.monotonic() + 60
        while len(out.acknowledged) < KILL_AFTER and not out.errors and time.monotonic() < deadline:
            time.sleep(0.005)
        killed.set()
        os.kill(server.proc.pid, signal.SIGKILL)
        for th in threads:
            th.join(timeout=60)
    finally:
        server.stop()
    assert out.errors == [], f"{out.errors}\n{server.tail()}"
    assert "Traceback" not in server.tail(1_000_000), server.tail()
    assert len(out.acknowledged) >= KILL_AFTER
    for uetr, answer in out.acknowledged.items():
        assert (answer["status"], answer["reason"]) == out.expected[uetr], answer
    outcomes = {r["status"] for r in out.acknowledged.values()}
    assert outcomes == {"settled", "rejected"}, outcomes  # the stream had both kinds of acknowledged outcome

    server = start_server(db_url, tmp_path, "after")  # restart on the same database
    try:
        with httpx.Client(base_url=server.url, timeout=30) as c:
            # Every acknowledged payment is there, with the outcome the client was given.
            for uetr, answer in out.acknowledged.items():
                r = c.get(f"{PAYMENTS}/{uetr}", headers=world.operator)
                assert r.status_code == 200, (uetr, r.text)
                got = r.json()
                assert (got["status"], got["reason"], got["history"]) == (
                    answer["status"],
                    answer["reason"],
                    answer["history"],
                ), uetr
                if answer["status"] == "settled":
                    body = out.sent[uetr]
                    legs = [1] if body["source_asset"] == body["target_asset"] else [1, 2]
                    seen = []
                    for n in legs:
                        t = c.get(f"/api/v1/ledger/transfers/pay:{uetr}:{n}", headers=world.operator)
                        assert t.status_code == 200, (uetr, n, t.text)
                        seen.append((t.json()["ledger"], t.json()["amount"]))
                    want = [(body["source_asset"], body["source_amount"])]
                    if len(legs) == 2:
                        want.append((body["target_asset"], answer["target_amount"]))
                    assert seen == want, uetr
            payments = check_books(db, c, world)
            # Nothing was recorded that nobody sent; what was sent but never answered is whole or absent.
            assert set(payments) <= set(out.sent) | world.funding
            assert set(out.acknowledged) <= set(payments)

            # The restarted server still takes payments, both kinds.
            q = world.quote(c, "CNY", "SGD", 12_345)
            cross = payment_body("cq-bank", "sg-bank", "CNY", "SGD", 12_345, q["id"])
            same = payment_body("sg-bank", "cq-bank", "SGD", "SGD", 678)
            for body in (cross, same):
                r = c.post(PAYMENTS, json=body, headers=world.headers(body["debtor_agent"]))
                assert r.status_code == 201 and r.json()["status"] == "settled", r.text
            t = c.get(f"/api/v1/ledger/transfers/pay:{cross['uetr']}:2", headers=world.operator).json()
            assert (t["ledger"], t["amount"]) == ("SGD", q["target_amount"])
            after = check_books(db, c, world)
            assert after[cross["uetr"]].status == after[same["uetr"]].status == "settled"
            # The journal: every record that survived has its leaf and nothing else does; the heads the server signed
            # (with the keys serve made in its directory) verify, across the kill.
            report = audit.verify(db, keys.public_keys(tmp_path / "journal-keys"))
            assert report.ok, [str(f) for f in report.findings[:5]]
            assert report.leaves > len(after)
    finally:
        server.stop()
    assert "Traceback" not in server.tail(100_000), server.tail()


@pytest.fixture(autouse=True)
def _no_proxy(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("HTTP_PROXY", raising=False)
    monkeypatch.delenv("http_proxy", raising=False)
