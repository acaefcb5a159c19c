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
                    where, param = driver.any_of(ids)
                    return driver.select_typed(participants, f"id {where}", (param,))

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
        "routing": _routing(args.calls),
    }
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
