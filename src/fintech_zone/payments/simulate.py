"""Demo traffic: labelled synthetic payments driven through the public HTTP API, so the hall shows live flows.

Everything it creates is DEMO data: participants ``demo-…`` flagged demo (they deal only with each other, so no
real participant's money moves), names that say DEMO, and payments the API and the figures mark ``demo``. The
demo world is set up on the database directly (joining, issuance and participant tokens are administration);
the payments themselves go through ``POST /api/v1/fx/quotes`` and ``POST /api/v1/payments`` of a running server.
"""

from __future__ import annotations

import http.client
import json
import random
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from fintech_zone.auth import service as auth
from fintech_zone.auth.model import Role
from fintech_zone.db import Database
from fintech_zone.payments import fx_service, payment_service, service
from fintech_zone.payments.model import Party, PaymentRequest
from fintech_zone.payments.screening_config import screener_for
from fintech_zone.payments.service import JoinRequest
from fintech_zone.settings import Settings

DEMO = "DEMO"
# (id, BIC, role, jurisdiction, English name, Chinese name)
WORLD = [
    ("demo-pboc-cq", "DMPBCNCQXXX", "central_bank", "CN", "DEMO PBoC Chongqing", "演示 人民银行重庆"),
    ("demo-mas", "DMMASGSGXXX", "central_bank", "SG", "DEMO MAS", "演示 新加坡金管局"),
    ("demo-cq-bank-1", "DMCACNCQXXX", "bank", "CN", "DEMO Chongqing Bank One", "演示 重庆一号银行"),
    ("demo-cq-bank-2", "DMCBCNCQXXX", "bank", "CN", "DEMO Chongqing Bank Two", "演示 重庆二号银行"),
    ("demo-sg-bank-1", "DMSASGSGXXX", "bank", "SG", "DEMO Singapore Bank One", "演示 新加坡一号银行"),
    ("demo-sg-bank-2", "DMSBSGSGXXX", "bank", "SG", "DEMO Singapore Bank Two", "演示 新加坡二号银行"),
    ("demo-fx", "DMFXSGSGXXX", "fx_provider", "SG", "DEMO FX Provider", "演示 外汇服务商"),
]
CN_BANKS = ["demo-cq-bank-1", "demo-cq-bank-2"]
SG_BANKS = ["demo-sg-bank-1", "demo-sg-bank-2"]
FUNDS = 10**13  # minor units issued to each demo bank and held by the FX provider: enough for days of traffic
DEMO_RATE, DEMO_SPREAD = "0.1850", 25  # a DEMO rate, not a market one


def ensure_world(db: Database, rate_seconds: int) -> None:
    """Create the demo participants and their money once; post a fresh demo rate every time."""
    present = {p.id for p in service.list_participants(db)}
    for pid, bic, role, jurisdiction, en, zh in WORLD:
        if pid not in present:
            service.join(db, JoinRequest(pid, bic, role, jurisdiction, en, zh, demo=True))
    if not present.issuperset(p[0] for p in WORLD):
        for central, banks, asset in (("demo-pboc-cq", CN_BANKS, "CNY"), ("demo-mas", SG_BANKS, "SGD")):
            for bank in banks:
                service.credit_reserve(db, central, bank, asset, FUNDS)
                service.set_cap(db, central, bank, asset, FUNDS)
                service.issue(db, central, bank, asset, FUNDS)
            funding = PaymentRequest(
                uetr=str(uuid.uuid4()),
                debtor_agent=banks[0],
                creditor_agent="demo-fx",
                debtor=Party(f"{DEMO} treasury", "DEMO-NOSTRO"),
                creditor=Party(f"{DEMO} FX liquidity", "DEMO-LIQ"),
                source_asset=asset,
                source_amount=FUNDS // 2,
                target_asset=asset,
                remittance_info=f"{DEMO} FX provider funding",
            )
            payment_service.submit(db, funding, screener_for(Settings()))
    fx_service.post_rate(db, None, "demo-fx", "CNY/SGD", DEMO_RATE, DEMO_SPREAD, rate_seconds)


@dataclass
class Tally:
    sent: int = 0
    outcomes: Counter[str] = field(default_factory=Counter)
    errors: Counter[str] = field(default_factory=Counter)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def add(self, outcome: str | None, error: str | None = None) -> None:
        with self.lock:
            self.sent += 1
            if outcome:
                self.outcomes[outcome] += 1
            if error:
                self.errors[error] += 1


class _Client:
    """One keep-alive HTTP connection to the server (one per worker thread), reopened after a failure."""

    def __init__(self, base: str) -> None:
        parts = urlsplit(base)
        self.host, self.port = parts.hostname or "127.0.0.1", parts.port or 80
        self.conn: http.client.HTTPConnection | None = None

    def post(self, path: str, body: dict[str, Any], token: str) -> tuple[int, Any]:
        if self.conn is None:
            self.conn = http.client.HTTPConnection(self.host, self.port, timeout=30)
        headers = {"Content-Type": "application/json", "Authorization": f"Bearer {token}"}
        try:
            self.conn.request("POST", path, json.dumps(body), headers)
            response = self.conn.getresponse()
            return response.status, json.loads(response.read() or b"null")
        except (OSError, http.client.HTTPException):
            self.conn.close()
            self.conn = None
            raise


def reachable(base_url: str) -> bool:
    parts = urlsplit(base_url)
    conn = http.client.HTTPConnection(parts.hostname or "127.0.0.1", parts.port or 80, timeout=5)
    try:
        conn.request("GET", "/healthz")
        return conn.getresponse().status == 200
    except (OSError, http.client.HTTPException):
        return False
    finally:
        conn.close()


def _one(client: _Client, tokens: dict[str, str], rng: random.Random) -> tuple[str | None, str | None]:
    """Send one random demo payment: CN→SG (55%), SG→CN (30%) or within one country (15%)."""
    pick = rng.random()
    amount = int(rng.lognormvariate(10, 1.2)) + 100  # fen or cents: mostly tens to thousands of yuan / dollars
    if pick < 0.85:
        cn_to_sg = pick < 0.55
        debtor = rng.choice(CN_BANKS if cn_to_sg else SG_BANKS)
        creditor = rng.choice(SG_BANKS if cn_to_sg else CN_BANKS)
        source, target = ("CNY", "SGD") if cn_to_sg else ("SGD", "CNY")
        status, quote = client.post(
            "/api/v1/fx/quotes",
            {"source_asset": source, "target_asset": target, "source_amount": amount},
            tokens[debtor],
        )
        if status != 201:
            return None, f"quote {status}"
        quote_id: str | None = quote["id"]
    else:
        banks = rng.choice([CN_BANKS, SG_BANKS])
        debtor, creditor = banks[0], banks[1]
        source = target = "CNY" if banks is CN_BANKS else "SGD"
        quote_id = None
    n = rng.randrange(10_000)
    body = {
        "uetr": str(uuid.uuid4()),
        "debtor_agent": debtor,
        "creditor_agent": creditor,
        "debtor": {"name": f"{DEMO} customer {n:04d}", "account": f"DEMO-{n:06d}"},
        "creditor": {"name": f"{DEMO} merchant {n % 500:03d}", "account": f"DEMO-M{n % 500:05d}"},
        "source_asset": source,
        "source_amount": amount,
        "target_asset": target,
        "quote_id": quote_id,
        "purpose": "GDDS",
        "remittance_info": f"{DEMO} synthetic payment (fintech-zone simulate payments)",
    }
    status, paid = client.post("/api/v1/payments", body, tokens[debtor])
    if status not in (200, 201):
        return None, f"payment {status}"
    return str(paid["status"]) + (f" {paid['reason']}" if paid.get("reason") else ""), None


def run(
    db: Database,
    base_url: str,
    rate: float,
    duration: float,
    seed: int = 1,
    workers: int = 4,
    progress: Callable[[Tally], None] | None = None,
) -> Tally:
    """Send about ``rate`` demo payments a second for ``duration`` seconds; answer what happened to them."""
    ensure_world(db, int(duration) + 900)
    created = {
        pid: auth.create_token(db, Role.PARTICIPANT, pid, "simulate payments (DEMO)") for pid in CN_BANKS + SG_BANKS
    }
    tokens = {pid: token for pid, (token, _) in created.items()}
    tally = Tally()
    start = time.monotonic()
    total = max(1, int(rate * duration))
    next_index = iter(range(total))
    index_lock = threading.Lock()

    def worker(k: int) -> None:
        client, rng = _Client(base_url), random.Random(seed * 1000 + k)
        while True:
            with index_lock:
                i = next(next_index, None)
            if i is None:
                return
            delay = start + i / rate - time.monotonic()  # paced: the i-th payment leaves at i/rate seconds
            if delay > 0:
                time.sleep(delay)
            try:
                outcome, error = _one(client, tokens, rng)
            except (OSError, http.client.HTTPException, ValueError) as exc:
                outcome, error = None, type(exc).__name__
            tally.add(outcome, error)

    threads = [threading.Thread(target=worker, args=(k,), daemon=True) for k in range(workers)]
    for t in threads:
        t.start()
    try:
        while any(t.is_alive() for t in threads):
            time.sleep(0.5)
            if progress is not None:
                progress(tally)
    finally:
        for _, info in created.values():  # the demo tokens end with the run
            auth.revoke_token(db, info.id)
    return tally
