"""What the browser tests share: Debian's Chromium (never a downloaded browser) and a check that a page asks
nothing of any host but the server."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, sync_playwright

CHROMIUM = Path("/usr/bin/chromium")


def require_chromium() -> None:
    if not CHROMIUM.exists():
        pytest.fail("Debian's chromium is not installed at /usr/bin/chromium (./zone test installs it)")


@pytest.fixture
def browser() -> Iterator[Browser]:
    require_chromium()
    with sync_playwright() as p:
        b = p.chromium.launch(
            executable_path=str(CHROMIUM),
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--no-first-run",
            ],
        )
        yield b
        b.close()


def only_local(page: Page, base: str) -> list[str]:
    """The URLs the page requests outside ``base``, as it goes (the test asserts the list stays empty)."""
    outside: list[str] = []
    page.on("request", lambda r: outside.append(r.url) if not r.url.startswith(base) else None)
    return outside
