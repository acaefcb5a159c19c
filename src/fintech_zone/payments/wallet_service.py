"""Retail wallets' use cases: a bank opens wallets for its customers, loads and unloads them, and they pay.

A wallet is a ledger account (``wal:<id>``, never overdrawn) in its bank's currency token. Paying from or to a
wallet is a payment like any other (``payment_service.submit``: UETR, screening, limits, PvP when the currencies
differ), whose legs move the wallets' balances and whose rules add the wallets' tier limits.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from fintech_zone.db import Database
from fintech_zone.errors import Conflict, FieldError, Forbidden, InvalidInput, NotFound
from fintech_zone.ledger import service as ledger
from fintech_zone.ledger.model import AccountFlag, NewAccount, Transfer
from fintech_zone.payments import payment_rules, payment_service, store
from fintech_zone.payments.model import (
    ParticipantRole,
    Party,
    Payment,
    PaymentRequest,
    check_amount,
    settlement_account,
)
from fintech_zone.payments.payment_service import PartyScreener
from fintech_zone.payments.service import Refused, move, now_utc
from fintech_zone.payments.wallets import TierLimits, Wallet, check_new_wallet, wallet_account

CODE_WALLET, CODE_WALLET_LOAD = 4, 30


@dataclass(frozen=True)
class WalletView:
    wallet: Wallet
    balance: int
    paid_today: int
    limits: TierLimits


def _acting_bank(actor_org: str | None, bank_id: str) -> None:
    if actor_org is not None and actor_org != bank_id:
        raise Forbidden("a bank acts for its own wallets only")


def open_wallet(
    db: Database, actor_org: str | None, wallet_id: str, bank_id: str, holder_name: str, kind: str, tier: int
) -> Wallet:
    wallet_kind = check_new_wallet(wallet_id, holder_name, kind, tier)
    _acting_bank(actor_org, bank_id)
    with db.transaction() as conn:
        bank = store.get_participant(conn, bank_id)
        if bank is None:
            raise NotFound(f"no participant with id {bank_id!r}")
        if bank.role is not ParticipantRole.BANK or bank.home_currency is None:
            raise Refused("AG01", f"{bank_id!r} is not a bank on the rails: it cannot hold wallets")
        if store.wallets_by_id(conn, [wallet_id]):
            raise Conflict(f"wallet {wallet_id!r} already exists")
        wallet = Wallet(wallet_id, bank_id, holder_name.strip(), wallet_kind, tier, bank.home_currency, now_utc())
        store.insert_wallet(conn, wallet)
        account = NewAccount(
            wallet_account(wallet_id),
            wallet.asset,
            CODE_WALLET,
            frozenset({AccountFlag.DEBITS_MUST_NOT_EXCEED_CREDITS}),
            bank_id,
        )
        (result,) = ledger.create_accounts_in(conn, [account])
        if result.result != "created":
            raise Conflict(f"the wallet's ledger account could not be created: {result.result}")
    return wallet


def _wallet(db: Database, wallet_id: str) -> Wallet:
    with db.read() as conn:
        found = store.wallets_by_id(conn, [wallet_id]).get(wallet_id)
    if found is None:
        raise NotFound(f"no wallet with id {wallet_id!r}")
    return found


def get_wallet(db: Database, wallet_id: str, viewer_org: str | None = None) -> WalletView:
    wallet = _wallet(db, wallet_id)
    if viewer_org is not None and viewer_org != wallet.bank_id:
        raise NotFound(f"no wallet with id {wallet_id!r}")
    with db.read() as conn:
        account = ledger.accounts_in(conn, [wallet_account(wallet_id)])[wallet_account(wallet_id)]
        today = store.sent_since(conn, "debtor_wallet", wallet_id, wallet.asset, payment_rules.day_start(now_utc()))
    return WalletView(wallet, account.credits_posted - account.debits_posted, today, wallet.limits)


def load(db: Database, actor_org: str | None, wallet_id: str, amount: int, unload: bool = False) -> WalletView:
    """Move money between the wallet and its bank's settlement account (the customer pays cash or a deposit in, or
    takes it out). Loading stops at the tier's balance limit."""
    check_amount("amount", amount)
    wallet = _wallet(db, wallet_id)
    _acting_bank(actor_org, wallet.bank_id)
    bank_account, account = settlement_account(wallet.bank_id, wallet.asset), wallet_account(wallet_id)
    with db.transaction() as conn:
        held_now = ledger.accounts_in(conn, [account])[account]
        held = held_now.credits_posted - held_now.debits_posted
        cap = wallet.limits.balance
        if not unload and cap is not None and held + amount > cap:
            raise Refused("AM02", f"wallet {wallet_id} (tier {wallet.tier}) may hold at most {cap}; it holds {held}")
        debit, credit = (account, bank_account) if unload else (bank_account, account)
        leg = Transfer(f"wload:{uuid.uuid4()}", debit, credit, amount, wallet.asset, CODE_WALLET_LOAD)
        move(conn, [leg], "unloading" if unload else "loading")
    return get_wallet(db, wallet_id)


def pay(
    db: Database,
    screener: PartyScreener,
    actor_org: str | None,
    wallet_id: str,
    uetr: str,
    to_wallet: str,
    source_amount: int,
    quote_id: str | None,
    remittance_info: str | None,
    demo: bool = False,
) -> tuple[Payment, bool]:
    """A wallet pays another wallet: in the same currency directly, across currencies PvP through an FX provider
    with a quote (a Chongqing visitor's CNY wallet paying a Singapore merchant in SGD)."""
    payer = _wallet(db, wallet_id)
    if len(to_wallet) > 40:
        raise InvalidInput([FieldError("to_wallet", "a wallet id (at most 40 characters)", "length")])
    payee = _wallet(db, to_wallet)
    request = PaymentRequest(
        uetr=uetr,
        debtor_agent=payer.bank_id,
        creditor_agent=payee.bank_id,
        debtor=Party(payer.holder_name, payer.id),
        creditor=Party(payee.holder_name, payee.id),
        source_asset=payer.asset,
        source_amount=source_amount,
        target_asset=payee.asset,
        quote_id=quote_id,
        purpose="GDDS" if payee.kind.value == "merchant" else None,
        remittance_info=remittance_info,
        demo=demo,
        debtor_wallet=payer.id,
        creditor_wallet=payee.id,
    )
    return payment_service.submit(db, request, screener, actor_org)
