"""The exhibition hall's pages (public, Chinese and English): the zone in figures, Chongqing fintech, China–Singapore
cooperation, key projects and pilots, the live corridor and trust, each drawn live from the platform's records with
Apache ECharts served by the package itself (no request leaves the machine); and the kiosk, which shows them in
turn on a screen in the hall.

``?frame=1`` renders a page as a kiosk slide: no navigation, large type. ``/hall?kiosk=1`` is the kiosk itself."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, Response, StreamingResponse

from fintech_zone.errors import DomainError, NotFound
from fintech_zone.journal import keys
from fintech_zone.journal import service as journal
from fintech_zone.journal.pages import head_view
from fintech_zone.payments import figures as rails
from fintech_zone.registry.model import Sector
from fintech_zone.sandbox import service as sandbox
from fintech_zone.showcase import corridor, service
from fintech_zone.web.i18n import Translator
from fintech_zone.web.pages import render, request_lang
from fintech_zone.web.security import DB

router = APIRouter(tags=["pages"])

# The kiosk's slides, in the order of the hall's navigation (templates/hall_pages.html).
SLIDES = ("/hall", "/hall/fintech", "/hall/cooperation", "/hall/pilots", "/hall/corridor", "/hall/trust")

Frame = Annotated[bool, Query(description="render as a kiosk slide")]


def _json(data: Any) -> str:
    """Data for a page's charts, embedded in the page (no second request), safe inside <script>."""
    return json.dumps(data, ensure_ascii=False).replace("<", "\\u003c")


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


def _sectors(t: Translator) -> dict[str, str]:
    return {s.value: t.gettext(s.value) for s in Sector}  # the registry's enum values are message ids


def _territories(t: Translator) -> dict[str, str]:
    """Country names in the page's language (Babel's CLDR data), for the registry's ISO 3166 codes."""
    return dict(t.locale.territories)


def _page(request: Request, template: str, frame: bool, slide: str, **context: Any) -> Response:
    return render(request, template, {"frame": frame, "slide": slide, **context})


@router.get("/hall", response_class=HTMLResponse)
def hall(
    request: Request,
    db: DB,
    frame: Frame = False,
    kiosk: Annotated[bool, Query(description="the kiosk: every page in turn, full screen")] = False,
    rotate: Annotated[int, Query(ge=3, le=600, description="seconds each kiosk slide shows")] = 20,
) -> Response:
    if kiosk:
        lang = request_lang(request)
        slides = [f"{path}?frame=1&lang={lang}" for path in SLIDES]
        return render(request, "hall_kiosk.html", {"slides": slides, "rotate": rotate})
    f = service.home_figures(db)
    t = Translator(request_lang(request))
    sectors, statuses, names = _sectors(t), _status_labels(t), _territories(t)
    chart_data = {
        "jurisdiction": [(names.get(k, k), v) for k, v in sorted(f.by_jurisdiction.items(), key=lambda kv: -kv[1])],
        "sector": [(sectors.get(k, k), v) for k, v in sorted(f.by_sector.items(), key=lambda kv: -kv[1])],
        "pilots": [(statuses[k], v) for k, v in f.pilots.items() if v],
    }
    return _page(request, "hall.html", frame, "home", f=f, chart_data=_json(chart_data))


@router.get("/hall/fintech", response_class=HTMLResponse)
def fintech(request: Request, db: DB, frame: Frame = False) -> Response:
    f = service.fintech_figures(db)
    t = Translator(request_lang(request))
    sectors = _sectors(t)
    chart_data = {
        "growth": f.growth,
        "sector": [(sectors.get(k, k), v) for k, v in sorted(f.by_sector.items(), key=lambda kv: -kv[1])],
    }
    names = _territories(t)
    return _page(request, "hall_fintech.html", frame, "fintech", f=f, names=names, chart_data=_json(chart_data))


@router.get("/hall/cooperation", response_class=HTMLResponse)
def cooperation(request: Request, db: DB, frame: Frame = False) -> Response:
    return _page(request, "hall_cooperation.html", frame, "cooperation", c=service.cooperation(db))


@router.get("/hall/pilots", response_class=HTMLResponse)
def pilots(request: Request, db: DB, frame: Frame = False) -> Response:
    shown = sandbox.list_pilots(db, None)  # as the public sees them: disclosed pilots only
    counts: dict[str, int] = {}
    for p in shown:
        counts[p.status.value] = counts.get(p.status.value, 0) + 1
    return _page(request, "hall_pilots.html", frame, "pilots", pilots=shown, counts=counts)


@router.get("/hall/corridor", response_class=HTMLResponse)
def corridor_page(request: Request, db: DB, frame: Frame = False) -> Response:
    snap = corridor.snapshot(db)
    months, shares = rails.rmb_figures(db, *service.share_window())
    chart_data = {
        "snapshot": json.loads(snap.to_json()),
        "months": [vars(m) for m in service.monthly_rmb(months, shares)],
    }
    return _page(request, "hall_corridor.html", frame, "corridor", snap=snap, chart_data=_json(chart_data))


def _feed(request: Request) -> corridor.Feed:
    state = request.app.state
    if getattr(state, "corridor_feed", None) is None:
        state.corridor_feed = corridor.Feed(state.db)
    feed: corridor.Feed = state.corridor_feed
    return feed


@router.get("/hall/corridor/events")
async def corridor_events(request: Request) -> StreamingResponse:
    """Server-sent events: a snapshot of the corridor twice a second (``event: corridor``), for as long as the
    client stays (a server shutting down cuts the stream after its grace period; the browser reconnects)."""
    feed = _feed(request)

    async def stream() -> AsyncIterator[str]:
        yield "retry: 1000\n\n"  # after a dropped connection (a restart), the browser tries again within a second
        async for data in feed.subscribe():
            yield f"event: corridor\ndata: {data}\n\n"

    headers = {"Cache-Control": "no-store", "X-Accel-Buffering": "no"}
    return StreamingResponse(stream(), media_type="text/event-stream", headers=headers)


@router.get("/hall/trust", response_class=HTMLResponse)
def trust(request: Request, db: DB, frame: Frame = False) -> Response:
    try:
        public = keys.public_keys(request.app.state.settings.journal_key_dir)
    except DomainError:  # a malformed .pub file: the page says no keys are published rather than failing
        public = {}
    try:
        head = head_view(journal.latest_head(db), public)
    except NotFound:
        head = None
    context = {"head": head, "keys": {n: k.hex() for n, k in public.items()}}
    return _page(request, "hall_trust.html", frame, "trust", **context)
