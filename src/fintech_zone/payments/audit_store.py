"""What the journal's auditor reads of the rails: every payment (with its journal salt), decision and issuance
record. The tables are ``store``'s."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from sqlalchemy import Connection, select

from fintech_zone.payments.model import Decision, Payment
from fintech_zone.payments.store import decision_of, decisions, issuances, payment_of, payments


def all_payments_with_salt(conn: Connection) -> Iterator[tuple[Payment, str | None]]:
    for r in conn.execute(select(payments)):
        yield payment_of(r, []), r.journal_salt


def all_decisions(conn: Connection) -> Iterator[tuple[str, int, Decision]]:
    for d in conn.execute(select(decisions)):
        yield d.uetr, d.seq, decision_of(d)


def all_issuances(conn: Connection) -> list[Any]:
    return list(conn.execute(select(issuances)))
