"""What a ledger batch writes into the journal: one leaf per committed batch. Pure.

Layout (``kind`` "ledger.batch", canonical JSON, docs/journal.md), every list sorted so the bytes come out one way:

- ``accounts``: created accounts ``[id, ledger, code, flags, owner_id, timestamp]``
- ``transfers``: created transfers ``[id, debit_account_id, credit_account_id, amount, requested_amount, ledger,
  code, flags, pending_id, timeout, reference, user_data, timestamp]`` in timestamp order
- ``balances``: every touched account after the batch ``[id, debits_pending, debits_posted, credits_pending,
  credits_posted]``
- ``pendings``: every touched pending transfer after the batch ``[transfer_id, state, expires_at, posted_amount]``
- ``failed``: ids that failed for good ``[kind, id, result]`` (a retry of them keeps failing)
- ``history``: balances kept over time ``[account_id, timestamp, dp, dpo, cp, cpo]``

Flags are lists of their names, sorted.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from fintech_zone.journal.model import Entry, trusted_leaf
from fintech_zone.ledger.model import Account, Outcome, Transfer

KIND = "ledger.batch"


# Rows are tuples of strings, ints and None (orjson writes them as arrays): the garbage collector stops tracking
# such tuples, where a batch's 16,000 lists kept it busy for half the leaf's time.
_FLAG_NAMES: dict[frozenset[Any], tuple[str, ...]] = {}


def _names(flags: frozenset[Any]) -> tuple[str, ...]:
    # A batch has thousands of transfers and a handful of distinct flag sets: sort each set once.
    names = _FLAG_NAMES.get(flags)
    if names is None:
        names = _FLAG_NAMES[flags] = tuple(sorted(flags))
    return names


def account_row(a: Account) -> tuple[Any, ...]:
    return (a.id, a.ledger, a.code, _names(a.flags), a.owner_id, a.timestamp)


def transfer_row(t: Transfer) -> tuple[Any, ...]:
    return (
        t.id, t.debit_account_id, t.credit_account_id, t.amount, t.requested_amount, t.ledger, t.code,
        _names(t.flags), t.pending_id, t.timeout, t.reference, t.user_data, t.timestamp,
    )  # fmt: skip


def balance_row(a: Account) -> tuple[Any, ...]:
    return (a.id, a.debits_pending, a.debits_posted, a.credits_pending, a.credits_posted)


def batch_entry(kind: str, outcomes: Sequence[Outcome]) -> Entry | None:
    """The leaf of a batch (its expiries and its events, in the order they were applied); None when the batch
    changed nothing (every event `exists`, say)."""
    balances: dict[str, Account] = {}
    pendings: dict[str, Any] = {}
    failed: dict[str, str] = {}
    new_accounts: list[Account] = []
    new_transfers: list[Transfer] = []
    history: list[Account] = []
    for o in outcomes:
        balances.update(o.accounts)
        pendings.update(o.pendings)
        failed.update(o.failed)
        new_accounts += o.new_accounts
        new_transfers += o.transfers
        history += o.history
    if not (balances or pendings or failed or new_accounts or new_transfers):
        return None
    data = trusted_leaf(
        KIND,
        accounts=[account_row(a) for a in new_accounts],
        transfers=[transfer_row(t) for t in new_transfers],
        balances=[balance_row(balances[i]) for i in sorted(balances)],
        pendings=[(p.transfer_id, p.state.value, p.expires_at, p.posted_amount) for _, p in sorted(pendings.items())],
        failed=[(kind, i, r) for i, r in sorted(failed.items())],
        history=[(a.id, a.timestamp, *balance_row(a)[1:]) for a in history],
    )
    first = new_transfers[0].timestamp if new_transfers else None
    last = new_transfers[-1].timestamp if new_transfers else None
    return Entry(KIND, data, first_timestamp=first, last_timestamp=last)
