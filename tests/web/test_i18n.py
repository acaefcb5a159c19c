"""The message catalogs cover every string the pages and reports translate, and language choice works.

Message ids are found the way ``pybabel extract -F babel.cfg`` finds them (Jinja templates and Python sources,
keywords ``_`` and ``gettext``); enum values shown with ``_(x.value)`` cannot be extracted, so they are listed
from the enums themselves.
"""

from __future__ import annotations

import ast
import re
from collections import Counter
from enum import StrEnum
from functools import cache
from pathlib import Path
from string import Formatter

import pytest
from babel.messages.extract import extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from jinja2 import Environment, nodes

from fintech_zone.auth.model import Role
from fintech_zone.progress.model import TaskStatus
from fintech_zone.registry.model import Kind, Sector, Status
from fintech_zone.web.i18n import CATALOG_DIR, DEFAULT_LANG, Translator, catalog, choose_lang

REPO = Path(__file__).resolve().parents[2]
SRC = REPO / "src"
PACKAGE = SRC / "fintech_zone"

KEYWORDS: dict[str, None] = {"_": None, "gettext": None}
JINJA_OPTIONS = {"trim_blocks": "true", "lstrip_blocks": "true"}
METHOD_MAP = [
    ("**/templates/**", "jinja2.ext:babel_extract"),
    ("**.py", "python"),
]
OPTIONS_MAP = {"**/templates/**": JINJA_OPTIONS}

TRANSLATED_ENUMS: tuple[type[StrEnum], ...] = (Kind, Sector, Status, TaskStatus, Role)
ENUM_VALUES = sorted({m.value for e in TRANSLATED_ENUMS for m in e})


@cache
def extracted() -> dict[str, tuple[str, ...]]:
    """Message id -> the files it appears in."""
    found: dict[str, list[str]] = {}
    for filename, _lineno, message, _comments, _context in extract_from_dir(
        SRC, METHOD_MAP, OPTIONS_MAP, keywords=KEYWORDS
    ):
        assert isinstance(message, str), f"{filename}: plural or context messages are not supported: {message!r}"
        found.setdefault(message, []).append(filename)
    return {k: tuple(v) for k, v in found.items()}


def placeholders(text: str) -> Counter[str]:
    """The ``str.format`` replacement fields of a message, with their conversion and format spec."""
    return Counter(
        f"{{{name}{'!' + conv if conv else ''}{':' + spec if spec else ''}}}"
        for _literal, name, spec, conv in Formatter().parse(text)
        if name is not None
    )


def template_files() -> list[Path]:
    return sorted(p for p in PACKAGE.rglob("*") if p.is_file() and "templates" in p.relative_to(PACKAGE).parts)


# --- extraction finds what it should ------------------------------------------------------------------------


def test_extraction_sees_templates_and_python() -> None:
    found = extracted()
    # One id from each kind of source, so a broken method map cannot make the other tests pass vacuously.
    assert "fintech_zone/registry/templates/registry_rows.html" in found["Matching organisations: {n}"]
    assert "fintech_zone/progress/templates/report.md.j2" in found["Overview"]
    assert "fintech_zone/web/console.py" in found["That token is unknown or revoked."]
    assert "fintech_zone/progress/report.py" in found["Due: {date}"]
    files = {f for files in found.values() for f in files}
    for template in template_files():
        if "_(" in template.read_text(encoding="utf-8"):
            assert str(template.relative_to(SRC)) in files, f"no message extracted from {template}"


def test_babel_cfg_extracts_the_same_messages() -> None:
    with (REPO / "babel.cfg").open(encoding="utf-8") as fh:
        method_map, options_map = parse_mapping_cfg(fh)
    from_cfg = {m for _f, _l, m, _c, _x in extract_from_dir(SRC, method_map, options_map, keywords=KEYWORDS)}
    assert from_cfg == set(extracted())


def _template_calls(path: Path) -> list[tuple[int, nodes.Expr]]:
    tree = Environment().parse(path.read_text(encoding="utf-8"))
    return [
        (call.lineno, call.args[0])
        for call in tree.find_all(nodes.Call)
        if isinstance(call.node, nodes.Name) and call.node.name in KEYWORDS and call.args
    ]


def _python_calls(path: Path) -> list[tuple[int, ast.expr]]:
    calls = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if not isinstance(node, ast.Call) or not node.args:
            continue
        func = node.func
        name = func.id if isinstance(func, ast.Name) else func.attr if isinstance(func, ast.Attribute) else None
        if name in KEYWORDS:
            calls.append((node.lineno, node.args[0]))
    return calls


def test_non_literal_messages_are_enum_values() -> None:
    """``_(x)`` with a non-literal ``x`` is only covered when ``x`` is an enum's ``.value``."""
    bad = []
    for template in template_files():
        for lineno, arg in _template_calls(template):
            literal = isinstance(arg, nodes.Const) and isinstance(arg.value, str)
            enum_value = isinstance(arg, nodes.Getattr) and arg.attr == "value"
            if not (literal or enum_value):
                bad.append(f"{template.relative_to(SRC)}:{lineno}")
    for source in sorted(PACKAGE.rglob("*.py")):
        for lineno, expr in _python_calls(source):
            literal = isinstance(expr, ast.Constant) and isinstance(expr.value, str)
            concatenated = isinstance(expr, ast.JoinedStr)
            enum_value = isinstance(expr, ast.Attribute) and expr.attr == "value"
            if concatenated or not (literal or enum_value):
                bad.append(f"{source.relative_to(SRC)}:{lineno}")
    assert not bad, "translated text must be a string literal or an enum value: " + ", ".join(bad)


# --- the Chinese catalog ------------------------------------------------------------------------------------


def all_ids() -> list[str]:
    return sorted(set(extracted()) | set(ENUM_VALUES))


@pytest.mark.parametrize("message", all_ids())
def test_every_message_has_a_chinese_translation(message: str) -> None:
    zh = catalog("zh")
    assert zh.get(message, "").strip(), f"no zh_CN translation for {message!r} (used in {extracted().get(message)})"


@pytest.mark.parametrize("message", sorted(catalog("zh")))
def test_translation_keeps_the_placeholders(message: str) -> None:
    translation = catalog("zh")[message]
    assert placeholders(translation) == placeholders(message)
    values = {name: "X" for _l, name, _s, _c in Formatter().parse(message) if name}
    translation.format(**values)  # well-formed: no stray braces


HALF_WIDTH = re.compile(r"[,;:()!?]")


@pytest.mark.parametrize("message", sorted(catalog("zh")))
def test_chinese_uses_full_width_punctuation(message: str) -> None:
    translation = catalog("zh")[message]
    if not re.search(r"[\u4e00-\u9fff]", translation):
        return
    without_placeholders = re.sub(r"\{[^{}]*\}", "", translation)
    assert not HALF_WIDTH.search(without_placeholders), translation
    assert not re.search(r"[\u4e00-\u9fff]\.(\s|$)", without_placeholders), translation


def test_catalogs_have_no_fuzzy_or_untranslated_entries() -> None:
    from babel.messages.pofile import read_po

    for lang, folder in CATALOG_DIR.items():
        path = PACKAGE / "web" / "locale" / folder / "LC_MESSAGES" / "messages.po"
        with path.open("rb") as fh:
            po = read_po(fh, locale=folder)
        entries = [m for m in po if m.id]
        assert entries, f"{lang} catalog is empty"
        assert not [m.id for m in entries if m.fuzzy or not m.string], f"{lang}: fuzzy or empty entries"


# --- the English catalog: labels for enum values ------------------------------------------------------------


@pytest.mark.parametrize("value", ENUM_VALUES)
def test_every_enum_value_has_an_english_label(value: str) -> None:
    label = catalog("en").get(value, "")
    assert label.strip(), f"no en label for enum value {value!r}"
    assert "_" not in label


def test_english_catalog_holds_only_enum_labels() -> None:
    assert set(catalog("en")) <= set(ENUM_VALUES)


# --- Translator ---------------------------------------------------------------------------------------------


def test_translator_formats_after_translating() -> None:
    assert Translator("zh").gettext("Matching organisations: {n}", n=3) == "符合条件的机构：3家"
    assert Translator("en").gettext("Matching organisations: {n}", n=3) == "Matching organisations: 3"
    assert Translator("zh").gettext("Source: {ref}", ref="§2.1") == "来源：§2.1"


def test_translator_labels() -> None:
    zh, en = Translator("zh"), Translator("en")
    assert zh.gettext("China–Singapore FinTech Cooperation Demonstration Zone") == "中新金融科技合作示范区"
    assert zh.gettext(Status.AGREEMENT_SIGNED.value) == "已签署入驻协议"
    assert zh.gettext(Kind.FINANCIAL_INSTITUTION.value) == "金融机构"
    assert en.gettext(Status.AGREEMENT_SIGNED.value) == "agreement signed"
    assert en.gettext(Sector.DATA_AI.value) == "data and AI"
    assert en.gettext(TaskStatus.IN_PROGRESS.value) == "in progress"


def test_translator_falls_back() -> None:
    assert Translator("zh").gettext("A string nobody translated") == "A string nobody translated"
    assert Translator("fr").lang == DEFAULT_LANG
    assert Translator("fr").gettext("in_progress") == Translator(DEFAULT_LANG).gettext("in_progress")


# --- choose_lang --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("query", "cookie", "accept", "expected"),
    [
        ("en", "zh", "zh-CN,zh;q=0.9", "en"),  # the query beats the cookie and the header
        ("zh", "en", "en-GB", "zh"),
        (None, "zh", "en-GB,en;q=0.9", "zh"),  # the cookie beats the header
        (None, "en", "zh-CN", "en"),
        (None, None, "zh-CN,zh;q=0.9,en;q=0.8", "zh"),
        (None, None, "en-GB,en;q=0.9", "en"),
        (None, None, "en-US,zh-CN;q=0.9", "en"),
        (None, None, "fr-FR, zh;q=0.5", "zh"),  # the first language offered wins
        (None, None, "zh", "zh"),
        ("fr", None, "zh-CN", "zh"),  # an unknown query value is ignored
        (None, "xx", "zh-CN", "zh"),  # so is an unknown cookie
        ("", "", "", DEFAULT_LANG),
        ("fr", "de", "fr-FR,de;q=0.5", DEFAULT_LANG),  # nothing we offer: the default
        (None, None, "*", DEFAULT_LANG),
        (None, None, None, DEFAULT_LANG),
    ],
)
def test_choose_lang(query: str | None, cookie: str | None, accept: str | None, expected: str) -> None:
    assert choose_lang(query, cookie, accept) == expected


def test_accept_language_quality_values_are_honoured() -> None:
    assert choose_lang(None, None, "en;q=0.1, zh;q=0.9") == "zh"
    assert choose_lang(None, None, "zh-CN;q=0, en") == "en"
    assert choose_lang(None, None, "fr, zh-TW;q=0.5") == "zh"
