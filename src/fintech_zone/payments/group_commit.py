"""Group commit: the payments a process has waiting share one write transaction, each in its own savepoint.

Writes run one at a time (SQLite's single writer; the ledger's clock row on PostgreSQL), so under load payments
queue for the write lock, and each pays for its own BEGIN, COMMIT and hand-over. Here the first waiting payment
leads: once the writers' turn is its own, it takes every payment queued by then (up to ``MAX_GROUP``), runs each in
a savepoint of one transaction and commits once. A payment whose work fails rolls back its savepoint only; the
others commit. Nothing is acknowledged before the commit that makes it durable. The group's journal leaves, and its
ledger legs as one batch, are written together before that commit.

Work comes from threads (``run``: the caller's thread waits, and leads when nobody does) or from an event loop
(``run_async``: the request waits on a future, holding no thread; when nobody leads, a worker thread of the loop's
executor does, for as long as work keeps arriving). The HTTP API's payments take the second way: handing every
request to a worker thread and back cost a tenth of a worker's interpreter time under load (docs/benchmarks.md).
"""

from __future__ import annotations

import asyncio
import contextlib
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
    def __init__(self, work: Callable[[Connection], T], loop: asyncio.AbstractEventLoop | None = None) -> None:
        self.work = work
        self.value: T | None = None
        self.error: BaseException | None = None
        self.done = threading.Event()
        self.loop = loop
        self.future: asyncio.Future[T] | None = loop.create_future() if loop is not None else None

    def result(self) -> T:
        self.done.wait()
        if self.error is not None:
            raise self.error
        return self.value  # type: ignore[return-value]

    def finish(self) -> None:
        """Called by the leader once the job's group has committed (or failed)."""
        self.done.set()
        if self.loop is not None:
            # RuntimeError: the loop has closed (the server is stopping), and nobody waits for the answer.
            with contextlib.suppress(RuntimeError):
                self.loop.call_soon_threadsafe(self._answer)

    def _answer(self) -> None:  # on the job's loop
        future = self.future
        if future is None or future.done():  # the waiting request was cancelled (its client went away)
            return
        if self.error is not None:
            future.set_exception(self.error)
        else:
            future.set_result(self.value)  # type: ignore[arg-type]


class GroupCommit:
    def __init__(self, db: Database) -> None:
        self.db = db
        self.lock = threading.Lock()
        self.waiting: list[_Job[object]] = []
        self.leading = False

    def run(self, work: Callable[[Connection], T]) -> T:
        job = _Job(work)
        if self._enqueue(job):
            self._lead()
        return job.result()

    async def run_async(self, work: Callable[[Connection], T]) -> T:
        """``run`` for a coroutine: the same group commit, answered on the caller's event loop."""
        loop = asyncio.get_running_loop()
        job = _Job(work, loop)
        if self._enqueue(job):
            loop.run_in_executor(None, self._lead)  # its own failures end up in each job's answer
        assert job.future is not None
        return await job.future

    def _enqueue(self, job: _Job[T]) -> bool:
        """Queue ``job``; True when the caller must see that it is led (nobody leads yet)."""
        with self.lock:
            self.waiting.append(job)  # type: ignore[arg-type]
            lead = not self.leading
            self.leading = True
        return lead

    def _take(self) -> list[_Job[object]]:
        """The next group; an empty one ends the lead (under the lock, so a job queued later leads anew)."""
        with self.lock:
            group, self.waiting = self.waiting[:MAX_GROUP], self.waiting[MAX_GROUP:]
            if not group:
                self.leading = False
            return group

    def _lead(self) -> None:
        try:
            while True:
                try:
                    # The group is taken once the writers' turn is ours: what arrives while another process writes
                    # joins it, so each turn carries more payments (docs/benchmarks.md, 7 December, evening).
                    with self.db.writers_turn():
                        if not (group := self._take()):
                            return
                        self._commit(group)
                except Exception:
                    # The turn itself could not be had or given back (its lock file): the next group's transaction
                    # meets the same failure and answers each of its payments with it, rather than leave them waiting.
                    if not (group := self._take()):
                        return
                    self._commit(group)
                # After the answers and outside the turn: the group's payments are durable and need not wait for
                # the WAL's copy, and the next writer need not wait for it either.
                self.db.checkpoint_if_due()
        except BaseException:
            # Only a BaseException (KeyboardInterrupt, SystemExit) gets here, after its group was answered: let the
            # next caller lead rather than leave every later job waiting for a leader that is gone.
            with self.lock:
                self.leading = False
            raise

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
                job.finish()


_groups: weakref.WeakKeyDictionary[Database, GroupCommit] = weakref.WeakKeyDictionary()
_groups_lock = threading.Lock()


def for_database(db: Database) -> GroupCommit:
    with _groups_lock:
        group = _groups.get(db)
        if group is None:
            group = _groups[db] = GroupCommit(db)
        return group
