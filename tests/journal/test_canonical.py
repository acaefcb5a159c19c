"""The canonical leaf encoding: one byte string per value, the same bytes json.dumps writes for these types
(the documented form), and a clear refusal of what has no canonical form."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from fintech_zone.journal.model import canonical, leaf, parse_leaf, trusted_leaf

# What leaves hold: strings (any text, control characters and CJK included), 64-bit integers, null, lists and
# objects with string keys.
values = st.recursive(
    st.none() | st.integers(min_value=-(2**63), max_value=2**63 - 1) | st.text(),
    lambda inner: st.lists(inner, max_size=5) | st.dictionaries(st.text(max_size=8), inner, max_size=5),
    max_leaves=20,
)


def _reference(value: Any) -> bytes:
    return json.dumps(value, ensure_ascii=False, sort_keys=True, separators=(",", ":")).encode()


@given(values)
def test_the_encoding_is_what_json_dumps_writes_and_reads_back_to_the_same_bytes(value: Any) -> None:
    try:
        expected = _reference(value)
    except UnicodeEncodeError:  # a lone surrogate: no UTF-8 form, refused by both
        with pytest.raises(ValueError):
            canonical(value)
        return
    assert canonical(value) == expected
    assert canonical(json.loads(expected)) == expected


def test_leaves_round_trip_and_anything_not_canonical_is_refused() -> None:
    data = leaf("payment.decision", uetr="u", amount=2**63 - 1, name="重庆", at=None)
    assert data == trusted_leaf("payment.decision", uetr="u", amount=2**63 - 1, name="重庆", at=None)
    assert parse_leaf(data)["name"] == "重庆"
    with pytest.raises(ValueError, match="canonical"):
        parse_leaf(b'{"v":1, "kind":"x"}')  # whitespace, keys out of order
    with pytest.raises(ValueError, match="not a journal leaf"):
        parse_leaf(b'{"kind":"x","v":2}')
    with pytest.raises(ValueError, match="UTF-8 JSON"):
        parse_leaf(b"\xff")


@pytest.mark.parametrize("bad", [1.5, True, {1: "x"}, object(), b"bytes"])
def test_values_without_a_canonical_form_are_refused(bad: Any) -> None:
    with pytest.raises(TypeError):
        canonical({"x": bad})
