"""Ledger HTTP API: batches in, one result per event out (200, like TigerBeetle's create_transfers)."""

from __future__ import annotations

from typing import Annotated

import orjson
from fastapi import APIRouter, Body, Depends, Query, Request, Response
from starlette.concurrency import run_in_threadpool

from fintech_zone.auth.model import Principal, Role
from fintech_zone.errors import NotFound
from fintech_zone.ledger import service, wire
from fintech_zone.ledger.model import MAX_BATCH, Account
from fintech_zone.ledger.schemas import (
    AccountIn,
    AccountOut,
    AssetIO,
    BalanceOut,
    EventResultOut,
    TransferIn,
    TransferOut,
    TransferPage,
)
from fintech_zone.web.errors import problem_responses
from fintech_zone.web.openapi import json_body
from fintech_zone.web.security import DB, require

router = APIRouter()
Reader = Annotated[Principal, Depends(require())]
Operator = Annotated[Principal, Depends(require(Role.OPERATOR))]


def _visible(account: Account, who: Principal) -> Account:
    """A participant sees only its own organisation's accounts; to it, others do not exist."""
    if who.role is Role.PARTICIPANT and account.owner_id != who.org_id:
        raise NotFound(f"no account with id {account.id!r}")
    return account


@router.get("/assets", response_model=list[AssetIO], summary="Assets the ledger holds")
def list_assets(db: DB, _: Reader) -> list[AssetIO]:
    return [AssetIO.of(a) for a in service.list_assets(db)]


@router.post(
    "/assets",
    response_model=AssetIO,
    status_code=201,
    summary="Add an asset",
    responses=problem_responses(403, 409, 422),
)
def create_asset(body: AssetIO, db: DB, _: Operator) -> AssetIO:
    return AssetIO.of(service.create_asset(db, body.to_model()))


@router.post(
    "/accounts",
    response_model=list[EventResultOut],
    summary=f"Create accounts: a batch of up to {MAX_BATCH}, one result per event",
    responses=problem_responses(403, 422),
)
def create_accounts(events: Annotated[list[AccountIn], Body()], db: DB, _: Operator) -> Response:
    return _results(service.create_accounts(db, [e.to_model() for e in events]))


@router.post(
    "/transfers",
    response_model=list[EventResultOut],
    summary=f"Create transfers: a batch of up to {MAX_BATCH}, applied in order, one result per event",
    responses=problem_responses(403, 422),
    openapi_extra=json_body(list[TransferIn], "Events"),
)
async def create_transfers(request: Request, db: DB, _: Operator) -> Response:
    # The body is read by wire.transfer_events, not by FastAPI: as a list[TransferIn] parameter its validation
    # cost more than applying the batch. Same contract, same errors (ledger/wire.py).
    events = wire.transfer_events(await request.body(), request.headers.get("content-type"))
    return _results(await run_in_threadpool(service.create_transfers, db, events))


def _results(results: list[service.EventResult]) -> Response:
    """The batch's results as ``response_model`` documents them, serialised at once: building and validating
    8,190 response models and encoding them through FastAPI cost as much as applying the batch (benchmarks)."""
    return Response(orjson.dumps([{"id": r.id, "result": r.result} for r in results]), media_type="application/json")


@router.get(
    "/accounts/{account_id}",
    response_model=AccountOut,
    summary="An account with its balances",
    responses=problem_responses(404, 422),
)
def get_account(account_id: str, db: DB, who: Reader) -> AccountOut:
    return AccountOut.of(_visible(service.get_account(db, account_id), who))


@router.get(
    "/accounts/{account_id}/transfers",
    response_model=TransferPage,
    summary="The account's transfers in time order",
    responses=problem_responses(404, 422),
)
def account_transfers(
    account_id: str,
    db: DB,
    who: Reader,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    cursor: Annotated[str | None, Query(max_length=100)] = None,
) -> TransferPage:
    _visible(service.get_account(db, account_id), who)
    page = service.account_transfers(db, account_id, cursor, limit)
    return TransferPage(items=[TransferOut.of(t) for t in page.items], next_cursor=page.next_cursor)


@router.get(
    "/accounts/{account_id}/balance",
    response_model=BalanceOut,
    summary="Balances as of an engine timestamp (accounts with the `history` flag)",
    responses=problem_responses(404, 422),
)
def balance(account_id: str, db: DB, who: Reader, at: Annotated[int, Query(ge=0, le=2**63 - 1)]) -> BalanceOut:
    _visible(service.get_account(db, account_id), who)
    b = service.balance_at(db, account_id, at)
    return BalanceOut(**b.__dict__)


@router.get(
    "/transfers/{transfer_id}", response_model=TransferOut, summary="A transfer", responses=problem_responses(404, 422)
)
def get_transfer(transfer_id: str, db: DB, who: Reader) -> TransferOut:
    transfer = service.get_transfer(db, transfer_id)
    if who.role is Role.PARTICIPANT:
        accounts = [
            service.get_account(db, transfer.debit_account_id),
            service.get_account(db, transfer.credit_account_id),
        ]
        if all(a.owner_id != who.org_id for a in accounts):
            raise NotFound(f"no transfer with id {transfer_id!r}")
    return TransferOut.of(transfer)


@router.get(
    "/totals",
    summary="Per asset: sums of debits and credits, pending and posted (they must match)",
    responses=problem_responses(403),
)
def totals(
    db: DB, _: Annotated[Principal, Depends(require(Role.OPERATOR, Role.REGULATOR))]
) -> dict[str, dict[str, int]]:
    return {
        ledger: {"debits_pending": dp, "debits_posted": dpo, "credits_pending": cp, "credits_posted": cpo}
        for ledger, (dp, dpo, cp, cpo) in service.totals(db).items()
    }
