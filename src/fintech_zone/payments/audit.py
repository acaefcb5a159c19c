"""The rails' side of the journal audit: payments, their decisions and issuance records against their leaves.

Each record's leaf is rebuilt from the database row (with the payment's salt for the party digests) and compared
byte for byte with the logged one; a difference is named by its field.
"""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import Connection

from fintech_zone.payments import audit_store
from fintech_zone.payments.journal_leaf import DECISION, ISSUANCE, decision_entry, issuance_entry, payment_state

Problem = tuple[int | None, str]


def _diff(what: str, mine: dict[str, Any], logged: dict[str, Any]) -> str:
    for name in sorted(set(mine) | set(logged)):
        if mine.get(name) != logged.get(name):
            if isinstance(mine.get(name), dict) and isinstance(logged.get(name), dict):
                return _diff(f"{what} {name}", mine[name], logged[name])
            return f"{what}: {name} is {mine.get(name)!r} in the database, {logged.get(name)!r} in the log"
    return f"{what} differs from the log"


class PaymentsAudit:
    def __init__(self) -> None:
        self.decisions: dict[tuple[str, int], tuple[int, dict[str, Any]]] = {}
        self.latest: dict[str, tuple[int, dict[str, Any]]] = {}
        self.issuances: dict[str, tuple[int, dict[str, Any]]] = {}

    def feed(self, index: int, leaf: dict[str, Any]) -> None:
        if leaf["kind"] == DECISION:
            self.decisions[(leaf["uetr"], leaf["seq"])] = (index, leaf)
            self.latest[leaf["uetr"]] = (index, leaf)
        elif leaf["kind"] == ISSUANCE:
            self.issuances[leaf["id"]] = (index, leaf)

    def compare(self, conn: Connection) -> list[Problem]:
        problems: list[Problem] = []
        payments: dict[str, Any] = {}
        for p, salt in audit_store.all_payments_with_salt(conn):
            payments[p.uetr] = (p, salt)
            logged = self.latest.get(p.uetr)
            if logged is None or salt is None:
                problems.append((None, f"payment {p.uetr} is in the database but in no leaf"))
                continue
            mine = payment_state(p, salt)
            if mine != logged[1]["payment"]:
                problems.append((logged[0], _diff(f"payment {p.uetr}", mine, logged[1]["payment"])))
        decisions = dict(self.decisions)
        for uetr, seq, d in audit_store.all_decisions(conn):
            found = decisions.pop((uetr, seq), None)
            p, salt = payments.get(uetr, (None, None))
            if found is None or p is None or salt is None:
                problems.append((None, f"decision {seq} of payment {uetr} is in the database but in no leaf"))
                continue
            rebuilt = json.loads(decision_entry(p, salt, seq, d).data)
            rebuilt.pop("payment")
            logged_decision = {k: v for k, v in found[1].items() if k != "payment"}
            if rebuilt != logged_decision:
                problems.append((found[0], _diff(f"decision {seq} of payment {uetr}", rebuilt, logged_decision)))
        problems += [
            (i, f"leaf records decision {k[1]} of payment {k[0]}, which the database does not hold")
            for k, (i, _) in decisions.items()
        ]
        issuances = dict(self.issuances)
        for r in audit_store.all_issuances(conn):
            found = issuances.pop(r.id, None)
            if found is None:
                problems.append((None, f"issuance record {r.id!r} is in the database but in no leaf"))
                continue
            mine = json.loads(issuance_entry(r.id, r.central_bank_id, r.bank_id, r.asset, r.kind, r.amount, r.at).data)
            if mine != found[1]:
                problems.append((found[0], _diff(f"issuance record {r.id!r}", mine, found[1])))
        problems += [
            (i, f"leaf records issuance {k!r}, which the database does not hold") for k, (i, _) in issuances.items()
        ]
        return problems
