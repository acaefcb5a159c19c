"""The working state of one batch in the engine: the book it changes, an undo log so that a failed linked chain
leaves no trace, and the memory of failed ids. Pure.

A chain is the events joined by ``linked`` up to the first without it; ``run_chains`` applies a batch chain by
chain, with one result per event.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import replace

from fintech_zone.ledger.model import ID_PATTERN, Account, AccountFlag, Book, Outcome, Pending, Transfer

CREATED = "created"
EXISTS = "exists"
LINKED_EVENT_FAILED = "linked_event_failed"
LINKED_EVENT_CHAIN_OPEN = "linked_event_chain_open"
# Results that say nothing new about the id, so they are not remembered as its failure.
NOT_REMEMBERED = frozenset({CREATED, EXISTS, "id_invalid", "id_already_failed"})

A = AccountFlag


class Batch:
    """Working state of one batch: the book plus an undo log, so a failed linked chain leaves no trace."""

    def __init__(self, book: Book, now: int) -> None:
        self.in_chain = False
        self.ids_valid = False  # every event's id known to be valid (then none is checked again)
        self.book = book
        self.clock = max(now, book.last_timestamp)
        self._undo: list[tuple[dict[str, object], str, object | None]] = []
        # Insertion-ordered, so a rollback can forget what a failed chain touched first.
        self.touched_accounts: dict[str, None] = {}
        self.touched_pendings: dict[str, None] = {}
        self.failed: dict[str, str] = {}
        self.history: list[Account] = []
        self.new_accounts: list[Account] = []
        self.new_transfers: list[Transfer] = []

    def tick(self) -> int:
        self.clock += 1
        self.book.last_timestamp = self.clock
        return self.clock

    def _remember(self, table: dict[str, object], key: str) -> None:
        self._undo.append((table, key, table.get(key)))

    def change_account(self, account: Account) -> Account:
        """The account for this event to change. Inside a linked chain it is a private copy (the book's old object
        stays for undo); a lone event checks everything before it changes anything, so it needs no undo."""
        self.touched_accounts.setdefault(account.id)
        if not self.in_chain:
            return account
        self._remember(self.book.accounts, account.id)  # type: ignore[arg-type]
        copy = account.copy()
        self.book.accounts[account.id] = copy
        return copy

    def put_pending(self, pending: Pending) -> None:
        self._remember(self.book.pendings, pending.transfer_id)  # type: ignore[arg-type]
        self.book.pendings[pending.transfer_id] = pending
        self.touched_pendings.setdefault(pending.transfer_id)

    def add_transfer(self, transfer: Transfer) -> None:
        if self.in_chain:  # a lone event is decided before it changes anything: nothing to undo
            self._remember(self.book.transfers, transfer.id)  # type: ignore[arg-type]
        self.book.transfers[transfer.id] = transfer
        self.new_transfers.append(transfer)

    def add_account(self, account: Account) -> None:
        self._remember(self.book.accounts, account.id)  # type: ignore[arg-type]
        self.book.accounts[account.id] = account
        self.new_accounts.append(account)

    def snapshot(self, timestamp: int, *accounts: Account) -> None:
        """Balances of `history` accounts after a change; ``timestamp`` is the change's (an account's own
        timestamp stays its creation time)."""
        self.history.extend(replace(a, timestamp=timestamp) for a in accounts if a.flags and A.HISTORY in a.flags)

    def savepoint(self) -> tuple[int, ...]:
        return (
            len(self._undo),
            len(self.history),
            len(self.new_accounts),
            len(self.new_transfers),
            len(self.touched_accounts),
            len(self.touched_pendings),
        )

    def rollback_to(self, mark: tuple[int, ...]) -> None:
        undo, history, accounts, transfers, touched_accounts, touched_pendings = mark
        while len(self._undo) > undo:
            table, key, old = self._undo.pop()
            if old is None:
                table.pop(key, None)
            else:
                table[key] = old
        del self.history[history:], self.new_accounts[accounts:], self.new_transfers[transfers:]
        for touched, keep in ((self.touched_accounts, touched_accounts), (self.touched_pendings, touched_pendings)):
            for key in list(touched)[keep:]:
                del touched[key]

    def remember_failures(self, ids: Sequence[str], results: Sequence[str], table: dict[str, object]) -> None:
        """Remember each id that failed for the first time, as soon as its chain is decided, so that a later event
        of the same batch with that id answers ``id_already_failed`` too. ``table`` holds the ids that exist (an
        existing id is never remembered as failed)."""
        for event_id, result in zip(ids, results, strict=True):
            if event_id in table or event_id in self.book.failed or not ID_PATTERN.match(event_id):
                continue
            if result not in NOT_REMEMBERED and not result.startswith("exists_with_different_"):
                self.failed[event_id] = self.book.failed[event_id] = result

    def outcome(self, results: list[str]) -> Outcome:
        """What changed."""
        new_ids = {a.id for a in self.new_accounts}
        return Outcome(
            results=results,
            accounts={i: self.book.accounts[i] for i in self.touched_accounts if i not in new_ids},
            new_accounts=list(self.new_accounts),
            transfers=list(self.new_transfers),
            pendings={i: self.book.pendings[i] for i in self.touched_pendings},
            failed=dict(self.failed),
            history=list(self.history),
        )


def run_chains(
    batch: Batch,
    ids: Sequence[str],
    linked: Sequence[bool],
    apply_one: Callable[[int], str],
    table: dict[str, object],
) -> list[str]:
    """Apply events chain by chain; a chain is events joined by ``linked`` up to the first unlinked one."""
    results = [""] * len(linked)
    if not any(linked):  # every event alone (most batches): the loop below without its chain bookkeeping
        for i in range(len(linked)):
            result = results[i] = apply_one(i)
            if result != CREATED:
                batch.remember_failures(ids[i : i + 1], results[i : i + 1], table)
        return results
    start = 0
    while start < len(linked):
        end = start
        while end < len(linked) - 1 and linked[end]:
            end += 1
        closed = not linked[end]
        end += 1
        if closed and end - start == 1:  # a lone event: no chain to undo
            result = results[start] = apply_one(start)
            if result != CREATED:
                batch.remember_failures(ids[start:end], results[start:end], table)
            start = end
            continue
        if not closed:  # the batch ended inside a chain: nothing of it may apply
            results[start:end] = [LINKED_EVENT_CHAIN_OPEN] * (end - start)
            batch.remember_failures(ids[start:end], results[start:end], table)
            start = end
            continue
        mark = batch.savepoint()
        batch.in_chain = True
        for i in range(start, end):
            results[i] = apply_one(i)
            # Re-sending a chain that already succeeded answers `exists` for each event and changes nothing.
            if results[i] not in (CREATED, EXISTS):
                batch.rollback_to(mark)
                for j in range(start, end):
                    if j != i:
                        results[j] = LINKED_EVENT_FAILED
                break
        batch.in_chain = False
        batch.remember_failures(ids[start:end], results[start:end], table)
        start = end
    return results
