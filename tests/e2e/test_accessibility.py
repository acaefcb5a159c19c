"""The public pages in a real browser (Debian's Chromium driven by Playwright), for accessibility: axe-core finds
no serious or critical violation, and pressing Tab reaches every visible, enabled control. The axe-core the check
runs is the copy in tests/e2e/vendor: no request leaves the machine (the test asserts it)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, Page

from fintech_zone.app import create_app
from fintech_zone.db import Database
from fintech_zone.progress import service as progress
from fintech_zone.registry import service as registry
from fintech_zone.registry.model import NewOrganisation
from fintech_zone.settings import Settings
from tests.e2e.a11y import axe_violations, format_violations, unreachable_by_tab
from tests.e2e.conftest import only_local, require_chromium
from tests.servers import serving

PAGES = [
    pytest.param("/hall?lang=en", id="hall-en"),
    pytest.param("/hall?lang=zh", id="hall-zh"),
    pytest.param("/hall/fintech?lang=en", id="hall-fintech-en"),
    pytest.param("/hall/cooperation?lang=zh", id="hall-cooperation-zh"),
    pytest.param("/hall/cooperation?lang=en", id="hall-cooperation-en"),
    pytest.param("/hall/pilots?lang=en", id="hall-pilots-en"),
    pytest.param("/hall/corridor?lang=en", id="hall-corridor-en"),
    pytest.param("/hall/corridor?lang=zh", id="hall-corridor-zh"),
    pytest.param("/hall/trust?lang=en", id="hall-trust-en"),
    pytest.param("/hall?kiosk=1&lang=zh", id="hall-kiosk-zh"),
    pytest.param("/journal", id="journal"),
    pytest.param("/login", id="login"),
    pytest.param("/sandbox", id="sandbox"),
]


@pytest.fixture
def server(settings: Settings, db: Database) -> Iterator[str]:
    require_chromium()
    for org_id, jurisdiction, sector in (("sg-a", "SG", "payments"), ("cn-b", "CN", "lending")):
        registry.create_organisation(db, NewOrganisation(org_id, "enterprise", jurisdiction, org_id, org_id, sector))
    progress.load_seed(db)  # the cooperation page's milestones
    with serving(create_app(settings, db)) as url:
        yield url


def _open(browser: Browser, server: str, path: str) -> tuple[Page, list[str]]:
    page = browser.new_page(viewport={"width": 1280, "height": 900}, locale="en-GB")
    outside = only_local(page, server)
    response = page.goto(f"{server}{path}")
    assert response is not None and response.status == 200, f"{path}: {response and response.status}"
    return page, outside


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
@pytest.mark.parametrize("path", PAGES)
def test_axe_finds_no_serious_or_critical_violation(path: str, server: str, browser: Browser) -> None:
    page, outside = _open(browser, server, path)
    violations = axe_violations(page)
    assert violations == [], f"{path}:\n{format_violations(violations)}"
    assert outside == [], f"requests left the server: {outside}"


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
@pytest.mark.parametrize("path", PAGES)
def test_tab_reaches_every_control(path: str, server: str, browser: Browser) -> None:
    page, _ = _open(browser, server, path)
    assert unreachable_by_tab(page) == [], f"{path}: never focused by Tab"


# The checks themselves, on pages made for them: each can fail, and passes over what it should.

TRAPPED = """<!doctype html><html lang="en"><head><title>t</title></head><body><main>
<a href="#a">first</a> <input id="trap" aria-label="trap"> <button>after the trap</button>
<form><input type="radio" name="r" aria-label="one"> <input type="radio" name="r" aria-label="two"></form>
<details><summary>more</summary><button>in a closed details</button></details>
<button disabled>disabled</button> <button tabindex="-1">out of order</button> <div inert><a href="#i">inert</a></div>
<iframe title="frame" srcdoc="<a href='#f'>in a frame</a>"></iframe>
<script>
  trap.addEventListener("keydown", (e) => {
    if (e.key === "Tab") { e.preventDefault(); document.querySelector("a").focus(); }
  });
</script></main></body></html>"""


def test_tab_walk_names_what_a_focus_trap_hides_and_nothing_else(browser: Browser) -> None:
    page = browser.new_page()
    page.set_content(TRAPPED)
    assert unreachable_by_tab(page) == ['button "after the trap"', 'radio group "r"', 'summary "more"']
    page.evaluate("document.getElementById('trap').remove()")
    assert unreachable_by_tab(page) == []  # one stop for the radio group; the rest is no control Tab owes a visit


def test_axe_names_the_rule_and_the_element(browser: Browser) -> None:
    page = browser.new_page()
    page.set_content('<!doctype html><html lang="en"><head><title>t</title></head><body><main><input id="x">')
    violations = axe_violations(page)
    assert [(v["id"], v["impact"], v["targets"]) for v in violations] == [("label", "critical", ["#x"])]
    assert "#x" in format_violations(violations)
    assert axe_violations(page, impacts=("minor",)) == []
