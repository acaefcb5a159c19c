"""The rails' participants as a payment reads them (its agents, its quote's provider), kept in memory per database.

A participant's id, BIC, role, jurisdiction, demo flag and joining time are fixed when it joins, and participants
are never removed, so once read they hold for as long as the process runs, whichever process wrote them. Every
payment reads three of them inside its writers' turn; from here they cost no statement there. The one thing about
a participant that changes, its issuance cap, is not kept (``issuance_cap`` is None here): the payment path never
reads it, and issuance reads the participant from its own transaction.

Only committed participants may be put here: the payment path reads them in a group commit's transaction, which
writes payments, never participants.
"""

from __future__ import annotations

import threading
import weakref
from collections.abc import Iterable
from dataclasses import replace

from sqlalchemy import Connection, Engine

from fintech_zone.payments import store
from fintech_zone.payments.model import Participant


class AgentCache:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._known: dict[str, Participant] = {}

    def participants(self, conn: Connection, ids: Iterable[str]) -> dict[str, Participant]:
        """The participants of ``ids`` that exist (read through ``conn`` the first time), without their caps."""
        wanted = set(ids)
        with self._lock:
            found = {i: self._known[i] for i in wanted if i in self._known}
        missing = wanted.difference(found)
        if missing:
            read = {i: replace(p, issuance_cap=None) for i, p in store.participants_by_id(conn, missing).items()}
            with self._lock:
                self._known.update(read)
            found.update(read)
        return found


_caches: weakref.WeakKeyDictionary[Engine, AgentCache] = weakref.WeakKeyDictionary()
_caches_lock = threading.Lock()


def participants(conn: Connection, ids: Iterable[str]) -> dict[str, Participant]:
    """``AgentCache.participants`` of the cache of ``conn``'s database."""
    with _caches_lock:
        cache = _caches.get(conn.engine)
        if cache is None:
            cache = _caches[conn.engine] = AgentCache()
    return cache.participants(conn, ids)
