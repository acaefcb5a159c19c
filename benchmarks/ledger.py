"""Ledger throughput: ours against the raw write limit and against django-hordak, in one run on one machine.

    python -m benchmarks.ledger --backend sqlite --transfers 1000000 --accounts 10000 [--skew zipf] [--http]
    python -m benchmarks.ledger --backend postgres --transfers 1000000 --postgres URL [--peer-transfers 20000]

(``fintech-zone bench ledger …`` runs this same module.) Each part runs in a child process of its own, on a fresh
database (a new SQLite file, or a new PostgreSQL schema dropped afterwards), so that one part's memory and caches do
not count against another:

* **raw**: the transfer rows our ledger would write, bulk-written into an unindexed table with the same columns
  (SQLite ``executemany``, PostgreSQL ``COPY``), one transaction per batch: the speed of the disk and the driver.
  **raw_indexed**: the same with the ledger's keys: unique id and timestamp, and a posting per side of each transfer
  keyed by (batch, account, timestamp), for an account's transfers in time order: what storing the rows alone
  costs.
* **ours**: ``ledger.service.create_transfers`` on ``--transfers`` transfers in batches of ``--batch`` among
  ``--accounts`` accounts, then every result is checked (all ``created``) and the books must balance. Then single
  account look-ups (``service.get_account``), timed one by one.
* **http** (``--http``): the same through ``POST /api/v1/ledger/transfers`` on a server started with
  ``fintech-zone serve`` (one process), the client sending ready-encoded JSON over one keep-alive connection.
* **peer** (PostgreSQL): django-hordak, the real package (extra ``bench``), records the first ``--peer-transfers``
  of the same transfers as two-leg transactions with ``Account.transfer_to``, one database transaction per batch.

The transfers are synthetic and deterministic (``--seed``): amounts of 1 to 100,000 minor units between two
different accounts drawn uniformly or, with ``--skew zipf``, from a Zipf distribution (exponent 1) over the
accounts, so that a few accounts are in most transfers. Only the writes are timed, never the generation of events.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from itertools import accumulate
from pathlib import Path
from typing import Any

from benchmarks.registry_import import (
    ROOT,
    command_line,
    fresh_sqlite_url,
    machine_info,
    machine_load,
    peak_rss_mb,
    pg_schema,
)

DEFAULT_POSTGRES = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
ASSET = "SGD"
ACCOUNT_CODE = 1
TRANSFER_CODE = 1
LOOKUPS = 5_000
TARGETS = {
    "sqlite_transfers_per_s": 100_000,
    "sqlite_ratio_to_raw": 0.3,
    "postgres_transfers_per_s": 25_000,
    "postgres_ratio_to_peer": 30,
    "http_sqlite_transfers_per_s": 50_000,
    "peak_rss_mb": 300,
    "account_lookup_p99_ms": 2.0,
}
RAW_COLUMNS = (
    "id",
    "debit_account_id",
    "credit_account_id",
    "amount",
    "requested_amount",
    "ledger",
    "code",
    "flags",
    "pending_id",
    "timeout",
    "reference",
    "user_data",
    "timestamp",
)


# --- the workload --------------------------------------------------------------------------------------------


def account_id(k: int) -> str:
    return f"bench-acct-{k:06d}"


def batches(args: argparse.Namespace, limit: int | None = None) -> Iterator[list[tuple[str, str, str, int]]]:
    """(id, debit account, credit account, amount) per transfer, batch by batch; the same for every part."""
    rng = random.Random(args.seed)
    n = args.transfers if limit is None else min(limit, args.transfers)
    a = args.accounts
    cum = list(accumulate(1 / (k + 1) for k in range(a))) if args.skew == "zipf" else None
    population = range(a)
    done = 0
    while done < n:
        size = min(args.batch, n - done)
        if cum is None:
            picks = [rng.randrange(a) for _ in range(2 * size)]
        else:
            picks = rng.choices(population, cum_weights=cum, k=2 * size)
        batch = []
        for i in range(size):
            dr, cr = picks[2 * i], picks[2 * i + 1]
            if dr == cr:
                cr = (cr + 1) % a
            batch.append((f"bench-t-{done + i:09d}", account_id(dr), account_id(cr), rng.randint(1, 100_000)))
        yield batch
        done += size


def percentile(samples: list[float], p: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


# --- parts (each in its own process) -------------------------------------------------------------------------


def part_raw(args: argparse.Namespace, url: str, indexed: bool = False) -> dict[str, Any]:
    """The same rows, bulk-written into an unindexed table with the driver alone: the limit any ledger has.
    ``indexed``: into a table with the ledger's keys and indexes instead (what storing them costs, without the
    ledger's reads, checks and balance updates)."""
    from fintech_zone.db import Database

    db = Database.from_url(url)
    columns = ", ".join(RAW_COLUMNS)
    sqlite = db.dialect == "sqlite"
    with db.transaction() as conn:
        conn.exec_driver_sql(
            "CREATE TABLE bench_raw_transfers (id VARCHAR(64), debit_account_id VARCHAR(64),"
            " credit_account_id VARCHAR(64), amount BIGINT, requested_amount BIGINT, ledger VARCHAR(16),"
            " code INTEGER, flags INTEGER, pending_id VARCHAR(64), timeout INTEGER, reference VARCHAR(140),"
            " user_data BIGINT, timestamp BIGINT)"
        )
        if indexed:  # as the ledger has them: unique id and timestamp, and a posting per side keyed by batch
            conn.exec_driver_sql("CREATE UNIQUE INDEX bench_raw_id ON bench_raw_transfers (id)")
            conn.exec_driver_sql("CREATE UNIQUE INDEX bench_raw_ts ON bench_raw_transfers (timestamp)")
            conn.exec_driver_sql(
                "CREATE TABLE bench_raw_postings (segment BIGINT, account_id VARCHAR(64), timestamp BIGINT,"
                " PRIMARY KEY (segment, account_id, timestamp))" + (" WITHOUT ROWID" if sqlite else "")
            )
    seconds = 0.0
    rows = 0
    ts = time.time_ns()
    raw = db.engine.raw_connection()  # WAL and synchronous=NORMAL on SQLite, as the ledger has them
    try:
        for batch in batches(args):
            values = []
            for tid, dr, cr, amount in batch:
                ts += 1
                values.append((tid, dr, cr, amount, amount, ASSET, TRANSFER_CODE, 0, None, 0, None, 0, ts))
            start = time.perf_counter()
            posts = [(values[0][12], v[d], v[12]) for d in (1, 2) for v in values] if indexed else []
            cur = raw.cursor()
            if sqlite:
                cur.execute("BEGIN IMMEDIATE")
                cur.executemany(f"INSERT INTO bench_raw_transfers ({columns}) VALUES ({', '.join('?' * 13)})", values)
                if posts:
                    cur.executemany("INSERT INTO bench_raw_postings VALUES (?, ?, ?)", posts)
                cur.execute("COMMIT")
            else:
                with cur.copy(f"COPY bench_raw_transfers ({columns}) FROM STDIN") as copy:  # type: ignore[attr-defined]
                    for row in values:
                        copy.write_row(row)
                if posts:
                    with cur.copy("COPY bench_raw_postings FROM STDIN") as copy:  # type: ignore[attr-defined]
                        for row in posts:
                            copy.write_row(row)
                raw.commit()
            cur.close()
            seconds += time.perf_counter() - start
            rows += len(values)
    finally:
        raw.close()
        db.dispose()
    return {
        "rows": rows,
        "seconds": round(seconds, 3),
        "rows_per_s": round(rows / seconds),
        "peak_rss_mb": peak_rss_mb(),
    }


def _create_accounts(db: Any, args: argparse.Namespace) -> None:
    from fintech_zone.ledger import service
    from fintech_zone.ledger.model import MAX_BATCH, Asset, AssetKind, NewAccount

    service.create_asset(db, Asset(ASSET, AssetKind.FIAT_RESERVE, "SGD", 2))
    ids = [account_id(k) for k in range(args.accounts)]
    for i in range(0, len(ids), MAX_BATCH):
        results = service.create_accounts(db, [NewAccount(a, ASSET, ACCOUNT_CODE) for a in ids[i : i + MAX_BATCH]])
        if any(r.result != "created" for r in results):
            raise RuntimeError(f"account set-up failed: {results[0]}")


def _timed_parts(db: Any) -> dict[str, float]:
    """Wrap the steps of a batch where ``service`` and ``store`` look them up, to time each (``--breakdown``)."""
    from contextlib import contextmanager

    from fintech_zone.ledger import batch_store, engine

    parts: dict[str, float] = {}

    def timed(name: str, fn: Any) -> Any:
        def run(*a: Any, **k: Any) -> Any:
            start = time.perf_counter()
            try:
                return fn(*a, **k)
            finally:
                parts[name] = parts.get(name, 0.0) + time.perf_counter() - start

        return run

    for module, name, label in (
        (batch_store, "load_book_for_transfers", "read_book"),
        (engine, "create_transfers", "engine"),
        (batch_store, "_insert_transfers", "insert_transfers"),
        # The postings' copy, with the journal leaf, the results and the balances' rows made alongside it.
        (batch_store, "_overlapped", "postings_with_leaf"),
        (batch_store, "_update_balances", "update_balances"),
    ):
        setattr(module, name, timed(label, getattr(module, name)))
    begin = db.transaction

    @contextmanager
    def transaction() -> Any:
        with begin() as conn:
            yield conn
            parts["commit"] = parts.get("commit", 0.0) - time.perf_counter()
        parts["commit"] += time.perf_counter()

    db.transaction = transaction
    return parts


def part_ours(args: argparse.Namespace, url: str) -> dict[str, Any]:
    from fintech_zone.db import Database
    from fintech_zone.ledger import service
    from fintech_zone.ledger.model import Transfer

    db = Database.from_url(url)
    _create_accounts(db, args)
    parts = _timed_parts(db) if args.breakdown else None
    seconds = 0.0
    created = 0
    per_batch: list[float] = []
    for batch in batches(args):
        events = [Transfer(tid, dr, cr, amount, ASSET, TRANSFER_CODE) for tid, dr, cr, amount in batch]
        start = time.perf_counter()
        results = service.create_transfers(db, events)
        took = time.perf_counter() - start
        seconds += took
        per_batch.append(took)
        bad = [r for r in results if r.result != "created"]
        if bad:
            raise RuntimeError(f"{len(bad)} transfers not created, first: {bad[0]}")
        created += len(results)
    totals = service.totals(db)
    dp, dpo, cp, cpo = totals[ASSET]
    if (dp, dpo) != (cp, cpo):
        raise RuntimeError(f"the books do not balance: {totals}")
    lookups = _lookups(args, lambda a: service.get_account(db, a))
    db.dispose()
    breakdown = {}
    if parts is not None:
        breakdown["breakdown_us_per_transfer"] = {k: round(1e6 * v / created, 2) for k, v in parts.items()}
    return {
        **breakdown,
        "transfers": created,
        "seconds": round(seconds, 3),
        "transfers_per_s": round(created / seconds),
        "batch_ms": {"p50": round(1000 * percentile(per_batch, 50), 1), "max": round(1000 * max(per_batch), 1)},
        "books_balance": True,
        "account_lookup_ms": lookups,
        "peak_rss_mb": peak_rss_mb(),
    }


def _lookups(args: argparse.Namespace, get: Any) -> dict[str, float]:
    rng = random.Random(args.seed + 1)
    samples = []
    for _ in range(LOOKUPS):
        a = account_id(rng.randrange(args.accounts))
        start = time.perf_counter()
        get(a)
        samples.append(1000 * (time.perf_counter() - start))
    return {
        "count": LOOKUPS,
        "p50": round(percentile(samples, 50), 3),
        "p99": round(percentile(samples, 99), 3),
        "mean": round(statistics.fmean(samples), 3),
    }


def part_http(args: argparse.Namespace, url: str) -> dict[str, Any]:
    from fintech_zone.auth import service as auth
    from fintech_zone.auth.model import Role
    from fintech_zone.db import Database

    db = Database.from_url(url)
    _create_accounts(db, args)
    token, _ = auth.create_token(db, Role.OPERATOR, None, "ledger benchmark")
    db.dispose()
    port = free_port()
    env = {**os.environ, "FZ_DATABASE_URL": url}
    server = subprocess.Popen(
        [sys.executable, "-m", "fintech_zone", "serve", "--host", "127.0.0.1", "--port", str(port)],
        env=env,
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        conn = _wait_for(port, server)
        headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
        seconds = 0.0
        created = 0
        for batch in batches(args):
            body = json.dumps(
                [
                    {"id": t, "debit_account_id": d, "credit_account_id": c, "amount": a, "ledger": ASSET}
                    | {"code": TRANSFER_CODE}
                    for t, d, c, a in batch
                ]
            ).encode()
            start = time.perf_counter()
            conn.request("POST", "/api/v1/ledger/transfers", body, headers)
            response = conn.getresponse()
            payload = response.read()
            seconds += time.perf_counter() - start
            if response.status != 200:
                raise RuntimeError(f"HTTP {response.status}: {payload[:300]!r}")
            results = json.loads(payload)
            if any(r["result"] != "created" for r in results):
                raise RuntimeError(f"not all created: {next(r for r in results if r['result'] != 'created')}")
            created += len(results)

        def get(a: str) -> None:
            conn.request("GET", f"/api/v1/ledger/accounts/{a}", headers={"Authorization": f"Bearer {token}"})
            response = conn.getresponse()
            response.read()
            if response.status != 200:
                raise RuntimeError(f"HTTP {response.status} for account {a}")

        lookups = _lookups(args, get)
        server_rss = vm_hwm_mb(server.pid)
    finally:
        server.terminate()
        try:
            server.wait(timeout=15)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()
    return {
        "transfers": created,
        "seconds": round(seconds, 3),
        "transfers_per_s": round(created / seconds),
        "account_lookup_ms": lookups,
        "server_peak_rss_mb": server_rss,
        "client_peak_rss_mb": peak_rss_mb(),
    }


def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def _wait_for(port: int, server: subprocess.Popen[bytes]) -> http.client.HTTPConnection:
    deadline = time.monotonic() + 60
    while True:
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=600)
            conn.request("GET", "/healthz")
            response = conn.getresponse()
            response.read()
            if response.status == 200:
                return conn
        except OSError:
            pass
        if server.poll() is not None or time.monotonic() > deadline:
            raise RuntimeError("the server did not start")
        time.sleep(0.2)


def vm_hwm_mb(pid: int) -> float | None:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return round(int(line.split()[1]) / 1024, 1)
    except OSError:
        pass
    return None


def part_peer(args: argparse.Namespace, url: str) -> dict[str, Any]:
    """django-hordak on the same PostgreSQL, in a schema of its own, recording the same transfers."""
    from sqlalchemy.engine import make_url

    try:
        import django
        from django.conf import settings
    except ImportError as exc:
        raise SystemExit("the peer needs django-hordak: pip install -e '.[bench]'") from exc

    parsed = make_url(url)
    options = parsed.query.get("options")
    settings.configure(
        DATABASES={
            "default": {
                "ENGINE": "django.db.backends.postgresql",
                "NAME": parsed.database,
                "USER": parsed.username or "",
                "PASSWORD": parsed.password or "",
                "HOST": parsed.host or "",
                "PORT": str(parsed.port or ""),
                "OPTIONS": {"options": options} if isinstance(options, str) else {},
            }
        },
        INSTALLED_APPS=["django.contrib.contenttypes", "django.contrib.auth", "mptt", "hordak"],
        USE_TZ=True,
        DEFAULT_AUTO_FIELD="django.db.models.BigAutoField",
        CURRENCIES=["SGD"],
        DEFAULT_CURRENCY="SGD",
        HORDAK_INTERNAL_CURRENCY="SGD",
    )
    django.setup()
    from decimal import Decimal

    from django.core.management import call_command
    from django.db import transaction
    from hordak.models import Account
    from moneyed import Money

    call_command("migrate", verbosity=0)
    with transaction.atomic():
        accounts = {
            account_id(k): Account.objects.create(name=account_id(k), type="AS", currencies=["SGD"])
            for k in range(args.accounts)
        }
    seconds = 0.0
    recorded = 0
    for batch in batches(args, args.peer_transfers):
        start = time.perf_counter()
        with transaction.atomic():
            for _tid, dr, cr, amount in batch:
                accounts[cr].transfer_to(accounts[dr], Money(Decimal(amount) / 100, "SGD"))
        seconds += time.perf_counter() - start
        recorded += len(batch)
    return {
        "package": f"django-hordak {_version('django-hordak')}, Django {django.get_version()}",
        "transfers": recorded,
        "seconds": round(seconds, 3),
        "transfers_per_s": round(recorded / seconds),
        "peak_rss_mb": peak_rss_mb(),
    }


def _version(package: str) -> str:
    from importlib.metadata import version

    return version(package)


def part_raw_indexed(args: argparse.Namespace, url: str) -> dict[str, Any]:
    return part_raw(args, url, indexed=True)


PARTS = {"raw": part_raw, "raw_indexed": part_raw_indexed, "ours": part_ours, "http": part_http, "peer": part_peer}


# --- orchestration -------------------------------------------------------------------------------------------


@contextmanager
def fresh_database(args: argparse.Namespace, workdir: Path, name: str, migrate: bool = True) -> Iterator[str]:
    if args.backend == "sqlite":
        yield fresh_sqlite_url(workdir, name)
    else:
        with pg_schema(args.postgres, migrate=migrate) as url:
            yield url


def run_part(part: str, args: argparse.Namespace, url: str) -> dict[str, Any]:
    argv = [
        sys.executable,
        "-m",
        "benchmarks.ledger",
        "--part",
        part,
        "--url",
        url,
        *("--backend", args.backend, "--transfers", str(args.transfers), "--accounts", str(args.accounts)),
        *("--skew", args.skew, "--batch", str(args.batch), "--seed", str(args.seed)),
        *("--peer-transfers", str(args.peer_transfers)),
        *(["--breakdown"] if args.breakdown else []),
    ]
    print(f"[{args.backend}] {part} …", file=sys.stderr)
    done = subprocess.run(argv, cwd=ROOT, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"part {part} failed:\n{done.stderr[-3000:]}")
    result: dict[str, Any] = json.loads(done.stdout)
    print(f"[{args.backend}] {part}: {json.dumps(result)}", file=sys.stderr)
    return result


def run(args: argparse.Namespace, argv: list[str] | None = None) -> dict[str, Any]:
    pg = args.postgres if args.backend == "postgres" else None
    out: dict[str, Any] = {
        "benchmark": "ledger",
        "command": command_line("benchmarks.ledger", argv),
        "machine": machine_info(pg),
        "backend": args.backend,
        "transfers": args.transfers,
        "accounts": args.accounts,
        "skew": args.skew,
        "batch": args.batch,
    }
    with tempfile.TemporaryDirectory(prefix="fz-bench-ledger-") as tmp:
        workdir = Path(args.workdir or tmp)
        with fresh_database(args, workdir, "raw", migrate=False) as url:
            raw = run_part("raw", args, url)
        with fresh_database(args, workdir, "raw-indexed", migrate=False) as url:
            raw_indexed = run_part("raw_indexed", args, url)
        with fresh_database(args, workdir, "ours") as url:
            ours = run_part("ours", args, url)
        http = None
        if args.http:
            with fresh_database(args, workdir, "http") as url:
                http = run_part("http", args, url)
        peer = None
        if args.backend == "postgres" and args.peer_transfers:
            with fresh_database(args, workdir, "peer", migrate=False) as url:
                peer = run_part("peer", args, url)
    out.update(
        transfers_per_s=ours["transfers_per_s"],
        raw_rows_per_s=raw["rows_per_s"],
        ratio_to_raw=round(ours["transfers_per_s"] / raw["rows_per_s"], 3),
        raw_indexed_rows_per_s=raw_indexed["rows_per_s"],
        ratio_to_raw_indexed=round(ours["transfers_per_s"] / raw_indexed["rows_per_s"], 3),
        peak_rss_mb=ours["peak_rss_mb"],
        account_lookup_p99_ms=ours["account_lookup_ms"]["p99"],
        ours=ours,
        raw=raw,
        raw_indexed=raw_indexed,
    )
    if http is not None:
        out.update(http_transfers_per_s=http["transfers_per_s"], http=http)
    if peer is not None:
        out.update(
            peer_transfers_per_s=peer["transfers_per_s"],
            ratio_to_peer=round(ours["transfers_per_s"] / peer["transfers_per_s"], 1),
            peer=peer,
        )
    out["targets"] = _targets(out)
    out["machine"].update(machine_load("after"))
    return out


def _targets(out: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Each target of the issue this run measured, with its figure and whether it was met."""
    checks: dict[str, tuple[float, float, bool]] = {}  # name → (figure, target, higher is better)
    if out["backend"] == "sqlite":
        checks["transfers_per_s"] = (out["transfers_per_s"], TARGETS["sqlite_transfers_per_s"], True)
        checks["ratio_to_raw"] = (out["ratio_to_raw"], TARGETS["sqlite_ratio_to_raw"], True)
        if "http_transfers_per_s" in out:
            checks["http_transfers_per_s"] = (out["http_transfers_per_s"], TARGETS["http_sqlite_transfers_per_s"], True)
    else:
        checks["transfers_per_s"] = (out["transfers_per_s"], TARGETS["postgres_transfers_per_s"], True)
        if "ratio_to_peer" in out:
            checks["ratio_to_peer"] = (out["ratio_to_peer"], TARGETS["postgres_ratio_to_peer"], True)
    checks["peak_rss_mb"] = (out["peak_rss_mb"], TARGETS["peak_rss_mb"], False)
    checks["account_lookup_p99_ms"] = (out["account_lookup_p99_ms"], TARGETS["account_lookup_p99_ms"], False)
    return {
        name: {"figure": figure, "target": target, "met": figure >= target if higher else figure <= target}
        for name, (figure, target, higher) in checks.items()
    }


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m benchmarks.ledger", description=__doc__.split("\n\n")[0])
    p.add_argument("--backend", choices=("sqlite", "postgres"), default="sqlite")
    p.add_argument("--transfers", type=int, default=1_000_000)
    p.add_argument("--accounts", type=int, default=10_000)
    p.add_argument("--skew", choices=("uniform", "zipf"), default="uniform")
    p.add_argument("--batch", type=int, default=8190)
    p.add_argument("--seed", type=int, default=2026)
    p.add_argument("--http", action="store_true", help="also measure over HTTP (fintech-zone serve)")
    p.add_argument("--breakdown", action="store_true", help="time each step of a batch in-process (slows it a little)")
    p.add_argument(
        "--peer-transfers", type=int, default=20_000, help="transfers django-hordak records (postgres; 0: skip)"
    )
    p.add_argument(
        "--postgres",
        metavar="URL",
        default=os.environ.get("FZ_TEST_POSTGRES_URL", DEFAULT_POSTGRES),
        help="PostgreSQL server (a fresh schema per part, dropped afterwards)",
    )
    p.add_argument("--workdir", type=Path, default=None, help="where SQLite files go (a temporary directory)")
    p.add_argument("--part", choices=list(PARTS), help=argparse.SUPPRESS)
    p.add_argument("--url", help=argparse.SUPPRESS)
    return p


def main(argv: list[str] | None = None) -> None:
    args = parser().parse_args(argv)
    if args.transfers < 1 or args.accounts < 2 or not 1 <= args.batch <= 8190:
        raise SystemExit("need --transfers ≥ 1, --accounts ≥ 2 and 1 ≤ --batch ≤ 8190")
    if args.part:
        print(json.dumps(PARTS[args.part](args, args.url)))
        return
    print(json.dumps(run(args, argv), indent=2))


if __name__ == "__main__":
    main()
