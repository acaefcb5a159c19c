"""Alembic environment: runs against the engine handed over in ``config.attributes``."""

from __future__ import annotations

from alembic import context
from sqlalchemy import text

from fintech_zone.registry.search_store import is_search_structure
from fintech_zone.tables import metadata

config = context.config
engine = config.attributes["engine"]

with engine.connect() as connection:
    if connection.dialect.name == "postgresql":
        # Several workers may start at once; one migrates, the others wait and then find nothing to do.
        connection.execute(text("SELECT pg_advisory_lock(7812026)"))
        connection.commit()
    try:
        context.configure(
            connection=connection,
            target_metadata=metadata,
            render_as_batch=connection.dialect.name == "sqlite",
            compare_type=True,
            # Autogenerate must not propose dropping the search structures migration 0003 made by hand.
            include_name=lambda name, type_, parent: name is None or not is_search_structure(name),
        )
        with context.begin_transaction():
            context.run_migrations()
        connection.commit()
    finally:
        if connection.dialect.name == "postgresql":
            connection.execute(text("SELECT pg_advisory_unlock(7812026)"))
            connection.commit()
