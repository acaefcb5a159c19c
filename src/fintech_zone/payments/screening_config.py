"""The screener the rails use, built once from the settings' list file and thresholds."""

from __future__ import annotations

import threading
from functools import lru_cache
from pathlib import Path
from time import monotonic

from fintech_zone.payments.screening import Screener, load_list
from fintech_zone.settings import Settings

DEMO_LIST = Path(__file__).parent / "data" / "screening-demo.csv"
CHECK_SECONDS = 1.0
"""How often, at most, a process looks at the list file for a change. Each look is two system calls on the event
loop of every payment request, and each gives the interpreter away to the payments' group commit and waits to get
it back; a list replaced on disk is used from at most a second later."""

_checked: dict[tuple[Path, float, float], tuple[float, Screener]] = {}
_checked_lock = threading.Lock()


def screener_for(settings: Settings) -> Screener:
    path = settings.screening_list or DEMO_LIST
    key = (path, settings.screening_review_threshold, settings.screening_reject_threshold)
    now = monotonic()
    if (checked := _checked.get(key)) is not None and now - checked[0] < CHECK_SECONDS:
        return checked[1]
    mtime = path.stat().st_mtime_ns if path.exists() else 0
    screener = _screener(str(path), mtime, *key[1:])
    with _checked_lock:
        if len(_checked) >= 16:  # settings come and go only in tests
            _checked.clear()
        _checked[key] = (now, screener)
    return screener


@lru_cache(maxsize=4)
def _screener(path: str, mtime: int, review: float, reject: float) -> Screener:
    # The file's modification time is part of the key: a list replaced on disk is read again (CHECK_SECONDS).
    return Screener(load_list(path), review, reject)
