"""Engine creation and the unit of work that owns each transaction."""

from __future__ import annotations

import fcntl
import os
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import Connection, Engine, create_engine, event
from sqlalchemy.engine import make_url

PAGE_SIZE = 8192
"""The page size of a new SQLite database. Every page a transaction changes goes to the WAL whole at its commit: a
group of payments changes a page or two in each of some twenty B-trees, and 16 KiB pages made its commit write and
checksum twice the bytes (8 KiB pages: +9 % settled payments/s, p99 70 -> 50 ms). Smaller pages cost the journal's
bulk appends, whose leaves and tiles span several pages: 4 KiB pages gave payments +15 % but left appends only
2.0-2.1x pymerkle, at the edge of that target; 8 KiB keep 2.4x (docs/benchmarks.md, 7 December, evening)."""


def make_engine(url: str) -> Engine:
    """Build an engine; SQLite gets WAL, ``synchronous=NORMAL`` and enforced foreign keys (DESIGN.md)."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        engine = create_engine(url, connect_args={"timeout": 30, "check_same_thread": False})

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
            # pysqlite's own transaction handling would defer BEGIN until the first write, which lets two
            # writers read stale data; we issue BEGIN ourselves (see _sqlite_begin) and switch its handling off.
            dbapi_conn.isolation_level = None
            cur = dbapi_conn.cursor()
            # Only a new, empty database takes a page size (before WAL is on); an existing one keeps its own.
            cur.execute(f"PRAGMA page_size={PAGE_SIZE}")
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA synchronous=NORMAL")
            cur.execute("PRAGMA foreign_keys=ON")
            cur.execute("PRAGMA busy_timeout=30000")
            # A ledger batch writes thousands of rows into several indexes and updates thousands of accounts: with
            # SQLite's default 2 MB cache those pages are read back from the OS for every batch (64 MiB made a batch
            # of 8,190 transfers about a third faster when measured, docs/benchmarks.md). The cache fills only as
            # pages are read. Checkpoints: SQLite's own run inside the committing writer's turn, so every writer
            # queued behind it waits for the whole copy (payments' p99 114 ms with a checkpoint at 160 MB, 68 ms at
            # 40 MB, which cost 15 % of their throughput instead). Database.transaction runs a passive checkpoint
            # after the turn instead (CHECKPOINT_SECONDS); SQLite's at 10,000 pages (80 MB) is only the backstop
            # for writes that do not go through it.
            cur.execute("PRAGMA cache_size=-65536")
            cur.execute("PRAGMA wal_autocheckpoint=10000")
            cur.close()

        @event.listens_for(engine, "begin")
        def _sqlite_begin(conn: Connection) -> None:
            # IMMEDIATE takes the write lock at BEGIN, so concurrent writers queue on busy_timeout instead of
            # failing later with "database is locked" on lock upgrade. Readers take no lock (WAL snapshot).
            readonly = conn.get_execution_options().get("fz_readonly", False)
            # On the driver's connection: Core's statement machinery cost more than the BEGIN itself, and a group
            # of payments waits for it in the writers' turn.
            conn.connection.dbapi_connection.execute("BEGIN" if readonly else "BEGIN IMMEDIATE")  # type: ignore[union-attr]

        return engine
    return create_engine(url, pool_pre_ping=True, pool_size=10, max_overflow=10)


CHECKPOINT_SECONDS = 0.5
"""How often, at most, a process copies SQLite's WAL into the database after a write transaction, outside the
writers' turn and on a thread of its own (``_Checkpointer``): the writers go on meanwhile, and the WAL stays small
(about half a second of writes)."""


class Database:
    """Holds the engine; ``transaction()`` is the unit of work every use case runs inside."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        writers = self.beside_file(".writers")
        self._writers = _SqliteWriterQueue(writers) if writers is not None else None
        self._checkpointed = time.monotonic()
        self._checkpointer = _Checkpointer(lambda: self._checkpoint())

    @classmethod
    def from_url(cls, url: str) -> Database:
        return cls(make_engine(url))

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    def beside_file(self, suffix: str) -> str | None:
        """The path of a file beside a SQLite database file (its name plus ``suffix``), through which the processes
        serving it coordinate; None for PostgreSQL and for in-memory or URI-named SQLite databases."""
        path = self.engine.url.database
        if self.dialect != "sqlite" or not path or path == ":memory:" or path.startswith("file:"):
            return None
        return os.path.abspath(path) + suffix

    @contextmanager
    def transaction(self, checkpoint: bool = True) -> Iterator[Connection]:
        """One transaction: commits when the block ends, rolls back on any exception, so nothing is half-written.
        ``checkpoint=False``: the caller runs ``checkpoint_if_due`` itself once it has answered whoever waits for
        this commit (a group commit's payments)."""
        with self.writers_turn(), self.engine.begin() as conn:
            yield conn
        if checkpoint:
            self.checkpoint_if_due()

    @contextmanager
    def writers_turn(self) -> Iterator[None]:
        """Hold SQLite's writers' turn across several transactions of this thread (``transaction`` inside it does not
        queue again); nothing to hold on PostgreSQL. Run ``checkpoint_if_due`` after it, not inside."""
        if self._writers is None:
            yield
            return
        with self._writers.turn():
            yield

    def checkpoint_if_due(self) -> None:
        """Have SQLite's WAL copied into the database when the last copy is ``CHECKPOINT_SECONDS`` old; call it
        outside the writers' turn. The copy runs on the checkpointer's thread: the caller does not wait for it.
        Nothing to do on PostgreSQL."""
        if self._writers is not None and time.monotonic() - self._checkpointed >= CHECKPOINT_SECONDS:
            self._checkpointed = time.monotonic()
            self._checkpointer.request()

    def wait_for_checkpoints(self, timeout: float = 30.0) -> bool:
        """Wait until every checkpoint asked for has run (False if ``timeout`` passed first)."""
        return self._checkpointer.wait_idle(timeout)

    def _checkpoint(self) -> tuple[int, int, int] | None:
        """SQLite's answer (busy, frames in the WAL, frames copied), or None when it could not run."""
        self._checkpointed = time.monotonic()
        try:
            return self._passive_checkpoint()
        except Exception:  # the transaction has committed: a checkpoint that fails now is simply tried again later
            return None

    def _passive_checkpoint(self) -> tuple[int, int, int]:
        # PASSIVE copies what no reader still needs and never waits for readers or writers. On the driver's own
        # connection, outside any transaction (SQLAlchemy would begin one). Threads or processes that start one
        # at the same time: SQLite lets one run and the others return at once.
        raw = self.engine.raw_connection()
        try:
            cursor = raw.cursor()
            busy, frames, copied = cursor.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()
            cursor.close()
        finally:
            raw.close()
        return int(busy), int(frames), int(copied)

    @contextmanager
    def read(self) -> Iterator[Connection]:
        """A read-only unit of work (still a transaction, so a query sees one consistent snapshot)."""
        with self.engine.connect() as conn:
            conn = conn.execution_options(fz_readonly=True)
            with conn.begin():
                yield conn

    @contextmanager
    def single_read(self) -> Iterator[Connection]:
        """A connection for ONE read statement, without BEGIN: a single statement reads one consistent snapshot
        on its own, and the transaction's round trips cost more than a small read (a journal proof)."""
        with self.engine.connect() as conn:
            yield conn

    def dispose(self) -> None:
        self._checkpointer.close()
        self.engine.dispose()
        if self._writers is not None:
            self._writers.close()


class _SqliteWriterQueue:
    """SQLite writers take turns here before BEGIN IMMEDIATE: a lock for this process's threads and an flock on a
    file beside the database for other processes. Left to SQLite alone, a waiting writer polls in its busy
    handler, which sleeps up to 100 ms between tries: under load most of a write's latency was that sleep (a
    payment's p99 1.1 s, docs/benchmarks.md). Queued here, the next writer starts as soon as the last commits.
    SQLite's own locking still guards the file against any writer that does not queue here."""

    def __init__(self, lock_path: str) -> None:
        self.lock_path = lock_path
        self.threads = threading.RLock()
        self.local = threading.local()
        self.fd: int | None = None

    @contextmanager
    def turn(self) -> Iterator[None]:
        with self.threads:
            depth = getattr(self.local, "depth", 0)
            self.local.depth = depth + 1
            try:
                if depth > 0:  # only the outermost turn holds the file lock (flock is per process, not nested)
                    yield
                    return
                if self.fd is None:
                    self.fd = os.open(self.lock_path, os.O_CREAT | os.O_RDWR, 0o600)
                fd = self.fd
                fcntl.flock(fd, fcntl.LOCK_EX)
                try:
                    yield
                finally:
                    fcntl.flock(fd, fcntl.LOCK_UN)
            finally:
                self.local.depth = depth

    def close(self) -> None:
        with self.threads:
            if self.fd is not None:
                os.close(self.fd)
                self.fd = None


class _Checkpointer:
    """Runs the WAL's copy on a thread of its own, started at the first request. SQLite does the copy with the
    interpreter released, so on a second core it overlaps the writer's next transaction instead of adding to it: a
    stream of ledger batches spent a tenth of its time waiting for these copies (docs/benchmarks.md). Requests made
    while a copy runs make one more copy after it, not one each. The copy is PASSIVE: it never blocks a writer or
    a reader, and what it leaves the next one takes."""

    def __init__(self, run: Callable[[], object]) -> None:
        self._run = run
        self._state = threading.Condition()
        self._asked = 0  # requests so far
        self._done = 0  # the requests answered by a finished copy
        self._closed = False
        self._thread: threading.Thread | None = None

    def request(self) -> None:
        with self._state:
            if self._closed:
                return
            self._asked += 1
            if self._thread is None:
                self._thread = threading.Thread(target=self._loop, name="fz-wal-checkpoint", daemon=True)
                self._thread.start()
            self._state.notify_all()

    def wait_idle(self, timeout: float) -> bool:
        with self._state:
            return self._state.wait_for(lambda: self._done >= self._asked or self._closed, timeout)

    def close(self) -> None:
        with self._state:
            self._closed = True
            thread, self._thread = self._thread, None
            self._state.notify_all()
        if thread is not None:
            thread.join()

    def _loop(self) -> None:
        while True:
            with self._state:
                self._state.wait_for(lambda: self._asked > self._done or self._closed)
                if self._closed:
                    return
                asked = self._asked
            self._run()  # catches its own errors: a failed copy is simply asked for again later
            with self._state:
                self._done = asked
                self._state.notify_all()
