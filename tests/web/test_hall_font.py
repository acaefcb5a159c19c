"""The pages' subset web font draws every character the Chinese pages show, and the platform serves it.

static/fonts/noto-sans-sc-subset.woff2 is a subset of Noto Sans CJK SC (tools/subset_hall_font.py): a new
translation, template or seed text with a character the font lacks fails here, with the characters listed;
run the script again then (static/fonts/README.txt says how).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from pathlib import Path

import pytest
from babel.messages.pofile import read_po
from fastapi.testclient import TestClient
from fontTools.ttLib import TTFont

import fintech_zone

PACKAGE = Path(fintech_zone.__file__).parent
STATIC = PACKAGE / "web" / "static"
FONT = STATIC / "fonts" / "noto-sans-sc-subset.woff2"
CATALOGUE = PACKAGE / "web" / "locale" / "zh_CN" / "LC_MESSAGES" / "messages.po"
BUDGET = 250 * 1024  # bytes: every page on a machine without a CJK font loads it once
_NOT_DRAWN = {"Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp"}


@pytest.fixture(scope="module")
def drawn() -> set[int]:
    font = TTFont(FONT)
    assert font.flavor == "woff2"
    return set(font.getBestCmap())


@pytest.fixture(scope="module")
def font_ranges() -> list[tuple[int, int]]:
    """The code points the stylesheet fetches the font for: its @font-face's unicode-range."""
    css = (STATIC / "site.css").read_text(encoding="utf-8")
    face = re.search(r"@font-face\s*{[^}]*\"FZ Noto Sans SC\"[^}]*}", css)
    assert face, "site.css declares no @font-face for FZ Noto Sans SC"
    assert "url('/static/fonts/noto-sans-sc-subset.woff2') format('woff2')" in face.group(0)
    declared = re.search(r"unicode-range:\s*([^;]+);", face.group(0))
    assert declared, "the FZ Noto Sans SC face has no unicode-range: English pages would download it"
    ranges = []
    for part in declared.group(1).split(","):
        first, _, last = part.strip().removeprefix("U+").partition("-")
        ranges.append((int(first, 16), int(last or first, 16)))
    return ranges


def _missing(text: Iterable[str], drawn: set[int]) -> str:
    absent = sorted({c for c in text if ord(c) not in drawn and unicodedata.category(c) not in _NOT_DRAWN})
    return " ".join(f"{c} U+{ord(c):04X}" for c in absent)


def _in(ranges: list[tuple[int, int]], text: str) -> str:
    return "".join(c for c in text if any(lo <= ord(c) <= hi for lo, hi in ranges))


def test_the_font_is_a_small_woff2_with_its_licence_beside_it() -> None:
    assert FONT.read_bytes()[:4] == b"wOF2"
    assert FONT.stat().st_size <= BUDGET
    assert "SIL OPEN FONT LICENSE Version 1.1" in (FONT.parent / "OFL.txt").read_text(encoding="utf-8")
    assert "tools/subset_hall_font.py" in (FONT.parent / "README.txt").read_text(encoding="utf-8")


def test_font_draws_every_character_of_every_translation(drawn: set[int]) -> None:
    with CATALOGUE.open("rb") as f:
        catalog = read_po(f)
    missing = {}
    for message in catalog:
        if not message.id:
            continue  # the header
        strings = [message.string] if isinstance(message.string, str) else list(message.string or ())
        if absent := _missing("".join(s for s in strings if s), drawn):
            missing[str(message.id)] = absent
    assert not missing, f"zh_CN translations with characters the font lacks (run tools/subset_hall_font.py): {missing}"


def test_font_draws_every_cjk_character_of_the_templates(drawn: set[int], font_ranges: list[tuple[int, int]]) -> None:
    templates = sorted(p for p in PACKAGE.glob("**/templates/**/*") if p.is_file())
    assert templates
    missing = {}
    for path in templates:
        if absent := _missing(_in(font_ranges, path.read_text(encoding="utf-8")), drawn):
            missing[str(path.relative_to(PACKAGE))] = absent
    assert not missing, f"templates with characters the web font lacks (run tools/subset_hall_font.py): {missing}"


def test_font_draws_every_cjk_character_of_package_data(drawn: set[int], font_ranges: list[tuple[int, int]]) -> None:
    """Names and seed facts reach the pages from Python literals and data files (seed_facts.json, demo CSV)."""
    missing = {}
    for path in sorted(p for p in PACKAGE.rglob("*") if p.suffix in (".py", ".json", ".csv")):
        if absent := _missing(_in(font_ranges, path.read_text(encoding="utf-8")), drawn):
            missing[str(path.relative_to(PACKAGE))] = absent
    assert not missing, f"package files with characters the web font lacks (run tools/subset_hall_font.py): {missing}"


def test_font_is_served_from_the_package(client: TestClient) -> None:
    r = client.get("/static/fonts/noto-sans-sc-subset.woff2")
    assert r.status_code == 200
    assert r.headers["content-type"] == "font/woff2"
    assert r.content == FONT.read_bytes()
    css = client.get("/static/site.css").text
    assert '"FZ Noto Sans SC"' in css
    # after the system's CJK fonts: a machine that has them (the hall's kiosk) never fetches the web font
    stack = re.search(r"font-family:\s*([^;]+);", css.split(":root", 1)[1])
    assert stack
    names = [n.strip().strip('"') for n in stack.group(1).split(",")]
    assert names.index("FZ Noto Sans SC") > names.index("Noto Sans CJK SC")
    assert names.index("FZ Noto Sans SC") < names.index("system-ui")
