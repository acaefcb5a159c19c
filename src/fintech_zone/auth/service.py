"""Token use cases: create (the plaintext is returned once and never stored), authenticate, list, revoke."""

from __future__ import annotations

import secrets
from datetime import UTC, datetime

from fintech_zone.auth import known_tokens, store
from fintech_zone.auth.model import TOKEN_PREFIX, Principal, Role, TokenInfo, check_token_request, hash_token
from fintech_zone.db import Database
from fintech_zone.errors import Conflict, NotFound
from fintech_zone.registry import service as registry


def create_token(db: Database, role: Role, org_id: str | None = None, name: str | None = None) -> tuple[str, TokenInfo]:
    check_token_request(role, org_id, name)
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    with db.transaction() as conn:
        if org_id is not None:
            registry.require_organisations_in(conn, [org_id], "org")
        token_id = store.insert_token(conn, hash_token(token), role, org_id, name, datetime.now(UTC))
        info = store.get(conn, token_id)
    assert info is not None
    return token, info


def authenticate(db: Database, token: str) -> Principal | None:
    if not token.startswith(TOKEN_PREFIX) or len(token) > 200:
        return None
    token_hash = hash_token(token)
    known = known_tokens.for_database(db)
    if known is not None:
        mark = known.current()  # before the read (known_tokens)
        if (principal := known.get(token_hash)) is not None:
            return principal
    with db.single_read() as conn:  # one statement: no transaction's round trips on every request
        info = store.find_by_hash(conn, token_hash)
    if info is None or info.revoked_at is not None:
        return None
    principal = Principal(info.id, info.role, info.org_id, info.name)
    if known is not None:
        known.keep(token_hash, principal, mark)
    return principal


def principal_for(db: Database, token_id: int) -> Principal | None:
    """The principal behind a session cookie, re-checked on every request so revocation takes effect at once."""
    with db.single_read() as conn:
        info = store.get(conn, token_id)
    if info is None or info.revoked_at is not None:
        return None
    return Principal(info.id, info.role, info.org_id, info.name)


def list_tokens(db: Database) -> list[TokenInfo]:
    with db.read() as conn:
        return store.list_tokens(conn)


def revoke_token(db: Database, token_id: int) -> None:
    """Revoke; every process serving the database refuses the token from its next request (known_tokens)."""
    known = known_tokens.for_database(db)
    if known is None and (path := db.beside_file(".revocations")) is not None:
        # Servers keep the tokens they know until this file's mark moves: a revocation they cannot learn of would
        # go on working there for up to a minute.
        raise Conflict(f"cannot write {path}, through which running servers learn of revocations: nothing revoked")
    if known is not None:
        known.mark.advance()  # before the commit too, so a look-up racing it keeps nothing (known_tokens)
    with db.transaction() as conn:
        if not store.revoke(conn, token_id, datetime.now(UTC)):
            raise NotFound(f"no active token with id {token_id}")
    if known is not None:
        known.mark.advance()
