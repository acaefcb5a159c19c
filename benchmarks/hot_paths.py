"""Hot paths in isolation, each beside the code it replaced, in one run (prints JSON):

    python -m benchmarks.hot_paths

* **wire**: a batch of 8,190 plain transfer events read by ``ledger/wire.py`` against the way FastAPI read it
  before (stdlib JSON, ``list[TransferIn]`` through pydantic, ``to_model``), microseconds an event, best of
  ``--repeat``.
* **driver**: the rails' reads inside the writers' turn (a quote by id, a payment by UETR, two participants,
  the limits of an asset) on the driver's cursor (``Driver.select_typed``) against the same select through
  SQLAlchemy Core, on a fresh migrated SQLite database, in one transaction, microseconds a statement, median of
  ``--calls`` calls after a warm-up.
* **begin**: an empty write transaction (``Database.transaction``: the writers' turn, ``BEGIN IMMEDIATE``,
  ``COMMIT``) on SQLite with the ``BEGIN`` sent on the driver's connection, as shipped, against the same with it
  sent through Core (``Connection.exec_driver_sql``, as before 7 December), two fresh files, alternating calls,
  microseconds a transaction (median).
* **ledger_sqlite**: the ledger batch's statements on the bare driver (``sqlite3``, WAL, 8 KiB pages, 64 MiB cache,
  as the platform opens SQLite), each beside what it replaced: 8,190 new ids looked up in a table of 1,000,000 as
  ``IN (SELECT value FROM json_each(?))`` against ``json_each(?) CROSS JOIN`` (microseconds an id); 40 batches of
  8,190 transfer rows inserted into a table keyed by id with a unique timestamp against one keyed by the timestamp
  (the rowid) with a unique id (microseconds a row); 20 batches of the balances of ~8,000 of 10,000 accounts updated
  in the order the engine touched them against the key's order (microseconds an update); a batch's 8,190 ids checked
  one by one against ``model.all_ids_valid`` (milliseconds a batch, best of ``--repeat``).
* **gc_pause**: 20 batches of 8,190 transfers through ``ledger.service.create_transfers`` on a fresh migrated SQLite
  database of 10,000 accounts, alternating batches with the collector paused (as shipped) and not, milliseconds a
  batch (median).
* **routing**: matching ``POST /api/v1/payments`` (and ``POST /api/v1/ledger/transfers``) against the app's routes
  in their order, the rails' routers first, against the order before 7 December (the rails' after the registry's,
  the progress' and the ledger's), microseconds a match (median).
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import time
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import Any

from sqlalchemy import Table, select

from benchmarks.registry_import import machine_info


def _wire(repeat: int) -> dict[str, Any]:
    from fintech_zone.ledger import wire

    events = [
        {"id": f"bench-t-{i:09d}", "debit_account_id": f"bench-acct-{i % 10_000:06d}"}
        | {"credit_account_id": f"bench-acct-{(i * 7 + 1) % 10_000:06d}", "amount": 1 + i % 100_000}
        | {"ledger": "SGD", "code": 1}
        for i in range(8190)
    ]
    body = json.dumps(events).encode()

    def before() -> list[Any]:
        return [m.to_model() for m in wire.BATCH.validate_python(json.loads(body))]

    def after() -> list[Any]:
        return wire.transfer_events(body, "application/json")

    if before() != after():
        raise RuntimeError("the two readings differ")
    best = {name: min(_timed(fn) for _ in range(repeat)) for name, fn in (("before", before), ("after", after))}
    us = {name: round(1e6 * s / len(events), 2) for name, s in best.items()}
    return {"events": len(events), "us_per_event": us, "speedup": round(us["before"] / us["after"], 2)}


def _timed(fn: Callable[[], Any]) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def _driver(calls: int) -> dict[str, Any]:
    from fintech_zone.db import Database
    from fintech_zone.db.driver import Driver
    from fintech_zone.db.migrate import upgrade
    from fintech_zone.payments.fx_store import quotes
    from fintech_zone.payments.store import limits, participants, payments

    reads: list[tuple[str, Table, str, Any]] = [
        ("quote", quotes, "id", "q-1"),
        ("payment", payments, "uetr", "u-1"),
        ("limits", limits, "asset", "CNY"),
    ]
    with tempfile.TemporaryDirectory() as workdir:
        db = Database.from_url(f"sqlite:///{Path(workdir) / 'hot.db'}")
        upgrade(db.engine)
        out: dict[str, Any] = {}
        with db.transaction() as conn:
            for name, table, column, value in reads:
                core_stmt = select(table).where(table.c[column] == value)
                out[name] = _pair(
                    calls,
                    partial(_on_core, conn, core_stmt),
                    partial(_on_driver, conn, Driver, table, f"{column} = {{m}}", (value,)),
                )
            ids = ["cq-bank", "sg-bank"]
            core_in = select(participants).where(participants.c.id.in_(ids))

            def agents_on_driver() -> list[Any]:
                with Driver(conn) as driver:
                    where, params = driver.any_of(ids)
                    return driver.select_typed(participants, f"id {where}", params)

            out["participants"] = _pair(calls, partial(_on_core, conn, core_in), agents_on_driver)
        db.dispose()
    return out


def _begin(calls: int) -> dict[str, float]:
    from sqlalchemy import Connection, event

    from fintech_zone.db import Database

    with tempfile.TemporaryDirectory() as workdir:
        shipped = Database.from_url(f"sqlite:///{Path(workdir) / 'driver.db'}")
        former = Database.from_url(f"sqlite:///{Path(workdir) / 'core.db'}")
        for listener in list(former.engine.dispatch.begin):
            event.remove(former.engine, "begin", listener)

        @event.listens_for(former.engine, "begin")
        def _through_core(conn: Connection) -> None:
            readonly = conn.get_execution_options().get("fz_readonly", False)
            conn.exec_driver_sql("BEGIN" if readonly else "BEGIN IMMEDIATE")

        def empty(db: Database) -> None:
            with db.transaction():
                pass

        result = _pair(calls, partial(empty, former), partial(empty, shipped))
        shipped.dispose()
        former.dispose()
    return result


def _routing(calls: int) -> dict[str, dict[str, float]]:
    from starlette.routing import BaseRoute, Match

    from fintech_zone.app import create_app
    from fintech_zone.db import Database
    from fintech_zone.db.migrate import upgrade
    from fintech_zone.settings import Settings

    def prefix(route: BaseRoute) -> str:
        context = getattr(route, "include_context", None)
        return str(getattr(context, "prefix", ""))

    def matched(routes: list[BaseRoute], method: str, path: str) -> int:
        scope = {"type": "http", "method": method, "path": path, "root_path": "", "headers": [], "query_string": b""}
        for i, route in enumerate(routes):
            if route.matches(scope)[0] == Match.FULL:
                return i
        raise RuntimeError(f"{method} {path} matches no route")

    with tempfile.TemporaryDirectory() as workdir:
        url = f"sqlite:///{Path(workdir) / 'routes.db'}"
        db = Database.from_url(url)
        upgrade(db.engine)
        settings = Settings(database_url=url, secret_key="hot-paths", journal_key_dir=Path(workdir) / "keys")
        app = create_app(settings, db)
        shipped = list(app.router.routes)
        hot = ("/api/v1/payments/wallets", "/api/v1/payments", "/api/v1/fx")
        rest = [r for r in shipped if prefix(r) not in hot]
        at = next(i for i, r in enumerate(rest) if prefix(r) == "/api/v1/ledger") + 1  # they came after the ledger's
        former = rest[:at] + [r for p in hot for r in shipped if prefix(r) == p] + rest[at:]
        out: dict[str, dict[str, float]] = {}
        for method, path in (("POST", "/api/v1/payments"), ("POST", "/api/v1/ledger/transfers")):
            times = _pair(calls, partial(matched, former, method, path), partial(matched, shipped, method, path))
            out[f"{method} {path}"] = {"former_order_us": times["core_us"], "shipped_order_us": times["driver_us"]}
        db.dispose()
    return out


def _on_core(conn: Any, statement: Any) -> list[Any]:
    return list(conn.execute(statement).all())


def _on_driver(conn: Any, driver_class: Any, table: Table, where: str, params: tuple[Any, ...]) -> list[Any]:
    with driver_class(conn) as driver:
        rows: list[Any] = driver.select_typed(table, where, params)
        return rows


def _pair(calls: int, core: Callable[[], Any], driver: Callable[[], Any]) -> dict[str, float]:
    for fn in (core, driver):
        for _ in range(100):
            fn()
    samples: dict[str, list[float]] = {"core": [], "driver": []}
    for _ in range(calls):  # alternating, so a noisy moment hits both
        for name, fn in (("core", core), ("driver", driver)):
            samples[name].append(_timed(fn))
    return {f"{name}_us": round(1e6 * statistics.median(v), 1) for name, v in samples.items()}


def _sqlite(path: Path) -> Any:
    import sqlite3

    conn = sqlite3.connect(path, isolation_level=None)
    for pragma in ("page_size=8192", "journal_mode=WAL", "synchronous=NORMAL", "cache_size=-65536"):
        conn.execute(f"PRAGMA {pragma}")
    return conn


def _ledger_sqlite(repeat: int) -> dict[str, Any]:
    import random

    import orjson

    from fintech_zone.ledger.model import ID_PATTERN, all_ids_valid

    work = Path(tempfile.mkdtemp())
    batch = 8190
    out: dict[str, Any] = {}

    conn = _sqlite(work / "lookups.db")
    conn.execute("CREATE TABLE t (id VARCHAR(64) NOT NULL UNIQUE, a INTEGER, ts INTEGER PRIMARY KEY)")
    conn.execute("BEGIN")
    conn.executemany("INSERT INTO t VALUES (?, ?, ?)", ((f"bench-t-{i:09d}", i, i) for i in range(1_000_000)))
    conn.execute("COMMIT")
    ids = orjson.dumps([f"bench-t-{1_000_000 + i:09d}" for i in range(batch)]).decode()
    shapes = {
        "in_subquery": "SELECT id, a FROM t WHERE id IN (SELECT value FROM json_each(?))",
        "cross_join": "SELECT t.id, t.a FROM json_each(?) AS j CROSS JOIN t WHERE t.id = j.value",
    }
    best = {
        k: min(_timed(lambda sql=sql: conn.execute(sql, (ids,)).fetchall()) for _ in range(repeat))
        for k, sql in shapes.items()
    }
    out["lookup_us_per_id"] = {k: round(1e6 * v / batch, 3) for k, v in best.items()}
    conn.close()

    columns = (
        "id, debit_account_id, credit_account_id, amount, requested_amount, ledger, code, flags, pending_id, timeout,"
        " reference, user_data, timestamp"
    )
    body = (
        "debit_account_id VARCHAR(64) NOT NULL, credit_account_id VARCHAR(64) NOT NULL, amount BIGINT NOT NULL,"
        " requested_amount BIGINT NOT NULL, ledger VARCHAR(16) NOT NULL, code INTEGER NOT NULL, flags INTEGER NOT"
        " NULL, pending_id VARCHAR(64), timeout INTEGER NOT NULL, reference VARCHAR(140), user_data BIGINT NOT NULL"
    )
    keys = {
        "id_key_unique_timestamp": f"id VARCHAR(64) NOT NULL PRIMARY KEY, {body}, timestamp BIGINT NOT NULL UNIQUE",
        "timestamp_key_unique_id": f"id VARCHAR(64) NOT NULL UNIQUE, {body}, timestamp INTEGER PRIMARY KEY",
    }
    rng = random.Random(2026)
    inserts: dict[str, float] = {}
    for name, table in keys.items():
        conn = _sqlite(work / f"{name}.db")
        conn.execute(f"CREATE TABLE t ({table})")
        spent = 0.0
        for b in range(40):
            rows = [
                (f"bench-t-{b * batch + i:09d}", f"bench-acct-{rng.randrange(10_000):06d}",
                 f"bench-acct-{rng.randrange(10_000):06d}", 5, 5, "SGD", 1, 0, None, 0, None, 0, b * batch + i)
                for i in range(batch)
            ]  # fmt: skip
            start = time.perf_counter()
            conn.execute("BEGIN")
            conn.executemany(f"INSERT INTO t ({columns}) VALUES ({', '.join('?' * 13)})", rows)
            conn.execute("COMMIT")
            spent += time.perf_counter() - start
        inserts[name] = round(1e6 * spent / (40 * batch), 3)
        conn.close()
    out["insert_us_per_row"] = inserts

    conn = _sqlite(work / "accounts.db")
    conn.execute(
        "CREATE TABLE a (id VARCHAR(64) PRIMARY KEY, ledger TEXT, code INT, owner_id TEXT, flags INT, dp BIGINT,"
        " dpo BIGINT, cp BIGINT, cpo BIGINT, ts BIGINT, CHECK (dp >= 0 AND dpo >= 0 AND cp >= 0 AND cpo >= 0))"
    )
    conn.execute("BEGIN")
    conn.executemany(
        "INSERT INTO a VALUES (?, 'SGD', 1, NULL, 0, 0, 0, 0, 0, ?)",
        ((f"bench-acct-{k:06d}", k) for k in range(10_000)),
    )
    conn.execute("COMMIT")
    touched = [
        list(dict.fromkeys(f"bench-acct-{rng.randrange(10_000):06d}" for _ in range(2 * batch))) for _ in range(20)
    ]
    updates: dict[str, list[float]] = {"touch_order": [], "key_order": []}
    for i, accounts in enumerate(touched):
        for name, order in (("touch_order", accounts), ("key_order", sorted(accounts))):
            start = time.perf_counter()
            conn.execute("BEGIN")
            conn.executemany(
                "UPDATE a SET dp = ?, dpo = ?, cp = ?, cpo = ? WHERE id = ?", [(i, i, i, i, a) for a in order]
            )
            conn.execute("COMMIT")
            updates[name].append(1e6 * (time.perf_counter() - start) / len(order))
    out["balance_update_us"] = {k: round(statistics.median(v), 3) for k, v in updates.items()}
    conn.close()

    batch_ids = [f"bench-t-{i:09d}" for i in range(batch)]
    checks = {
        "one_by_one": lambda: all(ID_PATTERN.match(i) for i in batch_ids),
        "all_ids_valid": lambda: all_ids_valid(batch_ids),
    }
    out["id_check_ms_per_batch"] = {
        k: round(1e3 * min(_timed(fn) for _ in range(repeat)), 3) for k, fn in checks.items()
    }
    return out


def _gc_pause() -> dict[str, float]:
    import contextlib

    from benchmarks import ledger as bench
    from fintech_zone.db import Database
    from fintech_zone.db.migrate import upgrade
    from fintech_zone.gc_pause import gc_paused
    from fintech_zone.ledger import service
    from fintech_zone.ledger.model import Transfer

    db = Database.from_url(f"sqlite:///{Path(tempfile.mkdtemp()) / 'gc.db'}")
    upgrade(db.engine)
    args = bench.parser().parse_args(["--transfers", str(20 * 8190)])
    bench._create_accounts(db, args)
    samples: dict[str, list[float]] = {"paused": [], "not_paused": []}
    try:
        for k, events in enumerate(bench.batches(args)):
            batch = [Transfer(i, dr, cr, amount, bench.ASSET, bench.TRANSFER_CODE) for i, dr, cr, amount in events]
            name = "paused" if k % 2 == 0 else "not_paused"
            service.gc_paused = gc_paused if name == "paused" else contextlib.nullcontext  # type: ignore[assignment]
            start = time.perf_counter()
            service.create_transfers(db, batch)
            samples[name].append(1e3 * (time.perf_counter() - start))
    finally:
        service.gc_paused = gc_paused  # type: ignore[assignment]
        db.dispose()
    return {f"{k}_ms": round(statistics.median(v), 1) for k, v in samples.items()}


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(prog="python -m benchmarks.hot_paths", description=__doc__.split("\n\n")[0])
    p.add_argument("--repeat", type=int, default=7)
    p.add_argument("--calls", type=int, default=2000)
    args = p.parse_args(argv)
    result = {
        "benchmark": "hot_paths",
        "command": "python -m benchmarks.hot_paths" + (" " + " ".join(argv) if argv else ""),
        "machine": machine_info(),
        "wire": _wire(args.repeat),
        "driver": _driver(args.calls),
        "begin": _begin(args.calls),
        "ledger_sqlite": _ledger_sqlite(args.repeat),
        "gc_pause": _gc_pause(),
        "routing": _routing(args.calls),
    }
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
