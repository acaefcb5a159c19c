"""registry search: an index on bic; FTS5 on SQLite, a GIN index on PostgreSQL

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-27 12:30:00.000000

Registry search (``registry.search_store.search``) finds a text in the names and the id of 100,000 organisations,
under any combination of filters, in a few milliseconds. The structures it needs are backend-specific, so they are
created here and not declared on the Table (``search_store.is_search_structure`` names them for schema comparisons):

* SQLite: ``registry_organisations_fts``, a contentless FTS5 table with the trigram tokenizer and ``detail=none``
  (a row's trigrams, no positions: the smallest index that answers "which rows contain these trigrams"), kept in
  step with ``registry_organisations`` by triggers, and ``registry_organisations_fts_vocab`` over its terms. The
  text indexed for a row is its English name, Chinese name and id, each followed by two padding characters so that
  every character starts a trigram (how queries of one or two characters are served), then one trigram per filter
  value (a control-character mark and the value's first two characters). ``search_store._fts_match`` builds its queries
  from the same rules. The FTS rows are keyed by the table's rowid.
* PostgreSQL: one GIN index over the filter columns (btree_gin), the names and the id (pg_trgm) and the characters
  of the text. The two extensions are created database-wide, in ``public``, unless they are already installed
  (then in whichever schema holds them); creating them needs the CREATE privilege on the database (both are
  trusted extensions).
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TABLE = "registry_organisations"
FTS = "registry_organisations_fts"
VOCAB = "registry_organisations_fts_vocab"
TRIGGERS = (
    "registry_organisations_fts_insert",
    "registry_organisations_fts_delete",
    "registry_organisations_fts_update",
)
GIN = "ix_registry_organisations_search"
BIC = "ix_registry_organisations_bic"


def _fts_text(row: str) -> str:
    """The text indexed for a row (``row`` is ``new.``, ``old.`` or empty). Triggers must delete exactly what they
    inserted, so the insert and the delete use this one expression."""
    return (
        f"{row}name_en || char(1, 1) || {row}name_zh || char(1, 1) || {row}id || char(1, 1)"
        f" || char(2) || substr({row}jurisdiction || '  ', 1, 2)"
        f" || char(3) || substr({row}kind || '  ', 1, 2)"
        f" || char(4) || substr({row}sector || '  ', 1, 2)"
        f" || char(5) || substr(coalesce({row}status, '') || '  ', 1, 2)"
    )


def _sqlite_upgrade() -> None:
    insert = f"INSERT INTO {FTS} (rowid, body) VALUES (new.rowid, {_fts_text('new.')});"
    delete = f"INSERT INTO {FTS} ({FTS}, rowid, body) VALUES ('delete', old.rowid, {_fts_text('old.')});"
    op.execute(
        f"CREATE VIRTUAL TABLE {FTS} USING fts5(body, content='', columnsize=0, detail='none', tokenize='trigram')"
    )
    op.execute(f"CREATE VIRTUAL TABLE {VOCAB} USING fts5vocab({FTS}, 'row')")
    op.execute(f"INSERT INTO {FTS} (rowid, body) SELECT rowid, {_fts_text('')} FROM {TABLE}")
    op.execute(f"CREATE TRIGGER {TRIGGERS[0]} AFTER INSERT ON {TABLE} BEGIN {insert} END")
    op.execute(f"CREATE TRIGGER {TRIGGERS[1]} AFTER DELETE ON {TABLE} BEGIN {delete} END")
    op.execute(
        f"CREATE TRIGGER {TRIGGERS[2]} AFTER UPDATE OF id, name_en, name_zh, jurisdiction, kind, sector, status"
        f" ON {TABLE} BEGIN {delete} {insert} END"
    )


def _extension_schema(name: str) -> str:
    """The schema holding an extension, installing it in ``public`` first if it is not installed anywhere. (env.py
    holds a database-wide advisory lock, so concurrent migrations of other schemas do not race here.)"""
    conn = op.get_bind()
    find = sa.text(
        "SELECT n.nspname FROM pg_extension e JOIN pg_namespace n ON n.oid = e.extnamespace WHERE e.extname = :name"
    )
    schema = conn.scalar(find, {"name": name})
    if schema is None:
        conn.execute(sa.text(f"CREATE EXTENSION IF NOT EXISTS {name} SCHEMA public"))
        schema = conn.scalar(find, {"name": name})
    return str(schema)


def _postgresql_upgrade() -> None:
    trgm = _extension_schema("pg_trgm")
    btree = _extension_schema("btree_gin")
    ops = f'"{trgm}".gin_trgm_ops'
    varchar = f'"{btree}".varchar_ops'
    op.execute(
        f"CREATE INDEX {GIN} ON {TABLE} USING gin ("
        f"jurisdiction {varchar}, kind {varchar}, sector {varchar}, status {varchar}, "
        f"name_en {ops}, name_zh {ops}, id {ops}, "
        # Must match search_store._PG_CHARS verbatim. COLLATE "C": the characters are compared bytewise, not by locale.
        """(string_to_array(lower(name_en::text || id::text) || name_zh::text, NULL) COLLATE "C"))"""
        # New entries wait in a pending list that every search reads through until VACUUM (or a bulk insert past
        # the limit) merges it: 1 MB instead of the default 4 MB keeps that read under a millisecond, at about
        # 3 s more per 100,000 rows imported.
        " WITH (gin_pending_list_limit = 1024)"
    )


def upgrade() -> None:
    op.create_index(BIC, TABLE, ["bic"], unique=False)
    dialect = op.get_bind().dialect.name
    if dialect == "sqlite":
        _sqlite_upgrade()
    elif dialect == "postgresql":
        _postgresql_upgrade()


def downgrade() -> None:
    dialect = op.get_bind().dialect.name
    if dialect == "sqlite":
        for trigger in TRIGGERS:
            op.execute(f"DROP TRIGGER IF EXISTS {trigger}")
        op.execute(f"DROP TABLE IF EXISTS {VOCAB}")
        op.execute(f"DROP TABLE IF EXISTS {FTS}")
    elif dialect == "postgresql":
        # The extensions stay: they are database-wide, and other schemas (or other applications) may use them.
        op.execute(f"DROP INDEX IF EXISTS {GIN}")
    op.drop_index(BIC, table_name=TABLE)
