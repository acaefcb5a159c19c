"""Validator key files: each node's Ed25519 private key lives in a file outside the database, its public key in a
``.pub`` file beside it (hex), which is what the other node and auditors are given.

``journal-cq.key`` / ``journal-sg.key``: PKCS#8 PEM, mode 0600. A node that holds only the other's ``.pub`` file
still publishes both keys and checks both signatures; it signs only with the key it holds.
"""

from __future__ import annotations

import os
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from fintech_zone.errors import Conflict, FieldError, InvalidInput
from fintech_zone.journal.model import NODES, check_node


def private_path(directory: Path, node: str) -> Path:
    return directory / f"journal-{check_node(node)}.key"


def public_path(directory: Path, node: str) -> Path:
    return directory / f"journal-{check_node(node)}.pub"


def _raw_public(key: Ed25519PrivateKey) -> bytes:
    return key.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)


def generate(directory: Path, node: str, force: bool = False) -> bytes:
    """Write a new key pair for ``node``; returns the raw public key. Refuses to replace a key unless ``force``:
    heads signed with the old key would no longer verify against the published one."""
    path = private_path(directory, node)
    if path.exists() and not force:
        raise Conflict(f"{path} exists: a node's key is replaced only on purpose (--force)")
    directory.mkdir(parents=True, exist_ok=True)
    key = Ed25519PrivateKey.generate()
    pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    tmp = path.with_name(f"{path.name}.{os.getpid()}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as f:
        f.write(pem)
        f.flush()
        os.fsync(f.fileno())
    try:
        if force:
            os.replace(tmp, path)
        else:
            # link() never replaces: of two processes making the key at once, one wins and the other is told.
            os.link(tmp, path)
    except FileExistsError as exc:
        raise Conflict(f"{path} exists: a node's key is replaced only on purpose (--force)") from exc
    finally:
        tmp.unlink(missing_ok=True)
    public = _raw_public(key)
    pub_tmp = public_path(directory, node).with_name(f"{public_path(directory, node).name}.{os.getpid()}.tmp")
    pub_tmp.write_text(public.hex() + "\n", encoding="ascii")
    os.replace(pub_tmp, public_path(directory, node))
    return public


def load_private(directory: Path, node: str) -> Ed25519PrivateKey | None:
    """The node's private key, or None when this machine does not hold it."""
    path = private_path(directory, node)
    if not path.exists():
        return None
    key = serialization.load_pem_private_key(path.read_bytes(), password=None)
    if not isinstance(key, Ed25519PrivateKey):
        raise InvalidInput([FieldError("key", f"{path} is not an Ed25519 private key", "key_type")])
    return key


def public_keys(directory: Path) -> dict[str, bytes]:
    """The published public keys this machine knows: from each node's ``.pub`` file, else its private key."""
    found: dict[str, bytes] = {}
    for node in NODES:
        pub = public_path(directory, node)
        if pub.exists():
            found[node] = parse_public(pub.read_text(encoding="ascii"), str(pub))
        elif (key := load_private(directory, node)) is not None:
            found[node] = _raw_public(key)
    return found


def parse_public(text: str, where: str = "key") -> bytes:
    try:
        raw = bytes.fromhex(text.strip())
    except ValueError:
        raw = b""
    if len(raw) != 32:
        raise InvalidInput([FieldError(where, "an Ed25519 public key is 64 hex digits", "format")])
    return raw
