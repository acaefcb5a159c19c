"""Server-rendered pages: one Jinja2 environment over every context's templates, with language and user."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from fastapi import Request
from fastapi.responses import HTMLResponse
from jinja2 import ChoiceLoader, Environment, PackageLoader, select_autoescape

from fintech_zone.web.i18n import Translator, choose_lang
from fintech_zone.web.security import session_principal

LANG_COOKIE = "fz_lang"
TEMPLATE_PACKAGES = (
    "fintech_zone.web",
    "fintech_zone.registry",
    "fintech_zone.progress",
    "fintech_zone.payments",
    "fintech_zone.journal",
    "fintech_zone.sandbox",
    "fintech_zone.showcase",
)

env = Environment(
    loader=ChoiceLoader([PackageLoader(pkg, "templates") for pkg in TEMPLATE_PACKAGES]),
    autoescape=select_autoescape(["html"]),
    trim_blocks=True,
    lstrip_blocks=True,
)


def request_lang(request: Request) -> str:
    return choose_lang(
        request.query_params.get("lang"),
        request.cookies.get(LANG_COOKIE),
        request.headers.get("accept-language"),
    )


def url_with(request: Request, **changes: Any) -> str:
    """The current URL with some query parameters replaced (``None`` removes one)."""
    params = dict(request.query_params)
    for key, value in changes.items():
        if value is None:
            params.pop(key, None)
        else:
            params[key] = str(value)
    query = urlencode(params)
    return request.url.path + (f"?{query}" if query else "")


def render(request: Request, template: str, context: dict[str, Any], status_code: int = 200) -> HTMLResponse:
    lang = request_lang(request)
    t = Translator(lang)
    html = env.get_template(template).render(
        request=request,
        lang=lang,
        _=t.gettext,
        fmt_date=t.date,
        user=session_principal(request),
        url_with=lambda **kw: url_with(request, **kw),
        **context,
    )
    response = HTMLResponse(html, status_code=status_code)
    if request.query_params.get("lang") == lang:
        # Remember an explicit choice so the next page keeps the language.
        response.set_cookie(LANG_COOKIE, lang, max_age=365 * 86400, samesite="lax", httponly=True)
    return response
