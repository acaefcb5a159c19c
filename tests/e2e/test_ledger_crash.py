"""Durable before acknowledged: kill -9 the server while a client streams batches, restart, check the books.

Every acknowledged transfer must be there after the restart, no batch may be half-applied, and per asset the
debits still equal the credits. Runs against a real ``fintech-zone serve`` process on SQLite and PostgreSQL.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from fintech_zone.auth import service as auth
from fintech_zone.auth.model import Role
from fintech_zone.db import Database
from fintech_zone.journal import audit, keys
from fintech_zone.ledger import service as ledger
from fintech_zone.ledger.model import Asset, AssetKind, NewAccount
from tests.servers import free_port

ACCOUNTS = 20
BATCH = 200


def _start(db_url: str, port: int, tmp: Path) -> subprocess.Popen[bytes]:
    env = {
        **os.environ,
        "FZ_DATABASE_URL": db_url,
        "FZ_SECRET_KEY": "crash-test",
        "FZ_JOURNAL_KEY_DIR": str(tmp / "journal-keys"),
    }
    proc = subprocess.Popen(
        [sys.executable, "-m", "fintech_zone", "serve", "--port", str(port)],
        env=env,
        cwd=tmp,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1).status_code == 200:
                return proc
        except httpx.HTTPError:
            time.sleep(0.1)
    proc.kill()
    raise RuntimeError("server did not start")


def test_kill_9_loses_no_acknowledged_transfer(db: Database, db_url: str, tmp_path: Path) -> None:
    ledger.create_asset(db, Asset("CNY", AssetKind.FIAT_RESERVE, "CNY", 2))
    ledger.create_accounts(db, [NewAccount(f"acc-{i}", "CNY", 1) for i in range(ACCOUNTS)])
    token, _ = auth.create_token(db, Role.OPERATOR, None, "crash test")
    headers = {"Authorization": f"Bearer {token}"}
    port = free_port()
    server = _start(db_url, port, tmp_path)
    acknowledged: list[list[str]] = []
    sent: list[list[str]] = []
    killed_at = None
    try:
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", headers=headers, timeout=10) as client:
            for b in range(10_000):
                ids = [f"b{b}-{i}" for i in range(BATCH)]
                events = [
                    {
                        "id": tid,
                        "debit_account_id": f"acc-{(b + i) % ACCOUNTS}",
                        "credit_account_id": f"acc-{(b + i + 1) % ACCOUNTS}",
                        "amount": 1 + i,
                        "ledger": "CNY",
                        "code": 1,
                    }
                    for i, tid in enumerate(ids)
                ]
                sent.append(ids)
                if b == 15:
                    # Kill while a request is in flight: send it, then kill before reading the answer.
                    request = client.build_request("POST", "/api/v1/ledger/transfers", json=events)
                    stream = client.send(request, stream=True)
                    os.kill(server.pid, signal.SIGKILL)
                    killed_at = b
                    try:
                        stream.read()
                        if stream.status_code == 200:
                            acknowledged.append(ids)
                    except httpx.HTTPError:
                        pass
                    break
                r = client.post("/api/v1/ledger/transfers", json=events)
                assert r.status_code == 200
                assert {x["result"] for x in r.json()} == {"created"}
                acknowledged.append(ids)
    finally:
        server.kill()
        server.wait(timeout=10)
    assert killed_at == 15

    server = _start(db_url, port, tmp_path)  # restart on the same database
    try:
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", headers=headers, timeout=10) as client:
            for ids in acknowledged:
                for tid in (ids[0], ids[-1]):
                    assert client.get(f"/api/v1/ledger/transfers/{tid}").status_code == 200, tid
            for ids in sent:
                present = [client.get(f"/api/v1/ledger/transfers/{tid}").status_code == 200 for tid in ids[::37]]
                assert all(present) or not any(present), "a batch was half-applied"
            totals = client.get("/api/v1/ledger/totals").json()["CNY"]
            assert totals["debits_posted"] == totals["credits_posted"]
            assert totals["debits_pending"] == totals["credits_pending"] == 0
            # and the ledger still takes work after the crash
            r = client.post(
                "/api/v1/ledger/transfers",
                json=[
                    {
                        "id": "after",
                        "debit_account_id": "acc-0",
                        "credit_account_id": "acc-1",
                        "amount": 1,
                        "ledger": "CNY",
                        "code": 1,
                    }
                ],
            )
            assert r.json() == [{"id": "after", "result": "created"}]
        # One leaf per committed batch, none for a batch the kill cut short; the heads signed before it verify.
        report = audit.verify(db, keys.public_keys(tmp_path / "journal-keys"))
        assert report.ok, [str(f) for f in report.findings[:5]]
    finally:
        server.kill()
        server.wait(timeout=10)
    with db.read() as conn:
        n = conn.exec_driver_sql("SELECT count(*) FROM ledger_transfers").scalar_one()
    assert n % BATCH == 1  # whole batches plus the one after the restart
    assert n >= len(acknowledged) * BATCH + 1


@pytest.fixture(autouse=True)
def _no_proxy(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("HTTP_PROXY", raising=False)
    monkeypatch.delenv("http_proxy", raising=False)
