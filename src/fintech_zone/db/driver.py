"""The database driver's own cursor inside the caller's transaction, for the hot paths that skip SQLAlchemy Core.

A Core statement costs about 0.1–0.3 ms of Python before the database sees it; the ledger's batches, the journal's
appends and proofs and a pilot's boundary check run a few statements each, many times a second, and that cost was
most of theirs (docs/benchmarks.md). Those statements are written here for the two drivers' own parameter styles:
sqlite3's ``?`` and psycopg's ``%s``; a set of values is one array on PostgreSQL (``ANY``), and on SQLite a
parameter each when there are few, one JSON array (``json_each``) when there are more.
"""

from __future__ import annotations

import json
from collections import namedtuple
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from functools import lru_cache
from typing import Any

import orjson
from sqlalchemy import Connection, Dialect, Table

FEW = 8
"""Up to this many values, ``any_of`` on SQLite names each (``IN (?, ?)``): two ids that way cost 4.2 µs against
6.7 µs through ``json_each``, and a payment's writers' turn runs several such reads. One cached statement per
count."""


class Driver:
    """The driver's cursor in ``conn``'s transaction (same connection, so it sees and joins that transaction) and
    its parameter style. Close it when done (``with Driver(conn) as driver``)."""

    def __init__(self, conn: Connection) -> None:
        self.dialect = conn.dialect
        self.sqlite = conn.dialect.name == "sqlite"
        self.cursor: Any = conn.connection.dbapi_connection.cursor()  # type: ignore[union-attr]
        self.mark = "?" if self.sqlite else "%s"

    def __enter__(self) -> Driver:
        return self

    def __exit__(self, *exc: object) -> None:
        self.cursor.close()

    def any_of(self, values: Sequence[Any]) -> tuple[str, tuple[Any, ...]]:
        """A ``column <this>`` condition matching any of ``values``, and its parameters."""
        if self.sqlite:
            if 0 < len(values) <= FEW:
                return f"IN ({', '.join('?' * len(values))})", tuple(values)
            return "IN (SELECT value FROM json_each(?))", (_json_array(values),)
        return "= ANY(%s)", (list(values),)

    def select_typed(self, table: Table, where: str, params: Sequence[Any], tail: str = "") -> list[Any]:
        """Rows of ``table`` where ``where`` holds (``{m}`` marks each of ``params``), every column in the table's
        order and passed through its column type's result processing, as a Core select returns it. Each row is a
        named tuple: its columns are attributes, as on Core's rows."""
        shape, processors = _row_shape(self.dialect, table)
        self.cursor.execute(f"{_select_all(self.dialect, table)} WHERE {where.format(m=self.mark)}{tail}", params)
        return [
            shape._make([v if p is None else p(v) for p, v in zip(processors, row, strict=True)])
            for row in self.cursor.fetchall()
        ]

    def insert(self, table: Table, columns: Sequence[str], rows: list[tuple[Any, ...]]) -> None:
        if not rows:
            return
        marks = ", ".join([self.mark] * len(columns))
        self.cursor.executemany(f"INSERT INTO {table.name} ({', '.join(columns)}) VALUES ({marks})", rows)

    def insert_typed(self, table: Table, columns: Sequence[str], rows: list[tuple[Any, ...]]) -> None:
        """``insert`` of Python values (aware datetimes, booleans, …), each passed through its column type's bind
        processing first, exactly as a Core insert would store it."""
        processors = _bind_processors(self.dialect, table, tuple(columns))
        self.insert(
            table,
            columns,
            [tuple(v if p is None else p(v) for p, v in zip(processors, row, strict=True)) for row in rows],
        )


def _json_array(values: Sequence[Any]) -> str:
    # orjson writes a ledger batch's 8,190 ids several times faster than the standard library, but refuses what
    # JSON cannot hold as is (a lone surrogate, an integer beyond 64 bits); the standard library escapes those.
    try:
        return orjson.dumps(list(values)).decode()
    except TypeError:  # orjson.JSONEncodeError is a TypeError
        return json.dumps(list(values))


@contextmanager
def savepoint(conn: Connection, name: str = "fz_unit") -> Iterator[None]:
    """A savepoint in ``conn``'s transaction, on the driver's cursor: released when the block ends, rolled back to
    (and released) when it raises. Core's ``begin_nested`` costs tens of microseconds of bookkeeping on each side;
    a group commit takes one for every payment while holding the writers' turn. Core does not know of this one, so
    the block must not end Core's own transaction, and a savepoint it opens inside must be closed inside."""
    cursor: Any = conn.connection.dbapi_connection.cursor()  # type: ignore[union-attr]
    try:
        cursor.execute(f"SAVEPOINT {name}")
        try:
            yield
        except BaseException:
            cursor.execute(f"ROLLBACK TO SAVEPOINT {name}")
            cursor.execute(f"RELEASE SAVEPOINT {name}")
            raise
        cursor.execute(f"RELEASE SAVEPOINT {name}")
    finally:
        cursor.close()


@lru_cache(maxsize=64)
def _bind_processors(
    dialect: Dialect, table: Table, columns: tuple[str, ...]
) -> tuple[Callable[[Any], Any] | None, ...]:
    # The type as this dialect stores it (SQLite's DateTime is text of its own format), then its processing.
    return tuple(table.c[name].type.dialect_impl(dialect).bind_processor(dialect) for name in columns)


@lru_cache(maxsize=64)
def _row_shape(dialect: Dialect, table: Table) -> tuple[Any, tuple[Callable[[Any], Any] | None, ...]]:
    shape = namedtuple(f"{table.name}_row", [c.name for c in table.c])  # type: ignore[misc]
    processors = tuple(c.type.dialect_impl(dialect).result_processor(dialect, None) for c in table.c)
    return shape, processors


@lru_cache(maxsize=64)
def _select_all(dialect: Dialect, table: Table) -> str:
    quote = dialect.identifier_preparer.quote
    return f"SELECT {', '.join(quote(c.name) for c in table.c)} FROM {quote(table.name)}"
