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


def check_token_request(role: Role, org_id: str | None) -> None:
    if role is Role.PARTICIPANT and not org_id:
        raise InvalidInput([FieldError("org", "a participant token must be bound to an organisation", "required")])
