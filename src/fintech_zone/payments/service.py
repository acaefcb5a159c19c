"""Use cases of the rails' set-up: participants joining, central banks issuing and redeeming their tokens.

FX rates and quotes are in ``fx_service``, payments in ``payment_service``, wallets in ``wallet_service``. Each
use case owns its transaction; what it moves on the ledger goes through ``ledger.service`` inside that same
transaction, so a record and its transfers commit together.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime

from sqlalchemy import Connection
from sqlalchemy.exc import IntegrityError

from fintech_zone.db import Database
from fintech_zone.errors import Conflict, FieldError, Forbidden, InvalidInput, NotFound
from fintech_zone.journal import service as journal
from fintech_zone.ledger import service as ledger
from fintech_zone.ledger.model import AccountFlag, Asset, AssetKind, NewAccount, Transfer, TransferFlag
from fintech_zone.payments import journal_leaf, store
from fintech_zone.payments.model import (
    CURRENCY_OF_JURISDICTION,
    SETTLEMENT_ASSETS,
    Participant,
    ParticipantRole,
    check_amount,
    check_participant_id,
    issuance_account,
    reserve_asset,
    settlement_account,
)
from fintech_zone.payments.wallets import wallet_account
from fintech_zone.registry import service as registry
from fintech_zone.registry.identifiers import VALIDATORS
from fintech_zone.registry.model import JURISDICTIONS, NewOrganisation, build_organisation

# Ledger account and transfer codes (the ledger's integer "purpose" fields) the rails use.
CODE_SETTLEMENT, CODE_RESERVE, CODE_ISSUANCE = 1, 2, 3
CODE_PAYMENT, CODE_ISSUE, CODE_REDEEM, CODE_RESERVE_CREDIT = 10, 20, 21, 22
EXPONENT = {"CNY": 2, "SGD": 2}  # ISO 4217 minor units of the currencies the rails settle


def rails_assets() -> list[Asset]:
    """The wholesale tokens payments settle in, and the reserve money that backs them."""
    tokens = [Asset(c, AssetKind.WHOLESALE_TOKEN, c, EXPONENT[c]) for c in SETTLEMENT_ASSETS]
    reserves = [Asset(reserve_asset(c), AssetKind.FIAT_RESERVE, c, EXPONENT[c]) for c in SETTLEMENT_ASSETS]
    return tokens + reserves


def now_utc() -> datetime:
    return datetime.now(UTC)


class Refused(Conflict):
    """A rails operation the ledger or a rule refused; ``reason`` is its ISO 20022 status reason code."""

    def __init__(self, reason: str, detail: str) -> None:
        super().__init__(f"{reason}: {detail}")
        self.reason = reason


# -- participants ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class JoinRequest:
    id: str
    bic: str
    role: str
    jurisdiction: str
    name_en: str
    name_zh: str
    demo: bool = False


def _accounts_for(p: Participant) -> list[NewAccount]:
    no_overdraft = frozenset({AccountFlag.DEBITS_MUST_NOT_EXCEED_CREDITS})
    home = p.home_currency
    if p.role is ParticipantRole.CENTRAL_BANK:
        assert home is not None
        # Its issuance and reserve accounts may go negative: they are where money is created.
        return [
            NewAccount(issuance_account(p.id, home), home, CODE_ISSUANCE, owner_id=p.id),
            NewAccount(settlement_account(p.id, reserve_asset(home)), reserve_asset(home), CODE_RESERVE, owner_id=p.id),
        ]
    accounts = [
        NewAccount(settlement_account(p.id, a), a, CODE_SETTLEMENT, no_overdraft, p.id) for a in SETTLEMENT_ASSETS
    ]
    if p.role is ParticipantRole.BANK and home is not None:
        rsv = reserve_asset(home)
        accounts.append(NewAccount(settlement_account(p.id, rsv), rsv, CODE_RESERVE, no_overdraft, p.id))
    return accounts


def _check_join(req: JoinRequest) -> tuple[Participant, str]:
    check_participant_id(req.id)
    errors: list[FieldError] = []
    try:
        role = ParticipantRole(req.role)
    except ValueError:
        role = ParticipantRole.BANK
        errors.append(
            FieldError("role", f"{req.role!r} is not one of central_bank, bank, fx_provider", "allowed_values")
        )
    bic, bic_error = VALIDATORS["bic"](req.bic.strip())
    if bic_error is not None:
        errors.append(bic_error)
    if (
        role in (ParticipantRole.CENTRAL_BANK, ParticipantRole.BANK)
        and req.jurisdiction not in CURRENCY_OF_JURISDICTION
    ):
        errors.append(
            FieldError("jurisdiction", "central banks and banks on the rails are in CN or SG", "jurisdiction")
        )
    elif req.jurisdiction not in JURISDICTIONS:
        errors.append(FieldError("jurisdiction", f"one of {', '.join(JURISDICTIONS)}", "allowed_values"))
    if errors:
        raise InvalidInput(errors)
    return Participant(req.id, bic, role, req.jurisdiction, None, now_utc(), req.demo), bic


def join(db: Database, req: JoinRequest) -> Participant:
    """A participant joins: its registry organisation (created when new), its record and its ledger accounts, in
    one transaction."""
    participant, bic = _check_join(req)
    org = build_organisation(
        NewOrganisation(
            id=req.id,
            kind="regulator" if participant.role is ParticipantRole.CENTRAL_BANK else "financial_institution",
            jurisdiction=req.jurisdiction,
            name_en=req.name_en,
            name_zh=req.name_zh,
            sector="digital_currency" if participant.role is ParticipantRole.CENTRAL_BANK else "payments",
            status=None,
            bic=bic,
            source="DEMO participant (fintech-zone simulate payments)" if req.demo else "joined the pilot rails",
        )
    )
    with db.transaction() as conn:
        if store.get_participant(conn, req.id) is not None:
            raise Conflict(f"{req.id!r} is already a participant")
        holder = store.bic_holder(conn, bic)
        if holder is not None:
            raise Conflict(f"BIC {bic} belongs to participant {holder!r}")
        existing = registry.organisation_in(conn, req.id)
        if existing is not None and existing.bic not in (None, bic):
            raise Conflict(f"organisation {req.id!r} is registered with BIC {existing.bic}, not {bic}")
        if existing is None:
            registry.ensure_organisations_in(conn, [org], date.today())
        if participant.role is ParticipantRole.CENTRAL_BANK:
            for other in store.list_participants(conn):
                if (other.role, other.jurisdiction, other.demo) == (
                    ParticipantRole.CENTRAL_BANK,
                    participant.jurisdiction,
                    participant.demo,
                ):
                    raise Conflict(f"{other.id!r} is already the central bank of {participant.jurisdiction}")
        ledger.ensure_assets_in(conn, rails_assets())
        try:
            store.insert_participant(conn, participant)
        except IntegrityError as exc:
            raise Conflict(f"{req.id!r} or BIC {bic} joined concurrently") from exc
        results = ledger.create_accounts_in(conn, _accounts_for(participant))
        failed = [r for r in results if r.result != "created"]
        if failed:  # the rails own the pay:<id>:… account space; anything else is a broken invariant
            raise Conflict(f"ledger account {failed[0].id!r} could not be created: {failed[0].result}")
    return participant


def get_participant(db: Database, participant_id: str) -> Participant:
    with db.read() as conn:
        found = store.get_participant(conn, participant_id)
    if found is None:
        raise NotFound(f"no participant with id {participant_id!r}")
    return found


def is_demo(db: Database, org_id: str | None) -> bool:
    """Whether ``org_id`` is a DEMO participant (its quotes then come from demo providers)."""
    if org_id is None:
        return False
    with db.read() as conn:
        found = store.get_participant(conn, org_id)
    return found is not None and found.demo


def list_participants(db: Database) -> list[Participant]:
    with db.read() as conn:
        return store.list_participants(conn)


@dataclass(frozen=True)
class Holding:
    account_id: str
    asset: str
    balance: int  # credits_posted − debits_posted
    pending_out: int


def holdings(db: Database, participant_id: str) -> list[Holding]:
    participant = get_participant(db, participant_id)
    ids = [a.id for a in _accounts_for(participant)]
    with db.read() as conn:
        found = ledger.accounts_in(conn, ids)
    return [
        Holding(a.id, a.ledger, a.credits_posted - a.debits_posted, a.debits_pending)
        for i in ids
        if (a := found.get(i)) is not None
    ]


# -- wholesale digital currency --------------------------------------------------------------------------------


@dataclass(frozen=True)
class IssuanceRecord:
    id: str
    kind: str
    central_bank_id: str
    bank_id: str
    asset: str
    amount: int
    outstanding: int  # issued − redeemed to this bank, after this operation
    supply: int  # issued − redeemed to every bank


def _central_bank_and_bank(conn: Connection, actor_org: str | None, bank_id: str, asset: str) -> tuple[str, str]:
    """The acting central bank and the domestic bank, or why not (only a currency's central bank issues and
    redeems it, and only with its own jurisdiction's banks)."""
    if asset not in SETTLEMENT_ASSETS:
        raise InvalidInput([FieldError("asset", f"one of the rails' tokens: {', '.join(SETTLEMENT_ASSETS)}", "asset")])
    found = store.participants_by_id(conn, [i for i in (actor_org, bank_id) if i])
    central = found.get(actor_org) if actor_org else None
    if central is None or central.role is not ParticipantRole.CENTRAL_BANK:
        raise Forbidden("only a central bank's participant token may issue, redeem or set caps")
    if central.home_currency != asset:
        raise Refused("AG01", f"{central.id!r} is not the central bank of {asset}")
    bank = found.get(bank_id)
    if bank is None:
        raise NotFound(f"no participant with id {bank_id!r}")
    if bank.role is not ParticipantRole.BANK or bank.jurisdiction != central.jurisdiction:
        raise Refused("AG01", f"{asset} tokens go only to banks in {central.jurisdiction}; {bank_id!r} is not one")
    if bank.demo != central.demo:
        raise Refused("AG01", "demo and real participants never deal with each other")
    return central.id, bank.id


def set_cap(db: Database, actor_org: str | None, bank_id: str, asset: str, cap: int) -> Participant:
    if cap < 0:
        raise InvalidInput([FieldError("cap", "must be zero or more", "range")])
    with db.transaction() as conn:
        _, bank = _central_bank_and_bank(conn, actor_org, bank_id, asset)
        store.set_cap(conn, bank, cap)
        updated = store.get_participant(conn, bank)
    assert updated is not None
    return updated


def move(conn: Connection, legs: list[Transfer], what: str) -> None:
    """Apply ``legs`` as one linked chain; a refusal names its ISO 20022 reason."""
    chained = [
        replace(t, flags=t.flags | {TransferFlag.LINKED}) if i < len(legs) - 1 else t for i, t in enumerate(legs)
    ]
    results = ledger.create_transfers_in(conn, chained)
    for leg, r in zip(legs, results, strict=True):
        if r.result not in ("created", "linked_event_failed"):
            if r.result == "exceeds_credits":
                raise Refused("AM04", f"{what}: {leg.debit_account_id} holds less than {leg.amount}")
            if r.result.endswith("_closed"):
                raise Refused("AC04", f"{what}: {r.result.replace('_', ' ')}")
            raise Refused("NARR", f"{what}: the ledger answered {r.result} for {leg.id}")


def _issue_or_redeem(
    db: Database, actor_org: str | None, bank_id: str, asset: str, amount: int, kind: str
) -> IssuanceRecord:
    check_amount("amount", amount)
    record_id = f"{kind}:{uuid.uuid4()}"
    with db.transaction() as conn:
        central, bank = _central_bank_and_bank(conn, actor_org, bank_id, asset)
        rsv = reserve_asset(asset)
        bank_rsv, central_rsv = settlement_account(bank, rsv), settlement_account(central, rsv)
        bank_token, issued = settlement_account(bank, asset), issuance_account(central, asset)
        if kind == "issue":
            cap = store.get_participant(conn, bank)
            assert cap is not None
            before = store.outstanding(conn, bank, asset)
            if cap.issuance_cap is None or before + amount > cap.issuance_cap:
                limit = "no cap set yet" if cap.issuance_cap is None else f"cap {cap.issuance_cap}"
                raise Refused("AM02", f"{bank} holds {before} {asset} issued; {amount} more exceeds its {limit}")
            # The bank pays in reserve money; the central bank creates the same amount of tokens for it.
            legs = [
                Transfer(f"{record_id}:rsv", bank_rsv, central_rsv, amount, rsv, CODE_ISSUE),
                Transfer(record_id, issued, bank_token, amount, asset, CODE_ISSUE),
            ]
        else:
            legs = [
                Transfer(record_id, bank_token, issued, amount, asset, CODE_REDEEM),
                Transfer(f"{record_id}:rsv", central_rsv, bank_rsv, amount, rsv, CODE_REDEEM),
            ]
        move(conn, legs, "issuance" if kind == "issue" else "redemption")
        _record_issuance(conn, record_id, central, bank, asset, kind, amount)
        outstanding, supply = store.outstanding(conn, bank, asset), store.outstanding(conn, None, asset)
    return IssuanceRecord(record_id, kind, central, bank, asset, amount, outstanding, supply)


def _record_issuance(
    conn: Connection, record_id: str, central: str, bank: str, asset: str, kind: str, amount: int
) -> None:
    """The record and its journal leaf, in the transaction that moved the money."""
    at = now_utc()
    store.record_issuance(conn, record_id, central, bank, asset, kind, amount, at)
    journal.append_in(conn, [journal_leaf.issuance_entry(record_id, central, bank, asset, kind, amount, at)])


def issue(db: Database, actor_org: str | None, bank_id: str, asset: str, amount: int) -> IssuanceRecord:
    return _issue_or_redeem(db, actor_org, bank_id, asset, amount, "issue")


def redeem(db: Database, actor_org: str | None, bank_id: str, asset: str, amount: int) -> IssuanceRecord:
    return _issue_or_redeem(db, actor_org, bank_id, asset, amount, "redeem")


def credit_reserve(db: Database, actor_org: str | None, bank_id: str, asset: str, amount: int) -> IssuanceRecord:
    """The central bank credits a domestic bank's reserve account: central-bank money arriving from the RTGS
    system outside the rails, which the bank can then exchange for tokens."""
    check_amount("amount", amount)
    record_id = f"reserve:{uuid.uuid4()}"
    with db.transaction() as conn:
        central, bank = _central_bank_and_bank(conn, actor_org, bank_id, asset)
        rsv = reserve_asset(asset)
        leg = Transfer(
            record_id, settlement_account(central, rsv), settlement_account(bank, rsv), amount, rsv, CODE_RESERVE_CREDIT
        )
        move(conn, [leg], "reserve credit")
        _record_issuance(conn, record_id, central, bank, asset, "reserve", amount)
        outstanding, supply = store.outstanding(conn, bank, asset), store.outstanding(conn, None, asset)
    return IssuanceRecord(record_id, "reserve", central, bank, asset, amount, outstanding, supply)


@dataclass(frozen=True)
class Supply:
    asset: str
    issued_minus_redeemed: int  # from the issuance records
    on_ledger: int  # what the central bank's issuance account has created, from the ledger
    held: int  # the sum of every other holder's balance of the token: participants and wallets


def supply(db: Database, asset: str) -> Supply:
    """A token's supply three ways; the rails are sound only while all three agree (tests check after every
    scenario)."""
    if asset not in SETTLEMENT_ASSETS:
        raise NotFound(f"no token {asset!r} on the rails")
    with db.read() as conn:
        records = store.outstanding(conn, None, asset)
        participants = store.list_participants(conn)
        ids = [a.id for p in participants for a in _accounts_for(p) if a.ledger == asset]
        ids += [wallet_account(w) for w in store.wallet_ids(conn, asset)]  # retail holders
        accounts = ledger.accounts_in(conn, ids)
    issued = [a for a in accounts.values() if a.code == CODE_ISSUANCE]
    held = [a for a in accounts.values() if a.code != CODE_ISSUANCE]
    created = sum(a.debits_posted - a.credits_posted for a in issued)
    return Supply(asset, records, created, sum(a.credits_posted - a.debits_posted for a in held))
