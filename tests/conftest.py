"""Shared fixtures: every storage test runs on SQLite and on PostgreSQL.

PostgreSQL comes from ``FZ_TEST_POSTGRES_URL``. When it is set the server must answer, or the whole run stops
with an error (never a silent skip); when it is unset the PostgreSQL variants are skipped with that reason.
Each pytest process migrates one schema (PostgreSQL) or one template file (SQLite) once, and every test
starts from empty tables.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import uuid
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import create_engine, text

from fintech_zone.app import create_app
from fintech_zone.auth import service as auth
from fintech_zone.auth.model import Role
from fintech_zone.db import Database
from fintech_zone.db.migrate import upgrade
from fintech_zone.settings import Settings
from fintech_zone.tables import metadata

PG_ENV = "FZ_TEST_POSTGRES_URL"

# No test may pick up a developer's ./journal-keys (it would start a signer in every app a test builds): the
# session's own empty key directory, unless a test sets its own.
os.environ["FZ_JOURNAL_KEY_DIR"] = tempfile.mkdtemp(prefix="fz-test-journal-keys-")
BACKENDS = ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]


def pytest_sessionstart(session: pytest.Session) -> None:
    url = os.environ.get(PG_ENV)
    if not url:
        return
    try:
        engine = create_engine(url)
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
        engine.dispose()
    except Exception as exc:  # any failure to reach the server must stop the run, loudly
        pytest.exit(f"{PG_ENV} is set but PostgreSQL is unreachable: {exc}", returncode=3)


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("template") / "template.db"
    db = Database.from_url(f"sqlite:///{path}")
    upgrade(db.engine)
    db.dispose()
    return path


@pytest.fixture(scope="session")
def pg_schema_url() -> Iterator[str]:
    base = os.environ.get(PG_ENV)
    if not base:
        pytest.skip(f"{PG_ENV} is not set: PostgreSQL variants not run here (CI sets it)")
    schema = f"fz_test_{os.getpid()}_{uuid.uuid4().hex[:8]}"
    admin = create_engine(base)
    with admin.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    sep = "&" if "?" in base else "?"
    url = f"{base}{sep}options={quote(f'-csearch_path={schema}')}"
    db = Database.from_url(url)
    upgrade(db.engine)
    db.dispose()
    try:
        yield url
    finally:
        with admin.begin() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


@pytest.fixture(params=BACKENDS)
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        path = tmp_path / "zone.db"
        shutil.copy(request.getfixturevalue("sqlite_template"), path)
        return f"sqlite:///{path}"
    url: str = request.getfixturevalue("pg_schema_url")
    engine = create_engine(url)
    with engine.begin() as conn:
        names = ", ".join(f'"{t.name}"' for t in metadata.sorted_tables)
        conn.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
    engine.dispose()
    return url


@pytest.fixture
def db(db_url: str) -> Iterator[Database]:
    database = Database.from_url(db_url)
    yield database
    database.dispose()


@pytest.fixture
def settings(db_url: str, tmp_path: Path) -> Settings:
    # Keys in the test's own directory: a developer's ./journal-keys must never start a signer inside a test.
    return Settings(
        database_url=db_url,
        secret_key="test-secret-key",
        migrate_on_start=False,
        journal_key_dir=tmp_path / "journal-keys",
    )


@pytest.fixture
def client(settings: Settings, db: Database) -> Iterator[TestClient]:
    app = create_app(settings, db)
    with TestClient(app, raise_server_exceptions=False) as c:
        yield c


def _bearer(db: Database, role: Role, org: str | None = None) -> dict[str, str]:
    token, _ = auth.create_token(db, role, org, f"test {role.value}")
    return {"Authorization": f"Bearer {token}"}


@pytest.fixture
def operator(db: Database) -> dict[str, str]:
    return _bearer(db, Role.OPERATOR)


@pytest.fixture
def viewer(db: Database) -> dict[str, str]:
    return _bearer(db, Role.VIEWER)


@pytest.fixture
def seeded(db: Database) -> Database:
    from fintech_zone.progress import service as progress

    progress.load_seed(db)
    return db


@pytest.fixture
def fresh_url(db_url: str, tmp_path: Path) -> Iterator[str]:
    """An empty database of the same backend, for migrating up and down."""
    if db_url.startswith("sqlite"):
        yield f"sqlite:///{tmp_path / 'fresh.db'}"
        return
    base = os.environ["FZ_TEST_POSTGRES_URL"]
    schema = f"fz_test_fresh_{uuid.uuid4().hex[:8]}"
    admin = create_engine(base)
    with admin.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    sep = "&" if "?" in base else "?"
    try:
        yield f"{base}{sep}options={quote(f'-csearch_path={schema}')}"
    finally:
        with admin.begin() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()
