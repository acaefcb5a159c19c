"""``fintech-zone journal …``: validator keys, signing, heads, proofs, and the auditor's export and verify."""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Annotated

import typer

from fintech_zone.cli_support import fail, open_db, print_json
from fintech_zone.journal import audit, keys, service
from fintech_zone.journal.model import NODES, check_node
from fintech_zone.settings import Settings

app = typer.Typer(help="The journal: a co-signed RFC 9162 Merkle log of the rails' records.", no_args_is_help=True)

KeyDir = Annotated[Path | None, typer.Option(help="key directory (default: FZ_JOURNAL_KEY_DIR, ./journal-keys)")]


def _key_dir(given: Path | None) -> Path:
    return given if given is not None else Settings().journal_key_dir


@app.command()
def keygen(
    node: Annotated[str, typer.Option(help="validator node: cq (Chongqing) or sg (Singapore)")],
    key_dir: KeyDir = None,
    force: Annotated[bool, typer.Option(help="replace an existing key (old heads then fail to verify)")] = False,
) -> None:
    """Write a validator's Ed25519 key file (outside the database) and its public key beside it."""
    directory = _key_dir(key_dir)
    public = keys.generate(directory, check_node(node), force)
    typer.echo(f"{node}: private key {keys.private_path(directory, node)} (keep it secret)")
    typer.echo(f"{node}: public key  {public.hex()}  ({keys.public_path(directory, node)}; publish it)")


@app.command()
def sign(
    node: Annotated[list[str] | None, typer.Option(help="sign as this node (default: every key held here)")] = None,
    key_dir: KeyDir = None,
) -> None:
    """Record a head of the log as it stands (when it has grown) and sign every head this node has not signed."""
    directory = _key_dir(key_dir)
    nodes = [check_node(n) for n in node] if node else list(NODES)
    held = {n: k for n in nodes if (k := keys.load_private(directory, n)) is not None}
    if not held:
        fail(f"no validator key for {', '.join(nodes)} in {directory} (fintech-zone journal keygen --node …)")
    db = open_db()
    head = service.make_head(db)
    if head is not None:
        typer.echo(f"head recorded at size {head.tree_size}, root {head.root_hash.hex()}")
    for n, key in held.items():
        signed = service.sign_heads(db, n, key)
        typer.echo(f"{n}: signed {len(signed)} head(s)" + (f", up to size {signed[-1]}" if signed else ""))


@app.command()
def head(as_json: Annotated[bool, typer.Option("--json")] = False) -> None:
    """The latest head both validators have signed."""
    signed = service.latest_head(open_db())
    h = signed.head
    if as_json:
        print_json(
            {
                "tree_size": h.tree_size,
                "root_hash": h.root_hash.hex(),
                "timestamp": h.timestamp,
                "signatures": {n: s.hex() for n, s in signed.signatures.items()},
            }
        )
        return
    typer.echo(f"tree size {h.tree_size}\nroot      {h.root_hash.hex()}\ntimestamp {h.timestamp}")
    for n, s in signed.signatures.items():
        typer.echo(f"{n}        {s.hex()}")


@app.command()
def proof(
    ref: Annotated[str, typer.Argument(help="a payment's UETR, an issuance id or a ledger transfer id")],
    as_json: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """The leaf of a business reference and its inclusion proof in the latest signed head."""
    r = service.receipt(open_db(), ref)
    out = {
        "ref": ref,
        "index": r.index,
        "kind": r.kind,
        "data": base64.b64encode(r.data).decode(),
        "leaf_hash": r.leaf_hash.hex(),
        "tree_size": r.head.head.tree_size if r.head else None,
        "root_hash": r.head.head.root_hash.hex() if r.head else None,
        "path": [p.hex() for p in r.path] if r.path is not None else None,
        "verified": r.verified,
    }
    if as_json:
        print_json(out)
        return
    typer.echo(f"leaf {r.index} ({r.kind}), hash {r.leaf_hash.hex()}")
    typer.echo(json.dumps(json.loads(r.data), ensure_ascii=False, indent=2))
    if r.path is None:
        typer.echo("not yet under a signed head: the next head covers it")
        return
    typer.echo(f"inclusion in tree size {out['tree_size']}, root {out['root_hash']}:")
    for p in r.path:
        typer.echo(f"  {p.hex()}")
    typer.echo("verified" if r.verified else "NOT VERIFIED")


@app.command()
def export(
    file: Annotated[Path, typer.Argument(help="where to write the export (JSON Lines)")],
    key_dir: KeyDir = None,
) -> None:
    """Write the log up to its latest co-signed head, with every co-signed head, to a file for auditors."""
    leaves, heads = audit.export(open_db(), file, keys.public_keys(_key_dir(key_dir)))
    typer.echo(f"exported {leaves} leaves and {heads} signed heads to {file}")


def _trusted_keys(
    keys_file: Path | None, key_cq: str | None, key_sg: str | None, key_dir: Path | None
) -> dict[str, bytes]:
    found: dict[str, bytes] = {}
    if keys_file is not None:
        try:
            given = json.loads(keys_file.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
            fail(f"{keys_file}: not a JSON object of public keys ({exc})")
        if not isinstance(given, dict):
            fail(f"{keys_file}: not a JSON object of public keys")
        found = {n: keys.parse_public(str(given[n]), f"{keys_file}:{n}") for n in NODES if n in given}
    else:
        found = keys.public_keys(_key_dir(key_dir))
    for node, text in (("cq", key_cq), ("sg", key_sg)):
        if text is not None:
            found[node] = keys.parse_public(text, f"--key-{node}")
    return found


@app.command()
def verify(
    export_file: Annotated[
        Path | None, typer.Option("--export", help="verify this export instead of the live log")
    ] = None,
    keys_file: Annotated[
        Path | None, typer.Option("--keys", help="published keys as GET /api/v1/journal/keys gives them")
    ] = None,
    key_cq: Annotated[str | None, typer.Option(help="Chongqing's published public key (hex)")] = None,
    key_sg: Annotated[str | None, typer.Option(help="Singapore's published public key (hex)")] = None,
    key_dir: KeyDir = None,
    records: Annotated[bool, typer.Option(help="also check every ledger and payment record in the database")] = True,
    as_json: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """Check the log without trusting the server: roots against signatures and published keys, consistency
    between heads, every record against its leaf. Exit 0 when all holds, 1 naming the first bad leaf."""
    trusted = _trusted_keys(keys_file, key_cq, key_sg, key_dir)
    db = open_db() if records or export_file is None else None
    report = audit.verify(db, trusted, export_file)
    first = report.first
    if as_json:
        print_json(
            {
                "ok": report.ok,
                "leaves": report.leaves,
                "heads": report.heads,
                "records_checked": report.records_checked,
                "first_bad_leaf": first.index if first else None,
                "findings": [{"index": f.index, "what": f.what} for f in report.findings],
            }
        )
    elif report.ok:
        what = ", every record matches its leaf" if report.records_checked else ""
        typer.echo(f"ok: {report.leaves} leaves, {report.heads} signed heads verified{what}")
    else:
        assert first is not None
        where = f"first bad leaf: {first.index}" if first.index is not None else "a record with no leaf"
        typer.echo(f"FAILED: {where}: {first.what}", err=True)
        for f in report.findings[:20]:
            if f is not first:
                typer.echo(f"  also: {f}", err=True)
        if len(report.findings) > 20:
            typer.echo(f"  … {len(report.findings) - 20} more", err=True)
    if not report.ok:
        raise typer.Exit(1)
