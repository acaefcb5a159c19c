"""Pilot boundaries held on the rails, on SQLite and PostgreSQL: each boundary refuses the payment that would
cross it (AG01, naming the boundary) and records it; 80 % raises an alert; a suspended pilot settles nothing;
and 100 payments racing for the last headroom never take a pilot past its limit."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from typing import Any

from fintech_zone.payments import payment_service
from fintech_zone.payments.schemas import PaymentIn
from fintech_zone.payments.screening_config import screener_for
from tests.sandbox.conftest import World, admit

PAYMENTS = "/api/v1/payments"


def pay(w: World, amount: int = 100_000, account: str = "6222020200112233", **extra: Any) -> dict[str, Any]:
    quote = w.rails.quote("CNY", "SGD", source_amount=amount)
    body = w.rails.payment(source_amount=amount, quote_id=quote["id"], **{"pilot_id": "pilot-1", **extra})
    body["debtor"] = {"name": "Li Ming", "account": account}
    r = w.rails.post(PAYMENTS, body, "cq-bank")
    assert r.status_code == 201, r.text
    return dict(r.json())


def test_each_boundary_refuses_the_payment_that_would_cross_it(world: World) -> None:
    w = world
    admit(w, daily={"CNY": 450_000}, total={"CNY": 600_000})
    first = pay(w, 150_000)
    assert first["status"] == "settled" and first["pilot_id"] == "pilot-1"
    too_big = pay(w, 250_000)
    assert (too_big["status"], too_big["reason"]) == ("rejected", "AG01")
    assert too_big["reason_detail"].startswith("pilot boundary per_payment.CNY:")
    assert pay(w, 200_000, account="ACC-2")["status"] == "settled"  # second customer
    assert pay(w, 100_000, account="ACC-3")["status"] == "settled"  # third: 450,000 today, the daily limit
    over_daily = pay(w, 10_000)
    assert (
        over_daily["reason_detail"].startswith("pilot boundary daily.CNY:")
        and "450000 CNY today" in over_daily["reason_detail"]
    )
    # A fourth customer is one too many (max 3), whatever the amount.
    assert pay(w, 1_000, account="ACC-4")["reason_detail"].startswith("pilot boundary max_customers:")
    # Another corridor, another sender than the pilot's institutions: refused too.
    back = w.rails.payment(
        debtor_agent="sg-bank", creditor_agent="cq-bank", source_asset="SGD", target_asset="CNY", pilot_id="pilot-1"
    )
    back["quote_id"] = w.rails.quote("SGD", "CNY", source_amount=back["source_amount"])["id"]
    refused = w.rails.post(PAYMENTS, back, "sg-bank").json()
    assert (
        refused["reason"] == "AG01" and "sg-bank is not one of pilot pilot-1's institutions" in refused["reason_detail"]
    )
    assert (
        pay(w, 1_000, pilot_id="no-such-pilot")["reason_detail"]
        == "pilot boundary pilot: no pilot with id 'no-such-pilot'"
    )

    m = w.get("/pilots/pilot-1/monitor", "pboc").json()
    assert m["customers"] == 3
    assert m["by_asset"]["CNY"] == {"settled_total": 450_000, "settled_today": 450_000, "payments": 3}
    assert m["events"]["rejected"] == 4  # the unknown pilot's payment is the payment's record only
    assert m["use"]["daily.CNY"] == 1.0 and m["use"]["max_customers"] == 1.0
    # 80 % of the daily limit (360,000) was crossed by the third payment, of the customers (2.4) by the third
    # customer; the total (450,000 of 600,000: 75 %) raised none.
    alerts = {e["boundary"] for e in m["recent"] if e["kind"] == "alert"}
    assert alerts == {"daily.CNY", "max_customers"} and m["use"]["total.CNY"] == 0.75
    pilot = w.get("/pilots/pilot-1").json()  # public now: its usage too
    assert pilot["usage"]["customers"] == 3 and pilot["usage"]["by_asset"]["CNY"]["settled_total"] == 450_000


def test_a_suspended_pilot_settles_nothing_until_resumed(world: World) -> None:
    w = world
    admit(w)
    assert pay(w)["status"] == "settled"
    r = w.post("/pilots/pilot-1/suspension", {"suspended": True, "reason": "complaints under review"}, "mas")
    assert r.status_code == 200 and r.json()["suspended"] is True
    refused = pay(w)
    assert refused["reason"] == "AG01" and "suspended by its regulator" in refused["reason_detail"]
    assert w.post("/pilots/pilot-1/suspension", {"suspended": True, "reason": "again"}, "pboc").status_code == 409
    assert w.post("/pilots/pilot-1/suspension", {"suspended": False, "reason": "x"}, "cq-bank").status_code == 403
    assert w.post("/pilots/pilot-1/suspension", {"suspended": False, "reason": "resolved"}, "pboc").status_code == 200
    assert pay(w)["status"] == "settled"
    kinds = [e["kind"] for e in w.get("/pilots/pilot-1/monitor", "pboc").json()["recent"]]
    assert kinds[:3] == ["resumed", "rejected", "suspended"]


def test_an_exited_or_not_yet_testing_pilot_settles_nothing(world: World) -> None:
    w = world
    admit(w)
    assert w.move("pilot-1", "exited", "pboc", outcome="discontinued", cause="breach").status_code == 200
    refused = pay(w)
    assert refused["reason"] == "AG01" and "exited, not testing" in refused["reason_detail"]


def test_racing_payments_never_take_a_pilot_past_its_limit(world: World) -> None:
    w = world
    admit(w, max_customers=5, daily={"CNY": 1_000_000}, total={"CNY": 2_000_000})
    requests = []
    for _ in range(100):
        body = w.rails.payment(source_amount=100_000, pilot_id="pilot-1")
        body["quote_id"] = w.rails.quote("CNY", "SGD", source_amount=100_000)["id"]
        requests.append(PaymentIn.model_validate(body).to_request())
    screener = screener_for(w.rails.client.app.state.settings)  # type: ignore[attr-defined]
    db = w.rails.db

    def submit(request: Any) -> tuple[str, str | None, str | None]:
        payment, _ = payment_service.submit(db, request, screener, "cq-bank")
        return payment.status.value, payment.reason.value if payment.reason else None, payment.reason_detail

    with ThreadPoolExecutor(max_workers=16) as pool:
        outcomes = list(pool.map(submit, requests))
    settled = [o for o in outcomes if o[0] == "settled"]
    refused = [o for o in outcomes if o[0] == "rejected"]
    assert len(settled) == 10 and len(refused) == 90, outcomes
    assert all(r[1] == "AG01" and r[2] and r[2].startswith("pilot boundary daily.CNY:") for r in refused)
    m = w.get("/pilots/pilot-1/monitor", "pboc").json()
    assert m["by_asset"]["CNY"]["settled_today"] == 1_000_000 and m["events"]["rejected"] == 90


def test_an_extended_pilot_settles_to_its_new_end_date(world: World) -> None:
    w = world
    admit(w, ends_on="2026-11-30")
    later = {**w.get("/pilots/pilot-1", "pboc").json()["boundaries"], "ends_on": "2099-12-31"}
    r = w.move("pilot-1", "exited", "mas", outcome="extended", boundaries=later)
    assert r.status_code == 200 and (r.json()["status"], r.json()["outcome"]) == ("exited", "extended")
    assert pay(w)["status"] == "settled"  # still settling, within the extended boundaries
    assert w.move("pilot-1", "exited", "pboc", outcome="graduated").json()["outcome"] == "graduated"
    assert pay(w)["reason"] == "AG01"  # graduated: it settles no more
