"""FX use cases: providers post rates, payers take quotes (BIS Nexus, Mojaloop). A quote is consumed by one
payment at most (``payment_service``)."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta

from fintech_zone.db import Database
from fintech_zone.errors import FieldError, Forbidden, InvalidInput, NotFound
from fintech_zone.payments import fx_store, store
from fintech_zone.payments.model import (
    MAX_RATE_SECONDS,
    QUOTE_SECONDS,
    Pair,
    ParticipantRole,
    Quote,
    Rate,
    parse_rate,
    quote_amounts,
)
from fintech_zone.payments.service import EXPONENT, Refused, now_utc


def post_rate(
    db: Database, actor_org: str | None, provider_id: str, pair: str, rate: str, spread_bps: int, valid_seconds: int
) -> Rate:
    """An FX provider posts (replaces) its rate for a pair; only the provider itself, or an operator
    (``actor_org`` None), may."""
    parsed_pair, parsed_rate = Pair.parse(pair), parse_rate(rate)
    errors = []
    if not 0 <= spread_bps < 10_000:
        errors.append(FieldError("spread_bps", "between 0 and 9,999 basis points", "range"))
    if not 1 <= valid_seconds <= MAX_RATE_SECONDS:
        errors.append(FieldError("valid_seconds", f"between 1 and {MAX_RATE_SECONDS} seconds", "range"))
    if errors:
        raise InvalidInput(errors)
    if actor_org is not None and actor_org != provider_id:
        raise Forbidden("an FX provider posts its own rates only")
    now = now_utc()
    posted = Rate(provider_id, parsed_pair, parsed_rate, spread_bps, now, now + timedelta(seconds=valid_seconds))
    with db.transaction() as conn:
        provider = store.get_participant(conn, provider_id)
        if provider is None:
            raise NotFound(f"no participant with id {provider_id!r}")
        if provider.role is not ParticipantRole.FX_PROVIDER:
            raise Refused("AG01", f"{provider_id!r} is not an FX provider")
        fx_store.upsert_rate(conn, posted)
    return posted


def list_rates(db: Database) -> list[Rate]:
    with db.read() as conn:
        return fx_store.list_rates(conn)


def create_quote(
    db: Database,
    source_asset: str,
    target_asset: str,
    source_amount: int | None,
    target_amount: int | None,
    now: datetime | None = None,
    demo: bool = False,
) -> Quote:
    """The best quote among the providers' valid rates: most target for a source amount, least source for a
    target amount. It holds for ``QUOTE_SECONDS`` and can be used by one payment. ``demo``: for a demo
    participant, from demo providers only (and real ones only for everyone else)."""
    pair = Pair.parse(f"{source_asset}/{target_asset}")
    at = now or now_utc()
    with db.transaction() as conn:
        offers = []
        found = fx_store.valid_rates(conn, [str(pair), f"{target_asset}/{source_asset}"], at)
        providers = store.participants_by_id(conn, [r.provider_id for r in found])
        for r in found:
            if providers[r.provider_id].demo != demo:
                continue
            customer, mid = r.customer_rate(source_asset, target_asset), r.mid(source_asset, target_asset)
            amounts = quote_amounts(
                customer, mid, EXPONENT[source_asset], EXPONENT[target_asset], source_amount, target_amount
            )
            offers.append((amounts, customer, r.provider_id))
        if not offers:
            raise NotFound(f"no FX provider has a valid {pair} rate now")
        # Best for the payer; ties go to the provider id first in order, so the choice is repeatable.
        best = max(offers, key=lambda o: o[0][1]) if source_amount is not None else min(offers, key=lambda o: o[0][0])
        (source, target, fees), customer, provider = best
        quote = Quote(
            str(uuid.uuid4()),
            provider,
            source_asset,
            target_asset,
            source,
            target,
            customer,
            fees,
            at,
            at + timedelta(seconds=QUOTE_SECONDS),
        )
        fx_store.insert_quote(conn, quote)
    return quote


def get_quote(db: Database, quote_id: str) -> Quote:
    with db.read() as conn:
        found = fx_store.get_quote(conn, quote_id) if len(quote_id) <= 36 else None
    if found is None:
        raise NotFound(f"no quote with id {quote_id!r}")
    return found
