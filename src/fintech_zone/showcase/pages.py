"""The exhibition hall's home page (public, Chinese and English): the zone in figures, drawn with Apache ECharts
served by the package itself (no request leaves the machine)."""

from __future__ import annotations

import json

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from fintech_zone.registry.model import Sector
from fintech_zone.showcase import service
from fintech_zone.web.i18n import Translator
from fintech_zone.web.pages import render, request_lang
from fintech_zone.web.security import DB

router = APIRouter(tags=["pages"])


def _status_labels(t: Translator) -> dict[str, str]:
    """The sandbox pages' words for each pilot status (the same message ids: one translation serves both)."""
    return {
        "draft": t.gettext("Draft"),
        "submitted": t.gettext("Submitted"),
        "preliminary_review": t.gettext("Preliminary review"),
        "evaluation": t.gettext("Evaluation"),
        "public_disclosure": t.gettext("Public disclosure: open for comment"),
        "admitted": t.gettext("Admitted"),
        "testing": t.gettext("Testing"),
        "exited": t.gettext("Exited"),
    }


@router.get("/hall", response_class=HTMLResponse)
def hall(request: Request, db: DB) -> Response:
    f = service.home_figures(db)
    t = Translator(request_lang(request))
    sectors = {s.value: t.gettext(s.value) for s in Sector}  # the registry's enum values are message ids
    statuses = _status_labels(t)
    chart_data = {
        "jurisdiction": sorted(f.by_jurisdiction.items(), key=lambda kv: -kv[1]),
        "sector": [(sectors.get(k, k), v) for k, v in sorted(f.by_sector.items(), key=lambda kv: -kv[1])],
        "pilots": [(statuses[k], v) for k, v in f.pilots.items() if v],
    }
    # Embedded in the page (JSON, with "<" escaped): the charts need no second request.
    data = json.dumps(chart_data, ensure_ascii=False).replace("<", "\\u003c")
    return render(request, "hall.html", {"f": f, "chart_data": data})
