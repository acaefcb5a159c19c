"""The journal's public page: anyone (no sign-in) looks up a payment reference and sees the proof that its record
is in the log the two validators signed — the leaf, the inclusion path and the signed tree head — with the
validators' public keys and the API addresses to check it all independently."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from fintech_zone.errors import DomainError, NotFound
from fintech_zone.journal import keys, service
from fintech_zone.journal.model import NODES, SignedHead
from fintech_zone.web.pages import render
from fintech_zone.web.security import DB

router = APIRouter(tags=["pages"])

MAX_REF = 64
"""The longest reference the journal files (the lookup API's limit); a longer one cannot be found."""
SHOWN_LEAF_CHARS = 20_000
"""How much of a leaf's indented JSON the page shows: a ledger batch's leaf can hold 100,000 values."""


@dataclass(frozen=True)
class HeadView:
    """A signed tree head as the page shows it, each signature checked against the published keys."""

    tree_size: int
    root_hash: str
    timestamp: int
    time_utc: str
    time_iso: str
    signatures: dict[str, str]
    signature_valid: dict[str, bool]
    signed_message: str

    @property
    def signed_by_both(self) -> bool:
        """Both validators' signatures check against their published keys."""
        return all(self.signature_valid.get(node, False) for node in NODES)


def head_view(signed: SignedHead, public: dict[str, bytes]) -> HeadView:
    h = signed.head
    moment = datetime.fromtimestamp(h.timestamp / 1000, UTC)
    checked = service.verify_head(signed, public)
    return HeadView(
        tree_size=h.tree_size,
        root_hash=h.root_hash.hex(),
        timestamp=h.timestamp,
        time_utc=moment.strftime("%Y-%m-%d %H:%M:%S.") + f"{h.timestamp % 1000:03d} UTC",
        time_iso=moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{h.timestamp % 1000:03d}Z",
        signatures={node: sig.hex() for node, sig in signed.signatures.items()},
        signature_valid=checked,
        signed_message=h.signed_message().decode("ascii"),
    )


def readable_leaf(data: bytes) -> tuple[str, bool]:
    """The leaf's canonical JSON indented for reading, and whether it had to be cut to fit the page."""
    try:
        text = json.dumps(json.loads(data), indent=2, ensure_ascii=False, sort_keys=True)
    except (UnicodeDecodeError, json.JSONDecodeError):
        text = data.decode("utf-8", errors="replace")
    if len(text) > SHOWN_LEAF_CHARS:
        return text[:SHOWN_LEAF_CHARS] + "\n…", True
    return text, False


def _public_keys(request: Request) -> dict[str, bytes]:
    try:
        return keys.public_keys(request.app.state.settings.journal_key_dir)
    except DomainError:  # a malformed .pub file: the page says no keys are published rather than failing
        return {}


@router.get("/journal", response_class=HTMLResponse)
def journal_page(request: Request, db: DB, ref: str | None = None) -> Response:
    public = _public_keys(request)
    ref = (ref or "").strip()
    receipt: service.Receipt | None = None
    if ref and len(ref) <= MAX_REF:  # (control characters never get here: web/limits.py answers 400)
        try:
            receipt = service.receipt(db, ref)
        except NotFound:
            receipt = None
    not_found = bool(ref) and receipt is None
    if receipt is not None:
        signed = receipt.head
    else:
        try:
            signed = service.latest_head(db)
        except NotFound:
            signed = None
    head = head_view(signed, public) if signed is not None else None
    leaf_text, leaf_cut = readable_leaf(receipt.data) if receipt is not None else ("", False)
    context = {
        "ref": ref,
        "receipt": receipt,
        "not_found": not_found,
        # What the page calls verified: the path leads from the leaf to the head's root (Receipt.verified) and
        # that head carries both validators' valid signatures.
        "verified": receipt is not None and receipt.verified and head is not None and head.signed_by_both,
        "path": [h.hex() for h in receipt.path] if receipt is not None and receipt.path is not None else None,
        "leaf_text": leaf_text,
        "leaf_cut": leaf_cut,
        "head": head,
        "keys": {node: key.hex() for node, key in public.items()},
        "nodes": NODES,
    }
    return render(request, "journal.html", context, status_code=404 if not_found else 200)
