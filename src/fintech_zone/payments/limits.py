"""Limits on payments, set by operators and regulators: per participant or per corridor, per payment and per day.

``payment_service`` applies them to every payment; here they are set and listed.
"""

from __future__ import annotations

from fintech_zone.db import Database
from fintech_zone.errors import FieldError, InvalidInput, NotFound
from fintech_zone.payments import limits_store, store
from fintech_zone.payments.model import SETTLEMENT_ASSETS, Limit, check_amount


def set_limit(db: Database, limit: Limit) -> Limit:
    errors = []
    if limit.scope not in ("participant", "corridor"):
        errors.append(FieldError("scope", "participant or corridor", "allowed_values"))
    if limit.asset not in SETTLEMENT_ASSETS:
        errors.append(FieldError("asset", f"one of {', '.join(SETTLEMENT_ASSETS)}", "asset"))
    if errors:
        raise InvalidInput(errors)
    for name, value in (("per_payment", limit.per_payment), ("daily", limit.daily)):
        if value is not None:
            check_amount(name, value)
    with db.transaction() as conn:
        if limit.scope == "participant" and not store.participants_by_id(conn, [limit.key]):
            raise NotFound(f"no participant with id {limit.key!r}")
        if limit.scope == "corridor" and not _is_corridor(limit.key):
            raise InvalidInput([FieldError("key", "a corridor like CN-SG (debtor agent's country - creditor's)")])
        limits_store.upsert_limit(conn, limit)
    return limit


def _is_corridor(key: str) -> bool:
    a, sep, b = key.partition("-")
    return bool(sep) and len(a) == 2 and len(b) == 2 and a.isalpha() and b.isalpha() and a.isupper() and b.isupper()


def list_limits(db: Database) -> list[Limit]:
    with db.read() as conn:
        return limits_store.list_limits(conn)
