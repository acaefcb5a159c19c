"""HTTP API of the exhibition hall: the figures its pages show, as JSON (public, like the hall)."""

from __future__ import annotations

from datetime import datetime

from fastapi import APIRouter
from pydantic import BaseModel, Field

from fintech_zone.showcase import service
from fintech_zone.web.security import DB

router = APIRouter()


class SettledOut(BaseModel):
    count: int
    by_asset: dict[str, int] = Field(
        description="volume per asset in minor units (both legs of a cross-border payment)"
    )
    demo_count: int = Field(description="DEMO traffic (fintech-zone simulate payments), counted apart")
    demo_by_asset: dict[str, int]


class ShareOut(BaseModel):
    share: float | None = Field(description="None when no cross-border payment settled in the window")
    cross_border_cny_volume: int
    since: datetime


class FiguresOut(BaseModel):
    generated_at: datetime
    organisations: int
    by_jurisdiction: dict[str, int]
    by_sector: dict[str, int]
    by_status: dict[str, int] = Field(description='settlement pipeline; "" for organisations outside it')
    singapore_and_asean: int
    pilots: dict[str, int] = Field(description="pilots by status")
    settled_today: SettledOut = Field(description="payments settled on the rails today (UTC)")
    cny_share: ShareOut = Field(
        description="CNY's share of cross-border volume, real payments: the 365 UTC days before today and today so far"
    )
    cny_share_demo: ShareOut = Field(description="the same over DEMO traffic, shown apart and labelled")


@router.get("/figures", response_model=FiguresOut, summary="The zone in figures, counted from its records now")
def figures(db: DB) -> FiguresOut:
    f = service.home_figures(db)
    return FiguresOut(
        generated_at=f.generated_at,
        organisations=f.organisations,
        by_jurisdiction=f.by_jurisdiction,
        by_sector=f.by_sector,
        by_status=f.by_status,
        singapore_and_asean=f.singapore_and_asean,
        pilots=f.pilots,
        settled_today=SettledOut(**vars(f.settled_today)),
        cny_share=ShareOut(**vars(f.cny_share)),
        cny_share_demo=ShareOut(**vars(f.cny_share_demo)),
    )
