"""Bearer tokens, roles, revocation, the ``token`` CLI and the web session, on SQLite and PostgreSQL."""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from fintech_zone.auth import service as auth
from fintech_zone.auth import store as auth_store
from fintech_zone.auth.model import Role
from fintech_zone.db import Database
from fintech_zone.registry import service as registry
from fintech_zone.registry import store as registry_store
from fintech_zone.registry.model import NewOrganisation

ORGS = "/api/v1/registry/organisations"
PROBLEM = "application/problem+json"
FZ = Path(sys.executable).parent / "fintech-zone"
NEW_ORG = {
    "id": "sg-a",
    "kind": "enterprise",
    "jurisdiction": "SG",
    "name_en": "A",
    "name_zh": "甲",
    "sector": "payments",
}


def assert_problem(r: Any, status: int, slug: str) -> dict[str, Any]:
    assert r.status_code == status, r.text
    assert r.headers["content-type"] == PROBLEM
    body: dict[str, Any] = r.json()
    assert (body["status"], body["type"]) == (status, f"/problems/{slug}")
    return body


def org_count(db: Database) -> int:
    with db.read() as conn:
        return int(conn.scalar(select(func.count()).select_from(registry_store.organisations)) or 0)


def token_rows(db: Database) -> list[Any]:
    with db.read() as conn:
        return list(conn.execute(select(auth_store.api_tokens).order_by(auth_store.api_tokens.c.id)))


def add_org(db: Database, org_id: str = "sg-bank") -> None:
    registry.create_organisation(db, NewOrganisation(org_id, "financial_institution", "SG", "Bank", "银行", "payments"))


# --- bearer tokens on the API -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("headers", "challenge"),
    [
        ({}, "Bearer"),
        ({"Authorization": ""}, "Bearer"),
        ({"Authorization": "Basic dXNlcjpwYXNz"}, 'Bearer error="invalid_request"'),
        ({"Authorization": "Bearer "}, 'Bearer error="invalid_request"'),
        ({"Authorization": "Bearer fz_not-a-real-token"}, 'Bearer error="invalid_token"'),
        ({"Authorization": "Bearer not-even-the-prefix"}, 'Bearer error="invalid_token"'),
        ({"Authorization": "Bearer fz_" + "x" * 500}, 'Bearer error="invalid_token"'),
    ],
    ids=["missing", "empty", "basic", "bearer-no-token", "unknown", "no-prefix", "too-long"],
)
def test_missing_or_bad_token_gives_401_with_a_challenge(
    client: TestClient, db: Database, headers: dict[str, str], challenge: str
) -> None:
    for method, url, body in [("GET", ORGS, None), ("POST", ORGS, NEW_ORG), ("GET", f"{ORGS}/sg-a", None)]:
        r = client.request(method, url, json=body, headers=headers)
        assert_problem(r, 401, "unauthorized")
        assert r.headers["www-authenticate"] == challenge
    assert org_count(db) == 0


def test_scheme_name_is_case_insensitive(client: TestClient, db: Database) -> None:
    token, _ = auth.create_token(db, Role.VIEWER)
    assert client.get(ORGS, headers={"Authorization": f"bearer {token}"}).status_code == 200


@pytest.mark.parametrize("role", [Role.VIEWER, Role.REGULATOR, Role.PARTICIPANT])
def test_non_operators_read_but_cannot_write(client: TestClient, db: Database, role: Role) -> None:
    add_org(db)
    token, _ = auth.create_token(db, role, "sg-bank" if role is Role.PARTICIPANT else None)
    headers = {"Authorization": f"Bearer {token}"}
    assert client.get(ORGS, headers=headers).status_code == 200
    assert client.get(f"{ORGS}/sg-bank", headers=headers).status_code == 200
    writes: list[tuple[str, str, dict[str, Any]]] = [
        ("POST", ORGS, {"json": NEW_ORG}),
        ("POST", f"{ORGS}/sg-bank/status", {"json": {"status": "settled"}}),
        (
            "POST",
            "/api/v1/registry/agreements",
            {"json": {"id": "ag", "type": "t", "title_en": "t", "title_zh": "t", "parties": ["sg-bank"]}},
        ),
        (
            "POST",
            "/api/v1/registry/imports",
            {
                "content": b"id,kind,jurisdiction,name_en,name_zh,sector\n",
                "headers": {**headers, "content-type": "text/csv"},
            },
        ),
    ]
    for method, url, kwargs in writes:
        kwargs.setdefault("headers", headers)
        body = assert_problem(client.request(method, url, **kwargs), 403, "forbidden")
        assert "operator" in body["detail"] and role.value in body["detail"]
    assert org_count(db) == 1
    assert registry.get_organisation(db, "sg-bank").status == "prospect"


def test_operator_can_write(client: TestClient, operator: dict[str, str], db: Database) -> None:
    assert client.post(ORGS, json=NEW_ORG, headers=operator).status_code == 201
    assert org_count(db) == 1


def test_revoked_token_gives_401_at_once(client: TestClient, db: Database) -> None:
    token, info = auth.create_token(db, Role.OPERATOR)
    headers = {"Authorization": f"Bearer {token}"}
    assert client.get(ORGS, headers=headers).status_code == 200
    auth.revoke_token(db, info.id)
    r = client.post(ORGS, json=NEW_ORG, headers=headers)
    assert_problem(r, 401, "unauthorized")
    assert r.headers["www-authenticate"] == 'Bearer error="invalid_token"'
    assert_problem(client.get(ORGS, headers=headers), 401, "unauthorized")
    assert org_count(db) == 0


def test_revoking_twice_or_an_unknown_token_is_not_found(db: Database) -> None:
    from fintech_zone.errors import NotFound

    _, info = auth.create_token(db, Role.VIEWER)
    auth.revoke_token(db, info.id)
    with pytest.raises(NotFound):
        auth.revoke_token(db, info.id)
    with pytest.raises(NotFound):
        auth.revoke_token(db, 999_999)


def test_only_the_hash_is_stored(db: Database) -> None:
    token, _ = auth.create_token(db, Role.OPERATOR, name="ops")
    [row] = token_rows(db)
    assert row.token_hash == hashlib.sha256(token.encode()).hexdigest()
    assert all(token not in str(value) for value in row)
    assert auth.authenticate(db, token) is not None
    assert auth.authenticate(db, row.token_hash) is None  # the stored hash is not itself a credential


def test_participant_tokens_need_a_known_organisation(db: Database) -> None:
    from fintech_zone.errors import InvalidInput

    with pytest.raises(InvalidInput) as exc:
        auth.create_token(db, Role.PARTICIPANT)
    assert [e.field for e in exc.value.errors] == ["org"]
    with pytest.raises(InvalidInput) as exc:
        auth.create_token(db, Role.PARTICIPANT, "nobody")
    assert [(e.field, e.check) for e in exc.value.errors] == [("org", "unknown_reference")]
    add_org(db)
    _, info = auth.create_token(db, Role.PARTICIPANT, "sg-bank")
    assert info.org_id == "sg-bank"
    assert [r.org_id for r in token_rows(db)] == ["sg-bank"]


# --- the token CLI ------------------------------------------------------------------------------------------


def run_cli(db_url: str, cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "FZ_DATABASE_URL": db_url}
    return subprocess.run([str(FZ), *args], capture_output=True, text=True, env=env, cwd=cwd, timeout=120)


def test_cli_token_create_prints_the_token_alone_and_stores_only_its_hash(
    db_url: str, db: Database, client: TestClient, tmp_path: Path
) -> None:
    add_org(db)
    result = run_cli(
        db_url,
        tmp_path,
        "token",
        "create",
        "--role",
        "participant",
        "--org",
        "sg-bank",
        "--name",
        "bank robot",
    )
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert len(lines) == 1 and result.stdout == lines[0] + "\n"
    token = lines[0]
    assert token.startswith("fz_") and len(token) > 40 and token.strip() == token
    assert token not in result.stderr
    [row] = token_rows(db)
    assert (row.role, row.org_id, row.name) == ("participant", "sg-bank", "bank robot")
    assert row.token_hash == hashlib.sha256(token.encode()).hexdigest()
    assert all(token not in str(value) for value in row)
    # The printed token works on the API.
    assert client.get(ORGS, headers={"Authorization": f"Bearer {token}"}).status_code == 200
    # Listing never shows it.
    listed = run_cli(db_url, tmp_path, "token", "list", "--json")
    assert listed.returncode == 0
    assert token not in listed.stdout and row.token_hash not in listed.stdout
    assert "bank robot" in listed.stdout


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--role", "participant"], "participant token must be bound to an organisation"),
        (["--role", "participant", "--org", "nobody"], "unknown organisation 'nobody'"),
        (["--role", "viewer", "--name", "n" * 201], "at most 200 characters"),
    ],
    ids=["participant-without-org", "unknown-org", "name-too-long"],
)
def test_cli_token_create_refusals_exit_2_without_a_traceback(
    db_url: str, db: Database, tmp_path: Path, args: list[str], message: str
) -> None:
    result = run_cli(db_url, tmp_path, "token", "create", *args)
    assert result.returncode == 2
    assert message in result.stderr
    assert "Traceback" not in result.stderr
    assert result.stdout == ""
    assert token_rows(db) == []


def test_cli_unknown_role_exits_2(db_url: str, db: Database, tmp_path: Path) -> None:
    result = run_cli(db_url, tmp_path, "token", "create", "--role", "admin")
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    assert result.stdout == ""
    assert token_rows(db) == []


def test_cli_revoke(db_url: str, db: Database, client: TestClient, tmp_path: Path) -> None:
    token, info = auth.create_token(db, Role.VIEWER)
    headers = {"Authorization": f"Bearer {token}"}
    assert client.get(ORGS, headers=headers).status_code == 200  # this process now knows the token
    result = run_cli(db_url, tmp_path, "token", "revoke", str(info.id))
    assert result.returncode == 0, result.stderr
    assert_problem(client.get(ORGS, headers=headers), 401, "unauthorized")  # revoked by another process: at once
    again = run_cli(db_url, tmp_path, "token", "revoke", str(info.id))
    assert again.returncode == 2
    assert "no active token" in again.stderr and "Traceback" not in again.stderr


# --- the web session ----------------------------------------------------------------------------------------


def set_cookie_attributes(r: Any) -> tuple[str, set[str]]:
    [header] = [v for k, v in r.headers.multi_items() if k == "set-cookie"]
    first, *attrs = [p.strip() for p in header.split(";")]
    return first, {a.lower() for a in attrs}


def test_login_sets_an_httponly_samesite_lax_session_cookie(client: TestClient, db: Database) -> None:
    token, _ = auth.create_token(db, Role.OPERATOR)
    r = client.post("/login", data={"token": token, "next": "/registry"}, follow_redirects=False)
    assert r.status_code == 303
    assert r.headers["location"] == "/registry"
    first, attrs = set_cookie_attributes(r)
    assert first.startswith("fz_session=") and len(first) > len("fz_session=")
    assert token not in first  # the cookie carries a signed token id, not the token
    assert "httponly" in attrs
    assert "samesite=lax" in attrs
    assert "path=/" in attrs
    home = client.get("/", follow_redirects=False)
    assert home.status_code == 200
    assert "text/html" in home.headers["content-type"]


def test_login_with_a_bad_token_is_a_401_page_without_a_session(client: TestClient) -> None:
    r = client.post("/login", data={"token": "fz_wrong"}, follow_redirects=False)
    assert r.status_code == 401
    assert "text/html" in r.headers["content-type"]
    assert 'name="token"' in r.text  # the sign-in form again
    assert "set-cookie" not in r.headers
    assert client.get("/", follow_redirects=False).status_code == 303


@pytest.mark.parametrize("path", ["/", "/registry", "/registry/sg-bank"])
def test_pages_redirect_to_login_when_not_signed_in(client: TestClient, db: Database, path: str) -> None:
    add_org(db)
    r = client.get(path, follow_redirects=False)
    assert r.status_code == 303
    assert r.headers["location"] == f"/login?next={path}"


def test_a_revoked_token_ends_its_session(client: TestClient, db: Database) -> None:
    token, info = auth.create_token(db, Role.VIEWER)
    assert client.post("/login", data={"token": token}, follow_redirects=False).status_code == 303
    assert client.get("/", follow_redirects=False).status_code == 200
    auth.revoke_token(db, info.id)
    r = client.get("/", follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"].startswith("/login")


def test_a_forged_session_cookie_is_ignored(client: TestClient) -> None:
    client.cookies.set("fz_session", "eyJ0b2tlbl9pZCI6IDF9.forged.signature")
    assert client.get("/", follow_redirects=False).status_code == 303


@pytest.mark.parametrize("target", ["//evil.example/", "https://evil.example/", "javascript:alert(1)"])
def test_login_never_redirects_off_site(client: TestClient, db: Database, target: str) -> None:
    token, _ = auth.create_token(db, Role.VIEWER)
    r = client.post("/login", data={"token": token, "next": target}, follow_redirects=False)
    assert r.status_code == 303
    assert r.headers["location"] == "/"


def test_logout_ends_the_session(client: TestClient, db: Database) -> None:
    token, _ = auth.create_token(db, Role.VIEWER)
    client.post("/login", data={"token": token}, follow_redirects=False)
    assert client.post("/logout", follow_redirects=False).status_code == 303
    assert client.get("/", follow_redirects=False).status_code == 303


def test_viewer_session_cannot_change_status_on_a_page(client: TestClient, db: Database) -> None:
    add_org(db)
    token, _ = auth.create_token(db, Role.VIEWER)
    client.post("/login", data={"token": token}, follow_redirects=False)
    r = client.post("/registry/sg-bank/status", data={"status": "settled"}, follow_redirects=False)
    assert r.status_code == 403
    assert registry.get_organisation(db, "sg-bank").status == "prospect"
