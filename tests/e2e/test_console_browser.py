"""The console in a real browser: Debian's Chromium driven by Playwright (never a downloaded browser).

Also draws the README's picture from the page as a visitor sees it: with ``FZ_UPDATE_SCREENSHOTS=1`` it is
written to docs/img/progress-zh.png, otherwise to the test's temporary directory (so a test run never dirties
the work tree).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, expect

from fintech_zone.app import create_app
from fintech_zone.auth import service as auth
from fintech_zone.auth.model import Role
from fintech_zone.db import Database
from fintech_zone.settings import Settings
from tests.e2e.conftest import only_local, require_chromium
from tests.servers import serving

README_PICTURE = Path(__file__).resolve().parents[2] / "docs" / "img" / "progress-zh.png"


@pytest.fixture
def server(seeded: Database, db_url: str) -> Iterator[str]:
    require_chromium()
    app = create_app(Settings(database_url=db_url, secret_key="e2e", migrate_on_start=False), seeded)
    with serving(app) as url:
        yield url


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_sign_in_switch_language_and_read_the_timeline(
    server: str, browser: Browser, seeded: Database, tmp_path: Path
) -> None:
    token, _ = auth.create_token(seeded, Role.OPERATOR, None, "browser test")
    page = browser.new_page(viewport={"width": 1280, "height": 900}, locale="en-GB")
    outside = only_local(page, server)

    page.goto(f"{server}/progress")
    expect(page).to_have_url(f"{server}/login?next=/progress")
    page.get_by_label("Token").fill(token)
    page.keyboard.press("Enter")
    expect(page).to_have_url(f"{server}/progress")
    expect(page.locator("ol.timeline > li")).to_have_count(8)
    expect(page.locator("html")).to_have_attribute("lang", "en")

    page.get_by_role("link", name="中文").click()
    expect(page.locator("html")).to_have_attribute("lang", "zh-CN")
    expect(page.get_by_role("heading", level=1)).to_have_text("进展大事记")
    expect(page.locator("ol.timeline")).to_contain_text("16家金融科技企业")
    picture = README_PICTURE if os.environ.get("FZ_UPDATE_SCREENSHOTS") == "1" else tmp_path / "progress-zh.png"
    page.screenshot(path=str(picture), full_page=False)
    assert picture.stat().st_size > 20_000

    # The language choice sticks as the visitor moves on.
    page.get_by_role("link", name="机构名录").click()
    expect(page.locator("html")).to_have_attribute("lang", "zh-CN")
    assert outside == [], f"requests left the server: {outside}"


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_registry_filter_with_keyboard_only(server: str, browser: Browser, seeded: Database) -> None:
    token, _ = auth.create_token(seeded, Role.OPERATOR, None, "browser test")
    page = browser.new_page(locale="en-GB")
    page.goto(f"{server}/login?next=/registry&lang=en")
    page.keyboard.press("Tab")  # skip link
    page.keyboard.press("Tab")
    focused = page.evaluate("document.activeElement.textContent")
    assert focused, "tab order reaches the header links"
    page.get_by_label("Token").focus()
    page.keyboard.type(token)
    page.keyboard.press("Enter")
    expect(page).to_have_url(f"{server}/registry")
    # htmx swaps the rows in place when a filter changes
    page.get_by_label("Jurisdiction").select_option("SG")
    expect(page.locator("#rows tbody tr")).to_have_count(2)
    expect(page.locator("#rows")).to_contain_text("Monetary Authority of Singapore")
    expect(page).to_have_url(f"{server}/registry?q=&kind=&jurisdiction=SG&sector=&status=")
