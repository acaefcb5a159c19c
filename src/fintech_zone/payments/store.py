"""Tables of the pilot rails and their queries. Balances live in the ledger; these hold what the rails decide."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    Connection,
    ForeignKey,
    Index,
    Integer,
    String,
    Table,
    case,
    func,
    insert,
    select,
    text,
    update,
)

from fintech_zone.db import metadata
from fintech_zone.db.driver import Driver
from fintech_zone.db.types import UTCDateTime
from fintech_zone.payments.model import (
    Decision,
    Participant,
    ParticipantRole,
    Party,
    Payment,
    PaymentRequest,
    Reason,
    Status,
)
from fintech_zone.payments.wallets import Wallet, WalletKind

participants = Table(
    "payments_participants",
    metadata,
    Column("id", String(40), ForeignKey("registry_organisations.id"), primary_key=True),
    Column("bic", String(11), nullable=False, unique=True),
    Column("role", String(16), nullable=False),
    Column("jurisdiction", String(2), nullable=False),
    Column("issuance_cap", BigInteger, nullable=True),
    Column("joined_at", UTCDateTime, nullable=False),
    Column("demo", Boolean, nullable=False),
)

issuances = Table(
    "payments_issuances",
    metadata,
    Column("id", String(64), primary_key=True),  # the ledger transfer id of its token leg
    Column("central_bank_id", String(40), ForeignKey("payments_participants.id"), nullable=False),
    Column("bank_id", String(40), ForeignKey("payments_participants.id"), nullable=False),
    Column("asset", String(16), nullable=False),
    Column("kind", String(8), nullable=False),  # issue | redeem | reserve (reserve money credited from RTGS)
    Column("amount", BigInteger, nullable=False),
    Column("at", UTCDateTime, nullable=False),
    Index("ix_payments_issuances_bank_id_asset", "bank_id", "asset"),
)

payments = Table(
    "payments",
    metadata,
    Column("uetr", String(36), primary_key=True),
    Column("debtor_agent", String(40), nullable=False),
    Column("creditor_agent", String(40), nullable=False),
    Column("corridor", String(5), nullable=False),  # debtor agent's jurisdiction - creditor agent's
    Column("debtor_name", String(140), nullable=False),
    Column("debtor_account", String(34), nullable=False),
    Column("creditor_name", String(140), nullable=False),
    Column("creditor_account", String(34), nullable=False),
    Column("source_asset", String(16), nullable=False),
    Column("source_amount", BigInteger, nullable=False),
    Column("target_asset", String(16), nullable=False),
    Column("target_amount", BigInteger, nullable=False),
    Column("quote_id", String(36), nullable=True),
    Column("rate", String(40), nullable=True),
    Column("fees", BigInteger, nullable=False),
    Column("fx_provider_id", String(40), nullable=True),
    Column("purpose", String(4), nullable=True),
    Column("remittance_info", String(140), nullable=True),
    Column("demo", Boolean, nullable=False),
    Column("debtor_wallet", String(40), nullable=True),
    Column("creditor_wallet", String(40), nullable=True),
    Column("status", String(16), nullable=False),
    Column("reason", String(4), nullable=True),
    Column("reason_detail", String(500), nullable=True),
    Column("created_at", UTCDateTime, nullable=False),
    Column("settled_at", UTCDateTime, nullable=True),
    # Random per payment: the journal's public leaves carry the party data only as a digest salted with it, so
    # nobody can test a guessed name against a leaf; an auditor with the database recomputes it.
    Column("journal_salt", String(32), nullable=True),
    Column("pilot_id", String(64), nullable=True),  # the sandbox pilot it ran in (sandbox.store holds the pilots)
    Index("ix_payments_status_settled_at", "status", "settled_at"),
    Index("ix_payments_debtor_agent_created_at", "debtor_agent", "created_at"),
    Index("ix_payments_creditor_agent_created_at", "creditor_agent", "created_at"),
    # Only wallet payments: the others would each add an entry, and a page to a group commit (migration 0010).
    Index(
        "ix_payments_debtor_wallet_created_at",
        "debtor_wallet",
        "created_at",
        sqlite_where=text("debtor_wallet IS NOT NULL"),
        postgresql_where=text("debtor_wallet IS NOT NULL"),
    ),
)

wallets = Table(
    "payments_wallets",
    metadata,
    Column("id", String(40), primary_key=True),
    Column("bank_id", String(40), ForeignKey("payments_participants.id"), nullable=False),
    Column("holder_name", String(140), nullable=False),
    Column("kind", String(16), nullable=False),
    Column("tier", Integer, nullable=False),
    Column("asset", String(16), nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
)

decisions = Table(
    "payments_decisions",
    metadata,
    Column("uetr", String(36), ForeignKey("payments.uetr"), primary_key=True),
    Column("seq", Integer, primary_key=True, autoincrement=False),
    Column("status", String(16), nullable=False),
    Column("reason", String(4), nullable=True),
    Column("detail", String(500), nullable=False),
    Column("at", UTCDateTime, nullable=False),
    Column("actor", String(80), nullable=False),
)

limits = Table(
    "payments_limits",
    metadata,
    Column("scope", String(16), primary_key=True),
    Column("key", String(40), primary_key=True),
    Column("asset", String(16), primary_key=True),
    Column("per_payment", BigInteger, nullable=True),
    Column("daily", BigInteger, nullable=True),
)


# -- participants ---------------------------------------------------------------------------------------------


def _participant(r: Any) -> Participant:
    return Participant(r.id, r.bic, ParticipantRole(r.role), r.jurisdiction, r.issuance_cap, r.joined_at, r.demo)


def insert_participant(conn: Connection, p: Participant) -> None:
    conn.execute(
        insert(participants).values(
            id=p.id, bic=p.bic, role=p.role.value, jurisdiction=p.jurisdiction, joined_at=p.joined_at, demo=p.demo
        )
    )


def get_participant(conn: Connection, participant_id: str) -> Participant | None:
    with Driver(conn) as driver:
        rows = driver.select_typed(participants, "id = {m}", (participant_id,))
    return _participant(rows[0]) if rows else None


def participants_by_id(conn: Connection, ids: Iterable[str]) -> dict[str, Participant]:
    # On the driver's cursor (db/driver.py): a payment reads its agents inside the writers' turn (through
    # agent_cache, the first time).
    with Driver(conn) as driver:
        where, params = driver.any_of(list(set(ids)))
        rows = driver.select_typed(participants, f"id {where}", params)
    return {r.id: _participant(r) for r in rows}


def list_participants(conn: Connection) -> list[Participant]:
    return [_participant(r) for r in conn.execute(select(participants).order_by(participants.c.id))]


def bic_holder(conn: Connection, bic: str) -> str | None:
    held: str | None = conn.execute(select(participants.c.id).where(participants.c.bic == bic)).scalar()
    return held


def set_cap(conn: Connection, participant_id: str, cap: int) -> None:
    conn.execute(update(participants).where(participants.c.id == participant_id).values(issuance_cap=cap))


# -- issuance -------------------------------------------------------------------------------------------------


def record_issuance(
    conn: Connection,
    record_id: str,
    central_bank_id: str,
    bank_id: str,
    asset: str,
    kind: str,
    amount: int,
    at: datetime,
) -> None:
    conn.execute(
        insert(issuances).values(
            id=record_id, central_bank_id=central_bank_id, bank_id=bank_id, asset=asset, kind=kind, amount=amount, at=at
        )
    )


def outstanding(conn: Connection, bank_id: str | None, asset: str) -> int:
    """Issued − redeemed of ``asset`` (to ``bank_id``, or to every bank when None), from the issuance records."""
    c = issuances.c
    signed = case((c.kind == "issue", c.amount), (c.kind == "redeem", -c.amount), else_=0)
    q = select(func.coalesce(func.sum(signed), 0)).where(c.asset == asset)
    if bank_id is not None:
        q = q.where(c.bank_id == bank_id)
    return int(conn.execute(q).scalar() or 0)


# -- payments -------------------------------------------------------------------------------------------------


_PAYMENT_COLUMNS = (
    "uetr", "debtor_agent", "creditor_agent", "corridor", "debtor_name", "debtor_account", "creditor_name",
    "creditor_account", "source_asset", "source_amount", "target_asset", "target_amount", "quote_id", "rate", "fees",
    "fx_provider_id", "purpose", "remittance_info", "demo", "debtor_wallet", "creditor_wallet", "status", "reason",
    "reason_detail", "created_at", "settled_at", "journal_salt", "pilot_id",
)  # fmt: skip
_DECISION_COLUMNS = ("uetr", "seq", "status", "reason", "detail", "at", "actor")


def insert_payment(conn: Connection, p: Payment, corridor_key: str, journal_salt: str) -> None:
    """The payment and its decisions, on the driver's cursor: this runs for every payment inside the writers' turn,
    where a Core statement's own cost was a large part of a payment's (docs/benchmarks.md, Payment rails)."""
    r = p.request
    row = (
        r.uetr, r.debtor_agent, r.creditor_agent, corridor_key, r.debtor.name, r.debtor.account, r.creditor.name,
        r.creditor.account, r.source_asset, r.source_amount, r.target_asset, p.target_amount, r.quote_id,
        str(p.rate) if p.rate is not None else None, p.fees, p.fx_provider_id, r.purpose, r.remittance_info, r.demo,
        r.debtor_wallet, r.creditor_wallet, p.status.value, p.reason.value if p.reason else None, p.reason_detail,
        p.created_at, p.settled_at, journal_salt, r.pilot_id,
    )  # fmt: skip
    with Driver(conn) as driver:
        driver.insert_typed(payments, _PAYMENT_COLUMNS, [row])
        _insert_decisions(driver, r.uetr, 0, p.history)


def insert_decisions(conn: Connection, uetr: str, first_seq: int, history: list[Decision]) -> None:
    with Driver(conn) as driver:
        _insert_decisions(driver, uetr, first_seq, history)


def _insert_decisions(driver: Driver, uetr: str, first_seq: int, history: list[Decision]) -> None:
    rows = [
        (uetr, first_seq + i, d.status.value, d.reason.value if d.reason else None, d.detail[:500], d.at, d.actor[:80])
        for i, d in enumerate(history)
    ]
    driver.insert_typed(decisions, _DECISION_COLUMNS, rows)


def update_payment(
    conn: Connection,
    uetr: str,
    status: Status,
    reason: Reason | None,
    detail: str | None,
    settled_at: datetime | None,
    expected: Status,
) -> bool:
    """Move a payment on from ``expected``; False when it is no longer there (a concurrent decision won)."""
    done = conn.execute(
        update(payments)
        .where(payments.c.uetr == uetr, payments.c.status == expected.value)
        .values(
            status=status.value,
            reason=reason.value if reason else None,
            reason_detail=detail,
            settled_at=settled_at,
        )
    )
    return bool(done.rowcount == 1)


def payment_of(r: Any, history: list[Decision]) -> Payment:
    request = PaymentRequest(
        uetr=r.uetr,
        debtor_agent=r.debtor_agent,
        creditor_agent=r.creditor_agent,
        debtor=Party(r.debtor_name, r.debtor_account),
        creditor=Party(r.creditor_name, r.creditor_account),
        source_asset=r.source_asset,
        source_amount=r.source_amount,
        target_asset=r.target_asset,
        quote_id=r.quote_id,
        purpose=r.purpose,
        remittance_info=r.remittance_info,
        demo=r.demo,
        debtor_wallet=r.debtor_wallet,
        creditor_wallet=r.creditor_wallet,
        pilot_id=r.pilot_id,
    )
    return Payment(
        request=request,
        status=Status(r.status),
        reason=Reason(r.reason) if r.reason else None,
        reason_detail=r.reason_detail,
        target_amount=r.target_amount,
        rate=Decimal(r.rate) if r.rate is not None else None,
        fees=r.fees,
        fx_provider_id=r.fx_provider_id,
        created_at=r.created_at,
        settled_at=r.settled_at,
        history=history,
    )


def decision_of(d: Any) -> Decision:
    return Decision(Status(d.status), Reason(d.reason) if d.reason else None, d.detail, d.at, d.actor)


def get_payment(conn: Connection, uetr: str) -> Payment | None:
    # Every payment looks for its UETR first, inside the writers' turn: on the driver's cursor (db/driver.py).
    with Driver(conn) as driver:
        rows = driver.select_typed(payments, "uetr = {m}", (uetr,))
        if not rows:
            return None
        steps = driver.select_typed(decisions, "uetr = {m}", (uetr,), " ORDER BY seq")
    return payment_of(rows[0], [decision_of(d) for d in steps])


def payments_by_uetr(conn: Connection, uetrs: list[str]) -> dict[str, Payment]:
    """Payments (without their decisions) by UETR, in chunks the drivers' parameter limits allow."""
    found: dict[str, Payment] = {}
    for i in range(0, len(uetrs), 500):
        rows = conn.execute(select(payments).where(payments.c.uetr.in_(uetrs[i : i + 500])))
        found.update((r.uetr, payment_of(r, [])) for r in rows)
    return found


def journal_salt(conn: Connection, uetr: str) -> str | None:
    salt: str | None = conn.execute(select(payments.c.journal_salt).where(payments.c.uetr == uetr)).scalar()
    return salt


def set_journal_salt(conn: Connection, uetr: str, salt: str) -> None:
    conn.execute(update(payments).where(payments.c.uetr == uetr).values(journal_salt=salt))


def decision_count(conn: Connection, uetr: str) -> int:
    return int(conn.execute(select(func.count()).where(decisions.c.uetr == uetr)).scalar() or 0)


def list_payments(
    conn: Connection, agent: str | None, status: Status | None, before: tuple[datetime, str] | None, limit: int
) -> list[Payment]:
    """Newest first; ``agent``: only payments it sends or receives; ``before``: the keyset cursor."""
    q = select(payments)
    if agent is not None:
        q = q.where((payments.c.debtor_agent == agent) | (payments.c.creditor_agent == agent))
    if status is not None:
        q = q.where(payments.c.status == status.value)
    if before is not None:
        at, uetr = before
        q = q.where((payments.c.created_at < at) | ((payments.c.created_at == at) & (payments.c.uetr < uetr)))
    rows = conn.execute(q.order_by(payments.c.created_at.desc(), payments.c.uetr.desc()).limit(limit))
    return [payment_of(r, []) for r in rows]


def sent_since(conn: Connection, column: str, key: str, asset: str, since: datetime) -> int:
    """Source amount of payments settled or in flight since ``since`` in ``asset``, by debtor agent, corridor or
    debtor wallet (``column``)."""
    c = payments.c
    total = conn.execute(
        select(func.coalesce(func.sum(c.source_amount), 0)).where(
            c[column] == key,
            c.source_asset == asset,
            c.created_at >= since,
            c.status.in_([Status.SETTLED.value, Status.HELD.value]),
        )
    ).scalar()
    return int(total or 0)


# -- wallets --------------------------------------------------------------------------------------------------


def _wallet(r: Any) -> Wallet:
    return Wallet(r.id, r.bank_id, r.holder_name, WalletKind(r.kind), r.tier, r.asset, r.created_at)


def insert_wallet(conn: Connection, w: Wallet) -> None:
    conn.execute(
        insert(wallets).values(
            id=w.id,
            bank_id=w.bank_id,
            holder_name=w.holder_name,
            kind=w.kind.value,
            tier=w.tier,
            asset=w.asset,
            created_at=w.created_at,
        )
    )


def wallets_by_id(conn: Connection, ids: Iterable[str]) -> dict[str, Wallet]:
    rows = conn.execute(select(wallets).where(wallets.c.id.in_([i for i in set(ids) if len(i) <= 40])))
    return {r.id: _wallet(r) for r in rows}


def wallet_ids(conn: Connection, asset: str) -> list[str]:
    return list(conn.execute(select(wallets.c.id).where(wallets.c.asset == asset).order_by(wallets.c.id)).scalars())
