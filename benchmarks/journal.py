"""Journal (RFC 9162 Merkle log) speed against pymerkle, and what the journal costs the ledger, in one run.

    python -m benchmarks.journal                                   # the recorded run (10,000,000 leaves; minutes)
    python -m benchmarks.journal --quick                           # a small smoke run
    python -m benchmarks.journal --parts append,ledger --append-leaves 200000

Every measurement runs in a child process of its own, on a fresh database file in a temporary directory (or under
``--workdir``), deleted afterwards, so that one tree's memory and caches do not count against another's. The peer is
pymerkle (GPL-3.0; imported by this benchmark only, never by the package), on the same leaves:

* **append**: ``--append-leaves`` leaves in transactions of ``--batch``. Ours: ``journal.service.append_in`` inside
  ``db.transaction()`` into a fresh, migrated SQLite file (WAL, ``synchronous=NORMAL``, as the package opens it).
  pymerkle: ``SqliteTree.append_entries`` (its bulk append: one transaction per call) as shipped (rollback journal,
  ``synchronous=FULL``: an fsync per transaction) and with the same WAL/NORMAL pragmas as ours. Ours also runs
  with hashlib's hashes in place of the compiled ones (``ours_sqlite_python_hashes``), to show what the C extension
  is worth. ``--append-repeat`` rounds, in alternating order; each tree's median round is reported. In memory: our
  ``merkle.MemoryTree`` (``append(leaf_hash(data))``) against pymerkle's ``InmemoryTree.append_entries``.
* **proofs**: a log of ``--leaves`` leaves is built in each tree (ours with ``append_in`` in batches of ``--batch``,
  pymerkle with ``append_entries``; build times reported), its root is read (``service.root_at`` /
  ``get_root``; every tree must give the same root, since both follow RFC 9162), ``--warmup`` warm-up proofs are
  made and reported apart (pymerkle's ``SqliteTree`` computes subtree roots from the leaves and caches them: its
  first proofs take seconds), then ``--samples`` inclusion proofs of random leaves are timed one by one (ours:
  ``service.inclusion_proof(db, i, size)``; pymerkle: ``prove_inclusion(i + 1, size)``). Every tree proves the same
  leaves and must give the same proofs (a digest of all of them is compared).
* **verify**: each of those proofs verified, timed one by one: ``merkle.verify_inclusion`` for ours,
  ``pymerkle.verify_inclusion`` for theirs (the leaf hash computed from the leaf's data beforehand). It runs with
  the proofs (it needs them). CPU time is recorded beside wall time throughout (a shared
  machine's waits show as the difference).
* **ledger**: ``benchmarks.ledger.part_ours`` (``ledger.service.create_transfers`` in batches of 8,190 among
  ``--ledger-accounts`` accounts) with the journal on, as shipped, and off: in that child process only,
  ``fintech_zone.ledger.service._journal`` (which builds a batch's leaf and appends it) is replaced by a no-op.
  The journal's lock (``journal.lock_in``, one read of ``journal_state`` per batch) still runs when off. Runs
  alternate on, off, off, on, … (``--ledger-repeat`` of each) on the same transfers.

Leaves are synthetic canonical-JSON-like records of 104-166 bytes, a function of their index (``leaf_data``), so
every tree gets the same leaves and a verifier can recompute any of them. Only the operations are timed, never the
generation of leaves. Prints one JSON document: every figure, each target with met/missed, pymerkle's version, the
machine.
"""

from __future__ import annotations

import argparse
import hashlib
import importlib
import json
import os
import platform
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from benchmarks.registry_import import (
    ROOT,
    command_line,
    fresh_sqlite_url,
    machine_info,
    machine_load,
    peak_rss_mb,
)

TARGETS = {
    "append_leaves_per_s": 100_000,  # ours, batched, in-process, durable store
    "append_ratio_to_pymerkle": 2.0,  # durable vs durable
    "proof_p99_ms": 1.0,  # at 10,000,000 leaves
    "proof_ratio_to_pymerkle": 2.0,  # pymerkle's p99 / ours, durable vs durable
    "verify_ms": 0.2,  # p99
    "ledger_throughput_loss": 0.15,  # 1 - (journal on / journal off)
}
PARTS = ("append", "proofs", "verify", "ledger")
KEY = b"fintech-zone journal benchmark"
KIND = "bench.leaf"


# --- the workload --------------------------------------------------------------------------------------------


def leaf_data(i: int, seed: int) -> bytes:
    """Leaf ``i``'s bytes: a JSON-like record of 104-166 bytes, the same for every tree and every run."""
    h = hashlib.blake2b(i.to_bytes(8, "big"), key=KEY + seed.to_bytes(4, "big"), digest_size=64).hexdigest()
    return b'{"kind":"bench","seq":%d,"body":"%s"}' % (i, h[: 70 + int(h[:2], 16) % 59].encode())


def leaf_batches(n: int, batch: int, seed: int) -> Iterator[list[bytes]]:
    for start in range(0, n, batch):
        yield [leaf_data(i, seed) for i in range(start, min(n, start + batch))]


def percentile(samples: list[float], p: float) -> float:
    """As ``benchmarks.ledger.percentile``: the nearest-rank value."""
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


def sample_indices(size: int, count: int, seed: int) -> list[int]:
    rng = random.Random(seed)
    return [rng.randrange(size) for _ in range(count)]


def stats_ms(samples_ns: list[int]) -> dict[str, float]:
    ms = [s / 1e6 for s in samples_ns]
    return {
        "count": len(ms),
        "p50": round(percentile(ms, 50), 4),
        "p99": round(percentile(ms, 99), 4),
        "max": round(max(ms), 4),
        "mean": round(statistics.fmean(ms), 4),
    }


def _progress(label: str, done: int, total: int, started: float) -> None:
    if done == total or done % 1_000_000 == 0:
        rate = done / (time.perf_counter() - started)
        print(f"  {label}: {done:,}/{total:,} leaves ({rate:,.0f}/s overall)", file=sys.stderr, flush=True)


def _file_mb(path: Path) -> float:
    return round(sum(p.stat().st_size for p in path.parent.glob(path.name + "*") if p.is_file()) / 2**20, 1)


def _pymerkle() -> Any:
    import pymerkle  # type: ignore[import-untyped]

    return pymerkle


# --- append --------------------------------------------------------------------------------------------------


def _append_result(leaves: int, seconds: float, cpu: float, batches: list[float], **extra: Any) -> dict[str, Any]:
    return {
        "leaves": leaves,
        "seconds": round(seconds, 3),
        "leaves_per_s": round(leaves / seconds),
        "cpu_seconds": round(cpu, 3),
        "leaves_per_cpu_s": round(leaves / cpu),
        "batch_ms": {"p50": round(1000 * percentile(batches, 50), 2), "max": round(1000 * max(batches), 2)},
        **extra,
        "peak_rss_mb": peak_rss_mb(),
    }


def _ours_sqlite_build(args: argparse.Namespace, workdir: Path, n: int, label: str) -> tuple[Any, dict[str, Any]]:
    """Append n leaves into a fresh migrated SQLite file with ``append_in``; the database and the timings."""
    from fintech_zone.db import Database
    from fintech_zone.journal import service
    from fintech_zone.journal.model import Entry

    url = fresh_sqlite_url(workdir, "ours")
    db = Database.from_url(url)
    seconds = cpu = 0.0
    per_batch: list[float] = []
    done = 0
    started = time.perf_counter()
    for data in leaf_batches(n, args.batch, args.seed):
        entries = [Entry(KIND, d) for d in data]
        start, cpu_start = time.perf_counter(), time.process_time()
        with db.transaction() as conn:
            indices = service.append_in(conn, entries)
        took = time.perf_counter() - start
        cpu += time.process_time() - cpu_start
        seconds += took
        per_batch.append(took)
        if indices[0] != done:
            raise RuntimeError(f"leaves numbered from {indices[0]}, expected {done}")
        done += len(entries)
        _progress(label, done, n, started)
    if service.tree_size(db) != n:
        raise RuntimeError(f"the log holds {service.tree_size(db)} leaves, not {n}")
    path = Path(url.removeprefix("sqlite:///"))
    from fintech_zone.journal import merkle

    compiled = merkle.leaf_hashes is not merkle.py_leaf_hashes and merkle.node_hashes is not merkle.py_node_hashes
    return db, _append_result(n, seconds, cpu, per_batch, database_mb=_file_mb(path), compiled_hashes=compiled)


def _pymerkle_sqlite_build(
    args: argparse.Namespace, workdir: Path, n: int, label: str, wal: bool = False
) -> tuple[Any, dict[str, Any]]:
    pymerkle = _pymerkle()
    path = workdir / "pymerkle.db"
    if wal:  # the page size our databases are made with: only an empty file takes one
        import sqlite3

        from fintech_zone.db.engine import PAGE_SIZE

        empty = sqlite3.connect(path)
        empty.execute(f"PRAGMA page_size={PAGE_SIZE}")
        empty.execute("VACUUM")
        empty.close()
    tree = pymerkle.SqliteTree(str(path))
    if wal:  # and the pragmas our store runs with, for like-for-like durability and caching
        tree.con.execute("PRAGMA journal_mode=WAL")
        tree.con.execute("PRAGMA synchronous=NORMAL")
        tree.con.execute("PRAGMA cache_size=-65536")
        tree.con.execute("PRAGMA wal_autocheckpoint=10000")
    seconds = cpu = 0.0
    per_batch: list[float] = []
    done = 0
    started = time.perf_counter()
    for data in leaf_batches(n, args.batch, args.seed):
        start, cpu_start = time.perf_counter(), time.process_time()
        size = tree.append_entries(data)
        took = time.perf_counter() - start
        cpu += time.process_time() - cpu_start
        seconds += took
        per_batch.append(took)
        done += len(data)
        if size != done:
            raise RuntimeError(f"pymerkle holds {size} leaves, expected {done}")
        _progress(label, done, n, started)
    pragmas = {
        "journal_mode": tree.con.execute("PRAGMA journal_mode").fetchone(),
        "synchronous": tree.con.execute("PRAGMA synchronous").fetchone(),
        "page_size": tree.con.execute("PRAGMA page_size").fetchone(),
        "cache_size": tree.con.execute("PRAGMA cache_size").fetchone(),
    }
    return tree, _append_result(n, seconds, cpu, per_batch, database_mb=_file_mb(path), sqlite_pragmas=pragmas)


def _ours_memory_build(args: argparse.Namespace, n: int, label: str) -> tuple[Any, dict[str, Any]]:
    from fintech_zone.journal import merkle

    tree = merkle.MemoryTree()
    append, leaf_hash = tree.append, merkle.leaf_hash
    seconds = cpu = 0.0
    per_batch: list[float] = []
    done = 0
    started = time.perf_counter()
    for data in leaf_batches(n, args.batch, args.seed):
        start, cpu_start = time.perf_counter(), time.process_time()
        for d in data:
            append(leaf_hash(d))
        took = time.perf_counter() - start
        cpu += time.process_time() - cpu_start
        seconds += took
        per_batch.append(took)
        done += len(data)
        _progress(label, done, n, started)
    return tree, _append_result(n, seconds, cpu, per_batch)


def _pymerkle_memory_build(args: argparse.Namespace, n: int, label: str) -> tuple[Any, dict[str, Any]]:
    tree = _pymerkle().InmemoryTree()
    seconds = cpu = 0.0
    per_batch: list[float] = []
    done = 0
    started = time.perf_counter()
    for data in leaf_batches(n, args.batch, args.seed):
        start, cpu_start = time.perf_counter(), time.process_time()
        tree.append_entries(data)
        took = time.perf_counter() - start
        cpu += time.process_time() - cpu_start
        seconds += took
        per_batch.append(took)
        done += len(data)
        _progress(label, done, n, started)
    return tree, _append_result(n, seconds, cpu, per_batch)


def part_append_ours_sqlite(args: argparse.Namespace, workdir: Path) -> dict[str, Any]:
    db, result = _ours_sqlite_build(args, workdir, args.append_leaves, "append ours_sqlite")
    db.dispose()
    return result


def part_append_ours_sqlite_python_hashes(args: argparse.Namespace, workdir: Path) -> dict[str, Any]:
    """Ours with the hashes made by hashlib, as on a machine where the compiled ones could not be built: what the
    C extension (journal/_sha256.c) is worth, side by side."""
    from fintech_zone.journal import merkle

    merkle.leaf_hashes, merkle.node_hashes = merkle.py_leaf_hashes, merkle.py_node_hashes
    db, result = _ours_sqlite_build(args, workdir, args.append_leaves, "append ours_sqlite_python_hashes")
    db.dispose()
    return result


def part_append_pymerkle_sqlite(args: argparse.Namespace, workdir: Path) -> dict[str, Any]:
    tree, result = _pymerkle_sqlite_build(args, workdir, args.append_leaves, "append pymerkle_sqlite")
    tree.close()
    return result


def part_append_pymerkle_sqlite_wal(args: argparse.Namespace, workdir: Path) -> dict[str, Any]:
    tree, result = _pymerkle_sqlite_build(args, workdir, args.append_leaves, "append pymerkle_sqlite_wal", wal=True)
    tree.close()
    return result


def part_append_ours_memory(args: argparse.Namespace, workdir: Path) -> dict[str, Any]:
    return _ours_memory_build(args, args.append_leaves, "append ours_memory")[1]


def part_append_pymerkle_memory(args: argparse.Namespace, workdir: Path) -> dict[str, Any]:
    return _pymerkle_memory_build(args, args.append_leaves, "append pymerkle_memory")[1]


# --- proofs and their verification ---------------------------------------------------------------------------


def _proofs_digest(proofs: list[list[bytes]]) -> str:
    h = hashlib.sha256()
    for proof in proofs:
        h.update(len(proof).to_bytes(1, "big"))
        for node in proof:
            h.update(node)
    return h.hexdigest()


def _time_proofs(
    args: argparse.Namespace, size: int, prove: Callable[[int], list[bytes]]
) -> tuple[dict[str, Any], list[int], list[list[bytes]]]:
    """Warm-up proofs, then the timed samples: (figures, sampled indices, their proofs)."""
    warm_ns: list[int] = []
    for i in sample_indices(size, args.warmup, args.seed + 2):
        start = time.perf_counter_ns()
        prove(i)
        warm_ns.append(time.perf_counter_ns() - start)
    indices = sample_indices(size, args.samples, args.seed + 1)
    proofs: list[list[bytes]] = []
    sample_ns: list[int] = []
    cpu_ns: list[int] = []
    for i in indices:
        cpu_start, start = time.process_time_ns(), time.perf_counter_ns()
        proof = prove(i)
        sample_ns.append(time.perf_counter_ns() - start)
        cpu_ns.append(time.process_time_ns() - cpu_start)
        proofs.append(proof)
    figures: dict[str, Any] = {
        "proof_ms": stats_ms(sample_ns),
        "proof_cpu_ms": stats_ms(cpu_ns),
        "proofs_digest": _proofs_digest(proofs),
    }
    if warm_ns:
        figures["warmup"] = {
            "proofs": len(warm_ns),
            "first_ms": round(warm_ns[0] / 1e6, 3),
            "max_ms": round(max(warm_ns) / 1e6, 3),
            "seconds": round(sum(warm_ns) / 1e9, 3),
        }
    return figures, indices, proofs


def _timed_root(get: Callable[[], bytes]) -> tuple[bytes, float]:
    start = time.perf_counter()
    root = get()
    return root, round(time.perf_counter() - start, 3)


def part_tree_ours_sqlite(args: argparse.Namespace, workdir: Path) -> dict[str, Any]:
    from fintech_zone.journal import merkle, service

    n = args.leaves
    db, build = _ours_sqlite_build(args, workdir, n, "proofs ours_sqlite build")
    root, root_s = _timed_root(lambda: service.root_at(db, n))
    figures, indices, proofs = _time_proofs(args, n, lambda i: service.inclusion_proof(db, i, n))
    db.dispose()
    verify_ns: list[int] = []
    verify_cpu_ns: list[int] = []
    for i, proof in zip(indices, proofs, strict=True):
        leaf = merkle.leaf_hash(leaf_data(i, args.seed))
        cpu_start, start = time.process_time_ns(), time.perf_counter_ns()
        ok = merkle.verify_inclusion(leaf, i, n, proof, root)
        verify_ns.append(time.perf_counter_ns() - start)
        verify_cpu_ns.append(time.process_time_ns() - cpu_start)
        if not ok:
            raise RuntimeError(f"our proof of leaf {i} does not verify")
    return {
        "leaves": n,
        "build": build,
        "root": root.hex(),
        "root_seconds": root_s,
        **figures,
        "verify_ms": stats_ms(verify_ns),
        "verify_cpu_ms": stats_ms(verify_cpu_ns),
        "all_verified": True,
        "peak_rss_mb": peak_rss_mb(),
    }


def part_tree_pymerkle_sqlite(args: argparse.Namespace, workdir: Path) -> dict[str, Any]:
    pymerkle = _pymerkle()
    n = args.leaves
    tree, build = _pymerkle_sqlite_build(args, workdir, n, "proofs pymerkle_sqlite build")
    root, root_s = _timed_root(lambda: tree.get_root(n))

    made: list[Any] = []

    def prove(i: int) -> list[bytes]:
        proof = tree.prove_inclusion(i + 1, n)  # pymerkle counts leaves from one
        made.append(proof)
        path: list[bytes] = proof.path[1:]  # its path starts with the leaf's own hash
        return path

    figures, indices, _ = _time_proofs(args, n, prove)
    cache = str(tree.get_cache_info())
    tree.close()
    objects = made[len(made) - len(indices) :]
    verify_ns: list[int] = []
    verify_cpu_ns: list[int] = []
    for i, proof in zip(indices, objects, strict=True):
        leaf = hashlib.sha256(b"\x00" + leaf_data(i, args.seed)).digest()
        cpu_start, start = time.process_time_ns(), time.perf_counter_ns()
        pymerkle.verify_inclusion(leaf, root, proof, index=i + 1, size=n)  # raises InvalidProof when invalid
        verify_ns.append(time.perf_counter_ns() - start)
        verify_cpu_ns.append(time.process_time_ns() - cpu_start)
    return {
        "leaves": n,
        "build": build,
        "root": root.hex(),
        "root_seconds": root_s,
        **figures,
        "verify_ms": stats_ms(verify_ns),
        "verify_cpu_ms": stats_ms(verify_cpu_ns),
        "all_verified": True,
        "cache": cache,
        "peak_rss_mb": peak_rss_mb(),
    }


def part_tree_ours_memory(args: argparse.Namespace, workdir: Path) -> dict[str, Any]:
    n = args.leaves
    tree, build = _ours_memory_build(args, n, "proofs ours_memory build")
    root, root_s = _timed_root(tree.root)
    figures, _, _ = _time_proofs(args, n, lambda i: tree.inclusion_proof(i, n))
    return {"leaves": n, "build": build, "root": root.hex(), "root_seconds": root_s, **figures}


def part_tree_pymerkle_memory(args: argparse.Namespace, workdir: Path) -> dict[str, Any]:
    n = args.leaves
    tree, build = _pymerkle_memory_build(args, n, "proofs pymerkle_memory build")
    root, root_s = _timed_root(lambda: tree.get_root(n))

    def prove(i: int) -> list[bytes]:
        path: list[bytes] = tree.prove_inclusion(i + 1, n).path[1:]
        return path

    figures, _, _ = _time_proofs(args, n, prove)
    return {"leaves": n, "build": build, "root": root.hex(), "root_seconds": root_s, **figures}


# --- the ledger with the journal on and off ------------------------------------------------------------------


def _ledger(args: argparse.Namespace, workdir: Path, journal: bool) -> dict[str, Any]:
    from fintech_zone.db import Database
    from fintech_zone.journal import service as journal_service

    if not journal:
        from sqlalchemy import Connection

        from fintech_zone.ledger import service as ledger_service
        from fintech_zone.ledger.model import Outcome

        def no_journal(conn: Connection, kind: str, outcomes: list[Outcome]) -> None:
            return None

        ledger_service._journal = no_journal  # this child process only

    ledger_args = argparse.Namespace(
        transfers=args.ledger_transfers,
        accounts=args.ledger_accounts,
        skew="uniform",
        batch=args.ledger_batch,
        seed=args.seed,
        breakdown=False,
    )
    url = fresh_sqlite_url(workdir, "ledger")
    # The ledger benchmark's own in-process part, reused as is. Imported by name: mypy --strict would otherwise
    # follow it and report its django imports, which have no type information.
    ledger_bench = importlib.import_module("benchmarks.ledger")
    result: dict[str, Any] = ledger_bench.part_ours(ledger_args, url)
    db = Database.from_url(url)
    leaves = journal_service.tree_size(db)
    db.dispose()
    if journal == (leaves == 0):
        raise RuntimeError(f"journal {'on' if journal else 'off'} but the log holds {leaves} leaves")
    return {"journal": journal, "journal_leaves": leaves, **result}


def part_ledger_on(args: argparse.Namespace, workdir: Path) -> dict[str, Any]:
    return _ledger(args, workdir, journal=True)


def part_ledger_off(args: argparse.Namespace, workdir: Path) -> dict[str, Any]:
    return _ledger(args, workdir, journal=False)


CHILD_PARTS: dict[str, Callable[[argparse.Namespace, Path], dict[str, Any]]] = {
    "append_ours_sqlite": part_append_ours_sqlite,
    "append_ours_sqlite_python_hashes": part_append_ours_sqlite_python_hashes,
    "append_pymerkle_sqlite": part_append_pymerkle_sqlite,
    "append_pymerkle_sqlite_wal": part_append_pymerkle_sqlite_wal,
    "append_ours_memory": part_append_ours_memory,
    "append_pymerkle_memory": part_append_pymerkle_memory,
    "tree_ours_sqlite": part_tree_ours_sqlite,
    "tree_pymerkle_sqlite": part_tree_pymerkle_sqlite,
    "tree_ours_memory": part_tree_ours_memory,
    "tree_pymerkle_memory": part_tree_pymerkle_memory,
    "ledger_on": part_ledger_on,
    "ledger_off": part_ledger_off,
}


# --- orchestration -------------------------------------------------------------------------------------------


def run_part(part: str, args: argparse.Namespace, workdir: Path) -> dict[str, Any]:
    """One part in a child process, in a directory of its own that is deleted afterwards."""
    partdir = Path(tempfile.mkdtemp(prefix=f"{part}-", dir=workdir))
    argv = [
        sys.executable,
        "-m",
        "benchmarks.journal",
        *("--part", part, "--part-dir", str(partdir)),
        *("--leaves", str(args.leaves), "--append-leaves", str(args.append_leaves), "--batch", str(args.batch)),
        *("--samples", str(args.samples), "--warmup", str(args.warmup), "--seed", str(args.seed)),
        *("--ledger-transfers", str(args.ledger_transfers), "--ledger-accounts", str(args.ledger_accounts)),
        *("--ledger-batch", str(args.ledger_batch)),
    ]
    print(f"[journal] {part} …", file=sys.stderr, flush=True)
    started = time.perf_counter()
    try:
        done = subprocess.run(argv, cwd=ROOT, stdout=subprocess.PIPE, text=True, check=False)
    finally:
        shutil.rmtree(partdir, ignore_errors=True)
    if done.returncode != 0:
        raise RuntimeError(f"part {part} failed (exit {done.returncode}); its stderr is above")
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    result["wall_seconds"] = round(time.perf_counter() - started, 1)
    result.update(machine_load("after"))  # how busy the shared machine was around this part
    print(f"[journal] {part}: {json.dumps(result)}", file=sys.stderr, flush=True)
    return result


def _check(figure: float, target: float, higher: bool, **about: Any) -> dict[str, Any]:
    met = figure >= target if higher else figure <= target
    out: dict[str, Any] = {"figure": figure, "target": target, "met": met}
    if not met:  # by how much, relative to the target
        out["missed_by"] = f"{abs(figure - target) / target:.0%}"
    return {**out, **about}


def run(args: argparse.Namespace, argv: list[str] | None = None) -> dict[str, Any]:
    from importlib.metadata import version

    parts = args.parts
    out: dict[str, Any] = {
        "benchmark": "journal",
        "command": command_line("benchmarks.journal", argv),
        "machine": {
            **machine_info(),
            "platform": platform.platform(),
            "cpu_count": os.cpu_count(),
            "machine": platform.machine(),
        },
        "peer": f"pymerkle {version('pymerkle')}",
        "parameters": {
            "parts": parts,
            "append_leaves": args.append_leaves,
            "leaves": args.leaves,
            "batch": args.batch,
            "append_repeat": args.append_repeat,
            "samples": args.samples,
            "warmup": args.warmup,
            "seed": args.seed,
            "memory_trees": not args.no_memory,
            "ledger_transfers": args.ledger_transfers,
            "ledger_accounts": args.ledger_accounts,
            "ledger_batch": args.ledger_batch,
            "ledger_repeat": args.ledger_repeat,
        },
    }
    targets: dict[str, dict[str, Any]] = {}
    with tempfile.TemporaryDirectory(prefix="fz-bench-journal-", dir=args.workdir) as tmp:
        workdir = Path(tmp)
        if "append" in parts:
            names = ("ours_sqlite", "ours_sqlite_python_hashes", "pymerkle_sqlite", "pymerkle_sqlite_wal") + (
                () if args.no_memory else ("ours_memory", "pymerkle_memory")
            )
            runs: dict[str, list[dict[str, Any]]] = {name: [] for name in names}
            # Rounds alternate the order (ours first, then last, …) so that a busy spell of the shared machine
            # does not fall on one tree only; each tree's median round is reported, with every round's rate.
            for round_ in range(args.append_repeat):
                for name in names if round_ % 2 == 0 else names[::-1]:
                    runs[name].append(run_part(f"append_{name}", args, workdir))
            append: dict[str, Any] = {}
            for name, done in runs.items():
                rates = [r["leaves_per_s"] for r in done]
                median = sorted(done, key=lambda r: r["leaves_per_s"])[len(done) // 2]
                append[name] = {**median, "rounds_leaves_per_s": rates}
            if not append["ours_sqlite"]["compiled_hashes"]:
                raise RuntimeError("fintech_zone.journal._sha256 is not built: the figures would be of the slow path")
            ours = append["ours_sqlite"]["leaves_per_s"]
            peer = max(append["pymerkle_sqlite"]["leaves_per_s"], append["pymerkle_sqlite_wal"]["leaves_per_s"])
            append["ratio_durable"] = round(ours / peer, 2)
            append["ratio_durable_to_pymerkle_as_shipped"] = round(ours / append["pymerkle_sqlite"]["leaves_per_s"], 2)
            append["ratio_compiled_to_python_hashes"] = round(
                ours / append["ours_sqlite_python_hashes"]["leaves_per_s"], 2
            )
            if not args.no_memory:
                memory = append["ours_memory"]["leaves_per_s"] / append["pymerkle_memory"]["leaves_per_s"]
                append["ratio_memory"] = round(memory, 2)
            out["append"] = append
            targets["append_leaves_per_s"] = _check(
                ours, TARGETS["append_leaves_per_s"], True, what="ours_sqlite: append_in, SQLite file"
            )
            targets["append_ratio_to_pymerkle"] = _check(
                append["ratio_durable"],
                TARGETS["append_ratio_to_pymerkle"],
                True,
                what="durable vs durable: ours_sqlite / the faster of pymerkle SqliteTree as shipped and with WAL",
            )
        if "proofs" in parts or "verify" in parts:
            trees = {
                name: run_part(f"tree_{name}", args, workdir)
                for name in ("ours_sqlite", "pymerkle_sqlite")
                + (() if args.no_memory else ("ours_memory", "pymerkle_memory"))
            }
            roots = {t["root"] for t in trees.values()}
            digests = {t["proofs_digest"] for t in trees.values()}
            if len(roots) != 1 or len(digests) != 1:
                raise RuntimeError(f"the trees disagree: roots {roots}, proof digests {digests}")
            ours_p, peer_p = trees["ours_sqlite"]["proof_ms"], trees["pymerkle_sqlite"]["proof_ms"]
            summary: dict[str, Any] = {
                "leaves": args.leaves,
                "same_root_and_proofs": True,
                "root": roots.pop(),
                "ratio_p99_durable": round(peer_p["p99"] / ours_p["p99"], 2),
                "ratio_p50_durable": round(peer_p["p50"] / ours_p["p50"], 2),
            }
            if not args.no_memory:
                ours_m, peer_m = trees["ours_memory"]["proof_ms"], trees["pymerkle_memory"]["proof_ms"]
                summary["ratio_p99_memory"] = round(peer_m["p99"] / ours_m["p99"], 2)
                summary["ratio_p50_memory"] = round(peer_m["p50"] / ours_m["p50"], 2)
            out["proofs"] = {**summary, **trees}
            if "proofs" in parts:
                targets["proof_p99_ms"] = _check(
                    ours_p["p99"], TARGETS["proof_p99_ms"], False, what=f"ours_sqlite at {args.leaves:,}"
                )
                targets["proof_ratio_to_pymerkle"] = _check(
                    summary["ratio_p99_durable"],
                    TARGETS["proof_ratio_to_pymerkle"],
                    True,
                    what="durable vs durable: pymerkle SqliteTree p99 / ours_sqlite p99",
                )
            if "verify" in parts:
                ours_v, peer_v = trees["ours_sqlite"]["verify_ms"], trees["pymerkle_sqlite"]["verify_ms"]
                out["verify"] = {
                    "leaves": args.leaves,
                    "ours": ours_v,
                    "pymerkle": peer_v,
                    "ratio_p50": round(peer_v["p50"] / ours_v["p50"], 2),
                }
                targets["verify_ms"] = _check(
                    ours_v["p99"], TARGETS["verify_ms"], False, what="merkle.verify_inclusion, p99"
                )
        if "ledger" in parts:
            runs: list[dict[str, Any]] = []
            for r in range(args.ledger_repeat):  # on, off, off, on, …: drift on a noisy machine hits both alike
                order = ("ledger_on", "ledger_off") if r % 2 == 0 else ("ledger_off", "ledger_on")
                runs += [run_part(p, args, workdir) for p in order]
            on = [r["transfers_per_s"] for r in runs if r["journal"]]
            off = [r["transfers_per_s"] for r in runs if not r["journal"]]
            on_mean, off_mean = statistics.fmean(on), statistics.fmean(off)
            out["ledger"] = {
                "journal_off_by": "fintech_zone.ledger.service._journal replaced by a no-op in that child process",
                "transfers": args.ledger_transfers,
                "on_transfers_per_s": on,
                "off_transfers_per_s": off,
                "on_mean": round(on_mean),
                "off_mean": round(off_mean),
                "ratio_on_to_off": round(on_mean / off_mean, 3),
                "loss": round(1 - on_mean / off_mean, 3),
                "runs": runs,
            }
            targets["ledger_throughput_loss"] = _check(
                out["ledger"]["loss"],
                TARGETS["ledger_throughput_loss"],
                False,
                what="1 - mean(journal on) / mean(journal off), ledger in-process on SQLite",
            )
    out["targets"] = targets
    out["machine"].update(machine_load("after"))
    return out


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m benchmarks.journal", description=(__doc__ or "").split("\n\n")[0])
    p.add_argument("--parts", default=",".join(PARTS), help=f"comma-separated subset of {','.join(PARTS)}")
    p.add_argument("--leaves", type=int, default=10_000_000, help="size of the log proofs are made in")
    p.add_argument("--append-leaves", type=int, default=1_000_000, help="leaves appended in the append part")
    p.add_argument("--batch", type=int, default=10_000, help="leaves per append transaction")
    p.add_argument("--append-repeat", type=int, default=3, help="rounds of the append part (medians reported)")
    p.add_argument("--samples", type=int, default=2_000, help="timed proofs (and verifications) per tree")
    p.add_argument("--warmup", type=int, default=100, help="proofs made before the timed ones")
    p.add_argument("--no-memory", action="store_true", help="skip the in-memory trees (ours and pymerkle's)")
    p.add_argument("--ledger-transfers", type=int, default=1_000_000)
    p.add_argument("--ledger-accounts", type=int, default=10_000)
    p.add_argument("--ledger-batch", type=int, default=8190)
    p.add_argument("--ledger-repeat", type=int, default=2, help="runs with the journal on, and as many off")
    p.add_argument("--seed", type=int, default=2026)
    p.add_argument("--quick", action="store_true", help="a small smoke run (overrides the sizes)")
    p.add_argument("--workdir", type=Path, default=None, help="where the databases go (a temporary directory in it)")
    p.add_argument("--part", choices=list(CHILD_PARTS), help=argparse.SUPPRESS)
    p.add_argument("--part-dir", type=Path, help=argparse.SUPPRESS)
    return p


def main(argv: list[str] | None = None) -> None:
    args = parser().parse_args(argv)
    if args.part:
        print(json.dumps(CHILD_PARTS[args.part](args, args.part_dir)))
        return
    if args.quick:
        args.append_leaves, args.leaves, args.batch = 20_000, 100_000, 2_000
        args.samples, args.warmup = 200, 10
        args.ledger_transfers, args.ledger_accounts, args.ledger_repeat = 20_000, 1_000, 1
        args.append_repeat = 1
    args.parts = [p.strip() for p in args.parts.split(",") if p.strip()]
    unknown = set(args.parts) - set(PARTS)
    if unknown:
        raise SystemExit(f"unknown parts {sorted(unknown)}; choose from {','.join(PARTS)}")
    if min(args.leaves, args.append_leaves, args.batch, args.samples, args.ledger_transfers, args.append_repeat) < 1:
        raise SystemExit("sizes must be ≥ 1")
    if not 1 <= args.ledger_batch <= 8190:
        raise SystemExit("need 1 ≤ --ledger-batch ≤ 8190")
    print(json.dumps(run(args, argv), indent=2))


if __name__ == "__main__":
    main()
