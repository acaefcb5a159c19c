"""Benchmark: registry search over N organisations through the HTTP API (GET /api/v1/registry/organisations).

Target (issue): p95 <= 50 ms over 100,000 organisations, on SQLite and on PostgreSQL.

For each backend: loads N synthetic organisations (``benchmarks.gen_orgs``) with ``registry.service.import_csv``
into a fresh database (a new SQLite file; on PostgreSQL a new schema, dropped at the end), starts the real app
(``create_app``) under uvicorn in a child process on a free localhost port, creates a viewer token, and sends a
realistic mix of searches from an httpx client over one keep-alive connection, one request at a time, after a
warm-up. Request types are interleaved at random so noise on this shared machine spreads over all of them.

Side by side, the same number of ``GET /healthz`` requests (same client, same headers, interleaved) give the
floor of HTTP + framework + one trivial database round trip, so the share the search itself adds is visible.

Prints one JSON object keyed by backend: count, p50, p95, p99, max (ms) per query type, overall and healthz.

    python -m benchmarks.registry_search                                  # SQLite
    python -m benchmarks.registry_search --postgres postgresql+psycopg://postgres@127.0.0.1:5432/test  # both
    python -m benchmarks.registry_search --explain ...                    # also print each type's query plan
"""

from __future__ import annotations

import argparse
import json
import os
import random
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from benchmarks.gen_orgs import CN_CITIES, SYLLABLES
from benchmarks.registry_import import (
    ROOT,
    command_line,
    fresh_sqlite_url,
    generate_csv,
    machine_info,
    machine_load,
    pg_schema,
)

API = "/api/v1/registry/organisations"
TARGET_P95_MS = 50.0
LIMIT = 50


@dataclass(frozen=True)
class Request:
    kind: str  # the query type the figures are grouped by
    path: str
    params: tuple[tuple[str, str], ...]


# --- the request mix ---------------------------------------------------------------------------------------


@dataclass
class Catalogue:
    """What the loaded data holds, read back from the database, to aim queries at real values and depths."""

    ids: list[str]  # sorted
    by_jurisdiction: dict[str, list[str]]  # sorted ids
    cn_settled: list[str]  # sorted ids with jurisdiction CN and status settled
    identifiers: list[str]  # USCCs, UENs and LEIs in use


def load_catalogue(url: str) -> Catalogue:
    from sqlalchemy import select

    from fintech_zone.db import Database
    from fintech_zone.registry.store import organisations as t

    db = Database.from_url(url)
    with db.read() as conn:
        rows = conn.execute(
            select(t.c.id, t.c.jurisdiction, t.c.status, t.c.uscc, t.c.uen, t.c.lei).order_by(t.c.id)
        ).all()
    db.dispose()
    by_j: dict[str, list[str]] = {}
    for r in rows:
        by_j.setdefault(r.jurisdiction, []).append(r.id)
    return Catalogue(
        ids=[r.id for r in rows],
        by_jurisdiction=by_j,
        cn_settled=[r.id for r in rows if r.jurisdiction == "CN" and r.status == "settled"],
        identifiers=[v for r in rows for v in (r.uscc, r.uen, r.lei) if v],
    )


# Name fragments. "common" ones match thousands of rows (the first page fills early in id order); "rare" ones
# match a few dozen rows or none at all, as a user typing one firm's trade name or a misspelling does.
Q_EN_COMMON = ("Chongqing", "Merlion", "pay", "Technology", "Bank", "Capital", "Pte. Ltd.", "blockchain")
Q_ZH_COMMON = ("重庆", "鱼尾狮", "支付", "科技", "银行", "有限公司", "区块链", "数据")
Q_MISS_EN = ("Acme Fintech", "Zzyzx", "Quantum Ledger Holdings")
Q_MISS_ZH = ("不存在的公司", "量子", "龙门阵")


def _rare_en(rng: random.Random) -> str:
    (a, _), (b, _) = rng.sample(SYLLABLES, 2)
    return rng.choice((f"{a}{b.lower()}", f"{a.lower()}{b.lower()}", f"{rng.choice(CN_CITIES)[0]} {a}{b.lower()}"))


def _rare_zh(rng: random.Random) -> str:
    (_, a), (_, b) = rng.sample(SYLLABLES, 2)
    return rng.choice((f"{a}{b}", f"{rng.choice(CN_CITIES)[1]}{a}{b}"))


def _cursor_at(ids: list[str], rng: random.Random) -> str:
    from fintech_zone.paging import encode_cursor

    # Deep into the result: anywhere from the 10th page to the last one.
    return encode_cursor(ids[rng.randrange(min(10 * LIMIT, len(ids) - 1), len(ids))])


def build_requests(cat: Catalogue, per_type: int, rng: random.Random) -> list[Request]:
    jurisdictions = list(cat.by_jurisdiction)
    kinds = ("enterprise", "financial_institution", "service_body", "association", "government_agency", "regulator")
    sectors = (
        "payments",
        "digital_currency",
        "blockchain",
        "lending",
        "wealth",
        "insurtech",
        "regtech",
        "data_ai",
        "infrastructure",
        "other",
    )
    statuses = ("prospect", "negotiating", "agreement_signed", "settled", "exited")
    limit = ("limit", str(LIMIT))

    def make(kind: str) -> Request:
        p: list[tuple[str, str]] = []
        if kind == "list_first_page":
            pass
        elif kind == "filter_jurisdiction":
            p = [("jurisdiction", rng.choice(jurisdictions))]
        elif kind == "filter_kind":
            p = [("kind", rng.choice(kinds))]
        elif kind == "filter_sector":
            p = [("sector", rng.choice(sectors))]
        elif kind == "filter_status":
            p = [("status", rng.choice(statuses))]
        elif kind == "filter_combined":  # two to four filters at once; some combinations are rare or empty
            options = [
                ("jurisdiction", rng.choice(jurisdictions)),
                ("kind", rng.choice(kinds)),
                ("sector", rng.choice(sectors)),
                ("status", rng.choice(statuses)),
            ]
            p = rng.sample(options, rng.randint(2, 4))
        elif kind == "q_name_en_common":
            p = [("q", rng.choice(Q_EN_COMMON))]
        elif kind == "q_name_zh_common":
            p = [("q", rng.choice(Q_ZH_COMMON))]
        elif kind == "q_name_en_rare":
            p = [("q", rng.choice(Q_MISS_EN) if rng.random() < 0.2 else _rare_en(rng))]
        elif kind == "q_name_zh_rare":
            p = [("q", rng.choice(Q_MISS_ZH) if rng.random() < 0.2 else _rare_zh(rng))]
        elif kind == "q_identifier":  # exact USCC / UEN / LEI, as pasted (sometimes in lower case)
            value = rng.choice(cat.identifiers)
            p = [("q", value.lower() if rng.random() < 0.2 else value)]
        elif kind == "q_filtered":  # name text plus a filter, as the console's search form sends it
            p = [
                ("q", rng.choice(Q_EN_COMMON + Q_ZH_COMMON)),
                ("jurisdiction", rng.choice(("CN", "SG"))),
                ("status", rng.choice(statuses)),
            ]
        elif kind == "page_deep":
            p = [("cursor", _cursor_at(cat.ids, rng))]
        elif kind == "page_deep_filtered":
            if rng.random() < 0.5:
                j = rng.choice(("CN", "SG"))
                p = [("jurisdiction", j), ("cursor", _cursor_at(cat.by_jurisdiction[j], rng))]
            else:
                p = [("jurisdiction", "CN"), ("status", "settled"), ("cursor", _cursor_at(cat.cn_settled, rng))]
        elif kind == "page_deep_q":
            p = [("q", rng.choice(("Chongqing", "重庆"))), ("cursor", _cursor_at(cat.by_jurisdiction["CN"], rng))]
        else:
            raise ValueError(kind)
        return Request(kind, API, (*p, limit))

    out = [make(kind) for kind in QUERY_TYPES for _ in range(per_type)]
    out += [Request("healthz", "/healthz", ()) for _ in range(len(out))]
    rng.shuffle(out)
    return out


QUERY_TYPES = (
    "list_first_page",
    "filter_jurisdiction",
    "filter_kind",
    "filter_sector",
    "filter_status",
    "filter_combined",
    "q_name_en_common",
    "q_name_zh_common",
    "q_name_en_rare",
    "q_name_zh_rare",
    "q_identifier",
    "q_filtered",
    "page_deep",
    "page_deep_filtered",
    "page_deep_q",
)


# --- the server ---------------------------------------------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def serve(url: str, port: int) -> None:
    """Child process: the real application, as ``fintech-zone serve`` builds it, under uvicorn."""
    import uvicorn

    from fintech_zone.app import create_app
    from fintech_zone.db import Database
    from fintech_zone.settings import Settings

    db = Database.from_url(url)
    app = create_app(Settings(database_url=url, migrate_on_start=False, secret_key="bench"), db)
    uvicorn.run(app, host="127.0.0.1", port=port, log_level="warning", access_log=False)


def process_cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process so far (Linux /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


@dataclass(frozen=True)
class Server:
    base: str
    pid: int


@contextmanager
def server(url: str) -> Iterator[Server]:
    port = _free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "benchmarks.registry_search", "--serve", url, "--port", str(port)], cwd=ROOT
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(f"{base}/healthz", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError("the server did not start")
            time.sleep(0.2)
        yield Server(base, proc.pid)
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


# --- measuring ----------------------------------------------------------------------------------------------


def summarise(samples: list[float]) -> dict[str, Any]:
    ordered = sorted(samples)
    q = statistics.quantiles(ordered, n=100, method="inclusive")
    return {
        "count": len(ordered),
        "p50": round(q[49], 2),
        "p95": round(q[94], 2),
        "p99": round(q[98], 2),
        "max": round(ordered[-1], 2),
        "mean": round(statistics.fmean(ordered), 2),
    }


def run_requests(base: str, token: str, requests: list[Request], warmup: list[Request]) -> dict[str, Any]:
    timings: dict[str, list[float]] = {}
    items: dict[str, list[int]] = {}
    headers = {"Authorization": f"Bearer {token}", "Accept": "application/json"}
    with httpx.Client(base_url=base, headers=headers, timeout=60) as client:
        for req in warmup:
            client.get(req.path, params=list(req.params)).raise_for_status()
        for req in requests:
            start = time.perf_counter()
            response = client.get(req.path, params=list(req.params))
            body = response.content
            elapsed_ms = (time.perf_counter() - start) * 1000
            if response.status_code != 200:
                raise RuntimeError(f"{req.kind} {req.params}: HTTP {response.status_code}: {body[:500]!r}")
            timings.setdefault(req.kind, []).append(elapsed_ms)
            if req.kind != "healthz":
                items.setdefault(req.kind, []).append(len(response.json()["items"]))
    searches = [t for kind, ts in timings.items() if kind != "healthz" for t in ts]
    per_type = {
        kind: {**summarise(timings[kind]), "mean_items": round(statistics.fmean(items[kind]), 1)}
        for kind in QUERY_TYPES
    }
    overall = summarise(searches)
    floor = summarise(timings["healthz"])
    return {
        "per_type": per_type,
        "overall": overall,
        "healthz": floor,
        "overall_p50_over_healthz_p50": round(overall["p50"] / floor["p50"], 1),
        "overall_p95_over_healthz_p95": round(overall["p95"] / floor["p95"], 1),
    }


# --- query plans --------------------------------------------------------------------------------------------


def explain(url: str, requests: list[Request]) -> dict[str, list[str]]:
    """The plan of one sample query per type, as the store builds it (EXPLAIN QUERY PLAN / EXPLAIN ANALYZE)."""
    from sqlalchemy import select

    from fintech_zone.db import Database
    from fintech_zone.paging import decode_cursor
    from fintech_zone.registry import search_store, store
    from fintech_zone.registry.model import Kind, Sector, Status

    db = Database.from_url(url)
    plans: dict[str, list[str]] = {}
    seen: set[str] = set()
    for req in requests:
        if req.kind in seen or req.kind == "healthz":
            continue
        seen.add(req.kind)
        p = dict(req.params)
        f = search_store.OrgFilter(
            q=p.get("q"),
            kind=Kind(p["kind"]) if "kind" in p else None,
            jurisdiction=p.get("jurisdiction"),
            sector=Sector(p["sector"]) if "sector" in p else None,
            status=Status(p["status"]) if "status" in p else None,
        )
        stmt = select(store.organisations).where(*search_store._where(f))
        if "cursor" in p:
            stmt = stmt.where(store.organisations.c.id > decode_cursor(p["cursor"]))
        stmt = stmt.order_by(store.organisations.c.id).limit(LIMIT + 1)
        compiled = stmt.compile(dialect=db.engine.dialect)
        prefix = "EXPLAIN QUERY PLAN " if db.dialect == "sqlite" else "EXPLAIN (ANALYZE, BUFFERS, COSTS OFF) "
        with db.read() as conn:
            params = compiled.params
            if db.dialect == "sqlite":
                sql = prefix + str(compiled)
                rows = conn.exec_driver_sql(sql, tuple(params[k] for k in compiled.positiontup or ()))
                plan = [f"{r[3]}" for r in rows]
            else:
                rows = conn.exec_driver_sql(prefix + str(compiled), params)
                plan = [r[0] for r in rows]
        plans[f"{req.kind} {json.dumps(p, ensure_ascii=False)}"] = plan
    db.dispose()
    return plans


# --- driver -------------------------------------------------------------------------------------------------


def load(url: str, csv_path: Path) -> float:
    from fintech_zone.db import Database
    from fintech_zone.registry import service

    db = Database.from_url(url)
    start = time.perf_counter()
    with csv_path.open(encoding="utf-8-sig", newline="") as fh:
        result = service.import_csv(db, fh)
    seconds = time.perf_counter() - start
    assert result.imported > 0 and not result.skipped_rows
    db.dispose()
    return seconds


def analyze(url: str) -> None:
    from fintech_zone.db import Database

    db = Database.from_url(url)
    with db.transaction() as conn:
        conn.exec_driver_sql("ANALYZE")
    db.dispose()


def viewer_token(url: str) -> str:
    from fintech_zone.auth import service as auth
    from fintech_zone.auth.model import Role
    from fintech_zone.db import Database

    db = Database.from_url(url)
    token, _ = auth.create_token(db, Role.VIEWER, None, "benchmark viewer")
    db.dispose()
    return token


def run_backend(backend: str, url: str, csv_path: Path, args: argparse.Namespace) -> dict[str, Any]:
    load_seconds = load(url, csv_path)
    print(f"[{backend}] loaded in {load_seconds:.1f} s", file=sys.stderr)
    # PostgreSQL's autovacuum analyses a table soon after a bulk insert, so statistics are the steady state
    # there; nothing ever runs ANALYZE on SQLite, so by default it goes without (--sqlite-analyze to compare).
    analysed = backend == "postgres" or args.sqlite_analyze
    if analysed:
        analyze(url)
    cat = load_catalogue(url)
    rng = random.Random(args.seed)
    requests = build_requests(cat, args.per_type, rng)
    warmup = build_requests(cat, args.warmup, random.Random(args.seed + 1))
    token = viewer_token(url)
    result: dict[str, Any] = {
        "backend": backend,
        "rows": len(cat.ids),
        "load_seconds": round(load_seconds, 2),
        "analyzed": analysed,
        "limit": LIMIT,
    }
    with server(url) as srv:
        start, cpu = time.perf_counter(), process_cpu_seconds(srv.pid)
        result.update(run_requests(srv.base, token, requests, warmup))
        result["run_seconds"] = round(time.perf_counter() - start, 1)
        # Server CPU per request (searches and healthz, warm-up included): the cost without the waiting
        # that a busy shared machine adds to wall-clock latency.
        total = len(requests) + len(warmup)
        result["server_cpu_ms_per_request"] = round((process_cpu_seconds(srv.pid) - cpu) * 1000 / total, 2)
    result["target_p95_ms"] = TARGET_P95_MS
    result["target_met_overall"] = result["overall"]["p95"] <= TARGET_P95_MS
    result["types_over_target"] = [k for k, v in result["per_type"].items() if v["p95"] > TARGET_P95_MS]
    if args.explain:
        result["plans"] = explain(url, requests)
    return result


@contextmanager
def database(backend: str, workdir: Path, pg_url: str | None) -> Iterator[str]:
    if backend == "sqlite":
        yield fresh_sqlite_url(workdir, "search")
    else:
        assert pg_url is not None
        with pg_schema(pg_url) as url:
            yield url


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Registry search benchmark (see the module docstring).")
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument(
        "--backend",
        choices=("sqlite", "postgres", "both"),
        default=None,
        help="default: sqlite, plus postgres when --postgres or FZ_TEST_POSTGRES_URL is set",
    )
    parser.add_argument(
        "--postgres",
        metavar="URL",
        default=os.environ.get("FZ_TEST_POSTGRES_URL"),
        help="PostgreSQL server URL (a fresh schema is created in it and dropped)",
    )
    parser.add_argument("--per-type", type=int, default=60, help="measured requests per query type")
    parser.add_argument("--warmup", type=int, default=5, help="warm-up requests per query type")
    parser.add_argument("--sqlite-analyze", action="store_true", help="run ANALYZE on SQLite after loading")
    parser.add_argument("--explain", action="store_true", help="add each query type's plan to the output")
    parser.add_argument("--workdir", type=Path, default=None, help="where the CSV and SQLite files go")
    parser.add_argument("--serve", metavar="URL", help=argparse.SUPPRESS)
    parser.add_argument("--port", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)

    if args.serve:
        serve(args.serve, args.port)
        return

    choice = args.backend or ("both" if args.postgres else "sqlite")
    backends = ["sqlite", "postgres"] if choice == "both" else [choice]
    if "postgres" in backends and not args.postgres:
        parser.error("postgres needs --postgres URL or FZ_TEST_POSTGRES_URL")

    with tempfile.TemporaryDirectory(prefix="fz-bench-", dir=args.workdir) as tmp:
        workdir = Path(tmp)
        csv_path = workdir / "orgs.csv"
        generate_csv(csv_path, args.rows, args.seed)
        report: dict[str, Any] = {
            "benchmark": "registry_search",
            "command": command_line("benchmarks.registry_search", argv),
            "machine": machine_info(args.postgres if "postgres" in backends else None),
            "requests_per_type": args.per_type,
            "warmup_per_type": args.warmup,
        }
        for backend in backends:
            with database(backend, workdir, args.postgres) as url:
                report[backend] = run_backend(backend, url, csv_path, args)
        report["machine"].update(machine_load("after"))
    print(json.dumps(report, indent=2, ensure_ascii=False))


if __name__ == "__main__":
    main()
