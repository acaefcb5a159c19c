"""The exhibition hall's figures and home page, on SQLite and PostgreSQL: every figure is counted from the
records, changes when they change, and demo traffic is counted apart and labelled; the page is in both languages
and its chart library comes from the platform itself, compressed."""

from __future__ import annotations

import uuid
from typing import Any

from fintech_zone.payments import fx_service, payment_service, simulate
from fintech_zone.payments.model import Party, PaymentRequest
from fintech_zone.payments.screening_config import screener_for
from fintech_zone.registry import service as registry
from fintech_zone.registry.model import NewOrganisation
from tests.sandbox.conftest import World, admit
from tests.sandbox.test_rails import pay


def figures(w: World) -> dict[str, Any]:
    r = w.rails.client.get("/api/v1/showcase/figures")  # public: no token
    assert r.status_code == 200, r.text
    return dict(r.json())


def test_the_figures_are_counted_from_the_records_and_follow_them(world: World) -> None:
    w = world
    before = figures(w)
    # The rails' five participants, the sandbox world's technology firm and its two regulators.
    assert before["organisations"] == 8
    assert before["by_jurisdiction"] == {"CN": 4, "SG": 4}
    assert before["singapore_and_asean"] == 4
    assert before["pilots"]["testing"] == 0 and set(before["pilots"]) >= {"draft", "exited"}
    funding = before["settled_today"]["count"]  # the banks funding the FX provider, same-asset payments
    assert funding == 2 and before["cny_share"]["share"] is None

    registry.create_organisation(
        w.rails.db, NewOrganisation("my-kl-pay", "enterprise", "MY", "KL Pay Sdn Bhd", "吉隆坡支付", "payments")
    )
    admit(w)
    first = pay(w, 100_000)
    assert first["status"] == "settled"
    after = figures(w)
    assert after["organisations"] == 9 and after["by_jurisdiction"]["MY"] == 1 and after["singapore_and_asean"] == 5
    assert after["by_sector"]["payments"] == before["by_sector"].get("payments", 0) + 1
    assert after["pilots"]["testing"] == 1
    today = after["settled_today"]
    assert today["count"] == funding + 1 and today["demo_count"] == 0
    assert today["by_asset"]["CNY"] == before["settled_today"]["by_asset"]["CNY"] + 100_000
    assert today["by_asset"]["SGD"] == before["settled_today"]["by_asset"]["SGD"] + first["target_amount"]
    # Every cross-border payment so far was paid in CNY: CNY's share is all of it.
    assert after["cny_share"]["share"] == 1.0 and after["cny_share"]["cross_border_cny_volume"] == 100_000


def test_demo_traffic_is_counted_apart_and_labelled(world: World) -> None:
    w = world
    db = w.rails.db
    simulate.ensure_world(db, 3600)
    quote = fx_service.create_quote(db, "SGD", "CNY", 50_000, None, demo=True)
    demo = PaymentRequest(
        str(uuid.uuid4()), "demo-sg-bank-1", "demo-cq-bank-1", Party("DEMO customer", "DEMO-1"),
        Party("DEMO merchant", "DEMO-M1"), "SGD", 50_000, "CNY", quote_id=quote.id,
    )  # fmt: skip
    paid, _ = payment_service.submit(db, demo, screener_for(w.rails.client.app.state.settings))  # type: ignore[attr-defined]
    assert paid.status.value == "settled" and paid.request.demo
    f = figures(w)
    assert f["settled_today"]["demo_count"] >= 1 and f["cny_share"]["share"] is None
    assert f["cny_share_demo"]["share"] == 0.0  # the demo payment was paid in SGD
    page = w.rails.client.get("/hall?lang=en")
    assert "DEMO" in page.text and "Demo traffic, counted apart from the figures above" in page.text


def test_the_hall_is_bilingual_and_serves_its_own_chart_library(world: World) -> None:
    w = world
    client = w.rails.client
    zh = client.get("/hall?lang=zh")
    assert zh.status_code == 200 and "中新金融科技合作示范区" in zh.text and "机构（按领域）" in zh.text
    en = client.get("/hall?lang=en")
    assert "Organisations by sector" in en.text and '<script src="/static/vendor/echarts/echarts.min.js">' in en.text
    # Nothing is fetched from elsewhere: every script and stylesheet is the platform's own.
    assert "http://" not in en.text.split("<main")[1] and "https://" not in en.text.split("<main")[1]
    lib = client.get("/static/vendor/echarts/echarts.min.js", headers={"Accept-Encoding": "gzip"})
    assert lib.status_code == 200 and lib.headers["content-encoding"] == "gzip"
    assert lib.num_bytes_downloaded < 400_000 < len(lib.content)  # a megabyte uncompressed, a third on the wire
    api = client.get("/api/v1/showcase/figures", headers={"Accept-Encoding": "gzip"})
    assert "content-encoding" not in api.headers  # the API's small JSON stays uncompressed
