"""Accounts kept in memory between batches, valid only while the ledger's clock has not moved.

A batch of 8,190 transfers among 10,000 accounts reads about 8,000 accounts; reading them back from the database
for every batch costs about as much as the engine itself. Every batch that changes an account moves the clock
(``ledger_clock``: each change takes a timestamp), and holds the clock row while it runs, so the accounts as they
were when the clock read ``T`` are still the accounts whenever it reads ``T`` again — whichever process wrote them.

The cache is handed over, not shared: a batch *takes* it (leaving it empty) after locking the clock, changes the
accounts in place, and *puts* them back only after its transaction has committed. A batch that fails leaves the
cache empty, so changes that were rolled back can never be read from it.
"""

from __future__ import annotations

import threading
import weakref

from fintech_zone.db import Database
from fintech_zone.ledger.model import Account

MAX_ACCOUNTS = 200_000  # more and the cache is dropped rather than kept (about 300 bytes an account)


class AccountCache:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._clock: int | None = None
        self._accounts: dict[str, Account] = {}

    def take(self, clock: int) -> dict[str, Account]:
        """The accounts as of ``clock`` (empty if the cache holds another moment); the cache is empty afterwards."""
        with self._lock:
            accounts = self._accounts if self._clock == clock else {}
            self._clock, self._accounts = None, {}
            return accounts

    def put(self, clock: int, accounts: dict[str, Account]) -> None:
        """Keep ``accounts``, committed as of ``clock``."""
        if len(accounts) > MAX_ACCOUNTS:
            return
        with self._lock:
            self._clock, self._accounts = clock, accounts


_caches: weakref.WeakKeyDictionary[Database, AccountCache] = weakref.WeakKeyDictionary()
_caches_lock = threading.Lock()


def for_database(db: Database) -> AccountCache:
    with _caches_lock:
        cache = _caches.get(db)
        if cache is None:
            cache = _caches[db] = AccountCache()
        return cache
