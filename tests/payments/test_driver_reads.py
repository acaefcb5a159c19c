"""The rails' reads inside the writers' turn go straight to the driver (db.driver.Driver.select_typed): they must
return exactly what Core's selects return, types included (aware datetimes, booleans, NULLs), on both backends."""

from __future__ import annotations

from sqlalchemy import select

from fintech_zone.db.driver import Driver
from fintech_zone.payments import fx_store, limits_store, store
from fintech_zone.payments.fx_store import quotes
from fintech_zone.payments.store import decisions, limits, participants, payments
from tests.payments.conftest import Rails


def test_driver_rows_are_core_rows(rails: Rails) -> None:
    rails.quote("CNY", "SGD", source_amount=10_000)  # one unused quote: consumed_by NULL
    quote = rails.quote("CNY", "SGD", source_amount=20_000)
    paid = rails.post("/api/v1/payments", rails.payment(source_amount=20_000, quote_id=quote["id"]), "cq-bank")
    assert paid.status_code == 201 and paid.json()["status"] == "settled"
    limit = {"scope": "participant", "key": "cq-bank", "asset": "CNY", "per_payment": 500_000, "daily": None}
    assert rails.post("/api/v1/payments/limits", limit).status_code in (200, 201)
    with rails.db.read() as conn:
        for table in (payments, decisions, participants, quotes, limits):
            core = [tuple(r) for r in conn.execute(select(table))]
            with Driver(conn) as driver:
                ours = [tuple(r) for r in driver.select_typed(table, "1 = 1", ())]
            assert core and sorted(ours, key=repr) == sorted(core, key=repr), table.name
            assert _same_types(ours, core), table.name  # True == 1: the values alone would not show a lost bool
        # The store's readers built on it, against the rows above.
        payment = store.get_payment(conn, paid.json()["uetr"])
        assert payment is not None and [h.status.value for h in payment.history] == [
            h["status"] for h in paid.json()["history"]
        ]
        assert store.get_payment(conn, "no-such-uetr") is None
        assert set(store.participants_by_id(conn, ["cq-bank", "mas", "nobody"])) == {"cq-bank", "mas"}
        assert store.participants_by_id(conn, []) == {}
        got = fx_store.get_quote(conn, quote["id"])
        assert got is not None and got.consumed_by == paid.json()["uetr"] and got.expires_at.tzinfo is not None
        assert fx_store.get_quote(conn, "no-such-quote") is None
        assert [x.per_payment for x in limits_store.limits_for(conn, [("participant", "cq-bank")], "CNY")] == [500_000]


def _same_types(ours: list[tuple[object, ...]], core: list[tuple[object, ...]]) -> bool:
    """Row by row, each value of the same type (NULLs differ between rows, not between the two reads)."""
    by_key = {repr(r): r for r in core}
    return all([type(v) for v in r] == [type(v) for v in by_key[repr(r)]] for r in ours)
