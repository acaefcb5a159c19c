"""The payments pages of the console: the list, a payment's decisions, a regulator reviewing a held payment."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from fastapi.testclient import TestClient

from fintech_zone.app import create_app
from fintech_zone.auth import service as auth
from fintech_zone.auth.model import Role
from fintech_zone.db import Database
from fintech_zone.payments.screening import Screener, load_list
from fintech_zone.settings import Settings
from tests.payments.conftest import Rails


def sign_in(client: TestClient, db: Database, role: Role, org: str | None = None) -> None:
    token, _ = auth.create_token(db, role, org, f"page test {role.value}")
    r = client.post("/login", data={"token": token, "next": "/payments"}, follow_redirects=False)
    assert r.status_code == 303, r.text


def test_payments_pages_list_show_and_review(
    make_rails: Callable[..., Rails], settings: Settings, db: Database, tmp_path: Path
) -> None:
    listed = tmp_path / "list.csv"
    listed.write_text('id,name,aliases,kind,source\nL-1,Zhen Jiaming,,individual,"test list"\n', encoding="utf-8")
    near = "Zhen Jiamin Wu"
    score = Screener(load_list(listed)).screen(near).score
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
        q = rails.quote("CNY", "SGD", source_amount=100_000)
        settled = rails.post("/api/v1/payments", rails.payment(quote_id=q["id"]), "cq-bank").json()
        held = rails.post(
            "/api/v1/payments",
            rails.payment(creditor_agent="sg-bank", target_asset="CNY", creditor={"name": near, "account": "1"}),
            "cq-bank",
        ).json()
        assert (settled["status"], held["status"]) == ("settled", "held")

        assert client.get("/payments", follow_redirects=False).status_code == 303  # sign in first
        sign_in(client, db, Role.REGULATOR)
        page = client.get("/payments?lang=en").text
        assert settled["uetr"][:8] in page and held["uetr"][:8] in page and "Held for review" in page
        assert "1,000.00 CNY" in page and f"{q['target_amount'] / 100:,.2f} SGD" in page
        only_held = client.get("/payments?status=held").text
        assert held["uetr"][:8] in only_held and settled["uetr"][:8] not in only_held
        assert "待审查" in client.get("/payments?lang=zh").text

        detail = client.get(f"/payments/{held['uetr']}?lang=en").text
        assert "L-1" in detail and 'action="/payments/' in detail  # the decision so far, and the review form
        r = client.post(
            f"/payments/{held['uetr']}/review", data={"decision": "release", "reason": ""}, follow_redirects=False
        )
        assert r.status_code == 422 and "needs its reason" in r.text
        r = client.post(
            f"/payments/{held['uetr']}/review",
            data={"decision": "release", "reason": "different person, ID checked"},
            follow_redirects=False,
        )
        assert r.status_code == 303
        after = client.get(f"/payments/{held['uetr']}?lang=en").text
        assert "Settled on the rails" in after and "different person, ID checked" in after
        assert rails.get(f"/api/v1/payments/{held['uetr']}").json()["status"] == "settled"

    # A participant's console shows its own payments only, and no review form.
    with TestClient(create_app(tuned, db), raise_server_exceptions=False) as client:
        sign_in(client, db, Role.PARTICIPANT, "lion-fx")
        page = client.get("/payments?lang=en").text
        assert settled["uetr"][:8] not in page and "DEMO" not in page
        assert client.get(f"/payments/{settled['uetr']}").status_code == 404
        r = client.post(f"/payments/{held['uetr']}/review", data={"decision": "reject", "reason": "x"})
        assert r.status_code == 403
