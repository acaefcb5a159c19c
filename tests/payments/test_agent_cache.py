"""The payment path's participants in memory: read once, without the cap that changes; unknown ids not remembered."""

from __future__ import annotations

from collections.abc import Callable

from fintech_zone.payments import agent_cache, store
from tests.payments.conftest import Rails


def test_agents_are_read_once_and_kept_without_their_caps(make_rails: Callable[..., Rails]) -> None:
    rails = make_rails()  # funded: the central banks have set the banks' caps
    with rails.db.read() as conn:
        first = agent_cache.participants(conn, ["cq-bank", "lion-fx", "nobody"])
        assert store.get_participant(conn, "cq-bank").issuance_cap == 50_000_000  # type: ignore[union-attr]
    assert set(first) == {"cq-bank", "lion-fx"}
    assert first["cq-bank"].issuance_cap is None and first["cq-bank"].jurisdiction == "CN"
    # Kept: asked again through a connection that is closed (any statement would fail), it answers from memory.
    assert agent_cache.participants(conn, ["cq-bank"]) == {"cq-bank": first["cq-bank"]}


def test_a_participant_that_joins_later_is_found(make_rails: Callable[..., Rails]) -> None:
    rails = make_rails(fund=False)
    with rails.db.read() as conn:
        assert agent_cache.participants(conn, ["late-bank"]) == {}
    body = {"id": "late-bank", "bic": "LATECNCQXXX", "role": "bank", "jurisdiction": "CN"}
    r = rails.post("/api/v1/payments/participants", {**body, "name_en": "Late Bank", "name_zh": "迟到银行"})
    assert r.status_code == 201, r.text
    with rails.db.read() as conn:
        assert agent_cache.participants(conn, ["late-bank"])["late-bank"].bic == "LATECNCQXXX"
