"""The journal's CLI and key files: keygen (0600, never silently replaced), sign, head, proof, export and verify
through the real entry point, and serve's first-start keys."""

from __future__ import annotations

import json
import stat
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest

from fintech_zone.cli import _ensure_validator_keys, main
from fintech_zone.db import Database
from fintech_zone.errors import Conflict
from fintech_zone.journal import keys
from fintech_zone.ledger import service as ledger
from fintech_zone.ledger.model import Asset, AssetKind, NewAccount, Transfer
from fintech_zone.settings import Settings


@dataclass
class Run:
    returncode: int
    stdout: str
    stderr: str


@pytest.fixture
def cli(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> Callable[..., Run]:
    """The real entry point (``fintech-zone``, with its error mapping to exit code 2), in this process."""

    def run(env: dict[str, str], *args: str) -> Run:
        for name, value in env.items():
            monkeypatch.setenv(name, value)
        monkeypatch.setattr(sys, "argv", ["fintech-zone", "journal", *args])
        code: int | str | None = 0
        try:
            main()
        except SystemExit as exc:
            code = exc.code
        out = capsys.readouterr()
        return Run(code if isinstance(code, int) else 1, out.out, out.err)

    return run


def test_keygen_writes_a_private_key_only_its_owner_reads_and_never_replaces_it_silently(tmp_path: Path) -> None:
    public = keys.generate(tmp_path, "cq")
    private = keys.private_path(tmp_path, "cq")
    assert stat.S_IMODE(private.stat().st_mode) == 0o600
    assert keys.public_path(tmp_path, "cq").read_text().strip() == public.hex()
    assert keys.public_keys(tmp_path) == {"cq": public}
    with pytest.raises(Conflict, match="--force"):
        keys.generate(tmp_path, "cq")
    assert keys.public_keys(tmp_path) == {"cq": public}  # untouched
    replaced = keys.generate(tmp_path, "cq", force=True)
    assert replaced != public and keys.public_keys(tmp_path) == {"cq": replaced}
    assert not list(tmp_path.glob("*.tmp"))


def test_a_node_holding_only_the_other_nodes_public_key_publishes_both(tmp_path: Path) -> None:
    sg_machine, cq_machine = tmp_path / "sg", tmp_path / "cq"
    sg_public = keys.generate(sg_machine, "sg")
    cq_public = keys.generate(cq_machine, "cq")
    keys.public_path(cq_machine, "sg").write_text(sg_public.hex() + "\n")  # the other node's .pub, copied over
    assert keys.public_keys(cq_machine) == {"cq": cq_public, "sg": sg_public}
    assert keys.load_private(cq_machine, "sg") is None


def test_serve_makes_both_keys_once_on_a_fresh_machine(tmp_path: Path) -> None:
    settings = Settings(journal_key_dir=tmp_path / "k")
    _ensure_validator_keys(settings)
    first = keys.public_keys(settings.journal_key_dir)
    assert set(first) == {"cq", "sg"}
    _ensure_validator_keys(settings)
    assert keys.public_keys(settings.journal_key_dir) == first


def test_the_cli_from_keygen_to_verify(db: Database, db_url: str, tmp_path: Path, cli: Callable[..., Run]) -> None:
    env = {"FZ_DATABASE_URL": db_url, "FZ_JOURNAL_KEY_DIR": str(tmp_path / "keys")}
    unsigned = cli(env, "sign")
    assert unsigned.returncode == 2 and "no validator key" in unsigned.stderr
    for node in ("cq", "sg"):
        made = cli(env, "keygen", "--node", node)
        assert made.returncode == 0 and "publish it" in made.stdout, made.stderr
    again = cli(env, "keygen", "--node", "cq")
    assert again.returncode == 2 and "--force" in again.stderr and "Traceback" not in again.stderr
    assert cli(env, "keygen", "--node", "xx").returncode == 2

    ledger.create_asset(db, Asset("CNY", AssetKind.FIAT_RESERVE, "CNY", 2))
    ledger.create_accounts(db, [NewAccount("a", "CNY", 1), NewAccount("b", "CNY", 1)])
    ledger.create_transfers(db, [Transfer("t-1", "a", "b", 500, "CNY", 1)])

    signed = cli(env, "sign")
    assert signed.returncode == 0 and "cq: signed 1 head(s), up to size 2" in signed.stdout, signed.stdout
    head = json.loads(cli(env, "head", "--json").stdout)
    assert head["tree_size"] == 2 and set(head["signatures"]) == {"cq", "sg"}
    proof = json.loads(cli(env, "proof", "t-1", "--json").stdout)
    assert proof["index"] == 1 and proof["verified"] is True and len(proof["path"]) == 1
    assert cli(env, "proof", "no-such-ref").returncode == 2

    export = tmp_path / "journal.jsonl"
    exported = cli(env, "export", str(export))
    assert exported.returncode == 0 and "exported 2 leaves and 1 signed heads" in exported.stdout
    keys_file = tmp_path / "published.json"
    keys_file.write_text(json.dumps({n: k.hex() for n, k in keys.public_keys(tmp_path / "keys").items()}))
    ok = cli({**env, "FZ_JOURNAL_KEY_DIR": str(tmp_path / "elsewhere")}, "verify", "--keys", str(keys_file))
    assert ok.returncode == 0 and "ok: 2 leaves, 1 signed heads verified" in ok.stdout, ok.stderr
    ok_export = cli(env, "verify", "--export", str(export), "--no-records", "--json")
    assert ok_export.returncode == 0 and json.loads(ok_export.stdout)["ok"] is True
    no_keys = cli({**env, "FZ_JOURNAL_KEY_DIR": str(tmp_path / "elsewhere")}, "verify")
    assert no_keys.returncode == 2 and "public key of cq, sg is needed" in no_keys.stderr
