"""Typed settings, read from the environment (prefix ``FZ_``) so the platform runs with no configuration."""

from __future__ import annotations

import secrets
from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

DEFAULT_DATABASE_URL = "sqlite:///./fintech-zone.db"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="FZ_", extra="ignore")

    database_url: str = Field(
        default=DEFAULT_DATABASE_URL,
        description="SQLAlchemy URL; SQLite file by default, postgresql+psycopg://… in production.",
    )
    secret_key: str | None = Field(
        default=None,
        description="Key that signs session cookies. When unset, one is generated once and kept in secret_key_file.",
    )
    secret_key_file: Path = Field(default=Path(".fintech-zone-secret"))
    migrate_on_start: bool = True
    max_body_bytes: int = Field(default=1024 * 1024, description="Requests with a larger body get 413.")
    max_batch_body_bytes: int = Field(
        default=16 * 1024 * 1024,
        description="The same for ledger batches (POST /api/v1/ledger/accounts and /transfers): 8,190 events.",
    )
    session_max_age: int = Field(default=8 * 3600, description="Seconds an operator session lasts.")
    cookie_secure: bool = Field(default=False, description="Mark the session cookie Secure (set behind HTTPS).")
    screening_list: Path | None = Field(
        default=None,
        description="CSV list (id,name,aliases,kind,source) payments' parties are screened against; unset: the "
        "shipped DEMO list of fictitious names (docs/payments.md).",
    )
    screening_review_threshold: float = Field(default=85, ge=0, le=100, description="Score that holds a payment.")
    screening_reject_threshold: float = Field(default=95, ge=0, le=100, description="Score that rejects it (RR04).")
    journal_key_dir: Path = Field(
        default=Path("journal-keys"),
        description="Directory of the validators' key files (journal-cq.key, journal-sg.pub, ...), outside the "
        "database. `fintech-zone serve` creates both nodes' keys there when neither exists (one machine).",
    )
    journal_head_every_leaves: int = Field(default=1000, ge=1, description="A new tree head after this many leaves.")
    journal_head_every_seconds: float = Field(
        default=5.0, gt=0, description="...or after this many seconds, when the log has grown at all."
    )
    journal_signer: bool = Field(
        default=True, description="Run the validator signer in the server (makes heads, signs with the keys held)."
    )
    sandbox_review_days: int = Field(
        default=15, ge=1, description="Working days a pilot's preliminary review may take before it is overdue."
    )
    sandbox_evaluation_days: int = Field(default=21, ge=1, description="...and its evaluation.")
    sandbox_comment_days: int = Field(
        default=30, ge=0, description="Days a pilot's statement is open for public comment before it can be admitted."
    )
    sandbox_comments_per_window: int = Field(
        default=5, ge=1, description="Public comments one address may post per window (then 429)."
    )
    sandbox_comment_window_seconds: float = Field(default=600, gt=0, description="...the window, in seconds.")
    page_size_default: int = 50
    page_size_max: int = 500

    def resolved_secret_key(self) -> str:
        """The cookie-signing key: configured, else read from (or created in) ``secret_key_file``.

        Generating it on first use keeps ``fintech-zone serve`` configuration-free while sessions still survive a
        restart; a key baked into the code would let anyone forge a session.
        """
        if self.secret_key:
            return self.secret_key
        path = self.secret_key_file
        if path.exists():
            return path.read_text(encoding="utf-8").strip()
        key = secrets.token_urlsafe(48)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.touch(mode=0o600)
        path.write_text(key, encoding="utf-8")
        return key
