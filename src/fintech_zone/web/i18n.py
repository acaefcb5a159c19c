"""Chinese and English for every page, from Babel message catalogs (``web/locale/*/LC_MESSAGES/messages.po``).

English strings are the message ids; ``zh`` comes from the catalog. Reading the ``.po`` directly keeps the
repository free of compiled ``.mo`` build products.
"""

from __future__ import annotations

from datetime import date
from functools import cache
from importlib import resources

from babel import Locale, negotiate_locale
from babel.dates import format_date
from babel.messages.pofile import read_po

LANGS = ("zh", "en")
BABEL_LOCALE = {"zh": "zh_Hans_CN", "en": "en_GB"}
CATALOG_DIR = {"zh": "zh_CN", "en": "en"}
DEFAULT_LANG = "en"


@cache
def catalog(lang: str) -> dict[str, str]:
    if lang not in CATALOG_DIR:
        return {}
    path = resources.files("fintech_zone.web") / "locale" / CATALOG_DIR[lang] / "LC_MESSAGES" / "messages.po"
    with path.open("rb") as fh:
        po = read_po(fh, locale=CATALOG_DIR[lang])
    return {str(m.id): str(m.string) for m in po if m.id and m.string and not m.fuzzy}


class Translator:
    def __init__(self, lang: str) -> None:
        self.lang = lang if lang in LANGS else DEFAULT_LANG
        self._messages = catalog(self.lang)
        self.locale = Locale.parse(BABEL_LOCALE[self.lang])

    def gettext(self, message: str, **values: object) -> str:
        text = self._messages.get(message, message)
        return text.format(**values) if values else text

    def date(self, value: date | None, precision: str = "day") -> str:
        if value is None:
            return ""
        if precision == "month":
            return format_date(value, "yyyy年M月" if self.lang == "zh" else "MMM yyyy", locale=self.locale)
        if precision == "year":
            return str(value.year) + ("年" if self.lang == "zh" else "")
        return format_date(value, "long", locale=self.locale)


def choose_lang(query: str | None, cookie: str | None, accept_language: str | None) -> str:
    for candidate in (query, cookie):
        if candidate in LANGS:
            return candidate
    if accept_language:
        for tag in _by_quality(accept_language):
            found = negotiate_locale([tag], ["zh_CN", "zh", "en"], sep="_")
            if found:
                return "zh" if found.startswith("zh") else "en"
    return DEFAULT_LANG


def _by_quality(header: str) -> list[str]:
    """Language tags of an Accept-Language header, most preferred first (q-values honoured, q=0 dropped)."""
    weighted: list[tuple[float, int, str]] = []
    for position, part in enumerate(header.split(",")):
        tag, _, params = part.strip().partition(";")
        quality = 1.0
        if params.strip().startswith("q="):
            try:
                quality = float(params.strip()[2:])
            except ValueError:
                quality = 0.0
        if tag and quality > 0:
            weighted.append((-quality, position, tag.strip().replace("-", "_")))
    return [tag for _, _, tag in sorted(weighted)]
