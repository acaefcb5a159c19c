"""Benchmark: CSV import of N organisations (``fintech-zone registry import FILE.csv``, i.e. ``import_csv``).

Target (issue): 100,000 organisations in at most 10 s on SQLite.

Generates N synthetic organisations (``benchmarks.gen_orgs``) into a temporary CSV, then measures, each stage
in its own child process (so each ``peak_rss_mb`` is that stage's own) and each write into a fresh, migrated
database (a new SQLite file; on PostgreSQL a new schema that is dropped afterwards):

* ``import``: ``registry.service.import_csv`` (the figure the target is about), with a breakdown of its parts
  (parse+validate, uniqueness check against the database, insert, commit) taken by timing wrappers;
* ``cli``: the command itself, ``fintech-zone registry import FILE`` as a subprocess (start-up included);
* ``parse_only``: ``csv_format.parse_csv`` alone: reading and validating every row, no database;
* ``insert_core``: ``store.insert_organisations`` (SQLAlchemy Core executemany, as the import does it) of the
  same rows, already parsed, in one transaction;
* ``insert_dbapi``: a bare driver ``executemany`` of the same rows as tuples (sqlite3 / psycopg);
* ``copy`` (PostgreSQL only): ``COPY ... FROM STDIN`` of the same rows, the server's floor.

Prints one JSON object keyed by backend, each with rows, seconds, rows_per_second, backend, peak_rss_mb.

    python -m benchmarks.registry_import                       # SQLite, 100,000 rows
    python -m benchmarks.registry_import --postgres postgresql+psycopg://postgres@127.0.0.1:5432/test
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import platform
import resource
import sqlite3
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any
from urllib.parse import quote

from sqlalchemy import create_engine, text

from fintech_zone.registry.store import HISTORY_COLUMNS, ORG_COLUMNS

ROOT = Path(__file__).resolve().parents[1]
TARGET_SECONDS = 10.0


# --- shared helpers (also used by registry_search) ---------------------------------------------------------


def peak_rss_mb() -> float:
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)  # Linux: kilobytes


def machine_info(pg_url: str | None = None) -> dict[str, Any]:
    info: dict[str, Any] = {
        "date_utc": datetime.now(UTC).strftime("%Y-%m-%d %H:%M"),
        "cpu": _cpu_model(),
        "nproc": os.cpu_count(),
        "memory_gb": round(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30, 1),
        "python": platform.python_version(),
        "sqlite": sqlite3.sqlite_version,
        "python_loop_10m_seconds": cpu_calibration(),
        **code_version(),
        **machine_load("before"),
    }
    if pg_url:
        engine = create_engine(pg_url)
        with engine.connect() as conn:
            info["postgresql"] = conn.exec_driver_sql("SHOW server_version").scalar()
        engine.dispose()
    return info


def code_version() -> dict[str, Any]:
    """The commit measured, and any uncommitted changes under src/ (they are measured too)."""

    def git(*args: str) -> str:
        done = subprocess.run(["git", *args], cwd=ROOT, capture_output=True, text=True, check=False)
        return done.stdout.strip() if done.returncode == 0 else ""

    return {
        "git_commit": git("rev-parse", "--short", "HEAD") or "unknown",
        "src_uncommitted": git("status", "--porcelain", "--", "src").splitlines(),
    }


def cpu_calibration() -> float:
    """Seconds for a fixed pure-Python loop: a crude single-core speed to compare machines by."""
    start = time.process_time()
    total = 0
    for i in range(10_000_000):
        total += i
    return round(time.process_time() - start, 2)


def machine_load(when: str) -> dict[str, Any]:
    """How busy the (shared) machine is: load average and, where the kernel has it, CPU pressure (PSI)."""
    out: dict[str, Any] = {f"load_average_{when}": [round(x, 2) for x in os.getloadavg()]}
    try:
        some = Path("/proc/pressure/cpu").read_text().splitlines()[0].split()
        out[f"cpu_pressure_{when}"] = " ".join(some[1:3])  # share of time some task waited for a CPU
    except (OSError, IndexError):
        pass
    return out


def command_line(module: str, argv: list[str] | None) -> str:
    """The command as run, with any password in a database URL hidden."""
    from sqlalchemy.engine import make_url

    def mask(arg: str) -> str:
        if "://" in arg:
            try:
                return make_url(arg).render_as_string(hide_password=True)
            except Exception:
                return arg
        return arg

    return " ".join(["python -m", module, *(mask(a) for a in (argv if argv is not None else sys.argv[1:]))])


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def fresh_sqlite_url(workdir: Path, name: str) -> str:
    from fintech_zone.db import Database
    from fintech_zone.db.migrate import upgrade

    path = workdir / f"{name}-{uuid.uuid4().hex[:8]}.db"
    db = Database.from_url(f"sqlite:///{path}")
    upgrade(db.engine)
    db.dispose()
    return f"sqlite:///{path}"


@contextmanager
def pg_schema(base_url: str, migrate: bool = True) -> Iterator[str]:
    """A new schema (``fz_bench_…``) reached through ``search_path`` in the URL, dropped afterwards."""
    from fintech_zone.db import Database
    from fintech_zone.db.migrate import upgrade

    schema = f"fz_bench_{os.getpid()}_{uuid.uuid4().hex[:8]}"
    admin = create_engine(base_url)
    with admin.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    sep = "&" if "?" in base_url else "?"
    url = f"{base_url}{sep}options={quote(f'-csearch_path={schema}')}"
    try:
        if migrate:
            db = Database.from_url(url)
            upgrade(db.engine)
            db.dispose()
        yield url
    finally:
        with admin.begin() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


def generate_csv(path: Path, rows: int, seed: int) -> float:
    from benchmarks.gen_orgs import write_csv_file

    start = time.perf_counter()
    write_csv_file(path, rows, seed)
    return time.perf_counter() - start


# --- stages (each runs in a child process: ``--stage NAME --csv FILE --url URL``) -------------------------


def _raw_rows(csv_path: Path) -> tuple[list[tuple[Any, ...]], list[tuple[Any, ...]]]:
    """The CSV's rows as the tuples the import writes (no validation: the generator's data is valid)."""
    now = datetime.now(UTC)
    today = date.today()
    orgs: list[tuple[Any, ...]] = []
    history: list[tuple[Any, ...]] = []
    with csv_path.open(encoding="utf-8", newline="") as fh:
        for r in csv.DictReader(fh):
            values = {k: (v or None) for k, v in r.items()}
            orgs.append((*(values[c] for c in ORG_COLUMNS[:12]), now, now))
            history.append((values["id"], None, values["status"], today, "registered", now))
    return orgs, history


def _stage_import(csv_path: Path, url: str) -> dict[str, Any]:
    from fintech_zone.db import Database
    from fintech_zone.registry import service, store

    parts: dict[str, float] = {}

    def timed(name: str, fn: Callable[..., Any]) -> Callable[..., Any]:
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            start = time.perf_counter()
            try:
                return fn(*args, **kwargs)
            finally:
                parts[name] = parts.get(name, 0.0) + time.perf_counter() - start

        return wrapper

    # The import's own functions, wrapped where service looks them up (module attributes) to time each part.
    for module, attr, part in (
        (service, "parse_csv", "parse_validate"),
        (service, "_check_unique_in", "uniqueness_check"),
        (store, "insert_organisations", "insert"),
    ):
        setattr(module, attr, timed(part, getattr(module, attr)))

    db = Database.from_url(url)
    with db.read() as conn:  # connect (and set pragmas) outside the timed region, as a running CLI has
        conn.exec_driver_sql("SELECT 1")
    start, cpu = time.perf_counter(), time.process_time()
    with csv_path.open(encoding="utf-8-sig", newline="") as fh:
        result = service.import_csv(db, fh)
    seconds, cpu = time.perf_counter() - start, time.process_time() - cpu
    db.dispose()
    assert not result.skipped_rows, result.skipped_rows[:5]
    parts["commit_and_other"] = seconds - sum(parts.values())
    return {
        "rows": result.imported,
        "seconds": seconds,
        "cpu_seconds": cpu,
        "breakdown_seconds": {k: round(v, 3) for k, v in parts.items()},
    }


def _stage_cli(csv_path: Path, url: str) -> dict[str, Any]:
    exe = Path(sys.executable).with_name("fintech-zone")
    env = {**os.environ, "FZ_DATABASE_URL": url}
    start = time.perf_counter()
    done = subprocess.run(
        [str(exe), "registry", "import", str(csv_path)], env=env, cwd=ROOT, capture_output=True, text=True, check=False
    )
    seconds = time.perf_counter() - start
    if done.returncode != 0:
        raise RuntimeError(f"CLI failed ({done.returncode}): {done.stderr[-2000:]}")
    rows = int(done.stdout.split()[1])  # "imported N organisation(s)"
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return {
        "rows": rows,
        "seconds": seconds,
        "cpu_seconds": usage.ru_utime + usage.ru_stime,
        "peak_rss_mb": round(usage.ru_maxrss / 1024, 1),
    }


def _stage_parse_only(csv_path: Path, url: str) -> dict[str, Any]:
    from fintech_zone.registry.csv_format import parse_csv

    start, cpu = time.perf_counter(), time.process_time()
    with csv_path.open(encoding="utf-8-sig", newline="") as fh:
        parsed = parse_csv(fh)
    seconds, cpu = time.perf_counter() - start, time.process_time() - cpu
    assert not parsed.errors, parsed.errors[:5]
    return {"rows": len(parsed.organisations), "seconds": seconds, "cpu_seconds": cpu}


def _stage_insert_core(csv_path: Path, url: str) -> dict[str, Any]:
    from fintech_zone.db import Database
    from fintech_zone.registry import store
    from fintech_zone.registry.csv_format import parse_csv

    with csv_path.open(encoding="utf-8-sig", newline="") as fh:
        orgs = [o for _, o in parse_csv(fh).organisations]
    db = Database.from_url(url)
    with db.read() as conn:
        conn.exec_driver_sql("SELECT 1")
    start, cpu = time.perf_counter(), time.process_time()
    with db.transaction() as conn:
        store.insert_organisations(conn, orgs, date.today(), datetime.now(UTC))
    seconds, cpu = time.perf_counter() - start, time.process_time() - cpu
    db.dispose()
    return {"rows": len(orgs), "seconds": seconds, "cpu_seconds": cpu}


def _stage_insert_dbapi(csv_path: Path, url: str) -> dict[str, Any]:
    from fintech_zone.db import Database

    orgs, history = _raw_rows(csv_path)
    db = Database.from_url(url)
    sqlite = db.dialect == "sqlite"
    mark = "?" if sqlite else "%s"
    org_sql = (
        f"INSERT INTO registry_organisations ({', '.join(ORG_COLUMNS)}) VALUES ({', '.join(mark for _ in ORG_COLUMNS)})"
    )
    hist_sql = (
        f"INSERT INTO registry_status_history ({', '.join(HISTORY_COLUMNS)}) "
        f"VALUES ({', '.join(mark for _ in HISTORY_COLUMNS)})"
    )
    raw = db.engine.raw_connection()  # for SQLite: WAL, synchronous=NORMAL, as the app has it
    dbapi = raw.driver_connection
    assert dbapi is not None
    start, cpu = time.perf_counter(), time.process_time()
    cur = dbapi.cursor()
    if sqlite:
        cur.execute("BEGIN IMMEDIATE")
    cur.executemany(org_sql, orgs)
    cur.executemany(hist_sql, history)
    dbapi.commit() if not sqlite else cur.execute("COMMIT")
    seconds, cpu = time.perf_counter() - start, time.process_time() - cpu
    cur.close()
    raw.close()
    db.dispose()
    return {"rows": len(orgs), "seconds": seconds, "cpu_seconds": cpu}


def _stage_copy(csv_path: Path, url: str) -> dict[str, Any]:
    from fintech_zone.db import Database

    orgs, history = _raw_rows(csv_path)
    db = Database.from_url(url)
    raw = db.engine.raw_connection()
    dbapi = raw.driver_connection
    assert dbapi is not None
    start, cpu = time.perf_counter(), time.process_time()
    with dbapi.cursor() as cur:
        with cur.copy(f"COPY registry_organisations ({', '.join(ORG_COLUMNS)}) FROM STDIN") as copy:
            for row in orgs:
                copy.write_row(row)
        with cur.copy(f"COPY registry_status_history ({', '.join(HISTORY_COLUMNS)}) FROM STDIN") as copy:
            for row in history:
                copy.write_row(row)
    dbapi.commit()
    seconds, cpu = time.perf_counter() - start, time.process_time() - cpu
    raw.close()
    db.dispose()
    return {"rows": len(orgs), "seconds": seconds, "cpu_seconds": cpu}


STAGES: dict[str, Callable[[Path, str], dict[str, Any]]] = {
    "import": _stage_import,
    "cli": _stage_cli,
    "parse_only": _stage_parse_only,
    "insert_core": _stage_insert_core,
    "insert_dbapi": _stage_insert_dbapi,
    "copy": _stage_copy,
}
NEEDS_DB = {"import", "cli", "insert_core", "insert_dbapi", "copy"}


def _run_stage_child(stage: str, csv_path: Path, url: str) -> dict[str, Any]:
    done = subprocess.run(
        [sys.executable, "-m", "benchmarks.registry_import", "--stage", stage, "--csv", str(csv_path), "--url", url],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        raise RuntimeError(f"stage {stage} failed:\n{done.stderr[-4000:]}")
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def _finish(result: dict[str, Any]) -> dict[str, Any]:
    result["seconds"] = round(result["seconds"], 3)
    result["cpu_seconds"] = round(result["cpu_seconds"], 3)
    result["rows_per_second"] = round(result["rows"] / result["seconds"]) if result["seconds"] else None
    return result


def run_backend(
    backend: str, csv_path: Path, workdir: Path, pg_url: str | None, stages: list[str], repeat: int
) -> dict[str, Any]:
    @contextmanager
    def database(stage: str) -> Iterator[str]:
        if stage not in NEEDS_DB:
            yield ""
        elif backend == "sqlite":
            yield fresh_sqlite_url(workdir, stage)
        else:
            assert pg_url is not None
            with pg_schema(pg_url) as url:
                yield url

    measured: dict[str, dict[str, Any]] = {}
    for stage in stages:
        if stage == "copy" and backend != "postgres":
            continue
        runs = []
        for _ in range(repeat if stage == "import" else 1):
            with database(stage) as url:
                runs.append(_finish(_run_stage_child(stage, csv_path, url)))
            print(f"[{backend}] {stage}: {runs[-1]['seconds']} s", file=sys.stderr)
        best = sorted(runs, key=lambda r: r["seconds"])[len(runs) // 2]  # the median run
        if len(runs) > 1:
            best = {**best, "all_runs_seconds": [r["seconds"] for r in runs], "median_of": len(runs)}
        measured[stage] = best

    main = measured.get("import") or next(iter(measured.values()))
    out: dict[str, Any] = {
        "backend": backend,
        "rows": main["rows"],
        "seconds": main["seconds"],
        "rows_per_second": main["rows_per_second"],
        "peak_rss_mb": main["peak_rss_mb"],
        "cpu_seconds": main["cpu_seconds"],
    }
    if "breakdown_seconds" in main:
        out["breakdown_seconds"] = main["breakdown_seconds"]
    if "all_runs_seconds" in main:
        out["all_runs_seconds"] = main["all_runs_seconds"]
    if backend == "sqlite":
        out["target_seconds"] = TARGET_SECONDS
        out["target_met"] = main["seconds"] <= TARGET_SECONDS
    out["comparison"] = {
        k: {f: v[f] for f in ("rows", "seconds", "rows_per_second", "cpu_seconds", "peak_rss_mb") if f in v}
        for k, v in measured.items()
        if k != "import"
    }
    return out


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="CSV import benchmark (see the module docstring).")
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
    parser.add_argument("--repeat", type=int, default=1, help="runs of the import stage (the median is reported)")
    parser.add_argument("--stages", default=",".join(STAGES), help=f"comma-separated subset of {','.join(STAGES)}")
    parser.add_argument(
        "--workdir", type=Path, default=None, help="where the CSV and SQLite files go (a temporary directory)"
    )
    parser.add_argument("--stage", help=argparse.SUPPRESS)
    parser.add_argument("--csv", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--url", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)

    if args.stage:  # child process: run one stage and print its JSON
        result = STAGES[args.stage](args.csv, args.url)
        result.setdefault("peak_rss_mb", peak_rss_mb())
        print(json.dumps(result))
        return

    backend = args.backend or ("both" if args.postgres else "sqlite")
    backends = ["sqlite", "postgres"] if backend == "both" else [backend]
    if "postgres" in backends and not args.postgres:
        parser.error("postgres needs --postgres URL or FZ_TEST_POSTGRES_URL")
    stages = [s.strip() for s in args.stages.split(",") if s.strip()]
    unknown = [s for s in stages if s not in STAGES]
    if unknown:
        parser.error(f"unknown stages: {unknown}")

    with tempfile.TemporaryDirectory(prefix="fz-bench-", dir=args.workdir) as tmp:
        workdir = Path(tmp)
        csv_path = workdir / "orgs.csv"
        gen_seconds = generate_csv(csv_path, args.rows, args.seed)
        print(f"generated {args.rows} rows in {gen_seconds:.1f} s", file=sys.stderr)
        report: dict[str, Any] = {
            "benchmark": "registry_import",
            "command": command_line("benchmarks.registry_import", argv),
            "machine": machine_info(args.postgres if "postgres" in backends else None),
            "csv": {
                "rows": args.rows,
                "bytes": csv_path.stat().st_size,
                "seed": args.seed,
                "generated_in_seconds": round(gen_seconds, 2),
            },
        }
        for b in backends:
            report[b] = run_backend(b, csv_path, workdir, args.postgres, stages, args.repeat)
        report["machine"].update(machine_load("after"))
    print(json.dumps(report, indent=2, ensure_ascii=False))


if __name__ == "__main__":
    main()
