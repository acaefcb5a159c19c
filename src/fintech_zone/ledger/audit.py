"""The ledger's side of the journal audit: every ledger row against the leaves that recorded it.

Fed the ``ledger.batch`` leaves in log order, it keeps what the log says each row must be (a created account or
transfer once; balances, pending states and history as of the last leaf that touched them), then reads every row
of the ledger's tables and names each difference with the leaf it contradicts: a row the log does not have, a
leaf whose row is gone, a field that changed.
"""

from __future__ import annotations

import operator
from typing import Any

import orjson
from sqlalchemy import Connection

from fintech_zone.ledger import store
from fintech_zone.ledger.journal_leaf import account_row, balance_row, transfer_row

ACCOUNT_FIELDS = ("id", "ledger", "code", "flags", "owner_id", "timestamp")
TRANSFER_FIELDS = (
    "id", "debit_account_id", "credit_account_id", "amount", "requested_amount", "ledger", "code", "flags",
    "pending_id", "timeout", "reference", "user_data", "timestamp",
)  # fmt: skip
BALANCE_FIELDS = ("id", "debits_pending", "debits_posted", "credits_pending", "credits_posted")
PENDING_FIELDS = ("transfer_id", "state", "expires_at", "posted_amount")
HISTORY_FIELDS = ("account_id", "timestamp", "debits_pending", "debits_posted", "credits_pending", "credits_posted")

FAILED_FIELDS = ("kind", "id", "result")

Problem = tuple[int | None, str]


def _as_logged(row: tuple[Any, ...]) -> list[Any]:
    """A row as the log reads back: JSON arrays all the way down (the builders write tuples)."""
    logged: list[Any] = orjson.loads(orjson.dumps(row))
    return logged


def _pair(row: Any) -> tuple[Any, Any]:
    return row[0], row[1]


def _diff(what: str, fields: tuple[str, ...], db_row: list[Any], logged: list[Any]) -> str:
    for name, mine, theirs in zip(fields, db_row, logged, strict=True):
        if mine != theirs:
            return f"{what} {name} is {mine!r} in the database, {theirs!r} in the log"
    return f"{what} differs from the log"


class LedgerAudit:
    def __init__(self) -> None:
        self.accounts: dict[str, tuple[int, list[Any]]] = {}
        self.transfers: dict[str, tuple[int, list[Any]]] = {}
        self.balances: dict[str, tuple[int, list[Any]]] = {}
        self.pendings: dict[str, tuple[int, list[Any]]] = {}
        self.failed: dict[tuple[str, str], tuple[int, list[Any]]] = {}
        self.history: dict[tuple[str, int], tuple[int, list[Any]]] = {}

    def feed(self, index: int, leaf: dict[str, Any]) -> None:
        for row in leaf["accounts"]:
            self.accounts[row[0]] = (index, row)
        for row in leaf["transfers"]:
            self.transfers[row[0]] = (index, row)
        for row in leaf["balances"]:
            self.balances[row[0]] = (index, row)
        for row in leaf["pendings"]:
            self.pendings[row[0]] = (index, row)
        for row in leaf["failed"]:
            self.failed[(row[0], row[1])] = (index, row)
        for row in leaf["history"]:
            self.history[(row[0], row[1])] = (index, row)

    def compare(self, conn: Connection) -> list[Problem]:
        problems: list[Problem] = []
        accounts, transfers = dict(self.accounts), dict(self.transfers)
        for a in store.all_accounts(conn):
            logged = accounts.pop(a.id, None)
            if logged is None:
                problems.append((None, f"account {a.id!r} is in the database but in no leaf"))
                continue
            mine = _as_logged(account_row(a))
            if mine != logged[1]:
                problems.append((logged[0], _diff(f"account {a.id!r}", ACCOUNT_FIELDS, mine, logged[1])))
            balance = _as_logged(balance_row(a))
            last = self.balances.get(a.id, (logged[0], [a.id, 0, 0, 0, 0]))
            if balance != last[1]:
                problems.append((last[0], _diff(f"account {a.id!r}", BALANCE_FIELDS, balance, last[1])))
        problems += [
            (i, f"leaf creates account {k!r}, which the database does not hold") for k, (i, _) in accounts.items()
        ]
        for t in store.all_transfers(conn):
            logged = transfers.pop(t.id, None)
            if logged is None:
                problems.append((None, f"transfer {t.id!r} is in the database but in no leaf"))
            elif (mine := _as_logged(transfer_row(t))) != logged[1]:
                problems.append((logged[0], _diff(f"transfer {t.id!r}", TRANSFER_FIELDS, mine, logged[1])))
        problems += [
            (i, f"leaf creates transfer {k!r}, which the database does not hold") for k, (i, _) in transfers.items()
        ]
        problems += self._rows("pending transfer", PENDING_FIELDS, self.pendings, store.all_pendings(conn))
        problems += self._rows("balance history", HISTORY_FIELDS, self.history, store.all_history(conn), _pair)
        problems += self._rows("failed id", FAILED_FIELDS, self.failed, store.all_failed(conn), _pair)
        return problems

    @staticmethod
    def _rows(
        what: str,
        fields: tuple[str, ...],
        logged: dict[Any, tuple[int, list[Any]]],
        rows: Any,
        key: Any = operator.itemgetter(0),
    ) -> list[Problem]:
        problems: list[Problem] = []
        left = dict(logged)
        for row in rows:
            mine = list(row)
            found = left.pop(key(row), None)
            if found is None:
                problems.append((None, f"{what} {key(row)!r} is in the database but in no leaf"))
            elif mine != found[1]:
                problems.append((found[0], _diff(f"{what} {key(row)!r}", fields, mine, found[1])))
        problems += [(i, f"leaf records {what} {k!r}, which the database does not hold") for k, (i, _) in left.items()]
        return problems
