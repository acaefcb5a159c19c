"""Transfer batches read off the wire (ledger/wire.py) come out exactly as ``TransferIn`` reads them: the same
events, or the same errors."""

from __future__ import annotations

import json
from typing import Any

import pytest
from fastapi.exceptions import RequestValidationError
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from fintech_zone.ledger import wire
from fintech_zone.ledger.model import Transfer, TransferFlag

JSON = "application/json"


def reference(data: Any) -> list[Transfer] | list[tuple[Any, ...]]:
    """What FastAPI made of the same document with a ``list[TransferIn]`` body: the events, or the errors."""
    try:
        return [m.to_model() for m in wire.BATCH.validate_python(data)]
    except ValidationError as exc:
        return [(("body", *e["loc"]), e["type"]) for e in exc.errors()]


def ours(data: Any) -> list[Transfer] | list[tuple[Any, ...]]:
    try:
        return wire.transfer_events(json.dumps(data).encode(), JSON)
    except RequestValidationError as exc:
        return [(tuple(e["loc"]), e["type"]) for e in exc.errors()]


def plain(i: int, **fields: Any) -> dict[str, Any]:
    event = {"id": f"t-{i}", "debit_account_id": "a", "credit_account_id": "b", "amount": 5, "ledger": "SGD"}
    return event | {"code": 1} | fields


STRINGS = st.one_of(
    st.text(max_size=70),
    st.sampled_from(["", " x", "x ", "\tx", "x\u3000", "x\x1f", "\x1fx", "\u00a0", "a" * 64, "a" * 65, "a" * 201]),
)
INTS = st.one_of(
    st.integers(-(2**65), 2**65),
    st.sampled_from([0, -1, 2**31 - 1, 2**31, -(2**31) - 1, 2**32, 2**32 + 1, 2**63 - 1, 2**63, 2**64, 2**64 + 1]),
)
VALUES = st.one_of(
    STRINGS, INTS, st.booleans(), st.none(), st.floats(allow_nan=False), st.lists(st.integers(), max_size=2)
)
FLAGS = st.one_of(
    st.lists(st.sampled_from([f.value for f in TransferFlag] + ["fast", " linked", "LINKED"]), max_size=8), VALUES
)
FIELD_VALUES = {
    "id": STRINGS | VALUES,
    "debit_account_id": STRINGS | VALUES,
    "credit_account_id": STRINGS | VALUES,
    "amount": INTS | VALUES,
    "ledger": STRINGS | VALUES,
    "code": INTS | VALUES,
    "flags": FLAGS,
    "pending_id": STRINGS | VALUES,
    "timeout": INTS | VALUES,
    "reference": STRINGS | VALUES,
    "user_data": INTS | VALUES,
    "colour": VALUES,  # not a field: refused
}
EVENTS = st.fixed_dictionaries({}, optional=FIELD_VALUES)


@settings(max_examples=400, deadline=None)
@given(st.lists(EVENTS, max_size=4))
def test_any_batch_reads_as_transfer_in_reads_it(events: list[dict[str, Any]]) -> None:
    assert ours(events) == reference(events)


@settings(max_examples=200, deadline=None)
@given(
    st.lists(st.one_of(EVENTS, VALUES, st.dictionaries(st.text(max_size=3), VALUES, max_size=2)), max_size=3) | VALUES
)
def test_any_document_reads_as_transfer_in_reads_it(document: Any) -> None:
    assert ours(document) == reference(document)


def test_plain_batches_take_the_fast_path_and_read_the_same() -> None:
    batch = [plain(i) for i in range(100)]
    batch += [plain(100, flags=["linked", "pending"], timeout=30, pending_id="", reference="r", user_data=7)]
    batch += [plain(101, flags=[], pending_id=None, reference=None)]
    events = wire.plain_events(batch)
    assert events is not None and events == reference(batch)
    assert (
        events[100].flags == frozenset({TransferFlag.LINKED, TransferFlag.PENDING}) and events[100].pending_id is None
    )


@pytest.mark.parametrize(
    "event",
    [
        plain(0, id=" t-0"),  # pydantic strips it: its answer, not ours
        plain(0, amount=True),
        plain(0, amount=1.0),
        plain(0, amount=2**64 + 1),
        plain(0, code=2**31),
        plain(0, flags=["fast"]),
        plain(0, flags="linked"),
        plain(0, colour="red"),
        {"debit_account_id": "a"},
        plain(0, ledger="x" * 17),
    ],
)
def test_anything_not_plain_is_left_to_transfer_in(event: dict[str, Any]) -> None:
    assert wire.plain_events([plain(1), event]) is None
    assert ours([plain(1), event]) == reference([plain(1), event])


def test_whitespace_is_stripped_as_transfer_in_strips_it() -> None:
    events = wire.transfer_events(json.dumps([plain(0, id=" t-0\t")]).encode(), JSON)
    assert [e.id for e in events] == ["t-0"]


def test_integers_past_64_bits_are_read_not_refused_as_malformed() -> None:
    # orjson cannot read them; the standard library can, so TransferIn answers (a range error), as it did before.
    assert ours([plain(0, amount=2**70)]) == [(("body", 0, "amount"), "less_than_equal")]


@pytest.mark.parametrize("body", [b"[{", b'[{"id": "t"}', b"\xff\xfe", b"[1,]", b"NaN-", b"[" * 100_000])
def test_malformed_json_is_json_invalid(body: bytes) -> None:
    with pytest.raises(RequestValidationError) as caught:
        wire.transfer_events(body, JSON)
    assert [e["type"] for e in caught.value.errors()] == ["json_invalid"]


def test_an_empty_body_is_missing() -> None:
    with pytest.raises(RequestValidationError) as caught:
        wire.transfer_events(b"", JSON)
    assert [(e["type"], e["loc"]) for e in caught.value.errors()] == [("missing", ("body",))]


@pytest.mark.parametrize("content_type", [None, JSON, "application/json; charset=utf-8", "application/merge+json"])
def test_json_content_types_are_read(content_type: str | None) -> None:
    assert len(wire.transfer_events(json.dumps([plain(0)]).encode(), content_type)) == 1


def test_another_content_type_is_not_read_as_json() -> None:
    with pytest.raises(RequestValidationError) as caught:
        wire.transfer_events(json.dumps([plain(0)]).encode(), "text/plain")
    assert [e["type"] for e in caught.value.errors()] == ["list_type"]
