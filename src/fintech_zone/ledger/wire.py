"""Transfer batches off the wire: a request body of up to 8,190 JSON events becomes ``Transfer`` events.

``schemas.TransferIn`` is the contract (and the OpenAPI document's); through pydantic and ``to_model`` it cost a
batch more than applying it (docs/benchmarks.md#ledger). Most batches are plain: every event a JSON object of known
fields whose values need no conversion. Those are read here directly. Anything else (a missing or unknown field, a
wrong type, a value out of range, a string pydantic would strip, a JSON document ``orjson`` cannot read) goes
through ``TransferIn`` itself, so its answer, a 422 or models, is exactly pydantic's. The tests hold the two paths
to the same result on generated bodies.
"""

from __future__ import annotations

import json
from email.message import Message
from typing import Any

import orjson
from annotated_types import Ge, Le, MaxLen
from fastapi.exceptions import RequestValidationError
from pydantic import TypeAdapter, ValidationError

from fintech_zone.ledger.model import Transfer, TransferFlag
from fintech_zone.ledger.schemas import TransferIn

BATCH = TypeAdapter(list[TransferIn])

_FLAGS = {f.value: f for f in TransferFlag}
_NO_FLAGS: frozenset[TransferFlag] = frozenset()
_FIELDS = frozenset(TransferIn.model_fields)
_BASIC = frozenset({"id", "debit_account_id", "credit_account_id", "amount", "ledger", "code"})


def _bound(field: str, kind: type[Any]) -> Any:
    """A constraint of a ``TransferIn`` field, read from the model so the two cannot drift apart."""
    attribute = {MaxLen: "max_length", Ge: "ge", Le: "le"}[kind]
    return next(getattr(m, attribute) for m in TransferIn.model_fields[field].metadata if isinstance(m, kind))


_LONGEST = {
    name: _bound(name, MaxLen)
    for name in ("id", "debit_account_id", "credit_account_id", "ledger", "pending_id", "reference")
}
_RANGES = {name: (_bound(name, Ge), _bound(name, Le)) for name in ("amount", "code", "timeout", "user_data")}
_MOST_FLAGS = _bound("flags", MaxLen)


def transfer_events(body: bytes, content_type: str | None) -> list[Transfer]:
    """The body's events, or ``RequestValidationError`` as FastAPI itself raises it for a ``list[TransferIn]``
    body: ``json_invalid`` (the error handler's 400) or the fields' errors (422)."""
    if not body:
        raise RequestValidationError([{"type": "missing", "loc": ("body",), "msg": "Field required", "input": None}])
    if not _is_json(content_type):
        return _validated(body)
    try:
        events = plain_events(orjson.loads(body))
    except orjson.JSONDecodeError:
        events = None
    if events is not None:
        return events
    # The standard library's reading, as FastAPI's: orjson reads an integer past 64 bits as a float, or not at all.
    try:
        data = json.loads(body)
    except (json.JSONDecodeError, UnicodeDecodeError, RecursionError) as exc:
        # RecursionError: arrays or objects nested past the interpreter's depth, refused like any unreadable body.
        position, message = (exc.pos, exc.msg) if isinstance(exc, json.JSONDecodeError) else (0, str(exc))
        error = {"type": "json_invalid", "loc": ("body", position), "msg": "JSON decode error", "input": {}}
        raise RequestValidationError([{**error, "ctx": {"error": message}}], body=body) from None
    return _validated(data)


def _validated(data: Any) -> list[Transfer]:
    try:
        models = BATCH.validate_python(data)
    except ValidationError as exc:
        raise RequestValidationError([{**e, "loc": ("body", *e["loc"])} for e in exc.errors()], body=data) from None
    return [m.to_model() for m in models]


def _is_json(content_type: str | None) -> bool:
    """FastAPI reads a body as JSON when it has no content type or a JSON one; any other body stays bytes."""
    if not content_type:
        return True
    message = Message()
    message["content-type"] = content_type
    subtype = message.get_content_subtype()
    return message.get_content_maintype() == "application" and (subtype == "json" or subtype.endswith("+json"))


def plain_events(data: Any) -> list[Transfer] | None:
    """The events when every one is plain (see the module's docstring), else None: ``TransferIn`` must decide."""
    if type(data) is not list:
        return None
    text, basic, fields = _text, _BASIC, _FIELDS
    id_max, account_max, ledger_max = _LONGEST["id"], _LONGEST["debit_account_id"], _LONGEST["ledger"]
    (amount_min, amount_max), (code_min, code_max) = _RANGES["amount"], _RANGES["code"]
    events: list[Transfer] = []
    append = events.append
    for e in data:
        if type(e) is not dict or "id" not in e:
            return None
        rest = not basic.issuperset(e)
        if rest and not (fields.issuperset(e) and _plain_rest(e)):
            return None
        event_id = e["id"]
        debit = e.get("debit_account_id", "")
        credit = e.get("credit_account_id", "")
        amount = e.get("amount", 0)
        ledger = e.get("ledger", "")
        code = e.get("code", 0)
        if not (
            text(event_id, id_max)
            and text(debit, account_max)
            and text(credit, account_max)
            and text(ledger, ledger_max)
            and type(amount) is int
            and amount_min <= amount <= amount_max
            and type(code) is int
            and code_min <= code <= code_max
        ):
            return None
        if not rest:
            append(Transfer(event_id, debit, credit, amount, ledger, code))
            continue
        names = e.get("flags")
        append(
            Transfer(
                event_id, debit, credit, amount, ledger, code,
                frozenset(_FLAGS[n] for n in names) if names else _NO_FLAGS, e.get("pending_id") or None,
                e.get("timeout", 0), e.get("reference"), e.get("user_data", 0),
            )
        )  # fmt: skip
    return events


def _text(value: object, longest: int) -> bool:
    # Pydantic strips leading and trailing whitespace (``str_strip_whitespace``); Python's idea of whitespace
    # includes every character Rust's does, so a string Python would not strip is taken as it is by both.
    return type(value) is str and len(value) <= longest and (not value or value == value.strip())


def _plain_rest(e: dict[str, Any]) -> bool:
    """The fields past the six a plain transfer needs: flags, pending_id, timeout, reference, user_data."""
    names = e.get("flags", [])
    if type(names) is not list or len(names) > _MOST_FLAGS or not all(type(n) is str and n in _FLAGS for n in names):
        return False
    for name in ("timeout", "user_data"):
        value = e.get(name, 0)
        low, high = _RANGES[name]
        if type(value) is not int or not low <= value <= high:
            return False
    for name in ("pending_id", "reference"):
        value = e.get(name)
        if value is not None and not _text(value, _LONGEST[name]):
            return False
    return True
