"""Imports every context's tables so ``metadata`` is complete (for migrations and test set-up only)."""

from fintech_zone.auth import store as auth_store
from fintech_zone.db import metadata
from fintech_zone.journal import store as journal_store
from fintech_zone.ledger import store as ledger_store
from fintech_zone.payments import fx_store as payments_fx_store
from fintech_zone.payments import store as payments_store
from fintech_zone.progress import store as progress_store
from fintech_zone.registry import store as registry_store
from fintech_zone.sandbox import store as sandbox_store

__all__ = [
    "auth_store",
    "journal_store",
    "ledger_store",
    "metadata",
    "payments_fx_store",
    "payments_store",
    "progress_store",
    "registry_store",
    "sandbox_store",
]
