"""A small rails world over HTTP: two central banks, a bank in each country, an FX provider; tokens issued."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
from fastapi.testclient import TestClient

from fintech_zone.auth import service as auth
from fintech_zone.auth.model import Role
from fintech_zone.db import Database

PARTICIPANTS = [
    (
        "pboc-cq",
        "PBOCCNBJCQX",
        "central_bank",
        "CN",
        "PBoC Chongqing Operations Office (test)",
        "人民银行重庆营管部（测试）",
    ),
    ("mas", "MASGSGSGXXX", "central_bank", "SG", "Monetary Authority of Singapore (test)", "新加坡金融管理局（测试）"),
    ("cq-bank", "CQCBCNBCXXX", "bank", "CN", "Chongqing Test Bank", "重庆测试银行"),
    ("sg-bank", "SGTBSGSGXXX", "bank", "SG", "Singapore Test Bank", "新加坡测试银行"),
    ("lion-fx", "LNFXSGSGXXX", "fx_provider", "SG", "Lion FX (test)", "狮城外汇（测试）"),
]


@dataclass
class Rails:
    client: TestClient
    db: Database
    operator: dict[str, str]
    tokens: dict[str, dict[str, str]]

    def post(self, path: str, body: Any, as_: str = "operator") -> Any:
        headers = self.operator if as_ == "operator" else self.tokens[as_]
        return self.client.post(path, json=body, headers=headers)

    def get(self, path: str, as_: str = "operator") -> Any:
        headers = self.operator if as_ == "operator" else self.tokens[as_]
        return self.client.get(path, headers=headers)

    def balance(self, participant: str, asset: str) -> int:
        rows = self.get(f"/api/v1/payments/participants/{participant}/holdings").json()
        return int(next(h["balance"] for h in rows if h["asset"] == asset))

    def quote(self, source: str, target: str, **amount: int) -> dict[str, Any]:
        r = self.post("/api/v1/fx/quotes", {"source_asset": source, "target_asset": target, **amount})
        assert r.status_code == 201, r.text
        return dict(r.json())

    def payment(self, **overrides: Any) -> dict[str, Any]:
        body: dict[str, Any] = {
            "uetr": str(uuid.uuid4()),
            "debtor_agent": "cq-bank",
            "creditor_agent": "sg-bank",
            "debtor": {"name": "Li Ming", "account": "6222020200112233"},
            "creditor": {"name": "Tan Ah Kow", "account": "SG-0012345678"},
            "source_asset": "CNY",
            "source_amount": 100_000,
            "target_asset": "SGD",
            "purpose": "GDDS",
            "remittance_info": "invoice 42",
        }
        body.update(overrides)
        return body

    def supply_agrees(self, asset: str) -> dict[str, int]:
        s = self.get(f"/api/v1/payments/supply/{asset}").json()
        assert s["issued_minus_redeemed"] == s["on_ledger"] == s["held"], s
        return dict(s)


def _bearer(db: Database, role: Role, org: str | None = None) -> dict[str, str]:
    token, _ = auth.create_token(db, role, org, f"test {role.value} {org or ''}")
    return {"Authorization": f"Bearer {token}"}


@pytest.fixture
def make_rails(client: TestClient, db: Database, operator: dict[str, str]) -> Callable[..., Rails]:
    def make(fund: bool = True) -> Rails:
        for pid, bic, role, jur, en, zh in PARTICIPANTS:
            body = {"id": pid, "bic": bic, "role": role, "jurisdiction": jur, "name_en": en, "name_zh": zh}
            r = client.post("/api/v1/payments/participants", json=body, headers=operator)
            assert r.status_code == 201, r.text
        tokens = {pid: _bearer(db, Role.PARTICIPANT, pid) for pid, *_ in PARTICIPANTS}
        rails = Rails(client, db, operator, tokens)
        if fund:
            for central, bank, asset in (("pboc-cq", "cq-bank", "CNY"), ("mas", "sg-bank", "SGD")):
                amount = {"participant_id": bank, "asset": asset, "amount": 100_000_000}
                assert rails.post("/api/v1/payments/reserves", amount, central).status_code == 201
                cap = {"participant_id": bank, "asset": asset, "cap": 50_000_000}
                assert rails.post("/api/v1/payments/caps", cap, central).status_code == 200
                issued = {"participant_id": bank, "asset": asset, "amount": 20_000_000}
                assert rails.post("/api/v1/payments/issuance", issued, central).status_code == 201
            # The FX provider's liquidity: each bank pays it tokens of its currency (same-asset payments).
            for bank, asset in (("cq-bank", "CNY"), ("sg-bank", "SGD")):
                funding = rails.payment(
                    debtor_agent=bank,
                    creditor_agent="lion-fx",
                    source_asset=asset,
                    target_asset=asset,
                    source_amount=5_000_000,
                    debtor={"name": "Treasury desk", "account": "NOSTRO-1"},
                    creditor={"name": "Lion FX liquidity", "account": "LIQ-1"},
                )
                r = rails.post("/api/v1/payments", funding, bank)
                assert r.status_code == 201 and r.json()["status"] == "settled", r.text
            rate = {
                "provider_id": "lion-fx",
                "pair": "CNY/SGD",
                "rate": "0.1850",
                "spread_bps": 20,
                "valid_seconds": 3600,
            }
            assert rails.post("/api/v1/fx/rates", rate, "lion-fx").status_code == 201
        return rails

    return make


@pytest.fixture
def rails(make_rails: Callable[..., Rails]) -> Rails:
    return make_rails()
