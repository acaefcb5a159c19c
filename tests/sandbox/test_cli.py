"""Pilots from the command line: apply, move through review to testing as each side, suspend, monitor; bad input
is a clear message and exit code 2."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

from fintech_zone.db import Database
from fintech_zone.registry import service as registry
from tests.sandbox.conftest import ORGS, SCORES, application

FZ = Path(sys.executable).parent / "fintech-zone"


def cli(db_url: str, cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "FZ_DATABASE_URL": db_url, "FZ_SANDBOX_COMMENT_DAYS": "0"}
    return subprocess.run([str(FZ), "sandbox", *args], capture_output=True, text=True, env=env, cwd=cwd, timeout=120)


def ok(r: subprocess.CompletedProcess[str]) -> Any:
    assert r.returncode == 0, r.stderr
    return json.loads(r.stdout)


def test_a_pilot_from_the_command_line(db_url: str, db: Database, tmp_path: Path) -> None:
    for org in ORGS:
        registry.create_organisation(db, org)
    from fintech_zone.registry.model import NewOrganisation

    registry.create_organisation(
        db, NewOrganisation("cq-bank", "financial_institution", "CN", "Chongqing Test Bank", "重庆测试银行", "payments")
    )
    body = application(cross_border=False)
    (tmp_path / "pilot.json").write_text(json.dumps(body), encoding="utf-8")
    assert ok(cli(db_url, tmp_path, "apply", "pilot.json", "--as", "participant:cq-tech"))["status"] == "draft"

    # The wrong side, a bad --as, bad scores: exit code 2 with the reason, never a traceback.
    r = cli(db_url, tmp_path, "move", "pilot-1", "submitted", "--reason", "x", "--as", "regulator")
    assert r.returncode == 2 and "applicants" in r.stderr and "Traceback" not in r.stderr
    r = cli(db_url, tmp_path, "move", "pilot-1", "submitted", "--reason", "x", "--as", "participant")
    assert r.returncode == 2 and "names the organisation" in r.stderr
    r = cli(db_url, tmp_path, "apply", "missing.json")
    assert r.returncode == 2 and "missing.json" in r.stderr

    steps = [
        ("submitted", "participant:cq-tech", []),
        ("preliminary_review", "regulator:cn-pboc-cq", []),
        ("evaluation", "regulator:cn-pboc-cq", []),
        ("public_disclosure", "regulator:cn-pboc-cq", ["--scores", json.dumps(SCORES)]),
        ("admitted", "regulator:cn-pboc-cq", []),
        ("testing", "participant:cq-bank", []),
    ]
    r = cli(db_url, tmp_path, "move", "pilot-1", "submitted", "--reason", "go", "--as", "participant:cq-tech",
            "--scores", "{not json")  # fmt: skip
    assert r.returncode == 2 and "--scores: not JSON" in r.stderr
    for to, who, extra in steps:
        pilot = ok(cli(db_url, tmp_path, "move", "pilot-1", to, "--reason", f"{to} by {who}", "--as", who, *extra))
        assert pilot["status"] == to
    assert pilot["boundaries"]["max_customers"] == 3  # the requested ones, as admitted
    suspended = ok(cli(db_url, tmp_path, "suspend", "pilot-1", "--reason", "incident"))
    assert suspended["suspended"] is True
    assert ok(cli(db_url, tmp_path, "resume", "pilot-1", "--reason", "resolved"))["suspended"] is False
    figures = ok(cli(db_url, tmp_path, "monitor", "pilot-1"))
    assert figures["events"] == {"suspended": 1, "resumed": 1}
    listed = ok(cli(db_url, tmp_path, "list", "--status", "testing"))
    assert [p["id"] for p in listed] == ["pilot-1"]
    written = ok(cli(db_url, tmp_path, "report", "pilot-1", "--out", "exit.html", "--format", "html", "--lang", "en"))
    assert written["written"] == "exit.html" and "Final assessment" in (tmp_path / "exit.html").read_text("utf-8")
    r = cli(db_url, tmp_path, "report", "pilot-1", "--out", "/no/such/dir/exit.pdf")
    assert r.returncode == 2 and "exit.pdf" in r.stderr
