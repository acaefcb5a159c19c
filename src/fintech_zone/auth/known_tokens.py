"""The principals behind bearer tokens a server process has already looked up, kept until a token is revoked.

Every API request looked its token up in the database. On SQLite that read runs on the event loop (a thread would
cost more), and each statement gives up the interpreter while SQLite works and then waits to get it back from the
thread leading the payments' group commit: a fifth of the event loop's time under payment load went to it
(docs/benchmarks.md, Payment rails). A token's principal never changes; only its revocation does. So each process
keeps the principals it has seen, and every revocation rewrites eight bytes in a file beside the database, which
every process serving it has mapped into memory: a process that sees them change forgets every principal it knew
and reads each token afresh. A revoked token is therefore refused by every server process from its next request, as
before. The mark is rewritten before the revocation commits and again after it, so a look-up racing the revocation
cannot keep the token; if the process dies between its commit and the second mark, a principal read in between
is kept at most ``KEEP_SECONDS``.

Only for SQLite files: the processes serving one share its machine, and so the mark's file. On PostgreSQL (servers
on several machines) every request still reads its token.
"""

from __future__ import annotations

import mmap
import os
import threading
import weakref
from time import monotonic

from fintech_zone.auth.model import Principal
from fintech_zone.db import Database

MARK_SIZE = 8
KEEP_SECONDS = 60.0
"""A principal is read again after this long even when no revocation was seen (the backstop described above)."""
MAX_KNOWN = 4096
"""Tokens a process remembers; past that it starts afresh (a deployment has a handful per participant)."""


class RevocationMark:
    """Eight bytes in the file ``path``, mapped shared: rewritten with random bytes at every revocation."""

    def __init__(self, path: str) -> None:
        fd = os.open(path, os.O_CREAT | os.O_RDWR, 0o600)
        try:
            if os.fstat(fd).st_size < MARK_SIZE:
                os.ftruncate(fd, MARK_SIZE)  # a new file, zeros; another process's truncation to 8 changes nothing
            self._map = mmap.mmap(fd, MARK_SIZE)
        finally:
            os.close(fd)  # the mapping keeps the file

    def read(self) -> bytes:
        return self._map[:MARK_SIZE]

    def advance(self) -> None:
        self._map[:MARK_SIZE] = os.urandom(MARK_SIZE)


class KnownTokens:
    def __init__(self, mark: RevocationMark) -> None:
        self.mark = mark
        self.seen = mark.read()
        self.known: dict[str, tuple[Principal, float]] = {}
        self.lock = threading.Lock()

    def current(self) -> bytes:
        """The mark now, forgetting every principal if it moved. Read it before the database: a principal read
        after it is kept only under it, so a revocation that commits after that read still makes it forgotten."""
        mark = self.mark.read()
        if mark != self.seen:
            with self.lock:
                self.known.clear()
                self.seen = mark
        return mark

    def get(self, token_hash: str) -> Principal | None:
        if (kept := self.known.get(token_hash)) is None:
            return None
        principal, until = kept
        return principal if monotonic() < until else None

    def keep(self, token_hash: str, principal: Principal, mark: bytes) -> None:
        with self.lock:
            if mark != self.mark.read():  # revoked meanwhile: keep nothing read before it
                return
            if len(self.known) >= MAX_KNOWN:
                self.known.clear()
            self.known[token_hash] = (principal, monotonic() + KEEP_SECONDS)


_by_database: weakref.WeakKeyDictionary[Database, KnownTokens | None] = weakref.WeakKeyDictionary()
_by_database_lock = threading.Lock()


def for_database(db: Database) -> KnownTokens | None:
    """The process's known tokens for ``db``; None where every request reads its token (PostgreSQL, in-memory or
    URI-named SQLite, or a mark file that cannot be made: then ``auth.service.revoke_token`` refuses to revoke)."""
    try:
        return _by_database[db]
    except KeyError:
        pass
    with _by_database_lock:
        if db not in _by_database:
            path = db.beside_file(".revocations")
            try:
                _by_database[db] = KnownTokens(RevocationMark(path)) if path is not None else None
            except OSError:
                _by_database[db] = None
        return _by_database[db]
