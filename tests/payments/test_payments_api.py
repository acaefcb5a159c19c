"""The rails end to end over HTTP, on SQLite and PostgreSQL: joining, issuance, FX, payments, screening, limits."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

from fastapi.testclient import TestClient
from sqlalchemy import update

from fintech_zone.app import create_app
from fintech_zone.db import Database
from fintech_zone.payments import fx_store
from fintech_zone.payments.schemas import PaymentOut
from fintech_zone.payments.screening import Screener, load_list
from fintech_zone.settings import Settings
from tests.payments.conftest import Rails

PAYMENTS = "/api/v1/payments"


def test_joining_creates_the_organisation_and_its_accounts(make_rails: Callable[..., Rails]) -> None:
    rails = make_rails(fund=False)
    org = rails.get("/api/v1/registry/organisations/cq-bank").json()
    assert org["bic"] == "CQCBCNBCXXX" and org["jurisdiction"] == "CN"
    holdings = {h["asset"]: h["balance"] for h in rails.get(f"{PAYMENTS}/participants/cq-bank/holdings").json()}
    assert holdings == {"CNY": 0, "SGD": 0, "CNY-RSV": 0}
    account = rails.get("/api/v1/ledger/accounts/pay:cq-bank:CNY").json()
    assert account["flags"] == ["debits_must_not_exceed_credits"] and account["owner_id"] == "cq-bank"
    again = {
        "id": "cq-bank",
        "bic": "CQCBCNBCXXX",
        "role": "bank",
        "jurisdiction": "CN",
        "name_en": "x",
        "name_zh": "x",
    }
    assert rails.post(f"{PAYMENTS}/participants", again).status_code == 409
    second_cb = {**again, "id": "pboc-2", "bic": "PBOCCNBJ2XX", "role": "central_bank"}
    r = rails.post(f"{PAYMENTS}/participants", second_cb)
    assert r.status_code == 409 and "already the central bank of CN" in r.json()["detail"]
    bad = {**again, "id": "x-bank", "bic": "NOTABIC"}
    r = rails.post(f"{PAYMENTS}/participants", bad)
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "bic"
    # A participant is not an operator: it cannot add others.
    assert rails.post(f"{PAYMENTS}/participants", {**again, "id": "y"}, "cq-bank").status_code == 403


def test_only_the_currencys_central_bank_issues_to_its_domestic_banks_within_the_cap(
    make_rails: Callable[..., Rails],
) -> None:
    rails = make_rails(fund=False)
    op = {"participant_id": "cq-bank", "asset": "CNY", "amount": 1_000}
    # No reserve yet, then no cap: nothing is issued and nothing moves.
    assert rails.post(f"{PAYMENTS}/caps", {"participant_id": "cq-bank", "asset": "CNY", "cap": 5_000}, "pboc-cq").json()
    r = rails.post(f"{PAYMENTS}/issuance", op, "pboc-cq")
    assert r.status_code == 409 and r.json()["detail"].startswith("AM04")
    assert rails.post(f"{PAYMENTS}/reserves", {**op, "amount": 10_000}, "pboc-cq").status_code == 201
    assert rails.post(f"{PAYMENTS}/issuance", op, "pboc-cq").status_code == 201
    r = rails.post(f"{PAYMENTS}/issuance", {**op, "amount": 4_001}, "pboc-cq")
    assert r.status_code == 409 and r.json()["detail"].startswith("AM02")
    # MAS cannot issue CNY; PBoC cannot issue to a Singapore bank; an operator or a bank cannot issue at all.
    assert rails.post(f"{PAYMENTS}/issuance", op, "mas").json()["detail"].startswith("AG01")
    foreign = {**op, "participant_id": "sg-bank"}
    assert rails.post(f"{PAYMENTS}/issuance", foreign, "pboc-cq").json()["detail"].startswith("AG01")
    assert rails.post(f"{PAYMENTS}/issuance", op, "cq-bank").status_code == 403
    assert rails.post(f"{PAYMENTS}/issuance", op).status_code == 403
    assert rails.balance("cq-bank", "CNY") == 1_000 and rails.balance("cq-bank", "CNY-RSV") == 9_000
    # Redemption returns tokens for reserve; more than the bank holds is refused whole.
    r = rails.post(f"{PAYMENTS}/redemption", {**op, "amount": 400}, "pboc-cq")
    assert r.status_code == 201 and r.json()["outstanding"] == 600 and r.json()["supply"] == 600
    r = rails.post(f"{PAYMENTS}/redemption", {**op, "amount": 601}, "pboc-cq")
    assert r.status_code == 409 and r.json()["detail"].startswith("AM04")
    assert rails.balance("cq-bank", "CNY") == 600 and rails.balance("cq-bank", "CNY-RSV") == 9_400
    assert rails.supply_agrees("CNY")["held"] == 600
    rails.supply_agrees("SGD")


def test_quotes_round_in_the_payers_disfavour_and_pick_the_best_provider(rails: Rails) -> None:
    q = rails.quote("CNY", "SGD", source_amount=100_000)  # 1,000.00 CNY at 0.1850 less 20 bps
    assert q["rate"] == "0.184630" or q["rate"] == "0.18463"
    assert q["target_amount"] == 18_463 and q["source_amount"] == 100_000  # 18,463.0 exactly
    q = rails.quote("CNY", "SGD", source_amount=12_345)  # 2,279.25... cents: rounded down
    assert q["target_amount"] == 2_279
    # Fees: what the payer gives up against the mid rate, in fen: 12,345 × 0.185 = 2,283.825 cents at mid, 2,279
    # given, 4.825 cents = 26.08 fen (the 20 bps spread and the rounding), rounded down.
    assert q["fees"] == 26
    q = rails.quote("CNY", "SGD", target_amount=2_279)  # 12,343.60... fen: rounded up
    assert q["source_amount"] == 12_344
    inverse = rails.quote("SGD", "CNY", source_amount=10_000)  # 100.00 SGD at 1/0.1850 less 20 bps
    assert inverse["target_amount"] == 53_945  # 54,054.05... × 0.998 = 53,945.94 → down
    expires = datetime.fromisoformat(q["expires_at"])
    assert timedelta(seconds=599) < expires - datetime.now(UTC) <= timedelta(seconds=600)
    # A second provider with a better rate wins.
    second = {"id": "merlion-fx", "bic": "MERLSGSGXXX", "role": "fx_provider", "jurisdiction": "SG"}
    assert (
        rails.post(f"{PAYMENTS}/participants", {**second, "name_en": "Merlion", "name_zh": "鱼尾"}).status_code == 201
    )
    better = {"provider_id": "merlion-fx", "pair": "CNY/SGD", "rate": "0.1851", "spread_bps": 10, "valid_seconds": 60}
    assert rails.post("/api/v1/fx/rates", better).status_code == 201  # an operator may post for it
    assert rails.quote("CNY", "SGD", source_amount=100_000)["provider_id"] == "merlion-fx"
    # Another provider's rate cannot be posted by a provider.
    assert rails.post("/api/v1/fx/rates", better, "lion-fx").status_code == 403
    r = rails.post("/api/v1/fx/quotes", {"source_asset": "CNY", "target_asset": "USD", "source_amount": 1})
    assert r.status_code == 422
    r = rails.post("/api/v1/fx/quotes", {"source_asset": "CNY", "target_asset": "SGD"})
    assert r.status_code == 422


def test_a_cross_border_payment_settles_both_legs_and_is_idempotent_by_uetr(rails: Rails) -> None:
    q = rails.quote("CNY", "SGD", source_amount=100_000)
    body = rails.payment(quote_id=q["id"])
    before = {(p, a): rails.balance(p, a) for p in ("cq-bank", "sg-bank", "lion-fx") for a in ("CNY", "SGD")}
    r = rails.post(PAYMENTS, body, "cq-bank")
    assert r.status_code == 201, r.text
    paid = r.json()
    assert paid["status"] == "settled" and paid["reason"] is None
    assert paid["target_amount"] == q["target_amount"] and paid["rate"] == q["rate"] and paid["fees"] == q["fees"]
    assert [h["status"] for h in paid["history"]] == ["received", "screened", "settled"]
    after = {(p, a): rails.balance(p, a) for p in ("cq-bank", "sg-bank", "lion-fx") for a in ("CNY", "SGD")}
    assert after[("cq-bank", "CNY")] == before[("cq-bank", "CNY")] - 100_000
    assert after[("lion-fx", "CNY")] == before[("lion-fx", "CNY")] + 100_000
    assert after[("lion-fx", "SGD")] == before[("lion-fx", "SGD")] - q["target_amount"]
    assert after[("sg-bank", "SGD")] == before[("sg-bank", "SGD")] + q["target_amount"]
    legs = [rails.get(f"/api/v1/ledger/transfers/pay:{body['uetr']}:{n}").json() for n in (1, 2)]
    assert [(t["ledger"], t["amount"], t["reference"]) for t in legs] == [
        ("CNY", 100_000, body["uetr"]),
        ("SGD", q["target_amount"], body["uetr"]),
    ]
    # The same payment again: its recorded outcome, nothing moves twice.
    again = rails.post(PAYMENTS, body, "cq-bank")
    assert again.status_code == 200 and again.json()["history"] == paid["history"]
    assert rails.balance("cq-bank", "CNY") == after[("cq-bank", "CNY")]
    # The endpoint writes its JSON itself: byte for byte what FastAPI writes for the same payment on GET.
    assert again.headers["content-type"] == "application/json"
    assert r.content == again.content == rails.get(f"{PAYMENTS}/{body['uetr']}", "cq-bank").content
    # A different payment under the same UETR: DUPL.
    r = rails.post(PAYMENTS, {**body, "source_amount": 100_001}, "cq-bank")
    assert r.status_code == 409 and r.json()["detail"].startswith("DUPL")
    # The quote is used up: another payment with it is rejected.
    r = rails.post(PAYMENTS, rails.payment(quote_id=q["id"]), "cq-bank")
    assert r.status_code == 201 and (r.json()["status"], r.json()["reason"]) == ("rejected", "NARR")
    assert "used by another payment" in r.json()["reason_detail"]
    assert r.content == rails.get(f"{PAYMENTS}/{r.json()['uetr']}", "cq-bank").content  # a rejection's JSON too
    # Both are written from models built without validation (PaymentOut.of): what they write validates, unchanged.
    for written in (again.content, r.content):
        assert PaymentOut.model_validate_json(written).model_dump_json().encode() == written
    assert rails.get(f"{PAYMENTS}/{body['uetr']}", "sg-bank").json()["status"] == "settled"
    rails.supply_agrees("CNY")
    rails.supply_agrees("SGD")


def test_pvp_when_the_second_leg_fails_neither_leg_settles(rails: Rails, db: Database) -> None:
    # The provider holds 5,000,000 cents of SGD; a payment needing more fails on its second leg.
    q = rails.quote("CNY", "SGD", target_amount=5_000_001)
    big = {"participant_id": "cq-bank", "asset": "CNY", "amount": q["source_amount"]}
    assert rails.post(f"{PAYMENTS}/issuance", big, "pboc-cq").status_code == 201
    before = {(p, a): rails.balance(p, a) for p in ("cq-bank", "sg-bank", "lion-fx") for a in ("CNY", "SGD")}
    r = rails.post(PAYMENTS, rails.payment(quote_id=q["id"], source_amount=q["source_amount"]), "cq-bank")
    assert r.json()["status"] == "rejected" and r.json()["reason"] == "AM04", r.text
    assert "pay:lion-fx:SGD" in r.json()["reason_detail"]
    after = {(p, a): rails.balance(p, a) for p in ("cq-bank", "sg-bank", "lion-fx") for a in ("CNY", "SGD")}
    assert after == before
    assert rails.get(f"/api/v1/fx/quotes/{q['id']}").json()["consumed_by"] is None  # a refused payment keeps it
    totals = rails.get("/api/v1/ledger/totals").json()
    assert all(t["debits_posted"] == t["credits_posted"] for t in totals.values())


def test_expired_unknown_and_missing_quotes_are_rejected(rails: Rails, db: Database) -> None:
    q = rails.quote("CNY", "SGD", source_amount=1_000)
    with db.transaction() as conn:
        conn.execute(
            update(fx_store.quotes)
            .where(fx_store.quotes.c.id == q["id"])
            .values(expires_at=datetime.now(UTC) - timedelta(seconds=1))
        )
    r = rails.post(PAYMENTS, rails.payment(quote_id=q["id"], source_amount=1_000), "cq-bank").json()
    assert (r["status"], r["reason"]) == ("rejected", "NARR") and "expired" in r["reason_detail"]
    r = rails.post(PAYMENTS, rails.payment(quote_id="no-such-quote", source_amount=1_000), "cq-bank").json()
    assert (r["status"], r["reason"]) == ("rejected", "NARR") and "unknown quote" in r["reason_detail"]
    r = rails.post(PAYMENTS, rails.payment(source_amount=1_000), "cq-bank").json()
    assert (r["status"], r["reason"]) == ("rejected", "NARR") and "needs an FX quote" in r["reason_detail"]
    other = rails.quote("CNY", "SGD", source_amount=2_000)
    r = rails.post(PAYMENTS, rails.payment(quote_id=other["id"], source_amount=1_000), "cq-bank").json()
    assert (r["status"], r["reason"]) == ("rejected", "NARR") and "is for 2000 CNY" in r["reason_detail"]


def test_rules_reject_with_their_iso_reason(rails: Rails) -> None:
    domestic = {"creditor_agent": "sg-bank", "target_asset": "CNY"}  # same asset: no FX
    r = rails.post(
        PAYMENTS, rails.payment(**{**domestic, "source_asset": "USD", "target_asset": "USD"}), "cq-bank"
    ).json()
    assert (r["status"], r["reason"]) == ("rejected", "AM11")
    r = rails.post(PAYMENTS, rails.payment(**{**domestic, "creditor_agent": "pboc-cq"}), "cq-bank").json()
    assert (r["status"], r["reason"]) == ("rejected", "AG01")
    bad_account = {"name": "Li Ming", "account": "!!"}
    r = rails.post(PAYMENTS, rails.payment(**domestic, debtor=bad_account), "cq-bank").json()
    assert (r["status"], r["reason"]) == ("rejected", "AC01")
    r = rails.post(PAYMENTS, rails.payment(**domestic, source_amount=30_000_000), "cq-bank").json()
    assert (r["status"], r["reason"]) == ("rejected", "AM04")
    # Today cq-bank already sent 5,000,000 fen (the FX provider's funding, in the fixture).
    limit = {"scope": "participant", "key": "cq-bank", "asset": "CNY", "per_payment": 5_000, "daily": 5_008_000}
    assert rails.post(f"{PAYMENTS}/limits", limit).status_code == 200
    r = rails.post(PAYMENTS, rails.payment(**domestic, source_amount=5_001), "cq-bank").json()
    assert (r["status"], r["reason"]) == ("rejected", "AM02")
    assert rails.post(PAYMENTS, rails.payment(**domestic, source_amount=5_000), "cq-bank").json()["status"] == "settled"
    r = rails.post(PAYMENTS, rails.payment(**domestic, source_amount=3_001), "cq-bank").json()
    assert (r["status"], r["reason"]) == ("rejected", "AM02") and "daily" in r["reason_detail"]
    corridor = {"scope": "corridor", "key": "CN-SG", "asset": "CNY", "per_payment": 10}
    assert rails.post(f"{PAYMENTS}/limits", corridor, "cq-bank").status_code == 403
    assert rails.post(f"{PAYMENTS}/limits", corridor).status_code == 200
    q = rails.quote("CNY", "SGD", source_amount=1_000)
    r = rails.post(PAYMENTS, rails.payment(quote_id=q["id"], source_amount=1_000), "cq-bank").json()
    assert (r["status"], r["reason"]) == ("rejected", "AM02") and "corridor CN-SG" in r["reason_detail"]
    # Missing party data is not a payment at all: a 422 naming the field, and nothing recorded.
    body = rails.payment(**domestic, creditor={"name": " ", "account": "1"})
    r = rails.post(PAYMENTS, body, "cq-bank")
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "creditor.name"
    assert rails.get(f"{PAYMENTS}/{body['uetr']}").status_code == 404
    r = rails.post(PAYMENTS, rails.payment(uetr="not-a-uuid"), "cq-bank")
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "uetr"


def test_participants_send_as_themselves_and_see_only_their_payments(rails: Rails) -> None:
    r = rails.post(PAYMENTS, rails.payment(debtor_agent="sg-bank"), "cq-bank")
    assert r.status_code == 403
    domestic = rails.payment(creditor_agent="lion-fx", target_asset="CNY", source_amount=10)
    assert rails.post(PAYMENTS, domestic, "cq-bank").json()["status"] == "settled"
    assert rails.get(f"{PAYMENTS}/{domestic['uetr']}", "sg-bank").status_code == 404
    assert rails.get(f"{PAYMENTS}/{domestic['uetr']}", "cq-bank").status_code == 200
    listed = rails.get(f"{PAYMENTS}?limit=50", "sg-bank").json()["items"]
    assert all("sg-bank" in (p["debtor_agent"], p["creditor_agent"]) for p in listed) and listed
    assert rails.get(f"{PAYMENTS}/participants/cq-bank/holdings", "sg-bank").status_code == 403


def test_a_sanctioned_name_is_rejected_rr04_and_recorded(rails: Rails) -> None:
    q = rails.quote("CNY", "SGD", source_amount=1_000)
    body = rails.payment(quote_id=q["id"], source_amount=1_000, creditor={"name": "ZHEN Jia-ming", "account": "1"})
    before = rails.balance("cq-bank", "CNY")
    r = rails.post(PAYMENTS, body, "cq-bank").json()
    assert (r["status"], r["reason"]) == ("rejected", "RR04")
    assert "DEMO-001" in r["reason_detail"] and "creditor" in r["reason_detail"]
    assert [h["status"] for h in r["history"]] == ["received", "rejected"]
    assert rails.balance("cq-bank", "CNY") == before
    assert rails.get(f"/api/v1/fx/quotes/{q['id']}").json()["consumed_by"] is None


def test_a_near_match_is_held_then_released_or_rejected_on_review(
    make_rails: Callable[..., Rails], settings: Settings, db: Database, tmp_path: Path
) -> None:
    listed = tmp_path / "list.csv"
    listed.write_text('id,name,aliases,kind,source\nL-1,Zhen Jiaming,,individual,"test list"\n', encoding="utf-8")
    near = "Zhen Jiamin Wu"
    score = Screener(load_list(listed)).screen(near).score
    assert 0 < score < 99  # a near match, not the listed name
    # Thresholds around the score: this name must land in the review band, whatever the exact score.
    tuned = settings.model_copy(
        update={
            "screening_list": listed,
            "screening_review_threshold": max(score - 1, 0),
            "screening_reject_threshold": min(score + 1, 100),
        }
    )
    rails = make_rails()
    with TestClient(create_app(tuned, db), raise_server_exceptions=False) as client:
        rails.client = client
        held = [
            rails.payment(creditor_agent="sg-bank", target_asset="CNY", creditor={"name": near, "account": "1"})
            for _ in range(2)
        ]
        for body in held:
            r = rails.post(PAYMENTS, body, "cq-bank").json()
            assert r["status"] == "held" and "L-1" in r["reason_detail"], r
        before = rails.balance("cq-bank", "CNY")
        decision = {"decision": "release", "reason": "same surname, different person: checked ID"}
        assert rails.post(f"{PAYMENTS}/{held[0]['uetr']}/review", decision, "cq-bank").status_code == 403
        r = rails.post(f"{PAYMENTS}/{held[0]['uetr']}/review", decision).json()
        assert r["status"] == "settled"
        assert [h["status"] for h in r["history"]] == ["received", "held", "screened", "settled"]
        assert r["history"][2]["actor"].startswith("operator:")
        assert rails.balance("cq-bank", "CNY") == before - 100_000
        r = rails.post(f"{PAYMENTS}/{held[1]['uetr']}/review", {"decision": "reject", "reason": "confirmed hit"}).json()
        assert (r["status"], r["reason"]) == ("rejected", "RR04")
        again = rails.post(f"{PAYMENTS}/{held[1]['uetr']}/review", decision)
        assert again.status_code == 409
        # A held cross-border payment holds its quote; rejected on review, it gives the quote back.
        q = rails.quote("CNY", "SGD", source_amount=1_000)
        body = rails.payment(quote_id=q["id"], source_amount=1_000, creditor={"name": near, "account": "1"})
        assert rails.post(PAYMENTS, body, "cq-bank").json()["status"] == "held"
        assert rails.get(f"/api/v1/fx/quotes/{q['id']}").json()["consumed_by"] == body["uetr"]
        rails.post(f"{PAYMENTS}/{body['uetr']}/review", {"decision": "reject", "reason": "confirmed hit"})
        assert rails.get(f"/api/v1/fx/quotes/{q['id']}").json()["consumed_by"] is None


def test_rmb_figures_count_settled_payments_by_month_corridor_and_asset(rails: Rails) -> None:
    q = rails.quote("CNY", "SGD", source_amount=100_000)
    assert rails.post(PAYMENTS, rails.payment(quote_id=q["id"]), "cq-bank").json()["status"] == "settled"
    back = rails.quote("SGD", "CNY", source_amount=10_000)
    reverse = rails.payment(
        debtor_agent="sg-bank",
        creditor_agent="cq-bank",
        source_asset="SGD",
        target_asset="CNY",
        source_amount=10_000,
        quote_id=back["id"],
    )
    assert rails.post(PAYMENTS, reverse, "sg-bank").json()["status"] == "settled"
    month = datetime.now(UTC).strftime("%Y-%m")
    figures = rails.get(f"{PAYMENTS}/figures/rmb?from={month}&to={month}").json()
    rows = {(m["corridor"], m["asset"]): (m["count"], m["volume"]) for m in figures["months"]}
    # The fixture's funding payments count too: cq-bank → lion-fx (SG) 5,000,000 fen, sg-bank → lion-fx in SGD.
    assert rows[("CN-SG", "CNY")] == (2, 5_100_000) and rows[("CN-SG", "SGD")] == (1, q["target_amount"])
    assert rows[("SG-SG", "SGD")] == (1, 5_000_000)
    assert rows[("SG-CN", "SGD")] == (1, 10_000) and rows[("SG-CN", "CNY")] == (1, back["target_amount"])
    (share,) = figures["cny_share"]  # only payments that change asset are cross-border volume
    total = 100_000 + back["target_amount"]
    assert share["cross_border_cny_volume"] == total and share["share"] == round(100_000 / total, 4)
    assert rails.get(f"{PAYMENTS}/figures/rmb?from=2026-13&to={month}").status_code == 422
