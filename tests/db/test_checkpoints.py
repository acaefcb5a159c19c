"""SQLite's WAL is copied into the database after write transactions, outside the writers' turn and on a thread
of its own, and a checkpoint that fails never fails the transaction that has already committed."""

from __future__ import annotations

import sqlite3
import threading
import time
from pathlib import Path
from typing import Any

import pytest

from fintech_zone.db import Database, engine


def _database(tmp_path: Path) -> Database:
    db = Database.from_url(f"sqlite:///{tmp_path / 'wal.db'}")
    with db.transaction() as conn:
        conn.exec_driver_sql("CREATE TABLE t (id INTEGER PRIMARY KEY, v BLOB)")
    return db


def test_a_write_is_checkpointed_after_its_turn_when_one_is_due(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    db = _database(tmp_path)
    answers: list[tuple[int, int, int] | None] = []
    real = Database._checkpoint

    def watched(self: Database) -> tuple[int, int, int] | None:
        # Outside the turn: another thread of this process could take the writers' lock meanwhile.
        assert self._writers is not None and self._writers.threads.acquire(blocking=False)
        self._writers.threads.release()
        answers.append(real(self))
        return answers[-1]

    monkeypatch.setattr(Database, "_checkpoint", watched)
    monkeypatch.setattr(engine, "CHECKPOINT_SECONDS", 3600.0)
    # Due: the last one was two hours ago (monotonic time starts near zero at boot, so not "0.0").
    db._checkpointed = time.monotonic() - 7200.0
    with db.transaction() as conn:
        conn.exec_driver_sql("INSERT INTO t (v) VALUES (zeroblob(200000))")
    assert db.wait_for_checkpoints()  # the copy runs on the checkpointer's thread
    assert len(answers) == 1 and answers[0] is not None
    busy, frames, copied = answers[0]
    assert busy == 0 and frames > 0 and copied == frames  # everything the write put in the WAL is in the database
    with db.transaction() as conn:  # not due again for an hour: SQLite's own backstop only
        conn.exec_driver_sql("INSERT INTO t (v) VALUES (zeroblob(200000))")
    assert db.wait_for_checkpoints() and len(answers) == 1
    db.dispose()


def test_a_failing_checkpoint_does_not_fail_the_committed_transaction(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    db = _database(tmp_path)

    def broken(*args: Any, **kwargs: Any) -> Any:
        raise sqlite3.OperationalError("disk I/O error")

    monkeypatch.setattr(Database, "_passive_checkpoint", broken)
    db._checkpointed = time.monotonic() - 7200.0
    with db.transaction() as conn:
        conn.exec_driver_sql("INSERT INTO t (v) VALUES (x'01')")
    assert db.wait_for_checkpoints()  # the checkpointer's thread met the failure and goes on
    assert db._checkpoint() is None
    with db.read() as conn:
        assert conn.exec_driver_sql("SELECT count(*) FROM t").scalar() == 1
    db.dispose()


def test_the_writer_does_not_wait_for_the_copy(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    db = _database(tmp_path)
    started, release = threading.Event(), threading.Event()
    real = Database._checkpoint

    def slow(self: Database) -> tuple[int, int, int] | None:
        started.set()
        release.wait(10)
        return real(self)

    monkeypatch.setattr(Database, "_checkpoint", slow)
    db._checkpointed = time.monotonic() - 7200.0
    with db.transaction() as conn:
        conn.exec_driver_sql("INSERT INTO t (v) VALUES (zeroblob(100000))")
    assert started.wait(10)  # the copy is running, and yet the writer goes on
    with db.transaction() as conn:
        conn.exec_driver_sql("INSERT INTO t (v) VALUES (x'02')")
    assert not db.wait_for_checkpoints(timeout=0.05)
    release.set()
    assert db.wait_for_checkpoints()
    with db.read() as conn:
        assert conn.exec_driver_sql("SELECT count(*) FROM t").scalar() == 2
    db.dispose()


def test_requests_during_a_copy_make_one_more_copy_and_dispose_stops_the_thread(tmp_path: Path) -> None:
    runs: list[int] = []
    started, release = threading.Event(), threading.Event()

    def run() -> None:
        runs.append(1)
        started.set()
        release.wait(10)

    checkpointer = engine._Checkpointer(run)
    checkpointer.request()
    assert started.wait(10)
    for _ in range(5):
        checkpointer.request()  # while the first copy runs
    release.set()
    assert checkpointer.wait_idle(10)
    assert len(runs) == 2
    thread = checkpointer._thread
    checkpointer.close()
    assert thread is not None and not thread.is_alive()
    checkpointer.request()  # after close: nothing starts
    assert checkpointer._thread is None and len(runs) == 2
