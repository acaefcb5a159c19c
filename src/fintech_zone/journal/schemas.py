"""Shapes of the journal's HTTP answers (the interface auditors' tools rely on: keep the field names)."""

from __future__ import annotations

from pydantic import BaseModel, Field

from fintech_zone.journal.model import SignedHead


class HeadOut(BaseModel):
    tree_size: int
    root_hash: str = Field(description="hex SHA-256")
    timestamp: int = Field(description="milliseconds since the Unix epoch, UTC")
    signatures: dict[str, str] = Field(description="validator node (cq, sg) -> hex Ed25519 signature")
    signed_message: str = Field(description="the exact text both validators signed (README, 'The journal')")

    @classmethod
    def of(cls, signed: SignedHead) -> HeadOut:
        h = signed.head
        return cls(
            tree_size=h.tree_size,
            root_hash=h.root_hash.hex(),
            timestamp=h.timestamp,
            signatures={node: sig.hex() for node, sig in signed.signatures.items()},
            signed_message=h.signed_message().decode("ascii"),
        )


class KeysOut(BaseModel):
    cq: str | None = Field(default=None, description="Chongqing validator's Ed25519 public key, hex")
    sg: str | None = Field(default=None, description="Singapore validator's Ed25519 public key, hex")


class LeafOut(BaseModel):
    index: int
    kind: str
    data: str = Field(description="base64 of the exact leaf bytes (canonical JSON, docs/journal.md)")
    leaf_hash: str = Field(description="hex SHA-256(0x00 || data)")


class InclusionOut(BaseModel):
    leaf_index: int
    tree_size: int
    path: list[str]


class ConsistencyOut(BaseModel):
    first: int
    second: int
    path: list[str]


class LookupOut(BaseModel):
    ref: str
    index: int = Field(description="the latest leaf holding the reference")
    indices: list[int] = Field(description="every leaf holding it, oldest first (a payment has one per decision)")
