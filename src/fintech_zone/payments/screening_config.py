"""The screener the rails use, built once from the settings' list file and thresholds."""

from __future__ import annotations

import threading
from pathlib import Path
from time import monotonic

from fintech_zone.payments.screening import Screener, load_list
from fintech_zone.settings import Settings

DEMO_LIST = Path(__file__).parent / "data" / "screening-demo.csv"
CHECK_SECONDS = 1.0
"""How often, at most, a process looks at the list file for a change. Each look is two system calls on the event
loop of every payment request, and each gives the interpreter away to the payments' group commit and waits to get
it back; a list replaced on disk is used from at most a second later."""

_checked: dict[tuple[Path, float, float], tuple[float, int, Screener]] = {}
_checked_lock = threading.Lock()


def screener_for(settings: Settings) -> Screener:
    """The screener for the settings' list and thresholds, built again only when the list file has changed."""
    path = settings.screening_list or DEMO_LIST
    key = (path, settings.screening_review_threshold, settings.screening_reject_threshold)
    now = monotonic()
    checked = _checked.get(key)
    if checked is not None and now - checked[0] < CHECK_SECONDS:
        return checked[2]
    mtime = path.stat().st_mtime_ns if path.exists() else 0
    if checked is None or checked[1] != mtime:  # a new or changed list file: read it
        checked = (now, mtime, Screener(load_list(str(path)), *key[1:]))
    screener = checked[2]
    with _checked_lock:
        if len(_checked) >= 16:  # settings come and go only in tests
            _checked.clear()
        _checked[key] = (now, mtime, screener)
    return screener
