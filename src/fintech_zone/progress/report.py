"""Render a progress report (Markdown, HTML or PDF, Chinese or English) from ``ReportFacts``.

The structure follows the seed document: overview; progress by line of work; next steps.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Any

from fastapi import Response
from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape

from fintech_zone.progress.model import Milestone, Task, TaskStatus
from fintech_zone.progress.service import ReportFacts
from fintech_zone.web.i18n import Translator

ZH_NUMERALS = "〇一二三四五六七八九十"


class ReportFormat(StrEnum):
    MD = "md"
    HTML = "html"
    PDF = "pdf"


MEDIA_TYPES = {
    ReportFormat.MD: "text/markdown; charset=utf-8",
    ReportFormat.HTML: "text/html; charset=utf-8",
    ReportFormat.PDF: "application/pdf",
}

_env = Environment(
    loader=PackageLoader("fintech_zone.progress", "templates"),
    autoescape=select_autoescape(enabled_extensions=("html",), default_for_string=False),
    undefined=StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
    keep_trailing_newline=True,
)


def _numbering(lang: str) -> dict[str, Any]:
    def chapter(n: int) -> str:
        return f"{ZH_NUMERALS[n]}、" if lang == "zh" else f"{n}. "

    def item(n: int) -> str:
        return f"（{ZH_NUMERALS[n]}）" if lang == "zh" else f"({n}) "

    return {"chapter": chapter, "item": item}


def _context(facts: ReportFacts, lang: str) -> dict[str, Any]:
    t = Translator(lang)

    def pick(obj: Any, name: str) -> str:
        return str(getattr(obj, f"{name}_{lang}"))

    def org_name(org_id: str) -> str:
        org = facts.organisations.get(org_id)
        return pick(org, "name") if org else org_id

    def names(org_ids: tuple[str, ...]) -> str:
        return ("、" if lang == "zh" else ", ").join(org_name(i) for i in org_ids)

    def when(m: Milestone) -> str:
        return t.date(m.when.start, m.when.precision.value)

    def milestone_text(m: Milestone) -> str:
        parts = [pick(m, "title")]
        if m.figures:
            sep = "" if lang == "zh" else " "
            listed = t.gettext("; ").join(f"{f.value}{sep}{pick(f, 'label')}" for f in m.figures)
            parts.append(t.gettext("Figures: {list}.", list=listed))
        if m.agency_ids:
            parts.append(t.gettext("Agencies: {names}.", names=names(m.agency_ids)))
        return ("" if lang == "zh" else " ").join(parts)

    def task_text(task: Task, status: TaskStatus) -> str:
        details = [t.gettext("Lead: {name}", name=org_name(task.lead_id))]
        if task.co_agency_ids:
            details.append(t.gettext("Co-agencies: {names}", names=names(task.co_agency_ids)))
        details.append(t.gettext("Status: {status}", status=t.gettext(status.value)))
        details.append(t.gettext("Due: {date}", date=t.date(task.due_on) if task.due_on else t.gettext("not set")))
        return pick(task, "title") + t.gettext(" — ") + t.gettext("; ").join(details) + t.gettext(".")

    c = facts.registry_counts
    zone_figures = t.gettext(
        "Organisations in the registry on {date}: {n}. Settled: {settled}; agreement signed: {signed}; "
        "negotiating: {negotiating}; prospect: {prospect}; exited: {exited}.",
        date=t.date(facts.as_of),
        n=c.get("registered", 0),
        settled=c.get("settled", 0),
        signed=c.get("agreement_signed", 0),
        negotiating=c.get("negotiating", 0),
        prospect=c.get("prospect", 0),
        exited=c.get("exited", 0),
    )

    return {
        "f": facts,
        "lang": lang,
        "_": t.gettext,
        "pick": pick,
        "org_name": org_name,
        "names": names,
        "when": when,
        "milestone_text": milestone_text,
        "task_text": task_text,
        "zone_figures": zone_figures,
        "stop": "。" if lang == "zh" else ".",
        "fmt_date": t.date,
        **_numbering(lang),
    }


def render_markdown(facts: ReportFacts, lang: str) -> str:
    return _env.get_template("report.md.j2").render(**_context(facts, lang))


def render_html(facts: ReportFacts, lang: str) -> str:
    return _env.get_template("report.html").render(**_context(facts, lang))


def render_pdf(facts: ReportFacts, lang: str) -> bytes:
    # Imported here: WeasyPrint loads Pango at import, which only report generation needs.
    from weasyprint import HTML

    pdf: bytes = HTML(string=render_html(facts, lang)).write_pdf()
    return pdf


def download(facts: ReportFacts, lang: str, fmt: ReportFormat) -> Response:
    """The report as an HTTP response: HTML inline, Markdown and PDF as a named download."""
    filename = f"zone-progress-{facts.as_of.isoformat()}-{lang}.{fmt.value}"
    disposition = "inline" if fmt is ReportFormat.HTML else f'attachment; filename="{filename}"'
    return Response(render(facts, lang, fmt), media_type=MEDIA_TYPES[fmt], headers={"Content-Disposition": disposition})


def render(facts: ReportFacts, lang: str, fmt: ReportFormat) -> bytes:
    if fmt is ReportFormat.PDF:
        return render_pdf(facts, lang)
    if fmt is ReportFormat.HTML:
        return render_html(facts, lang).encode("utf-8")
    return render_markdown(facts, lang).encode("utf-8")
