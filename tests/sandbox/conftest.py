"""A sandbox world on the rails: a technology firm, the Chongqing bank of the rails as its licensed partner, both
regulators as registry organisations, and tokens for each."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest

from fintech_zone.auth import service as auth
from fintech_zone.auth.model import Role
from fintech_zone.db import Database
from fintech_zone.registry import service as registry
from fintech_zone.registry.model import NewOrganisation
from fintech_zone.settings import Settings
from tests.payments.conftest import Rails
from tests.payments.conftest import make_rails as make_rails  # the fixture, used by name

SANDBOX = "/api/v1/sandbox"

ORGS = [
    NewOrganisation("cq-tech", "enterprise", "CN", "Chongqing Ledger Tech Co.", "重庆账本科技有限公司", "payments"),
    NewOrganisation(
        "cn-pboc-cq", "regulator", "CN", "PBoC Chongqing Operations Office", "人民银行重庆营管部", "other", None
    ),
    NewOrganisation("sg-mas", "regulator", "SG", "Monetary Authority of Singapore", "新加坡金融管理局", "other", None),
]


@pytest.fixture
def settings(settings: Settings) -> Settings:
    # No 30-day comment period in tests that walk a pilot to admission in one go (a test sets it back to check it).
    return settings.model_copy(update={"sandbox_comment_days": 0})


def bearer(db: Database, role: Role, org: str | None = None) -> dict[str, str]:
    token, _ = auth.create_token(db, role, org, f"test {role.value} {org or ''}")
    return {"Authorization": f"Bearer {token}"}


@dataclass
class World:
    rails: Rails
    tokens: dict[str, dict[str, str]]

    def post(self, path: str, body: Any, as_: str) -> Any:
        return self.rails.client.post(SANDBOX + path, json=body, headers=self.tokens[as_])

    def get(self, path: str, as_: str | None = None) -> Any:
        return self.rails.client.get(SANDBOX + path, headers=self.tokens[as_] if as_ else {})

    def move(self, pilot: str, to: str, as_: str, **extra: Any) -> Any:
        return self.post(f"/pilots/{pilot}/transitions", {"to": to, "reason": f"{as_}: {to}", **extra}, as_)


def application(pilot_id: str = "pilot-1", cross_border: bool = True, **requested: Any) -> dict[str, Any]:
    boundaries = {
        "max_customers": 3,
        "per_payment": {"CNY": 200_000},
        "daily": {"CNY": 1_000_000},
        "total": {"CNY": 5_000_000},
        "corridors": ["CN-SG"],
        **requested,
    }
    return {
        "id": pilot_id,
        "name": "Cross-border e-CNY remittances for SMEs",
        "type": "financial_service",
        "institutions": [
            {"org_id": "cq-tech", "role": "technology_firm"},
            {"org_id": "cq-bank", "role": "financial_institution", "licence": "B0206H250000001"},
        ],
        "planned_go_live": "2026-12-01",
        "technology": "Tokenised deposits on the zone's rails; ISO 20022 messaging",
        "functions": "SMEs in Chongqing pay Singapore suppliers in SGD from CNY",
        "innovation": "Settlement payment-versus-payment in seconds instead of days",
        "problem": "Cross-border SME payments take 2-3 days and cost 1-2 %",
        "comparison": "Correspondent banking: slower and dearer; no PvP",
        "money_flows": "Customer CNY -> bank -> FX provider -> SGD -> supplier's bank",
        "risk_controls": "Per-payment and daily limits; screening; suspension by either regulator",
        "consumer_protection": "Fees and rate shown before confirmation; refunds on failure",
        "complaint_handling": "Hotline and e-mail, answered within 2 working days",
        "exit_plan": "Payments stop, balances paid out in CNY within 5 days; compensation fund",
        "scenarios": [{"name": "Supplier payment", "success_criteria": "95 % settle under 10 s"}],
        "requested": boundaries,
        "cross_border": cross_border,
    }


SCORES = {
    "inclusive_benefit": 4,
    "technical_innovation": 5,
    "controllable_risk": 4,
    "need_for_regulatory_support": 3,
}


@pytest.fixture
def world(make_rails: Callable[..., Rails]) -> World:
    rails = make_rails()
    for org in ORGS:
        registry.create_organisation(rails.db, org)
    db = rails.db
    tokens = {
        "operator": rails.operator,
        "cq-bank": rails.tokens["cq-bank"],
        "sg-bank": rails.tokens["sg-bank"],
        "cq-tech": bearer(db, Role.PARTICIPANT, "cq-tech"),
        "pboc": bearer(db, Role.REGULATOR, "cn-pboc-cq"),
        "mas": bearer(db, Role.REGULATOR, "sg-mas"),
        "regulator": bearer(db, Role.REGULATOR),
        "viewer": bearer(db, Role.VIEWER),
    }
    return World(rails, tokens)


def admit(w: World, pilot: str = "pilot-1", cross_border: bool = True, **requested: Any) -> dict[str, Any]:
    """Apply, review, score, disclose and admit a pilot, then start testing; returns the testing pilot."""
    r = w.post("/pilots", application(pilot, cross_border, **requested), "cq-tech")
    assert r.status_code == 201, r.text
    regulators = ("pboc", "mas") if cross_border else ("pboc",)
    steps: list[tuple[str, tuple[str, ...], dict[str, Any]]] = [
        ("submitted", ("cq-tech",), {}),
        ("preliminary_review", ("pboc",), {}),
        ("evaluation", ("pboc",), {}),
        ("public_disclosure", regulators, {"scores": SCORES}),
        ("admitted", regulators, {}),
        ("testing", ("cq-bank",), {}),
    ]
    body: dict[str, Any] = {}
    for to, actors, extra in steps:
        for who in actors:
            r = w.move(pilot, to, who, **extra)
            assert r.status_code == 200, r.text
            body = r.json()
        assert body["status"] == to, body
    return body
