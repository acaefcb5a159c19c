"""Group commit: waiting work shares one transaction; a failing piece rolls back alone; nothing returns early."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Connection, text

from fintech_zone.db import Database
from fintech_zone.db.migrate import upgrade
from fintech_zone.errors import Conflict
from fintech_zone.payments.group_commit import GroupCommit


@pytest.fixture
def scratch(db: Database) -> Iterator[Database]:
    with db.transaction() as conn:
        conn.execute(text("CREATE TABLE gc_scratch (k INTEGER PRIMARY KEY)"))
    yield db
    with db.transaction() as conn:  # PostgreSQL keeps its schema from test to test
        conn.execute(text("DROP TABLE gc_scratch"))


def _keys(db: Database) -> list[int]:
    with db.read() as conn:
        return [r.k for r in conn.execute(text("SELECT k FROM gc_scratch ORDER BY k"))]


def test_concurrent_work_commits_together_and_a_failure_rolls_back_alone(scratch: Database) -> None:
    group = GroupCommit(scratch)
    results: dict[int, object] = {}
    start = threading.Barrier(12)

    def work(k: int) -> None:
        def body(conn: Connection) -> int:
            conn.execute(text("INSERT INTO gc_scratch (k) VALUES (:k)"), {"k": k})
            if k % 4 == 0:  # written, then refused: its savepoint must take the row back
                raise Conflict(f"refused {k}")
            return k * 10

        start.wait()
        try:
            results[k] = group.run(body)
        except Conflict as exc:
            results[k] = exc.detail

    threads = [threading.Thread(target=work, args=(k,)) for k in range(1, 13)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    assert results == {k: (f"refused {k}" if k % 4 == 0 else k * 10) for k in range(1, 13)}
    assert _keys(scratch) == [k for k in range(1, 13) if k % 4]


def test_work_returns_only_after_its_commit(scratch: Database) -> None:
    group = GroupCommit(scratch)
    seen: list[list[int]] = []

    def body(conn: Connection) -> None:
        conn.execute(text("INSERT INTO gc_scratch (k) VALUES (1)"))
        seen.append(_keys(scratch))  # another connection: the row is not committed yet

    group.run(body)
    assert seen == [[]] and _keys(scratch) == [1]


def test_a_piece_that_breaks_a_constraint_fails_alone(scratch: Database) -> None:
    group = GroupCommit(scratch)

    def body(conn: Connection) -> int:
        conn.execute(text("INSERT INTO gc_scratch (k) VALUES (7)"))
        return 7

    # The same key again: that piece's own savepoint fails on the duplicate key; what was committed stays.
    assert group.run(body) == 7
    with pytest.raises(Exception, match=r"(?i)unique|duplicate"):
        group.run(body)
    assert _keys(scratch) == [7]


def test_a_group_is_answered_before_the_wal_is_copied(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # SQLite only: the copy (Database.checkpoint_if_due) runs after every job of the group has its answer, so the
    # payments wait for their commit, not for the checkpoint that may follow it.
    db = Database.from_url(f"sqlite:///{tmp_path / 'gc.db'}")
    upgrade(db.engine)  # the group's journal and ledger sessions need their tables
    with db.transaction() as conn:
        conn.execute(text("CREATE TABLE gc_scratch (k INTEGER PRIMARY KEY)"))
    group = GroupCommit(db)
    jobs: list[object] = []
    answered_at_checkpoint: list[bool] = []
    real_commit = GroupCommit._commit

    def watched_commit(self: GroupCommit, group_jobs: list[Any]) -> None:
        jobs.extend(group_jobs)
        real_commit(self, group_jobs)

    def watched_checkpoint(self: Database) -> None:
        answered_at_checkpoint.append(bool(jobs) and all(j.done.is_set() for j in jobs))  # type: ignore[attr-defined]
        assert self._writers is not None and getattr(self._writers.local, "depth", 0) == 0  # outside the turn

    monkeypatch.setattr(GroupCommit, "_commit", watched_commit)
    monkeypatch.setattr(Database, "_checkpoint", watched_checkpoint)
    db._checkpointed = time.monotonic() - 7200.0  # due (monotonic time starts near zero at boot)
    assert group.run(lambda conn: conn.execute(text("INSERT INTO gc_scratch (k) VALUES (1)")).rowcount) == 1
    assert db.wait_for_checkpoints()  # the copy runs on the checkpointer's thread
    assert answered_at_checkpoint == [True]
    assert _keys(db) == [1]
    db.dispose()


def test_work_from_an_event_loop_shares_groups_and_fails_alone(scratch: Database) -> None:
    # run_async: the callers hold no thread; a worker thread leads, and each answer arrives on the caller's loop
    # only after the commit that made its work durable.
    group = GroupCommit(scratch)
    loop_thread: list[int] = []
    seen_at_answer: dict[int, list[int]] = {}

    def body(k: int) -> Any:
        def work(conn: Connection) -> int:
            assert threading.get_ident() != loop_thread[0]  # the database work is never on the loop
            conn.execute(text("INSERT INTO gc_scratch (k) VALUES (:k)"), {"k": k})
            if k % 5 == 0:
                raise Conflict(f"refused {k}")
            return k * 10

        return work

    async def one(k: int) -> object:
        try:
            value = await group.run_async(body(k))
        except Conflict as exc:
            return exc.detail
        seen_at_answer[k] = _keys(scratch)  # committed by the time the answer arrives
        return value

    async def main() -> list[object]:
        loop_thread.append(threading.get_ident())
        return list(await asyncio.gather(*(one(k) for k in range(1, 21))))

    results = asyncio.run(main())
    assert results == [f"refused {k}" if k % 5 == 0 else k * 10 for k in range(1, 21)]
    assert _keys(scratch) == [k for k in range(1, 21) if k % 5]
    assert all(k in keys for k, keys in seen_at_answer.items()) and len(seen_at_answer) == 16


def test_threads_and_an_event_loop_share_one_leader(scratch: Database) -> None:
    # A thread's run and a coroutine's run_async queue in the same group commit: whoever leads answers both.
    group = GroupCommit(scratch)
    release = threading.Event()

    def slow(conn: Connection) -> int:  # holds the lead until the coroutine's work is queued behind it
        conn.execute(text("INSERT INTO gc_scratch (k) VALUES (1)"))
        release.wait(timeout=10)
        return 1

    thread_result: list[int] = []
    leader = threading.Thread(target=lambda: thread_result.append(group.run(slow)))
    leader.start()
    while not group.leading:
        time.sleep(0.001)

    async def queued() -> int:
        task = asyncio.ensure_future(
            group.run_async(lambda conn: conn.execute(text("INSERT INTO gc_scratch (k) VALUES (2)")).rowcount)
        )
        await asyncio.sleep(0.05)
        release.set()
        return await task

    assert asyncio.run(queued()) == 1
    leader.join(timeout=10)
    assert thread_result == [1] and _keys(scratch) == [1, 2]


def test_what_arrives_while_another_writer_holds_the_turn_joins_the_group(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # SQLite only: the leader takes its group once the writers' turn is its own, so the payments that queued while
    # another writer held the turn (here another thread; in a server, the other worker) commit with it.
    db = Database.from_url(f"sqlite:///{tmp_path / 'gc.db'}")
    upgrade(db.engine)
    with db.transaction() as conn:
        conn.execute(text("CREATE TABLE gc_scratch (k INTEGER PRIMARY KEY)"))
    group = GroupCommit(db)
    sizes: list[int] = []
    real_commit = GroupCommit._commit

    def watched_commit(self: GroupCommit, group_jobs: list[Any]) -> None:
        sizes.append(len(group_jobs))
        real_commit(self, group_jobs)

    monkeypatch.setattr(GroupCommit, "_commit", watched_commit)

    def insert(k: int) -> Any:
        return lambda conn: conn.execute(text("INSERT INTO gc_scratch (k) VALUES (:k)"), {"k": k}).rowcount

    held, release = threading.Event(), threading.Event()

    def other_writer() -> None:
        with db.writers_turn():
            held.set()
            release.wait(timeout=30)

    holder = threading.Thread(target=other_writer)
    holder.start()
    assert held.wait(timeout=30)
    threads = [threading.Thread(target=group.run, args=(insert(k),)) for k in range(1, 6)]
    for t in threads:
        t.start()
    deadline = time.monotonic() + 30
    while len(group.waiting) < 5 and time.monotonic() < deadline:
        time.sleep(0.01)  # the first to arrive leads and waits for the turn; the others queue behind it
    release.set()
    for t in [holder, *threads]:
        t.join(timeout=30)
    assert sizes == [5]
    assert _keys(db) == [1, 2, 3, 4, 5]
    db.dispose()


def test_a_writers_turn_that_cannot_be_had_is_every_waiting_payments_answer(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # SQLite only: when the turn's lock file fails, the payments get that failure as their answer; none waits on.
    from fintech_zone.db import engine

    db = Database.from_url(f"sqlite:///{tmp_path / 'gc.db'}")
    upgrade(db.engine)

    @contextmanager
    def broken_turn(self: Any) -> Iterator[None]:
        raise OSError("no lock file")
        yield

    monkeypatch.setattr(engine._SqliteWriterQueue, "turn", broken_turn)
    group = GroupCommit(db)
    answers: list[BaseException] = []

    def send() -> None:
        try:
            group.run(lambda conn: 1)
        except OSError as exc:
            answers.append(exc)

    threads = [threading.Thread(target=send) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    assert not any(t.is_alive() for t in threads)
    assert [str(a) for a in answers] == ["no lock file"] * 3
    assert not group.leading and not group.waiting
    db.dispose()
