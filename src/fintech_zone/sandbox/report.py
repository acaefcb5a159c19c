"""A pilot's exit report (HTML or PDF, Chinese or English), generated from its records: the statement in brief,
the boundaries and the space used, what happened on the rails, the regulators' scores, the history, the outcome
and the final assessment in its nine dimensions."""

from __future__ import annotations

from enum import StrEnum
from typing import Any

from fastapi import Response
from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape

from fintech_zone.sandbox.model import Criterion, Dimension, Pilot
from fintech_zone.web.i18n import Translator


class ReportFormat(StrEnum):
    HTML = "html"
    PDF = "pdf"


MEDIA_TYPES = {ReportFormat.HTML: "text/html; charset=utf-8", ReportFormat.PDF: "application/pdf"}

_env = Environment(
    loader=PackageLoader("fintech_zone.sandbox", "templates"),
    autoescape=select_autoescape(enabled_extensions=("html",), default_for_string=False),
    undefined=StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
)


def render_html(pilot: Pilot, usage: dict[str, Any], events: dict[str, int], lang: str) -> str:
    t = Translator(lang)
    return _env.get_template("sandbox_report.html").render(
        pilot=pilot,
        app=pilot.application,
        usage=usage,
        events=events,
        lang=t.lang,
        _=t.gettext,
        fmt_date=t.date,
        criteria=[c.value for c in Criterion],
        dimensions=[d.value for d in Dimension],
    )


def render(pilot: Pilot, usage: dict[str, Any], events: dict[str, int], lang: str, fmt: ReportFormat) -> bytes:
    html = render_html(pilot, usage, events, lang)
    if fmt is ReportFormat.HTML:
        return html.encode("utf-8")
    # Imported here: WeasyPrint loads Pango at import, which only report generation needs.
    from weasyprint import HTML

    pdf: bytes = HTML(string=html).write_pdf()
    return pdf


def download(pilot: Pilot, usage: dict[str, Any], events: dict[str, int], lang: str, fmt: ReportFormat) -> Response:
    """HTML inline, PDF as a named download."""
    disposition = "inline" if fmt is ReportFormat.HTML else f'attachment; filename="pilot-{pilot.id}-exit-{lang}.pdf"'
    body = render(pilot, usage, events, lang, fmt)
    return Response(body, media_type=MEDIA_TYPES[fmt], headers={"Content-Disposition": disposition})
