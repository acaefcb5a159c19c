"""Quote rounding: explicit, always in the payer's disfavour, never by a whole minor unit (property tests)."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from fintech_zone.errors import InvalidInput
from fintech_zone.payments.model import quote_amounts

rates = st.decimals(min_value=Decimal("0.0001"), max_value=Decimal("10000"), places=6)
spreads = st.integers(min_value=0, max_value=500)
amounts = st.integers(min_value=1, max_value=10**12)
exponents = st.sampled_from([0, 2, 3])


@given(rates, spreads, amounts, exponents, exponents)
def test_from_a_source_amount_the_target_is_rounded_down_by_less_than_one_unit(
    mid: Decimal, spread: int, source: int, source_exp: int, target_exp: int
) -> None:
    customer = mid * (1 - Decimal(spread) / 10_000)
    exact = source * customer * Decimal(10) ** (target_exp - source_exp)
    try:
        got_source, target, fees = quote_amounts(customer, mid, source_exp, target_exp, source, None)
    except InvalidInput:
        assert exact < 1  # too small to buy one minor unit: refused, not rounded up to one
        return
    assert got_source == source
    assert target <= exact < target + 1
    assert fees >= 0


@given(rates, spreads, amounts, exponents, exponents)
def test_from_a_target_amount_the_source_is_rounded_up_by_less_than_one_unit(
    mid: Decimal, spread: int, target: int, source_exp: int, target_exp: int
) -> None:
    customer = mid * (1 - Decimal(spread) / 10_000)
    exact = target / (customer * Decimal(10) ** (target_exp - source_exp))
    try:
        source, got_target, _ = quote_amounts(customer, mid, source_exp, target_exp, None, target)
    except InvalidInput:
        assert exact > 2**63 - 1  # only amounts that do not fit in 64 bits are refused
        return
    assert got_target == target
    assert source - 1 < exact <= source


def test_exactly_one_side_is_given() -> None:
    for both in ((None, None), (100, 100)):
        with pytest.raises(InvalidInput):
            quote_amounts(Decimal("0.185"), Decimal("0.185"), 2, 2, *both)
