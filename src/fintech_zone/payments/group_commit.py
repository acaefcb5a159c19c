"""Group commit: the payments a process has waiting share one write transaction, each in its own savepoint.

Writes run one at a time (SQLite's single writer; the ledger's clock row on PostgreSQL), so under load payments
queue for the write lock, and each pays for its own BEGIN, COMMIT and hand-over. Here the first waiting payment
leads: it takes every payment queued behind it (up to ``MAX_GROUP``), runs each in a savepoint of one transaction
and commits once. A payment whose work fails rolls back its savepoint only; the others commit. Nothing is
acknowledged before the commit that makes it durable. The group's journal leaves, and its ledger legs as one
batch, are written together before that commit.
"""

from __future__ import annotations

import threading
import weakref
from collections.abc import Callable
from typing import Generic, TypeVar

from sqlalchemy import Connection

from fintech_zone.db import Database
from fintech_zone.db.driver import savepoint
from fintech_zone.journal import service as journal
from fintech_zone.ledger import service as ledger

T = TypeVar("T")
MAX_GROUP = 64


class _Job(Generic[T]):
    def __init__(self, work: Callable[[Connection], T]) -> None:
        self.work = work
        self.value: T | None = None
        self.error: BaseException | None = None
        self.done = threading.Event()

    def result(self) -> T:
        self.done.wait()
        if self.error is not None:
            raise self.error
        return self.value  # type: ignore[return-value]


class GroupCommit:
    def __init__(self, db: Database) -> None:
        self.db = db
        self.lock = threading.Lock()
        self.waiting: list[_Job[object]] = []
        self.leading = False

    def run(self, work: Callable[[Connection], T]) -> T:
        job = _Job(work)
        with self.lock:
            self.waiting.append(job)  # type: ignore[arg-type]
            lead = not self.leading
            self.leading = True
        if lead:
            self._lead()
        return job.result()

    def _lead(self) -> None:
        while True:
            with self.lock:
                group, self.waiting = self.waiting[:MAX_GROUP], self.waiting[MAX_GROUP:]
                if not group:
                    self.leading = False
                    return
            self._commit(group)

    def _commit(self, group: list[_Job[object]]) -> None:
        try:
            # The group's journal leaves are written once, at its end (journal.deferred), and so are its ledger
            # legs, as one batch applied to one book (ledger.deferred); a payment that fails takes its own leaves
            # and legs back with its savepoint.
            with self.db.transaction(checkpoint=False) as conn, journal.deferred(conn), ledger.deferred(conn):
                for job in group:
                    try:
                        with savepoint(conn), journal.undone_with(conn), ledger.undone_with(conn):
                            job.value = job.work(conn)
                    except Exception as exc:  # this payment's own failure: its savepoint is rolled back
                        job.error = exc
        except BaseException as exc:  # the commit itself failed: nothing of the group is durable
            for job in group:
                job.value, job.error = None, job.error or exc
            if not isinstance(exc, Exception):
                raise
        finally:
            for job in group:
                job.done.set()
        # After the answers: the group's payments are durable and need not wait for the WAL's copy.
        self.db.checkpoint_if_due()


_groups: weakref.WeakKeyDictionary[Database, GroupCommit] = weakref.WeakKeyDictionary()
_groups_lock = threading.Lock()


def for_database(db: Database) -> GroupCommit:
    with _groups_lock:
        group = _groups.get(db)
        if group is None:
            group = _groups[db] = GroupCommit(db)
        return group
