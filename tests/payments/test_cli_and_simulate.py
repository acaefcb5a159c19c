"""The rails from the command line, and the demo traffic through a real server."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from fintech_zone.app import create_app
from fintech_zone.db import Database
from fintech_zone.payments import payment_service, service, simulate
from fintech_zone.settings import Settings
from tests.servers import serving

FZ = Path(sys.executable).parent / "fintech-zone"
DATA = Path(__file__).parent / "data"


def cli(db_url: str, cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "FZ_DATABASE_URL": db_url}
    return subprocess.run([str(FZ), *args], capture_output=True, text=True, env=env, cwd=cwd, timeout=120)


def test_a_cross_border_payment_from_the_command_line(db_url: str, db: Database, tmp_path: Path) -> None:
    joins = [
        ("pboc-cq", "PBOCCNBJCQX", "central_bank", "CN"),
        ("cq-bank", "CQCBCNBCXXX", "bank", "CN"),
        ("mas", "MASGSGSGXXX", "central_bank", "SG"),
        ("sg-bank", "SGTBSGSGXXX", "bank", "SG"),
        ("lion-fx", "LNFXSGSGXXX", "fx_provider", "SG"),
    ]
    for pid, bic, role, jur in joins:
        r = cli(db_url, tmp_path, "payments", "join", "--id", pid, "--bic", bic, "--role", role,
                "--jurisdiction", jur, "--name-en", pid, "--name-zh", pid)  # fmt: skip
        assert r.returncode == 0, r.stderr
    # Wrong central bank: a clear message and exit code 2, no traceback.
    r = cli(db_url, tmp_path, "payments", "issue", "--as", "mas", "--bank", "cq-bank", "CNY", "100")
    assert r.returncode == 2 and r.stderr.startswith("error: AG01") and "Traceback" not in r.stderr
    for args in (
        ("payments", "reserve", "--as", "pboc-cq", "--bank", "cq-bank", "CNY", "1000000"),
        ("payments", "cap", "--as", "pboc-cq", "--bank", "cq-bank", "CNY", "1000000"),
        ("payments", "issue", "--as", "pboc-cq", "--bank", "cq-bank", "CNY", "1000000"),
        ("payments", "reserve", "--as", "mas", "--bank", "sg-bank", "SGD", "1000000"),
        ("payments", "cap", "--as", "mas", "--bank", "sg-bank", "SGD", "1000000"),
        ("payments", "issue", "--as", "mas", "--bank", "sg-bank", "SGD", "1000000"),
        ("fx", "rate", "--as", "lion-fx", "--pair", "CNY/SGD", "--rate", "0.1850", "--spread-bps", "20"),
    ):
        r = cli(db_url, tmp_path, *args)
        assert r.returncode == 0, (args, r.stderr)
    # The FX provider's SGD liquidity, then a quote and the payment, as JSON files.
    funding = {
        "uetr": str(uuid.uuid4()), "debtor_agent": "sg-bank", "creditor_agent": "lion-fx",
        "debtor": {"name": "Treasury", "account": "N-1"}, "creditor": {"name": "Lion FX", "account": "L-1"},
        "source_asset": "SGD", "source_amount": 500_000, "target_asset": "SGD",
    }  # fmt: skip
    (tmp_path / "funding.json").write_text(json.dumps(funding), encoding="utf-8")
    r = cli(db_url, tmp_path, "payments", "send", "funding.json")
    assert r.returncode == 0 and json.loads(r.stdout)["status"] == "settled", r.stderr
    r = cli(db_url, tmp_path, "fx", "quote", "--source", "CNY", "--target", "SGD", "--source-amount", "10000")
    quote = json.loads(r.stdout)
    assert quote["target_amount"] == 1_846  # 100.00 CNY × 0.1850 × (1 − 0.0020) = 18.463 SGD, rounded down
    payment = {**funding, "uetr": str(uuid.uuid4()), "debtor_agent": "cq-bank", "creditor_agent": "sg-bank",
               "source_asset": "CNY", "source_amount": 10_000, "quote_id": quote["id"]}  # fmt: skip
    (tmp_path / "payment.json").write_text(json.dumps(payment), encoding="utf-8")
    r = cli(db_url, tmp_path, "payments", "send", "payment.json")
    assert r.returncode == 0 and json.loads(r.stdout)["status"] == "settled", r.stderr
    shown = json.loads(cli(db_url, tmp_path, "payments", "show", payment["uetr"]).stdout)
    assert [h["status"] for h in shown["history"]] == ["received", "screened", "settled"]
    supply = json.loads(cli(db_url, tmp_path, "payments", "supply", "CNY").stdout)
    assert supply["issued_minus_redeemed"] == supply["on_ledger"] == supply["held"] == 1_000_000
    (tmp_path / "bad.json").write_text("{not json", encoding="utf-8")
    r = cli(db_url, tmp_path, "payments", "send", "bad.json")
    assert r.returncode == 2 and r.stderr.startswith("error: bad.json")
    r = cli(db_url, tmp_path, "iso20022", "pacs008", str(DATA / "billion_laughs.xml"))
    assert r.returncode == 2 and "<Cd>FF01</Cd>" in r.stdout


@pytest.fixture
def server(db: Database, db_url: str) -> Iterator[str]:
    with serving(create_app(Settings(database_url=db_url, secret_key="t", migrate_on_start=False), db)) as url:
        yield url


def test_simulated_payments_are_demo_and_never_touch_real_participants(server: str, db: Database) -> None:
    real = service.JoinRequest("real-cq-bank", "RLCQCNCQXXX", "bank", "CN", "Real bank", "真实银行")
    service.join(db, real)
    tally = simulate.run(db, server, rate=40, duration=2, workers=2)
    assert tally.sent == 80 and not tally.errors and tally.outcomes["settled"] == 80, tally
    page = payment_service.list_payments(db, None, None, None, 500)
    assert len(page.items) >= 80 and all(p.request.demo for p in page.items)
    assert all(p.request.debtor.name.startswith("DEMO") for p in page.items)
    assert all(h.balance == 0 for h in service.holdings(db, "real-cq-bank"))
    for asset in ("CNY", "SGD"):
        s = service.supply(db, asset)
        assert s.issued_minus_redeemed == s.on_ledger == s.held
    # A second run reuses the demo world (no second demo central bank) and adds payments.
    assert simulate.run(db, server, rate=20, duration=1, workers=1).outcomes["settled"] == 20
