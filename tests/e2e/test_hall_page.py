"""The exhibition hall's first page in a real browser (Debian's Chromium driven by Playwright): the figures are
the database's, the charts are drawn by the ECharts the platform serves, nothing is asked of any other host, the
console stays free of errors, and the language switches."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, expect

from fintech_zone.app import create_app
from fintech_zone.db import Database
from fintech_zone.registry import service as registry
from fintech_zone.registry.model import NewOrganisation
from fintech_zone.settings import Settings
from tests.e2e.conftest import only_local, require_chromium
from tests.servers import serving


@pytest.fixture
def server(settings: Settings, db: Database) -> Iterator[str]:
    require_chromium()
    for org_id, jurisdiction, sector in (
        ("sg-a", "SG", "payments"),
        ("cn-b", "CN", "payments"),
        ("cn-c", "CN", "lending"),
    ):
        registry.create_organisation(db, NewOrganisation(org_id, "enterprise", jurisdiction, org_id, org_id, sector))
    with serving(create_app(settings, db)) as url:
        yield url


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_the_hall_draws_its_figures_with_its_own_chart_library(server: str, browser: Browser) -> None:
    page = browser.new_page(viewport={"width": 1280, "height": 900}, locale="en-GB")
    outside = only_local(page, server)
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: errors.append(str(e)))

    page.goto(f"{server}/hall?lang=en")
    expect(page.locator("section.figures > div").first).to_contain_text("3")  # organisations in the registry
    expect(page.locator("section.figures")).to_contain_text("from Singapore and ASEAN")
    # ECharts draws each chart on a canvas inside its box; the pilots' chart says "–" with no pilot yet.
    expect(page.locator("#chart-jurisdiction canvas")).to_have_count(1)
    expect(page.locator("#chart-sector canvas")).to_have_count(1)
    expect(page.locator("#chart-pilots")).to_have_text("–")

    page.get_by_role("link", name="中文").click()
    expect(page.locator("html")).to_have_attribute("lang", "zh-CN")
    expect(page.get_by_text("机构（按领域）")).to_be_visible()
    expect(page.locator("#chart-sector canvas")).to_have_count(1)
    assert outside == [], f"requests left the server: {outside}"
    assert errors == [], f"errors in the browser console: {errors}"
