"""The journal's verify page in a real browser (Debian's Chromium driven by Playwright): a visitor who has not
signed in types a payment's UETR, submits with Enter, sees it verified, and switches to Chinese."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect

from fintech_zone.app import create_app
from fintech_zone.db import Database
from fintech_zone.journal import keys, service
from fintech_zone.journal.model import NODES
from fintech_zone.settings import Settings
from tests.e2e.conftest import only_local, require_chromium
from tests.payments import conftest as payments_fixtures
from tests.payments.conftest import Rails
from tests.servers import serving

make_rails = payments_fixtures.make_rails  # the payments tests' rails world, built over this module's settings


@pytest.fixture
def key_dir(tmp_path: Path) -> Path:
    directory = tmp_path / "journal-keys"
    for node in NODES:
        keys.generate(directory, node)
    return directory


@pytest.fixture
def settings(db_url: str, key_dir: Path) -> Settings:
    return Settings(
        database_url=db_url, secret_key="e2e", migrate_on_start=False, journal_key_dir=key_dir, journal_signer=False
    )


@pytest.fixture
def uetr(make_rails: Callable[..., Rails], db: Database, key_dir: Path) -> str:
    """A settled payment, in a head both validators signed."""
    rails = make_rails()
    r = rails.post("/api/v1/payments", rails.payment(target_asset="CNY"), "cq-bank")
    assert r.status_code == 201 and r.json()["status"] == "settled", r.text
    assert service.make_head(db) is not None
    for node in NODES:
        key = keys.load_private(key_dir, node)
        assert key is not None and service.sign_heads(db, node, key)
    return str(r.json()["uetr"])


@pytest.fixture
def server(settings: Settings, db: Database) -> Iterator[str]:
    require_chromium()
    with serving(create_app(settings, db)) as url:
        yield url


def _fits_the_width(page: Page) -> bool:
    return bool(page.evaluate("document.documentElement.scrollWidth <= window.innerWidth"))


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_type_a_uetr_press_enter_and_see_it_verified(
    uetr: str, server: str, browser: Browser, db: Database, tmp_path: Path
) -> None:
    page = browser.new_page(viewport={"width": 1280, "height": 900}, locale="en-GB")
    outside = only_local(page, server)

    page.goto(f"{server}/journal")
    expect(page.get_by_role("heading", level=1)).to_have_text("Verify a payment")
    expect(page.get_by_role("heading", name="Latest signed tree head")).to_be_visible()
    field = page.get_by_label("Payment reference")
    field.fill(uetr)
    field.press("Enter")  # a plain GET form: the keyboard submits it, no script needed

    expect(page).to_have_url(f"{server}/journal?ref={uetr}")
    expect(page.get_by_role("status")).to_contain_text("Verified: this record is in the log the two validators signed.")
    index = service.lookup(db, uetr)[-1]
    expect(page.locator("dl.facts").first).to_contain_text(str(index))
    expect(page.locator("ol.path > li")).to_have_count(len(service.inclusion_proof(db, index, service.tree_size(db))))
    expect(page.get_by_role("heading", level=2, name="The signed tree head it is verified against")).to_be_visible()
    expect(page.get_by_label("Payment reference")).to_have_value(uetr)

    # Switching language keeps the reference and the answer.
    page.get_by_role("link", name="中文").click()
    expect(page.locator("html")).to_have_attribute("lang", "zh-CN")
    expect(page.get_by_role("heading", level=1)).to_have_text("验证一笔支付")
    expect(page.get_by_role("status")).to_contain_text("已验证")
    expect(page.get_by_label("支付参考号")).to_have_value(uetr)
    page.screenshot(path=str(tmp_path / "journal-zh.png"), full_page=True)

    # Long hashes wrap: on a phone-sized window nothing runs off the side of the page.
    page.set_viewport_size({"width": 400, "height": 800})
    assert _fits_the_width(page)

    page.get_by_role("link", name="English").click()
    expect(page.locator("html")).to_have_attribute("lang", "en")
    expect(page.get_by_role("status")).to_contain_text("Verified")
    assert outside == [], f"requests left the server: {outside}"


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_an_unknown_reference_says_so_and_keeps_the_form(uetr: str, server: str, browser: Browser) -> None:
    page = browser.new_page(locale="en-GB")
    page.goto(f"{server}/journal?lang=en")
    page.get_by_label("Payment reference").fill("no-such-reference")
    page.keyboard.press("Enter")
    expect(page.get_by_role("alert")).to_contain_text("No record in the journal holds this reference")
    expect(page.get_by_label("Payment reference")).to_have_value("no-such-reference")
