"""The journal's pure parts: the canonical leaf serialisation, tree heads and the exact bytes validators sign.

Leaves are canonical JSON (``canonical``): UTF-8, no whitespace, object keys sorted, strings escaped as RFC 8785
(JCS) escapes them, integers written exactly in decimal (JCS would round those above 2**53 through a double; the
ledger's amounts go up to 2**63 - 1), no floats at all (amounts are integers, rates decimal strings), times as
RFC 3339 UTC strings with microseconds. Every leaf is an object with ``kind`` (what record it carries) and ``v``
(the layout's version), so a verifier can always tell how to read it.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import orjson

from fintech_zone.errors import FieldError, InvalidInput

LEAF_VERSION = 1
NODES = ("cq", "sg")
"""The validator nodes that co-sign every head: Chongqing and Singapore."""

NODE_NAMES = {"cq": "Chongqing", "sg": "Singapore"}
SIGNED_PREFIX = b"fintech-zone journal tree head v1\n"


def canonical(value: Any) -> bytes:
    """The one byte string a leaf's record serialises to (see the module notes)."""
    _check(value)
    return _encode(value)


def _encode(value: Any) -> bytes:
    # orjson writes what json.dumps(value, ensure_ascii=False, sort_keys=True, separators=(",", ":")) writes for
    # these types (tests/journal/test_canonical.py checks it), ten times faster: a ledger batch's leaf is 1 MB.
    try:
        return orjson.dumps(value, option=orjson.OPT_SORT_KEYS)
    except orjson.JSONEncodeError as exc:  # a lone surrogate in a string, an integer beyond 64 bits
        raise ValueError(f"a leaf cannot hold this value: {exc}") from exc


def _check(value: Any) -> None:
    # Floats have no exact canonical form and booleans are ints in Python: both are refused so a leaf's bytes can
    # only come out one way.
    if value is None or isinstance(value, str):
        return
    if isinstance(value, bool):
        raise TypeError("leaves hold no booleans: write 0/1 or a word")
    if isinstance(value, int):
        return
    if isinstance(value, list | tuple):
        for item in value:
            _check(item)
        return
    if isinstance(value, dict):
        for key, item in value.items():
            if not isinstance(key, str):
                raise TypeError(f"leaf object keys are strings, not {type(key).__name__}")
            _check(item)
        return
    raise TypeError(f"a leaf cannot hold a {type(value).__name__}")


def leaf(kind: str, **fields: Any) -> bytes:
    """A leaf's bytes: the record's fields with its ``kind`` and the layout version."""
    return canonical({"kind": kind, "v": LEAF_VERSION, **fields})


def trusted_leaf(kind: str, **fields: Any) -> bytes:
    """``leaf`` without the type walk, for builders whose values are ints, strings and None by construction (a
    ledger batch's leaf holds some 100,000 values; the walk would cost a tenth of the batch)."""
    return _encode({"kind": kind, "v": LEAF_VERSION, **fields})


def parse_leaf(data: bytes) -> dict[str, Any]:
    """A leaf's record; ValueError when the bytes are not a canonical leaf (so a re-encoded leaf is caught too)."""
    try:
        value = json.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ValueError(f"not UTF-8 JSON: {exc}") from exc
    if not isinstance(value, dict) or not isinstance(value.get("kind"), str) or value.get("v") != LEAF_VERSION:
        raise ValueError("not a journal leaf (an object with kind and v = 1)")
    if canonical(value) != data:
        raise ValueError("not in canonical form")
    return value


def stamp(moment: datetime | None) -> str | None:
    """A time as leaves write it: RFC 3339 UTC with microseconds, e.g. 2026-11-27T09:30:00.000000Z."""
    if moment is None:
        return None
    return moment.astimezone(UTC).replace(tzinfo=None).isoformat(timespec="microseconds") + "Z"


@dataclass(frozen=True, slots=True)
class TreeHead:
    """A tree head: the log's size and root at a moment (milliseconds since the Unix epoch, UTC)."""

    tree_size: int
    root_hash: bytes
    timestamp: int

    def signed_message(self) -> bytes:
        """The exact bytes each validator signs with Ed25519 (README, "The journal")::

            fintech-zone journal tree head v1\\n
            <tree_size in decimal>\\n
            <root_hash in lower-case hex>\\n
            <timestamp in decimal milliseconds>\\n

        Text, so an auditor can rebuild it with printf and check it with any Ed25519 tool; the first line keeps a
        signature made for anything else from passing as a head's.
        """
        return SIGNED_PREFIX + f"{self.tree_size}\n{self.root_hash.hex()}\n{self.timestamp}\n".encode()


@dataclass(frozen=True, slots=True)
class SignedHead:
    head: TreeHead
    signatures: dict[str, bytes]  # node -> Ed25519 signature over head.signed_message()

    @property
    def final(self) -> bool:
        """Final when both validators have signed."""
        return all(node in self.signatures for node in NODES)


def check_node(node: str) -> str:
    if node not in NODES:
        raise InvalidInput([FieldError("node", f"a validator node is one of {', '.join(NODES)}", "enum")])
    return node


@dataclass(frozen=True, slots=True)
class Entry:
    """A record to append: its leaf bytes, the business references that find it, and for a ledger batch the
    range of transfer timestamps it holds (how a transfer id finds its leaf)."""

    kind: str
    data: bytes
    refs: tuple[str, ...] = ()
    first_timestamp: int | None = None
    last_timestamp: int | None = None

    def __post_init__(self) -> None:
        # The store lists a bundle's kinds separated by spaces.
        if not self.kind or any(c.isspace() for c in self.kind):
            raise ValueError(f"a leaf's kind is one word, not {self.kind!r}")


def head_due(size: int, last: TreeHead | None, now_ms: int, every_leaves: int, every_ms: int) -> bool:
    """The first head is due at once, even of the empty log (RFC 9162 signs those too: its root is SHA-256 of
    nothing), so a new platform publishes a signed head from the start. After that a head is due when the log has
    grown by ``every_leaves`` since the last head, or has grown at all and the last head is ``every_ms`` old."""
    if last is None:
        return True
    if size <= last.tree_size:
        return False
    return size - last.tree_size >= every_leaves or now_ms - last.timestamp >= every_ms
