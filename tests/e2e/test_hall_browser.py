"""The whole exhibition hall in a real browser (Debian's Chromium driven by Playwright): every page in both languages
with the language switch, figures that follow the database, the live corridor updating within two seconds of a
payment settling, the kiosk rotating on its own and riding out a server restart with a clear offline notice, no
request to any host but the server, a clean console. It also takes the README's picture of the hall."""

from __future__ import annotations

import os
import re
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect

from fintech_zone.app import create_app
from fintech_zone.progress import service as progress
from fintech_zone.registry import service as registry
from fintech_zone.registry.model import NewOrganisation
from tests.e2e.conftest import only_local, require_chromium
from tests.payments.conftest import make_rails as make_rails
from tests.sandbox.conftest import World, admit
from tests.sandbox.conftest import settings as settings
from tests.sandbox.conftest import world as world
from tests.sandbox.test_rails import pay
from tests.servers import free_port, serving

pytestmark = pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)

PAGES = {  # each page's entry in the hall's navigation, in English and Chinese
    "/hall": ("The zone in figures", "示范区主要数据"),
    "/hall/fintech": ("Chongqing fintech", "重庆金融科技"),
    "/hall/cooperation": ("China–Singapore cooperation", "中新合作"),
    "/hall/pilots": ("Key projects and pilots", "重点项目与试点"),
    "/hall/corridor": ("Live corridor", "实时通道"),
    "/hall/trust": ("Trust", "可信"),
}
SCREENSHOT = Path(__file__).resolve().parents[2] / "docs" / "img" / "hall.png"


class Watched:
    """A page with what it asked of other hosts and what it logged as errors, both to stay empty."""

    def __init__(self, browser: Browser, base: str, width: int = 1280, height: int = 900) -> None:
        self.page: Page = browser.new_page(viewport={"width": width, "height": height}, locale="en-GB")
        self.outside = only_local(self.page, base)
        self.errors: list[str] = []
        self.page.on("console", lambda m: self.errors.append(m.text) if m.type == "error" else None)
        self.page.on("pageerror", lambda e: self.errors.append(str(e)))

    def check(self) -> None:
        assert self.outside == [], f"requests left the server: {self.outside}"
        assert self.errors == [], f"errors in the browser console: {self.errors}"


@pytest.fixture
def hall(world: World) -> Iterator[str]:
    require_chromium()
    progress.load_seed(world.rails.db)
    app = world.rails.client.app  # type: ignore[attr-defined]
    with serving(create_app(app.state.settings, world.rails.db)) as url:
        yield url


def test_every_page_in_both_languages_with_the_switch(hall: str, browser: Browser) -> None:
    w = Watched(browser, hall)
    for path, (english, chinese) in PAGES.items():
        w.page.goto(f"{hall}{path}?lang=en")
        expect(w.page.locator(".hall-nav a[aria-current=page]")).to_have_text(english)
        english_title = w.page.locator("h1").inner_text()
        w.page.get_by_role("link", name="中文").click()
        expect(w.page.locator("html")).to_have_attribute("lang", "zh-CN")
        expect(w.page.locator(".hall-nav a[aria-current=page]")).to_have_text(chinese)
        expect(w.page.locator("h1")).not_to_have_text(english_title)  # the page itself, not just its menu
        w.page.get_by_role("link", name="English").click()
        expect(w.page.locator("html")).to_have_attribute("lang", "en")
    w.check()


def test_the_pages_follow_the_database(world: World, hall: str, browser: Browser) -> None:
    w = Watched(browser, hall)
    w.page.goto(f"{hall}/hall/fintech?lang=en")
    expect(w.page.locator(".hall")).not_to_contain_text("Malaysia")
    registry.create_organisation(
        world.rails.db,
        NewOrganisation("my-kl-pay", "enterprise", "MY", "KL Pay Sdn Bhd", "吉隆坡支付", "payments", status="settled"),
    )
    w.page.reload()
    expect(w.page.get_by_role("heading", name="Malaysia 1")).to_be_visible()
    expect(w.page.get_by_role("link", name="KL Pay Sdn Bhd")).to_be_visible()
    expect(w.page.locator("#chart-growth canvas")).to_have_count(1)

    w.page.goto(f"{hall}/hall/pilots?lang=en")
    expect(w.page.locator(".hall")).to_contain_text("No pilot has been disclosed yet.")
    admit(world)
    w.page.reload()
    expect(w.page.get_by_role("link", name="Cross-border e-CNY remittances for SMEs")).to_be_visible()
    expect(w.page.locator(".figures div").first).to_contain_text("1")

    organisations = sum(registry.counts(world.rails.db)["jurisdiction"].values())
    w.page.goto(f"{hall}/hall?lang=en")
    expect(w.page.locator(".figures div").first).to_contain_text(str(organisations))
    expect(w.page.locator("#chart-pilots canvas")).to_have_count(1)  # a testing pilot now: the pie is drawn
    # What a chart draws is also its text alternative, for screen readers.
    expect(w.page.locator("#chart-pilots")).to_have_attribute("aria-label", "Pilots by status — Testing: 1")
    expect(w.page.locator("#chart-jurisdiction")).to_have_attribute("aria-label", re.compile(r"Malaysia: 1(;|$)"))

    w.page.goto(f"{hall}/hall/cooperation?lang=zh")
    first = progress.list_milestones(world.rails.db)[0]
    expect(w.page.locator(".timeline")).to_contain_text(first.title_zh)
    expect(w.page.locator(".timeline")).to_contain_text("来源：zone-progress-report")
    w.check()


def test_the_corridor_shows_a_payment_within_two_seconds_of_settling(world: World, hall: str, browser: Browser) -> None:
    admit(world)
    w = Watched(browser, hall)
    w.page.goto(f"{hall}/hall/corridor?lang=en")
    expect(w.page.locator(".live")).to_have_attribute("data-state", "live")
    expect(w.page.locator(".flows")).not_to_contain_text("888.88 CNY")
    assert pay(world, 88_888)["status"] == "settled"
    # The feed polls once a second: the payment is on screen within two seconds of settling.
    expect(w.page.locator(".flows tbody tr").first).to_contain_text("888.88 CNY", timeout=2_000)
    expect(w.page.locator(".flows tbody tr").first).to_contain_text("Chongqing → Singapore")
    expect(w.page.locator("[data-field=today_count]")).not_to_have_text("0")
    w.check()


def test_the_kiosk_rotates_and_rides_out_a_restart(world: World, browser: Browser) -> None:
    require_chromium()
    progress.load_seed(world.rails.db)
    settings_ = world.rails.client.app.state.settings  # type: ignore[attr-defined]
    port = free_port()
    w = Watched(browser, f"http://127.0.0.1:{port}", 1920, 1080)
    slide = w.page.locator("body")
    with serving(create_app(settings_, world.rails.db), port) as url:
        w.page.goto(f"{url}/hall?kiosk=1&rotate=3&lang=zh")
        expect(slide).to_have_attribute("data-slide", "0")
        expect(slide).to_have_attribute("data-slide", "1", timeout=6_000)  # no click, no key: it turns by itself
        expect(slide).to_have_attribute("data-slide", "2", timeout=6_000)
        expect(w.page.locator("#offline")).to_be_hidden()
    # The server is gone: the last slide stays, greyed, under the offline notice.
    expect(w.page.locator("#offline")).to_be_visible(timeout=8_000)
    expect(w.page.locator("#offline")).to_contain_text("离线")
    with serving(create_app(settings_, world.rails.db), port):
        expect(w.page.locator("#offline")).to_be_hidden(timeout=10_000)
        turned_to = w.page.locator("body").get_attribute("data-slide")
        expect(slide).not_to_have_attribute("data-slide", str(turned_to), timeout=8_000)
    # A dropped connection shows as console errors of the kiosk's own checks while the server was away (Chromium
    # logs every refused fetch); nothing else may appear.
    unexpected = [e for e in w.errors if "ERR_CONNECTION_REFUSED" not in e and "Failed to load resource" not in e]
    assert unexpected == [], unexpected
    assert w.outside == [], w.outside


def test_the_readme_picture_of_the_hall(world: World, hall: str, browser: Browser, tmp_path: Path) -> None:
    """Taken on every run (so it cannot go stale unnoticed); written into docs/ with FZ_UPDATE_SCREENSHOTS=1."""
    admit(world)
    assert pay(world, 100_000)["status"] == "settled"
    w = Watched(browser, hall, 1280, 800)
    w.page.goto(f"{hall}/hall?lang=en")
    expect(w.page.locator("#chart-sector canvas")).to_have_count(1)
    expect(w.page.locator("#chart-pilots canvas")).to_have_count(1)
    shot = tmp_path / "hall.png"
    w.page.screenshot(path=str(shot))
    assert shot.stat().st_size > 20_000  # a drawn page, not a blank one
    if os.environ.get("FZ_UPDATE_SCREENSHOTS") == "1":
        SCREENSHOT.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(shot, SCREENSHOT)
    w.check()
