"""Journal HTTP API: heads, keys, leaves, RFC 9162 proofs and look-ups. Public, like a transparency log: the
leaves carry no party data in the clear (payments/journal_leaf.py)."""

from __future__ import annotations

import base64
from typing import Annotated

from fastapi import APIRouter, Path, Query, Request

from fintech_zone.errors import NotFound
from fintech_zone.journal import keys, service
from fintech_zone.journal.schemas import (
    ConsistencyOut,
    HeadOut,
    InclusionOut,
    KeysOut,
    LeafOut,
    LookupOut,
)
from fintech_zone.web.errors import problem_responses
from fintech_zone.web.security import DB

router = APIRouter()
Size = Annotated[int, Query(ge=0, le=2**62)]
Index = Annotated[int, Path(ge=0, le=2**62)]
PathSize = Annotated[int, Path(ge=0, le=2**62)]


@router.get(
    "/head",
    response_model=HeadOut,
    summary="The latest tree head signed by both validators",
    responses=problem_responses(404),
)
def head(db: DB) -> HeadOut:
    return HeadOut.of(service.latest_head(db))


@router.get(
    "/heads/{tree_size}",
    response_model=HeadOut,
    summary="The head recorded at a tree size, with the signatures it has so far",
    responses=problem_responses(404, 422),
)
def head_at(tree_size: PathSize, db: DB) -> HeadOut:
    return HeadOut.of(service.head_at(db, tree_size))


@router.get(
    "/keys",
    response_model=KeysOut,
    summary="The validators' published Ed25519 public keys (hex)",
    responses=problem_responses(404),
)
def published_keys(request: Request) -> KeysOut:
    found = keys.public_keys(request.app.state.settings.journal_key_dir)
    if not found:
        raise NotFound("no validator keys are configured on this server (fintech-zone journal keygen)")
    return KeysOut(**{node: key.hex() for node, key in found.items()})


@router.get(
    "/leaves/{index}",
    response_model=LeafOut,
    summary="A leaf: its exact bytes (base64) and hash",
    responses=problem_responses(404, 422),
)
def leaf(index: Index, db: DB) -> LeafOut:
    kind, data, leaf_hash = service.get_leaf(db, index)
    return LeafOut(index=index, kind=kind, data=base64.b64encode(data).decode(), leaf_hash=leaf_hash.hex())


@router.get(
    "/proofs/inclusion",
    response_model=InclusionOut,
    summary="RFC 9162 inclusion proof of a leaf in a tree size",
    responses=problem_responses(422),
)
def inclusion(index: Size, tree_size: Size, db: DB) -> InclusionOut:
    path = service.inclusion_proof(db, index, tree_size)
    return InclusionOut(leaf_index=index, tree_size=tree_size, path=[h.hex() for h in path])


@router.get(
    "/proofs/consistency",
    response_model=ConsistencyOut,
    summary="RFC 9162 consistency proof between two tree sizes",
    responses=problem_responses(422),
)
def consistency(first: Size, second: Size, db: DB) -> ConsistencyOut:
    path = service.consistency_proof(db, first, second)
    return ConsistencyOut(first=first, second=second, path=[h.hex() for h in path])


@router.get(
    "/lookup",
    response_model=LookupOut,
    summary="The leaf of a business reference: a payment's UETR, an issuance id or a ledger transfer id",
    responses=problem_responses(404, 422),
)
def lookup(ref: Annotated[str, Query(min_length=1, max_length=64)], db: DB) -> LookupOut:
    found = service.lookup(db, ref)
    return LookupOut(ref=ref, index=found[-1], indices=found)
