"""Pausing Python's cyclic garbage collector while a large batch runs.

A ledger batch of 8,190 transfers allocates some hundred thousand short-lived objects (events, rows, results) and
makes no reference cycles. Each 700 allocations start a collection, and every few batches one of them walks every
object the process holds: a batch took 100.7 ms with the collector running and 79.9 ms with it paused
(benchmarks/hot_paths.py, docs/benchmarks.md). Reference
counting still frees everything at once; the collector runs again, on its usual thresholds, when the last paused
batch ends. Threads may overlap: the collector stays off until the last of them leaves, and is turned back on only
if it was on when the first came in.
"""

from __future__ import annotations

import gc
import threading
from collections.abc import Iterator
from contextlib import contextmanager

_lock = threading.Lock()
_inside = 0
_was_enabled = False


@contextmanager
def gc_paused() -> Iterator[None]:
    global _inside, _was_enabled
    with _lock:
        if _inside == 0:
            _was_enabled = gc.isenabled()
            gc.disable()
        _inside += 1
    try:
        yield
    finally:
        with _lock:
            _inside -= 1
            if _inside == 0 and _was_enabled:
                gc.enable()
