"""Roles and the principal a request acts as. Pure."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from fintech_zone.errors import FieldError, InvalidInput


class Role(StrEnum):
    OPERATOR = "operator"
    REGULATOR = "regulator"
    PARTICIPANT = "participant"
    VIEWER = "viewer"


TOKEN_PREFIX = "fz_"


@dataclass(frozen=True)
class Principal:
    token_id: int
    role: Role
    org_id: str | None
    name: str | None


@dataclass(frozen=True)
class TokenInfo:
    id: int
    role: Role
    org_id: str | None
    name: str | None
    created_at: datetime
    revoked_at: datetime | None


def hash_token(token: str) -> str:
    """Tokens are 256 random bits, so a plain SHA-256 is enough: there is nothing to brute-force."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


TOKEN_NAME_MAX = 200  # the width of the name column


def check_token_request(role: Role, org_id: str | None, name: str | None = None) -> None:
    errors: list[FieldError] = []
    if role is Role.PARTICIPANT and not org_id:
        errors.append(FieldError("org", "a participant token must be bound to an organisation", "required"))
    if name is not None and len(name) > TOKEN_NAME_MAX:
        message = f"must be at most {TOKEN_NAME_MAX} characters, got {len(name)}"
        errors.append(FieldError("name", message, "length"))
    if errors:
        raise InvalidInput(errors)
