"""Storage plumbing: one metadata, engine creation, the unit of work, and migrations."""

from fintech_zone.db.engine import Database, make_engine
from fintech_zone.db.metadata import metadata

__all__ = ["Database", "make_engine", "metadata"]
