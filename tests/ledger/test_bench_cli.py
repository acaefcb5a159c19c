"""`fintech-zone bench ledger` runs end to end and prints the figures the issue names (a tiny run: a smoke test of
the benchmark, not a measurement; the measured figures are in docs/benchmarks.md)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
FIGURES = {"transfers_per_s", "raw_rows_per_s", "ratio_to_raw", "peak_rss_mb", "account_lookup_p99_ms", "targets"}


def _bench(*args: str) -> dict[str, object]:
    exe = Path(sys.executable).parent / "fintech-zone"
    done = subprocess.run(
        [str(exe), "bench", "ledger", "--transfers", "3000", "--accounts", "200", "--json", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    result: dict[str, object] = json.loads(done.stdout)
    return result


def test_sqlite_in_process_and_over_http() -> None:
    out = _bench("--backend", "sqlite", "--skew", "zipf", "--http")
    assert out.keys() >= FIGURES
    assert out["transfers"] == 3000 and out["skew"] == "zipf"
    assert isinstance(out["transfers_per_s"], int) and out["transfers_per_s"] > 0
    assert isinstance(out["http_transfers_per_s"], int) and out["http_transfers_per_s"] > 0
    ours = out["ours"]
    assert isinstance(ours, dict) and ours["transfers"] == 3000 and ours["books_balance"] is True
    targets = out["targets"]
    assert isinstance(targets, dict) and {"transfers_per_s", "ratio_to_raw", "http_transfers_per_s"} <= targets.keys()


@pytest.mark.postgres
def test_postgres_against_django_hordak() -> None:
    url = os.environ.get("FZ_TEST_POSTGRES_URL")
    if not url:
        pytest.skip("FZ_TEST_POSTGRES_URL is not set: PostgreSQL variants not run here (CI sets it)")
    out = _bench("--backend", "postgres", "--postgres", url, "--peer-transfers", "500")
    assert FIGURES | {"peer_transfers_per_s", "ratio_to_peer"} <= out.keys()
    peer = out["peer"]
    assert isinstance(peer, dict) and peer["transfers"] == 500 and str(peer["package"]).startswith("django-hordak")
    assert isinstance(out["ratio_to_peer"], float) and out["ratio_to_peer"] > 0


def test_bad_options_exit_2() -> None:
    exe = Path(sys.executable).parent / "fintech-zone"
    done = subprocess.run(
        [str(exe), "bench", "ledger", "--transfers", "0"], cwd=ROOT, capture_output=True, text=True, check=False
    )
    assert done.returncode == 2 and "error:" in done.stderr


def test_an_unreachable_database_is_a_clear_error_not_a_traceback() -> None:
    exe = Path(sys.executable).parent / "fintech-zone"
    url = "postgresql+psycopg://postgres@127.0.0.1:9/nowhere"  # port 9 (discard): nothing listens
    done = subprocess.run(
        [str(exe), "bench", "ledger", "--backend", "postgres", "--postgres", url, "--transfers", "10"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 2, done.stderr[-500:]
    assert "error: the benchmark did not complete" in done.stderr and "Traceback" not in done.stderr
