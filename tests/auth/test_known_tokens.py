"""Tokens a process has looked up are not read again until one is revoked anywhere (SQLite); PostgreSQL reads each."""

from __future__ import annotations

from pathlib import Path

import pytest

from fintech_zone.auth import known_tokens
from fintech_zone.auth import service as auth
from fintech_zone.auth import store as auth_store
from fintech_zone.auth.model import Principal, Role, hash_token
from fintech_zone.db import Database


@pytest.fixture
def reads(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    seen: list[str] = []
    find = auth_store.find_by_hash

    def counting(conn: object, token_hash: str) -> object:
        seen.append(token_hash)
        return find(conn, token_hash)  # type: ignore[arg-type]

    monkeypatch.setattr(auth_store, "find_by_hash", counting)
    return seen


def test_a_token_is_read_once_on_sqlite_and_every_time_on_postgresql(db: Database, reads: list[str]) -> None:
    token, info = auth.create_token(db, Role.VIEWER)
    principals = [auth.authenticate(db, token) for _ in range(3)]
    assert {p.token_id for p in principals if p is not None} == {info.id} and None not in principals
    assert len(reads) == (1 if db.dialect == "sqlite" else 3)
    assert auth.authenticate(db, token + "x") is None  # an unknown token is read, and refused, every time
    assert auth.authenticate(db, token + "x") is None
    assert len(reads) == (3 if db.dialect == "sqlite" else 5)


def test_a_revocation_by_another_process_is_seen_at_the_next_request(db_url: str, db: Database) -> None:
    token, info = auth.create_token(db, Role.OPERATOR)
    assert auth.authenticate(db, token) is not None
    other = Database.from_url(db_url)  # its own mapping of the mark, as another server process or the CLI has
    try:
        auth.revoke_token(other, info.id)
    finally:
        other.dispose()
    assert auth.authenticate(db, token) is None


def test_a_principal_read_before_a_revocation_is_not_kept(tmp_path: Path) -> None:
    path = str(tmp_path / "zone.db.revocations")
    known, elsewhere = known_tokens.KnownTokens(known_tokens.RevocationMark(path)), known_tokens.RevocationMark(path)
    principal = auth_principal()
    mark = known.current()  # a look-up reads the mark, then the database ...
    elsewhere.advance()  # ... while another process revokes ...
    known.keep("h", principal, mark)  # ... and what it read is not kept
    assert known.get("h") is None
    known.keep("h", principal, known.current())
    assert known.get("h") == principal
    elsewhere.advance()
    known.current()
    assert known.get("h") is None  # a revocation anywhere forgets every principal


def test_a_principal_is_read_again_after_keep_seconds(
    db: Database, reads: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    token, _ = auth.create_token(db, Role.VIEWER)
    clock = [1000.0]
    monkeypatch.setattr(known_tokens, "monotonic", lambda: clock[0])
    kept = db.dialect == "sqlite"
    assert auth.authenticate(db, token) is not None
    clock[0] += known_tokens.KEEP_SECONDS - 1
    assert auth.authenticate(db, token) is not None
    assert len(reads) == (1 if kept else 2)
    clock[0] += 2
    assert auth.authenticate(db, token) is not None
    assert len(reads) == (2 if kept else 3)


def test_at_most_max_known_principals_are_kept(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(known_tokens, "MAX_KNOWN", 3)
    known = known_tokens.KnownTokens(known_tokens.RevocationMark(str(tmp_path / "m")))
    mark = known.current()
    for i in range(4):
        known.keep(hash_token(f"t{i}"), auth_principal(), mark)
    assert len(known.known) == 1  # the fourth started afresh


def test_nothing_is_kept_without_a_database_file(tmp_path: Path) -> None:
    memory = Database.from_url("sqlite://")
    try:
        assert known_tokens.for_database(memory) is None
    finally:
        memory.dispose()
    on_disk = Database.from_url(f"sqlite:///{tmp_path / 'z.db'}")
    try:
        known = known_tokens.for_database(on_disk)
        assert known is not None and known_tokens.for_database(on_disk) is known
        assert Path(str(tmp_path / "z.db.revocations")).stat().st_size == known_tokens.MARK_SIZE
    finally:
        on_disk.dispose()


def auth_principal() -> Principal:
    return Principal(1, Role.VIEWER, None, "test")


def test_a_revocation_whose_mark_cannot_be_written_revokes_nothing(
    db_url: str, db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    from fintech_zone.errors import Conflict

    token, info = auth.create_token(db, Role.OPERATOR)
    assert auth.authenticate(db, token) is not None

    def unwritable(self: known_tokens.RevocationMark, path: str) -> None:
        raise PermissionError(13, "Permission denied", path)

    monkeypatch.setattr(known_tokens.RevocationMark, "__init__", unwritable)
    other = Database.from_url(db_url)  # a process that cannot open the mark (another user, a read-only directory)
    try:
        if db.dialect == "sqlite":
            with pytest.raises(Conflict, match="revocations"):
                auth.revoke_token(other, info.id)
            assert auth.authenticate(db, token) is not None  # nothing revoked, so nothing for servers to miss
        else:  # PostgreSQL needs no mark: every request reads its token
            auth.revoke_token(other, info.id)
            assert auth.authenticate(db, token) is None
    finally:
        other.dispose()
