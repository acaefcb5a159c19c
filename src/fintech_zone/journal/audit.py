"""The auditor's tool: export the log, and verify it without trusting the server.

``verify`` recomputes the tree from the leaves' bytes (never from the stored hashes), checks every signed head's
root and both validators' signatures against the public keys the auditor was given, checks the server's
consistency proofs between successive heads, and compares every ledger, payment and sandbox record in the database
with its leaf (each context's ``audit`` module says how). With an export, the export is the log (checked against its
signatures first), and the database's own log must still hold exactly those leaves.

Export file: JSON Lines. The first line ``{"format": "fintech-zone-journal-export", "version": 1, "tree_size": N,
"keys": {...}}``, then one ``{"head": {...}}`` per signed head, then one ``{"leaf": i, "data": base64}`` per leaf
in index order.
"""

from __future__ import annotations

import base64
import itertools
import json
import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from fintech_zone.db import Database
from fintech_zone.errors import FieldError, InvalidInput
from fintech_zone.journal import merkle, service, store
from fintech_zone.journal.model import NODES, SignedHead, TreeHead, parse_leaf
from fintech_zone.ledger.audit import LedgerAudit
from fintech_zone.ledger.journal_leaf import KIND as LEDGER_KIND
from fintech_zone.payments.audit import PaymentsAudit
from fintech_zone.payments.journal_leaf import DECISION, ISSUANCE
from fintech_zone.sandbox.audit import SandboxAudit
from fintech_zone.sandbox.journal_leaf import DECISION as SANDBOX_DECISION
from fintech_zone.sandbox.journal_leaf import EVENT as SANDBOX_EVENT

FORMAT = "fintech-zone-journal-export"
NODE_CHECK_EVERY = 4096


@dataclass(frozen=True)
class Finding:
    index: int | None  # the first leaf it concerns; None for a database record no leaf holds
    what: str

    def __str__(self) -> str:
        return f"leaf {self.index}: {self.what}" if self.index is not None else self.what


@dataclass
class Report:
    leaves: int = 0
    heads: int = 0
    records_checked: bool = False
    findings: list[Finding] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.findings

    @property
    def first(self) -> Finding | None:
        """The finding with the lowest leaf index (records no leaf holds come last)."""
        if not self.findings:
            return None
        return min(self.findings, key=lambda f: (f.index is None, f.index or 0))


# -- export ---------------------------------------------------------------------------------------------------


def _head_json(h: SignedHead) -> dict[str, Any]:
    return {
        "tree_size": h.head.tree_size,
        "root_hash": h.head.root_hash.hex(),
        "timestamp": h.head.timestamp,
        "signatures": {node: sig.hex() for node, sig in h.signatures.items()},
    }


def export(db: Database, path: Path, public: dict[str, bytes]) -> tuple[int, int]:
    """Write the log up to its latest final head, and every final head, to ``path`` (atomically). Returns
    (leaves, heads)."""
    with db.read() as conn:
        heads = [h for h in store.all_heads(conn) if h.final]
        size = heads[-1].head.tree_size if heads else 0
        tmp = path.with_name(path.name + ".tmp")
        with tmp.open("w", encoding="utf-8") as out:
            header = {
                "format": FORMAT,
                "version": 1,
                "tree_size": size,
                "keys": {n: k.hex() for n, k in public.items()},
            }
            out.write(json.dumps(header) + "\n")
            for h in heads:
                out.write(json.dumps({"head": _head_json(h)}) + "\n")
            for index, _, data, _ in store.iter_leaves(conn, 0, size):
                out.write(json.dumps({"leaf": index, "data": base64.b64encode(data).decode()}) + "\n")
            out.flush()
            os.fsync(out.fileno())
    os.replace(tmp, path)
    return size, len(heads)


def _bad_export(path: Path, line: int, why: str) -> InvalidInput:
    return InvalidInput([FieldError("export", f"{path} line {line}: {why}", "format")])


def read_export(path: Path) -> tuple[list[SignedHead], Iterator[tuple[int, bytes, bytes | None]]]:
    """The export's heads, and an iterator over its leaves as (index, data, None)."""
    try:
        lines = path.open("r", encoding="utf-8")
    except OSError as exc:
        raise InvalidInput([FieldError("export", f"cannot read {path}: {exc.strerror}", "file")]) from exc
    first = lines.readline()
    try:
        header = json.loads(first)
    except json.JSONDecodeError:
        header = None
    if not isinstance(header, dict) or header.get("format") != FORMAT or header.get("version") != 1:
        lines.close()
        raise _bad_export(path, 1, f"not a {FORMAT} file (version 1)")
    heads: list[SignedHead] = []
    number = 1
    pending: str | None = None
    for text in lines:
        number += 1
        record = _json_line(path, number, text)
        if "head" not in record:
            pending = text
            break
        h = record["head"]
        try:
            sigs = {node: bytes.fromhex(s) for node, s in h["signatures"].items()}
            heads.append(
                SignedHead(TreeHead(int(h["tree_size"]), bytes.fromhex(h["root_hash"]), int(h["timestamp"])), sigs)
            )
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            lines.close()
            raise _bad_export(
                path, number, f"a head needs tree_size, root_hash, timestamp, signatures ({exc})"
            ) from exc

    def leaves() -> Iterator[tuple[int, bytes, bytes | None]]:
        nonlocal number
        with lines:
            text = pending
            while text is not None:
                record = _json_line(path, number, text)
                try:
                    yield int(record["leaf"]), base64.b64decode(record["data"], validate=True), None
                except (KeyError, TypeError, ValueError) as exc:
                    raise _bad_export(path, number, f"a leaf needs leaf and base64 data ({exc})") from exc
                text = lines.readline() or None
                number += 1

    return heads, leaves()


def _json_line(path: Path, number: int, text: str) -> dict[str, Any]:
    try:
        record = json.loads(text)
    except json.JSONDecodeError as exc:
        raise _bad_export(path, number, f"not JSON ({exc.msg})") from exc
    if not isinstance(record, dict):
        raise _bad_export(path, number, "not a JSON object")
    return record


# -- verify ---------------------------------------------------------------------------------------------------


def verify(db: Database | None, public: dict[str, bytes], export_path: Path | None = None) -> Report:
    """Check the log and, with a database, every record against it (module notes)."""
    missing = [node for node in NODES if node not in public]
    if missing:
        raise InvalidInput(
            [FieldError("keys", f"the published public key of {', '.join(missing)} is needed", "required")]
        )
    report = Report()
    if export_path is not None:
        heads, leaves = read_export(export_path)
    elif db is not None:
        with db.read() as conn:
            heads = store.all_heads(conn)
        leaves = _db_leaves(db)
    else:
        raise InvalidInput([FieldError("database", "verify needs the database or an export", "required")])
    heads = sorted(heads, key=lambda h: h.head.tree_size)
    report.heads = len(heads)
    good = _check_signatures(heads, public, report)
    ledger, payments, sandbox = LedgerAudit(), PaymentsAudit(), SandboxAudit()
    feeds: dict[str, Callable[[int, dict[str, Any]], None]] = {
        LEDGER_KIND: ledger.feed,
        DECISION: payments.feed,
        ISSUANCE: payments.feed,
        SANDBOX_DECISION: sandbox.feed,
        SANDBOX_EVENT: sandbox.feed,
    }
    db_leaves = _db_leaves(db) if (export_path is not None and db is not None) else None
    readable = _replay(leaves, heads, good, feeds, report, db, db_leaves)
    # Records cannot be held against a log that could not be read to its end: every later record would look
    # missing from it, and the first finding would no longer name what is wrong.
    if db is not None and readable:
        with db.read() as conn:
            if export_path is None:
                _check_consistency_proofs(conn, heads, good, report)
            report.findings += [Finding(i, what) for i, what in ledger.compare(conn)]
            report.findings += [Finding(i, what) for i, what in payments.compare(conn)]
            report.findings += [Finding(i, what) for i, what in sandbox.compare(conn)]
        report.records_checked = True
    return report


def _db_leaves(db: Database) -> Iterator[tuple[int, bytes, bytes | None]]:
    with db.read() as conn:
        for index, _, data, stored in store.iter_leaves(conn):
            yield index, data, stored


def _check_signatures(heads: list[SignedHead], public: dict[str, bytes], report: Report) -> set[int]:
    """Sizes of the heads both validators' signatures verify for; a finding for each other head."""
    good: set[int] = set()
    previous = 0
    for h in heads:
        checks = service.verify_head(h, {node: public[node] for node in NODES})
        bad = [node for node, ok in checks.items() if not ok]
        if bad:
            what = " and ".join(f"the {node} signature" for node in bad)
            report.findings.append(
                Finding(previous, f"head at size {h.head.tree_size}: {what} does not verify with the published key")
            )
        else:
            good.add(h.head.tree_size)
            previous = h.head.tree_size
    return good


def _replay(
    leaves: Iterator[tuple[int, bytes, bytes | None]],
    heads: list[SignedHead],
    good: set[int],
    feeds: dict[str, Callable[[int, dict[str, Any]], None]],
    report: Report,
    db: Database | None,
    db_leaves: Iterator[tuple[int, bytes, bytes | None]] | None,
) -> bool:
    """Recompute the tree from the leaves and check it against the heads; False when the stored log could not be
    read to its end."""
    size, frontier = 0, list[bytes]()  # the tree recomputed from the leaves' bytes
    head_at = {h.head.tree_size: h for h in heads}
    proven = 0  # leaves covered by the last head that matched
    last_time = 0
    nodes_to_check: list[tuple[int, int, bytes]] = []
    empty = head_at.get(0)
    if empty is not None and empty.head.root_hash != merkle.EMPTY_ROOT:
        report.findings.append(Finding(0, "the head signed at size 0 does not have the empty tree's root"))
    from_db = db is not None and db_leaves is None  # the database's own log, with its stored hashes
    while True:
        try:
            item = next(leaves, None)
        except ValueError as exc:  # a bundle of the stored log that cannot be read
            report.findings.append(Finding(size, f"the stored log cannot be read: {exc}"))
            return False
        if item is None:
            break
        index, data, stored = item
        if index != size:
            report.findings.append(Finding(size, f"leaf missing: the log goes from leaf {size - 1} to leaf {index}"))
            return True
        h = merkle.leaf_hash(data)
        if stored != h and (stored is not None or from_db):
            report.findings.append(Finding(index, "its stored hash is missing or not SHA-256(0x00 || its data)"))
        if db_leaves is not None:
            _compare_with_database(index, data, db_leaves, report)
        try:
            value = parse_leaf(data)
            feed = feeds.get(value["kind"])
            if feed is None:
                report.findings.append(Finding(index, f"unknown leaf kind {value['kind']!r}"))
            else:
                feed(index, value)
        except (ValueError, KeyError, TypeError) as exc:
            report.findings.append(Finding(index, f"not a well-formed leaf: {exc}"))
        size, frontier, new = merkle.extend(size, frontier, [h])
        if db is not None and db_leaves is None:
            nodes_to_check += new
            if len(nodes_to_check) >= NODE_CHECK_EVERY:
                _check_stored_nodes(db, nodes_to_check, report)
                nodes_to_check = []
        head = head_at.get(size)
        if head is not None and nodes_to_check and db is not None:
            _check_stored_nodes(db, nodes_to_check, report)  # first, so a mismatch below can name its leaf
            nodes_to_check = []
        if head is not None:
            if head.head.timestamp < last_time:
                report.findings.append(Finding(proven, f"head at size {size} is older than the head before it"))
            last_time = head.head.timestamp
            if merkle.frontier_root(frontier) != head.head.root_hash:
                # Where a stored hash already told which leaf changed, that leaf is the one to name.
                named = [f.index for f in report.findings if f.index is not None and proven <= f.index < size]
                report.findings.append(
                    Finding(
                        min(named, default=proven),
                        f"leaves {proven}..{size - 1} do not hash to the root signed at size {size}: changed, "
                        "reordered, inserted or removed after signing",
                    )
                )
            elif size in good:
                proven = size
    if nodes_to_check and db is not None:
        _check_stored_nodes(db, nodes_to_check, report)
    report.leaves = size
    beyond = [h.head.tree_size for h in heads if h.head.tree_size > size]
    if beyond:
        report.findings.append(
            Finding(size, f"a head was signed at size {beyond[0]} but the log holds only {size} leaves: leaves removed")
        )
    return True


def _compare_with_database(
    index: int, data: bytes, db_leaves: Iterator[tuple[int, bytes, bytes | None]], report: Report
) -> None:
    try:
        found = next(db_leaves, None)
    except ValueError as exc:
        report.findings.append(Finding(index, f"the database's log cannot be read: {exc}"))
        return
    if found is None:
        report.findings.append(Finding(index, "the database's log no longer holds this exported leaf"))
    elif found[0] != index:
        report.findings.append(Finding(index, f"the database's log holds leaf {found[0]} where leaf {index} was"))
    elif found[1] != data:
        report.findings.append(Finding(index, "the database's leaf differs from the exported one"))


def _check_stored_nodes(db: Database, computed: list[tuple[int, int, bytes]], report: Report) -> None:
    """The server's stored interior nodes against the recomputed ones: localises a reordering or rewrite to the
    first subtree it touched (the signed roots catch it either way)."""
    with db.read() as conn:
        stored = store.subtree_hashes(conn, [(level, i) for level, i, _ in computed])
    known = [f.index for f in report.findings if f.index is not None]
    for level, i, h in computed:
        first, last = i << level, ((i + 1) << level) - 1
        if stored.get((level, i)) != h and not any(first <= k <= last for k in known):  # not a known change again
            report.findings.append(
                Finding(first, f"the stored hash over leaves {first}..{last} does not match those leaves")
            )
            return


def _check_consistency_proofs(conn: Any, heads: list[SignedHead], good: set[int], report: Report) -> None:
    """The server's RFC 9162 consistency proofs between successive good heads must verify."""
    chain = [h for h in heads if h.head.tree_size in good]
    size = store.read_state(conn)[0]
    for old, new in itertools.pairwise(chain):
        if new.head.tree_size > size:
            return
        proof = service.consistency_in(conn, old.head.tree_size, new.head.tree_size)
        if not merkle.verify_consistency(
            old.head.tree_size, new.head.tree_size, old.head.root_hash, new.head.root_hash, proof
        ):
            report.findings.append(
                Finding(
                    old.head.tree_size,
                    f"the server's consistency proof from size {old.head.tree_size} to {new.head.tree_size} fails",
                )
            )
