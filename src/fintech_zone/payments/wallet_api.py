"""HTTP API of retail wallets: a bank opens, loads and unloads its customers' wallets; wallets pay wallets."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Response

from fintech_zone.auth.model import Principal, Role
from fintech_zone.payments import wallet_service
from fintech_zone.payments.api import Screener, acting_org
from fintech_zone.payments.schemas import AmountIn, PaymentOut, WalletIn, WalletOut, WalletPaymentIn
from fintech_zone.web.errors import problem_responses
from fintech_zone.web.security import DB, require

router = APIRouter()
BankOrOperator = Annotated[Principal, Depends(require(Role.OPERATOR, Role.PARTICIPANT))]
Reader = Annotated[Principal, Depends(require(Role.OPERATOR, Role.REGULATOR, Role.PARTICIPANT))]


@router.post(
    "",
    response_model=WalletOut,
    status_code=201,
    summary="A bank opens a wallet for a person or a merchant, in a tier by how well it knows the holder",
    responses=problem_responses(403, 404, 409, 422),
)
def open_wallet(body: WalletIn, db: DB, who: BankOrOperator) -> WalletOut:
    wallet_service.open_wallet(db, acting_org(who), body.id, body.bank_id, body.holder_name, body.kind, body.tier)
    return WalletOut.of(wallet_service.get_wallet(db, body.id))


@router.get(
    "/{wallet_id}",
    response_model=WalletOut,
    summary="A wallet: balance, what it paid today, its tier's limits (its bank, operators, regulators)",
    responses=problem_responses(403, 404, 422),
)
def get_wallet(wallet_id: str, db: DB, who: Reader) -> WalletOut:
    return WalletOut.of(wallet_service.get_wallet(db, wallet_id, acting_org(who)))


@router.post(
    "/{wallet_id}/load",
    response_model=WalletOut,
    summary="Load a wallet from its bank (up to its tier's balance limit)",
    responses=problem_responses(403, 404, 409, 422),
)
def load(wallet_id: str, body: AmountIn, db: DB, who: BankOrOperator) -> WalletOut:
    return WalletOut.of(wallet_service.load(db, acting_org(who), wallet_id, body.amount))


@router.post(
    "/{wallet_id}/unload",
    response_model=WalletOut,
    summary="Unload a wallet back to its bank",
    responses=problem_responses(403, 404, 409, 422),
)
def unload(wallet_id: str, body: AmountIn, db: DB, who: BankOrOperator) -> WalletOut:
    return WalletOut.of(wallet_service.load(db, acting_org(who), wallet_id, body.amount, unload=True))


@router.post(
    "/{wallet_id}/pay",
    response_model=PaymentOut,
    status_code=201,
    summary="A wallet pays another wallet (across currencies with an FX quote, settled PvP)",
    responses={200: {"description": "the same payment re-sent"}, **problem_responses(403, 404, 409, 422)},
)
def pay(
    wallet_id: str, body: WalletPaymentIn, db: DB, who: BankOrOperator, screener: Screener, response: Response
) -> PaymentOut:
    payment, new = wallet_service.pay(
        db,
        screener,
        acting_org(who),
        wallet_id,
        body.uetr,
        body.to_wallet,
        body.source_amount,
        body.quote_id,
        body.remittance_info,
    )
    if not new:
        response.status_code = 200
    return PaymentOut.of(payment)
