"""Checks on free text typed by people. Pure.

PostgreSQL refuses NUL in text and SQLite would store it silently, so control characters are refused for every
backend alike, before they reach storage.
"""

from __future__ import annotations

import re

from fintech_zone.errors import FieldError

_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_CONTROL_EXCEPT_LINES = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def text_error(
    field_name: str, value: str, max_length: int | None = None, multiline: bool = False
) -> FieldError | None:
    """The first problem with a piece of typed text: control characters, or more than ``max_length``."""
    if (_CONTROL_EXCEPT_LINES if multiline else _CONTROL).search(value):
        return FieldError(field_name, "must not contain control characters", "control_characters")
    if max_length is not None and len(value) > max_length:
        return FieldError(field_name, f"must be at most {max_length} characters, got {len(value)}", "length")
    return None
