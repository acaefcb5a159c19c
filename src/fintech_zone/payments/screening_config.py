"""The screener the rails use, built once from the settings' list file and thresholds."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from fintech_zone.payments.screening import Screener, load_list
from fintech_zone.settings import Settings

DEMO_LIST = Path(__file__).parent / "data" / "screening-demo.csv"


def screener_for(settings: Settings) -> Screener:
    path = settings.screening_list or DEMO_LIST
    mtime = path.stat().st_mtime_ns if path.exists() else 0
    return _screener(str(path), mtime, settings.screening_review_threshold, settings.screening_reject_threshold)


@lru_cache(maxsize=4)
def _screener(path: str, mtime: int, review: float, reject: float) -> Screener:
    # The file's modification time is part of the key: a list replaced on disk is read again on the next payment.
    return Screener(load_list(path), review, reject)
