"""Retail wallets over HTTP: tiers, loading, wallet-to-wallet payments, a visitor's CNY wallet paying in SGD."""

from __future__ import annotations

import uuid
from typing import Any

import pytest

from tests.payments.conftest import Rails

WALLETS = "/api/v1/payments/wallets"


def _open(rails: Rails, wallet_id: str, bank: str, name: str, kind: str, tier: int) -> dict[str, Any]:
    body = {"id": wallet_id, "bank_id": bank, "holder_name": name, "kind": kind, "tier": tier}
    r = rails.post(WALLETS, body, bank)
    assert r.status_code == 201, r.text
    return dict(r.json())


def _pay(rails: Rails, payer: str, bank: str, to: str, amount: int, quote_id: str | None = None) -> Any:
    body = {"uetr": str(uuid.uuid4()), "to_wallet": to, "source_amount": amount, "quote_id": quote_id}
    return rails.post(f"{WALLETS}/{payer}/pay", body, bank)


@pytest.fixture
def wallets(rails: Rails) -> Rails:
    _open(rails, "visitor-li", "cq-bank", "Li Ming", "person", 3)  # CNY, tier 3: 20,000 / 5,000 / 10,000 yuan
    _open(rails, "cq-noodles", "cq-bank", "Chongqing Noodle House", "merchant", 4)  # CNY, tier 4: holds ≤ 10,000
    _open(rails, "sg-hawker", "sg-bank", "Maxwell Hawker Stall", "merchant", 2)  # SGD
    assert rails.post(f"{WALLETS}/visitor-li/load", {"amount": 1_500_000}, "cq-bank").status_code == 200
    return rails


def test_opening_and_loading_respect_the_bank_and_the_tier(wallets: Rails) -> None:
    rails = wallets
    w = rails.get(f"{WALLETS}/visitor-li", "cq-bank").json()
    assert (w["asset"], w["balance"], w["tier"]) == ("CNY", 1_500_000, 3)
    assert w["limits"] == {"balance": 2_000_000, "per_payment": 500_000, "daily": 1_000_000}
    assert rails.balance("cq-bank", "CNY") == 20_000_000 - 5_000_000 - 1_500_000  # issued − FX funding − load
    r = rails.post(f"{WALLETS}/visitor-li/load", {"amount": 500_001}, "cq-bank")
    assert r.status_code == 409 and r.json()["detail"].startswith("AM02")
    # Another bank neither loads nor sees it; an SG wallet is in SGD.
    assert rails.post(f"{WALLETS}/visitor-li/load", {"amount": 1}, "sg-bank").status_code == 403
    assert rails.get(f"{WALLETS}/visitor-li", "sg-bank").status_code == 404
    assert rails.get(f"{WALLETS}/sg-hawker", "sg-bank").json()["asset"] == "SGD"
    body = {"id": "x", "bank_id": "sg-bank", "holder_name": "X", "kind": "person", "tier": 1}
    assert rails.post(WALLETS, body, "cq-bank").status_code == 403
    assert rails.post(WALLETS, {**body, "tier": 5}, "sg-bank").status_code == 422
    assert rails.post(WALLETS, {**body, "id": "visitor-li"}, "sg-bank").status_code == 409
    r = rails.post(f"{WALLETS}/visitor-li/unload", {"amount": 1_500_001}, "cq-bank")
    assert r.status_code == 409 and r.json()["detail"].startswith("AM04")
    assert rails.post(f"{WALLETS}/visitor-li/unload", {"amount": 500_000}, "cq-bank").json()["balance"] == 1_000_000


def test_wallet_payments_within_tier_limits(wallets: Rails) -> None:
    rails = wallets
    paid = _pay(rails, "visitor-li", "cq-bank", "cq-noodles", 4_800)
    assert paid.status_code == 201 and paid.json()["status"] == "settled", paid.text
    assert rails.get(f"{WALLETS}/cq-noodles", "cq-bank").json()["balance"] == 4_800
    over = _pay(rails, "visitor-li", "cq-bank", "cq-noodles", 500_001).json()  # tier 3 pays ≤ 5,000 yuan at once
    assert (over["status"], over["reason"]) == ("rejected", "AM02") and "at a time" in over["reason_detail"]
    assert _pay(rails, "visitor-li", "cq-bank", "no-such-wallet", 1).status_code == 404
    # Tier 4 holds at most 10,000 yuan: a payment that would take it over is refused, nothing moves.
    _open(rails, "visitor-wang", "cq-bank", "Wang Fang", "person", 2)
    assert rails.post(f"{WALLETS}/visitor-wang/load", {"amount": 1_200_000}, "cq-bank").status_code == 200
    assert _pay(rails, "visitor-wang", "cq-bank", "cq-noodles", 995_200).json()["status"] == "settled"
    capped = _pay(rails, "visitor-wang", "cq-bank", "cq-noodles", 1).json()  # the payee holds 1,000,000 fen
    assert (capped["status"], capped["reason"]) == ("rejected", "AM02")
    assert "may hold at most 1000000" in capped["reason_detail"]
    assert rails.get(f"{WALLETS}/visitor-wang", "cq-bank").json()["balance"] == 1_200_000 - 995_200
    # The daily limit (tier 3: 10,000 yuan a day): li has paid 48 yuan; 4,976 + 4,976 more reach it exactly.
    assert rails.post(f"{WALLETS}/cq-noodles/unload", {"amount": 1_000_000}, "cq-bank").status_code == 200
    for amount in (497_600, 497_600):
        assert _pay(rails, "visitor-li", "cq-bank", "cq-noodles", amount).json()["status"] == "settled"
    assert rails.get(f"{WALLETS}/visitor-li", "cq-bank").json()["paid_today"] == 1_000_000
    daily = _pay(rails, "visitor-li", "cq-bank", "cq-noodles", 1).json()
    assert (daily["status"], daily["reason"]) == ("rejected", "AM02") and "daily" in daily["reason_detail"]


def test_a_chongqing_visitor_pays_a_singapore_merchant_in_sgd(wallets: Rails) -> None:
    rails = wallets
    q = rails.quote("CNY", "SGD", source_amount=26_000)  # 260 yuan for a meal
    fx_cny, fx_sgd = rails.balance("lion-fx", "CNY"), rails.balance("lion-fx", "SGD")
    r = _pay(rails, "visitor-li", "cq-bank", "sg-hawker", 26_000, q["id"])
    assert r.status_code == 201, r.text
    paid = r.json()
    assert (paid["status"], paid["debtor_agent"], paid["creditor_agent"]) == ("settled", "cq-bank", "sg-bank")
    assert paid["target_amount"] == q["target_amount"] and paid["debtor"]["account"] == "visitor-li"
    assert rails.get(f"{WALLETS}/sg-hawker", "sg-bank").json()["balance"] == q["target_amount"]
    assert rails.get(f"{WALLETS}/visitor-li", "cq-bank").json()["balance"] == 1_500_000 - 26_000
    assert rails.balance("lion-fx", "CNY") == fx_cny + 26_000
    assert rails.balance("lion-fx", "SGD") == fx_sgd - q["target_amount"]
    legs = [rails.get(f"/api/v1/ledger/transfers/pay:{paid['uetr']}:{n}").json() for n in (1, 2)]
    assert [(t["debit_account_id"], t["credit_account_id"]) for t in legs] == [
        ("wal:visitor-li", "pay:lion-fx:CNY"),
        ("pay:lion-fx:SGD", "wal:sg-hawker"),
    ]
    rails.supply_agrees("CNY")
    rails.supply_agrees("SGD")
