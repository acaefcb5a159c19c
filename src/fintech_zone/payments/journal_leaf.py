"""What the rails write into the journal: a leaf per payment decision and per issuance, redemption or reserve
credit. Pure.

The journal is public (its leaves can be read without a token), so a payment's leaf names the institutions, the
amounts, the assets and the decision, but carries the party data (names, accounts, wallets, remittance text and
the decision's free text, which can quote a screened name) only as SHA-256 digests salted with the payment's own
random salt. Nobody can test a guessed name against a leaf; an auditor with the database recomputes each digest
from the record and its salt (docs/journal.md).
"""

from __future__ import annotations

import hashlib
import secrets
from typing import Any

from fintech_zone.journal.model import Entry, canonical, leaf, stamp, trusted_leaf
from fintech_zone.payments.model import Decision, Payment

DECISION = "payment.decision"
ISSUANCE = "payments.issuance"


def new_salt() -> str:
    return secrets.token_hex(16)


def _digest(salt: str, value: Any) -> str:
    return hashlib.sha256(bytes.fromhex(salt) + canonical(value)).hexdigest()


def payment_state(p: Payment, salt: str) -> dict[str, Any]:
    """The payment record as the leaf shows it: public fields in the clear, the party data as a salted digest."""
    r = p.request
    private = [
        r.debtor.name, r.debtor.account, r.creditor.name, r.creditor.account, r.remittance_info,
        r.debtor_wallet, r.creditor_wallet, p.reason_detail,
    ]  # fmt: skip
    state = {
        "debtor_agent": r.debtor_agent,
        "creditor_agent": r.creditor_agent,
        "source_asset": r.source_asset,
        "source_amount": r.source_amount,
        "target_asset": r.target_asset,
        "target_amount": p.target_amount,
        "quote_id": r.quote_id,
        "rate": str(p.rate) if p.rate is not None else None,
        "fees": p.fees,
        "fx_provider_id": p.fx_provider_id,
        "purpose": r.purpose,
        "demo": "demo" if r.demo else "real",
        "status": p.status.value,
        "reason": p.reason.value if p.reason else None,
        "created_at": stamp(p.created_at),
        "settled_at": stamp(p.settled_at),
        "parties_digest": _digest(salt, private),
    }
    if r.pilot_id is not None:  # only then: the leaves written before pilots existed keep their layout
        state["pilot_id"] = r.pilot_id
    return state


def decision_entry(p: Payment, salt: str, seq: int, d: Decision, state: dict[str, Any] | None = None) -> Entry:
    """The leaf of decision ``seq`` of ``p``, with the payment as it stands after the commit that made it
    (``state``: ``payment_state(p, salt)`` when the caller has it already)."""
    # trusted_leaf: every value comes from the typed records (strings, ints, None), and a payment writes three of
    # these leaves in its writer's turn.
    data = trusted_leaf(
        DECISION,
        uetr=p.uetr,
        seq=seq,
        status=d.status.value,
        reason=d.reason.value if d.reason else None,
        at=stamp(d.at),
        actor=d.actor[:80],
        detail_digest=_digest(salt, d.detail[:500]),
        payment=payment_state(p, salt) if state is None else state,
    )
    return Entry(DECISION, data, refs=(p.uetr,))


def decision_entries(p: Payment, salt: str, first_seq: int, decisions: list[Decision]) -> list[Entry]:
    state = payment_state(p, salt)  # the same payment for every decision of one commit
    return [decision_entry(p, salt, first_seq + i, d, state) for i, d in enumerate(decisions)]


def issuance_entry(
    record_id: str, central_bank_id: str, bank_id: str, asset: str, kind: str, amount: int, at: Any
) -> Entry:
    """An issuance, redemption or reserve credit, as ``payments_issuances`` records it."""
    data = leaf(
        ISSUANCE, id=record_id, central_bank_id=central_bank_id, bank_id=bank_id, asset=asset, type=kind,
        amount=amount, at=stamp(at),
    )  # fmt: skip
    return Entry(ISSUANCE, data, refs=(record_id,))
