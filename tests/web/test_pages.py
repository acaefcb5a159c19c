"""The operator console's pages: sign-in, language switch, registry list and organisation page, timeline."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient

from fintech_zone.auth import service as auth
from fintech_zone.auth.model import Role
from fintech_zone.db import Database
from fintech_zone.registry import service as registry
from fintech_zone.registry.model import NewOrganisation


def _sign_in(client: TestClient, db: Database, role: Role = Role.OPERATOR) -> None:
    token, _ = auth.create_token(db, role, None, "page test")
    r = client.post("/login", data={"token": token, "next": "/registry"}, follow_redirects=False)
    assert r.status_code == 303
    assert r.headers["location"] == "/registry"


def test_pages_need_sign_in(client: TestClient) -> None:
    for path in ("/", "/registry", "/progress", "/reports"):
        r = client.get(path, follow_redirects=False)
        assert r.status_code == 303, path
        assert r.headers["location"].startswith("/login")
    assert client.get("/login").status_code == 200


def test_open_redirect_is_refused(client: TestClient, db: Database) -> None:
    token, _ = auth.create_token(db, Role.VIEWER, None, None)
    r = client.post("/login", data={"token": token, "next": "//evil.example/"}, follow_redirects=False)
    assert r.headers["location"] == "/"


def test_language_switch_on_every_page(client: TestClient, seeded: Database) -> None:
    _sign_in(client, seeded)
    for path in ("/", "/registry", "/registry/sg-mas", "/progress", "/reports"):
        zh = client.get(path, params={"lang": "zh"})
        assert zh.status_code == 200, path
        assert '<html lang="zh-CN">' in zh.text
        assert 'href="' + path.split("?")[0] + '?lang=en"' in zh.text, path
        en = client.get(path, params={"lang": "en"})
        assert '<html lang="en">' in en.text
    # the choice sticks through a cookie
    assert '<html lang="en">' in client.get("/progress").text


def test_registry_list_filters(client: TestClient, seeded: Database) -> None:
    registry.create_organisation(
        seeded, NewOrganisation("sg-lion-pay", "enterprise", "SG", "Lion Pay Pte Ltd", "狮城支付", "payments")
    )
    _sign_in(client, seeded)
    page = client.get("/registry", params={"jurisdiction": "SG", "lang": "en"}).text
    assert "Lion Pay Pte Ltd" in page
    assert "Monetary Authority of Singapore" in page
    assert "PBoC Chongqing" not in page
    only_firms = client.get("/registry", params={"jurisdiction": "SG", "kind": "enterprise", "lang": "zh"}).text
    assert "狮城支付" in only_firms and "新加坡金融管理局" not in only_firms
    found = client.get("/registry", params={"q": "狮城"}).text
    assert "狮城支付" in found
    rows_only = client.get("/registry", params={"q": "lion"}, headers={"HX-Request": "true"}).text
    assert "<html" not in rows_only and "Lion Pay" in rows_only


def test_organisation_page_and_status_form(client: TestClient, seeded: Database) -> None:
    registry.create_organisation(
        seeded, NewOrganisation("sg-lion-pay", "enterprise", "SG", "Lion Pay Pte Ltd", "狮城支付", "payments")
    )
    _sign_in(client, seeded)
    r = client.post("/registry/sg-lion-pay/status", data={"status": "settled"}, follow_redirects=False)
    assert r.status_code == 303
    page = client.get("/registry/sg-lion-pay", params={"lang": "en"}).text
    assert "settled" in page.lower()
    back = client.post("/registry/sg-lion-pay/status", data={"status": "prospect"})
    assert back.status_code == 422
    assert 'role="alert"' in back.text
    assert registry.get_organisation(seeded, "sg-lion-pay").status is not None
    assert registry.get_organisation(seeded, "sg-lion-pay").status.value == "settled"  # type: ignore[union-attr]
    assert client.get("/registry/nobody", headers={"accept": "text/html"}).status_code == 404


def test_viewer_cannot_change_status(client: TestClient, seeded: Database) -> None:
    _sign_in(client, seeded, Role.VIEWER)
    r = client.post("/registry/sg-mas/status", data={"status": "settled"})
    assert r.status_code == 403
    page = client.get("/registry/sg-mas", params={"lang": "en"}).text
    assert 'action="/registry/sg-mas/status"' not in page  # no status form for a viewer


def test_timeline_shows_the_seed_with_sources(client: TestClient, seeded: Database) -> None:
    _sign_in(client, seeded)
    page = client.get("/progress", params={"lang": "zh"}).text
    assert len(re.findall(r'<time datetime="\d{4}-\d{2}">', page)) == 8
    assert "2019年7月" in page
    assert "16" in page and "签署入驻协议" in page
    assert "zone-progress-report 二（三）" in page


def test_report_download_page(client: TestClient, seeded: Database) -> None:
    _sign_in(client, seeded)
    r = client.get("/reports/progress", params={"lang": "en", "format": "md", "as_of": "2019-12-31"})
    assert r.status_code == 200
    assert r.text.count("\n- **") == 8


def test_home_figures_come_from_the_database(client: TestClient, seeded: Database) -> None:
    _sign_in(client, seeded)
    before = client.get("/", params={"lang": "en"}).text
    n = registry.count_organisations(seeded, registry.OrgFilter())
    assert f"<strong>{n}</strong>" in before
    registry.create_organisation(
        seeded,
        NewOrganisation("sg-lion-pay", "enterprise", "SG", "Lion Pay", "狮城支付", "payments", "settled"),
    )
    after = client.get("/", params={"lang": "en"}).text
    assert f"<strong>{n + 1}</strong>" in after


def test_sign_out(client: TestClient, seeded: Database) -> None:
    _sign_in(client, seeded)
    assert client.post("/logout", follow_redirects=False).status_code == 303
    assert client.get("/registry", follow_redirects=False).status_code == 303


def test_revoked_token_ends_the_session(client: TestClient, seeded: Database) -> None:
    token, info = auth.create_token(seeded, Role.OPERATOR, None, None)
    client.post("/login", data={"token": token, "next": "/"})
    assert client.get("/registry", follow_redirects=False).status_code == 200
    auth.revoke_token(seeded, info.id)
    assert client.get("/registry", follow_redirects=False).status_code == 303


def test_errors_on_pages_are_pages(client: TestClient, seeded: Database) -> None:
    _sign_in(client, seeded)
    html = {"accept": "text/html"}
    r = client.post("/registry/nobody/status", data={"status": "settled"}, headers=html)
    assert r.status_code == 404
    assert r.headers["content-type"].startswith("text/html")
    assert "nobody" in r.text
    api = client.get("/api/v1/registry/organisations/nobody", headers=html)
    assert api.headers["content-type"] == "application/problem+json"  # the API always answers problem+json
