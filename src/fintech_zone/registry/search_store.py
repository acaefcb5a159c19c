"""Registry search: the filters and text of ``OrgFilter`` over the organisations table, served by backend-specific
search structures (migration 0003) so that 100,000 organisations answer in milliseconds."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, Connection, Text, and_, cast, collate, func, null, or_, select, text, type_coerce
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.sql.base import ReadOnlyColumnCollection
from sqlalchemy.sql.elements import TextClause, UnaryExpression
from sqlalchemy.sql.operators import custom_op

from fintech_zone.registry.identifiers import VALIDATORS
from fintech_zone.registry.model import Kind, Organisation, Sector, Status
from fintech_zone.registry.store import org_from_row, organisations

# What a search means is the same on every backend and every path below: the filters, and for ``q`` a
# case-insensitive substring of the English name or of the id, a substring of the Chinese name, or an exact
# identifier (in any case); ordered by id and paged with ``id > after``. Every query applies exactly these
# predicates (``_where``); the search structures only decide which rows get looked at:
#
# * a *window*: the next rows in id order, each checked. Cheap when matches are dense where the page starts.
# * the *candidates*: the rows an index finds for the text and the filters, sorted by id, when there are at most
#   SEARCH_CANDIDATES of them. Cheap when matches are few, wherever they sit in id order: a trade name, an
#   identifier, a miss, a filter combination that leaves little, or a name shared by a few thousand
#   organisations whose ids all sort late.
#
# SQLite has a contentless FTS5 trigram index (migration 0003, kept by triggers) over the names, the id and one
# token per filter value. Asking it is cheap even for a frequent word (it stops after SEARCH_CANDIDATES + 1), so
# SQLite asks first, and walks the table in id order only when there are more candidates than that. Queries of one
# or two characters, too short for a trigram, use the index's terms that start with them (every column is indexed
# with two padding characters after it, so every character starts a trigram).
# PostgreSQL has one GIN index: pg_trgm on the names and the id, btree_gin on the filter columns (so a frequent
# word and a filter that excludes it meet inside the index), and the characters of the text for queries without
# three letters or digits in a row. Counting its candidates means reading their rows, so PostgreSQL reads one
# window first and asks the index only when that window did not fill the page.

SEARCH_WINDOW = 1_000  # rows of the first window; later ones grow fourfold up to SEARCH_WINDOW_MAX
SEARCH_WINDOW_MAX = 64_000
SEARCH_CANDIDATES = 2_000  # the most index candidates sorted by id; more and the id-ordered walk is cheaper

FTS_TABLE = "registry_organisations_fts"  # SQLite only (migration 0003), with FTS_VOCAB over it
FTS_VOCAB = "registry_organisations_fts_vocab"
PG_SEARCH_INDEX = "ix_registry_organisations_search"  # PostgreSQL only (migration 0003)
# In the FTS text each filter value is a trigram of its own: a mark (a control character, which no name or id
# holds) and the value's first two characters. Two sectors share "in"; the SQL recheck of the filter tells them
# apart. Migration 0003 writes the same text.
_FTS_FILTER_MARKS = {"jurisdiction": "\x02", "kind": "\x03", "sector": "\x04", "status": "\x05"}
_FTS_ALL_TRIGRAMS = 5  # a text with at most this many trigrams is looked up by all of them, a longer one by fewer
_FTS_MOST_TRIGRAMS = 8  # (the recheck makes the match exact either way)
_FTS_PREFIX_TERMS = 64  # a one- or two-character text starting more trigrams than this is walked instead
_SEARCH_IDENTIFIERS = ("uscc", "uen", "lei", "bic")


def is_search_structure(name: str) -> bool:
    """The search structures migration 0003 creates outside the Table definitions, backend-specific by nature
    (the FTS5 tables on SQLite, the GIN index on PostgreSQL): comparisons of the schema with ``metadata`` skip them.
    """
    return name == PG_SEARCH_INDEX or name.startswith(FTS_TABLE)


@dataclass(frozen=True)
class OrgFilter:
    q: str | None = None
    kind: Kind | None = None
    jurisdiction: str | None = None
    sector: Sector | None = None
    status: Status | None = None


def _filter_values(f: OrgFilter) -> list[tuple[str, str]]:
    values = [
        ("kind", f.kind.value if f.kind else None),
        ("jurisdiction", f.jurisdiction),
        ("sector", f.sector.value if f.sector else None),
        ("status", f.status.value if f.status else None),
    ]
    return [(name, value) for name, value in values if value]


def _filters(f: OrgFilter, cols: ReadOnlyColumnCollection[str, Any] = organisations.c) -> list[ColumnElement[bool]]:
    return [cols[name] == value for name, value in _filter_values(f)]


def _text_match(
    q: str, cols: ReadOnlyColumnCollection[str, Any] = organisations.c, dialect: str | None = None
) -> ColumnElement[bool]:
    escaped = q.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    pattern = f"%{escaped}%"
    # SQLite's LIKE already ignores the case of ASCII letters and only theirs, which is all SQLite's lower()
    # folds: ILIKE there, lower(x) LIKE lower(y), means the same as LIKE and costs twice as much per row.
    if dialect == "sqlite":
        name_en, org_id = cols.name_en.like(pattern, escape="\\"), cols.id.like(pattern, escape="\\")
    else:
        name_en, org_id = cols.name_en.ilike(pattern, escape="\\"), cols.id.ilike(pattern, escape="\\")
    return or_(
        name_en,
        cols.name_zh.like(pattern, escape="\\"),
        org_id,
        *(cols[column] == q.upper() for column in _SEARCH_IDENTIFIERS),
    )


def _where(f: OrgFilter, dialect: str | None = None) -> list[Any]:
    """The predicates of a search: its meaning, whatever path finds the rows."""
    return [*_filters(f), *([_text_match(f.q, dialect=dialect)] if f.q else [])]


def search(conn: Connection, f: OrgFilter, after_id: str | None, limit: int) -> list[Organisation]:
    """Keyset pagination by id: stable under inserts. How the rows are found: see the comment above."""
    dialect = conn.dialect.name
    if dialect == "sqlite" and _sqlite_uses_fts(f):
        found = _sqlite_candidates(conn, f, after_id, limit)
        if found is not None:
            return found
    if dialect != "postgresql" or not f.q:
        # In id order through the primary key or a filter's (column, id) index, checking each row: SQLite comes
        # here only when the index found more than SEARCH_CANDIDATES candidates.
        stmt = select(organisations).where(*_where(f, dialect))
        if after_id is not None:
            stmt = stmt.where(organisations.c.id > after_id)
        return [org_from_row(r) for r in conn.execute(stmt.order_by(organisations.c.id).limit(limit))]
    if any(check(f.q)[1] is None for check in VALIDATORS.values()):
        # Shaped like an identifier, so most likely one: the index first. (Still the whole search: "Shanghai" is a
        # well-formed BIC and a frequent word; past SEARCH_CANDIDATES matches it goes on as any text does.)
        found = _pg_candidates(conn, f, after_id, limit, SEARCH_CANDIDATES)
        if found is not None:
            return found
    # Filters are checked before the text, and cost little per row: with them the window reaches further.
    size = SEARCH_WINDOW * 2 ** min(len(_filter_values(f)), 3)
    rows, end = _window(conn, f, after_id, limit, size)
    if len(rows) >= limit or end is None:
        return rows
    # Half a page or more in one window: the matches are dense here, the next window fills the page. Fewer: ask
    # the index (a rare text, or a frequent one whose matches sit elsewhere in id order).
    rest = _pg_candidates(conn, f, end, limit - len(rows), SEARCH_CANDIDATES) if 2 * len(rows) < limit else None
    if rest is None:
        rest = _walk(conn, f, end, limit - len(rows), size * 4)
    return rows + rest


def count(conn: Connection, f: OrgFilter) -> int:
    clauses = _where(f, conn.dialect.name)
    if conn.dialect.name == "sqlite" and _sqlite_uses_fts(f):
        clauses = _sqlite_candidate_where(conn, f) or clauses
    elif conn.dialect.name == "postgresql" and f.q and (superset := _pg_superset(f.q)) is not None:
        clauses.append(superset)
    return int(conn.scalar(select(func.count()).select_from(organisations).where(*clauses)) or 0)


def _window(
    conn: Connection, f: OrgFilter, after_id: str | None, limit: int, size: int
) -> tuple[list[Organisation], str | None]:
    """Matches among the next ``size`` rows in id order; and, if they do not fill the page, the id to go on from
    (None once the table is exhausted). The window is a range of the primary key, filters or not: a filter's index
    could read any number of rows to find ``size`` that pass (a sparse combination)."""
    assert f.q
    c = organisations.c
    span = select(organisations, func.row_number().over(order_by=c.id).label("fz_n"))
    if after_id is not None:
        span = span.where(c.id > after_id)
    window = span.order_by(c.id).limit(size).subquery("fz_window")
    hit = and_(*_filters(f, window.c), _text_match(f.q, window.c))
    # The matches, and the window's last row (to go on from), in one query.
    stmt = select(window, hit.label("fz_hit")).where(or_(hit, window.c.fz_n == size)).order_by(window.c.id)
    rows = conn.execute(stmt.limit(limit + 1)).all()
    found = [org_from_row(r) for r in rows if r.fz_hit][:limit]
    if len(found) >= limit:
        return found, None
    return found, rows[-1].id if rows and rows[-1].fz_n == size else None


def _walk(conn: Connection, f: OrgFilter, after_id: str | None, limit: int, size: int) -> list[Organisation]:
    found: list[Organisation] = []
    while True:
        rows, end = _window(conn, f, after_id, limit - len(found), size)
        found += rows
        if len(found) >= limit or end is None:
            return found
        after_id, size = end, min(size * 4, SEARCH_WINDOW_MAX)


# SQLite ------------------------------------------------------------------------------------------------------


def _sqlite_uses_fts(f: OrgFilter) -> bool:
    # One filter alone is best served by its (column, id) index, in id order; two or more need not be.
    return bool(f.q) or len(_filter_values(f)) >= 2


def _sqlite_candidates(conn: Connection, f: OrgFilter, after_id: str | None, limit: int) -> list[Organisation] | None:
    where = _sqlite_candidate_where(conn, f)
    if where is None:
        return None
    if after_id is not None:
        where.append(_unindexed(organisations.c.id) > after_id)
    # Unary + keeps SQLite from walking an index in id order (or a filter's) and probing the candidates from there.
    stmt = select(organisations).where(*where).order_by(_unindexed(organisations.c.id)).limit(limit)
    return [org_from_row(r) for r in conn.execute(stmt)]


def _sqlite_candidate_where(conn: Connection, f: OrgFilter) -> list[ColumnElement[bool] | TextClause] | None:
    """The search's predicates restricted to the FTS index's candidates (and the identifier columns' matches), or
    None when the index cannot serve this search or finds more than SEARCH_CANDIDATES candidates."""
    usable, match = _fts_match(conn, f)
    if not usable:
        return None
    sources: list[str] = []
    params: dict[str, str] = {}
    if match is not None:
        probe = text(f"SELECT rowid FROM {FTS_TABLE} WHERE {FTS_TABLE} MATCH :m LIMIT :n")
        rowids = conn.scalars(probe, {"m": match, "n": SEARCH_CANDIDATES + 1}).all()
        if len(rowids) > SEARCH_CANDIDATES:
            return None
        # Handed back as one JSON array rather than by matching again: a MATCH of many trigrams costs milliseconds.
        sources.append("SELECT value FROM json_each(:fz_rowids)")
        params["fz_rowids"] = json.dumps(rowids)
    if f.q:
        sources += [f"SELECT rowid FROM {organisations.name} WHERE {c} = :fz_ident" for c in _SEARCH_IDENTIFIERS]
        params["fz_ident"] = f.q.upper()
    candidates = text(f"{organisations.name}.rowid IN ({' UNION ALL '.join(sources)})").bindparams(**params)
    filters = [_unindexed(organisations.c[name]) == value for name, value in _filter_values(f)]
    return [candidates, *filters, *([_text_match(f.q, dialect="sqlite")] if f.q else [])]


def _fts_match(conn: Connection, f: OrgFilter) -> tuple[bool, str | None]:
    """The FTS5 query for a search: (False, None) if the index cannot serve it, (True, None) if no name or id can
    match its text (only an identifier can), else (True, query)."""
    parts: list[str] = []
    if f.q:
        usable, text_match = _fts_text(conn, f.q)
        if not usable or text_match is None:
            return usable, None
        parts.append(text_match)
    parts += [_fts_quote(_FTS_FILTER_MARKS[name] + (value + "  ")[:2]) for name, value in _filter_values(f)]
    return True, " AND ".join(parts)


def _fts_text(conn: Connection, q: str) -> tuple[bool, str | None]:
    if any(ord(ch) < 0x20 for ch in q):  # the padding and the filter marks are control characters
        return False, None
    if len(q) >= 3:
        # An AND costs about (its rarest list) x (its number of terms). A short text gets all its trigrams (the ones
        # across a word boundary are often the rare ones); a longer one those that tile it: every third and the last.
        grams = [q[i : i + 3] for i in range(len(q) - 2)]
        if len(grams) > _FTS_ALL_TRIGRAMS:
            grams = [grams[i] for i in sorted({*range(0, len(grams), 3), len(grams) - 1})]
        if len(grams) > _FTS_MOST_TRIGRAMS:
            step = (len(grams) - 1) / (_FTS_MOST_TRIGRAMS - 1)
            grams = [grams[round(i * step)] for i in range(_FTS_MOST_TRIGRAMS)]
        return True, " AND ".join(_fts_quote(g) for g in dict.fromkeys(grams))
    # Too short for a trigram: every trigram that starts with it, from the index's own list of terms, which are
    # folded to lower case. Python folds ASCII as FTS5 does; other cased letters are left to the walk.
    if any(not ch.isascii() and ch.lower() != ch.upper() for ch in q) or ord(q[-1]) >= 0x10FFFF:
        return False, None
    low = q.lower()
    after = ord(low[-1]) + 1
    high = low[:-1] + chr(0xE000 if 0xD800 <= after <= 0xDFFF else after)  # the next character there can be
    most = 4 * _FTS_PREFIX_TERMS  # room for the filter tokens' trigrams, which are dropped
    found = conn.scalars(
        text(f"SELECT term FROM {FTS_VOCAB} WHERE term >= :low AND term < :high LIMIT :n"),
        {"low": low, "high": high, "n": most + 1},
    ).all()
    terms = [t for t in found if not any(mark in t for mark in _FTS_FILTER_MARKS.values())]
    if len(found) > most or len(terms) > _FTS_PREFIX_TERMS:
        return False, None
    return True, ("(" + " OR ".join(_fts_quote(t) for t in terms) + ")") if terms else None


def _fts_quote(s: str) -> str:
    return '"' + s.replace('"', '""') + '"'


def _unindexed(col: ColumnElement[Any]) -> ColumnElement[Any]:
    """``+col``: the same value, but SQLite will not use an index for it."""
    return UnaryExpression(col, operator=custom_op("+"), type_=col.type)


# PostgreSQL --------------------------------------------------------------------------------------------------

# The characters of the text, the last column of the GIN index (the expression must be the index's, verbatim).
_PG_CHARS = type_coerce(
    collate(
        func.string_to_array(
            func.lower(cast(organisations.c.name_en, Text) + cast(organisations.c.id, Text))
            + cast(organisations.c.name_zh, Text),
            null(),
        ),
        "C",
    ),
    ARRAY(Text),
)


def _pg_superset(q: str) -> ColumnElement[bool] | None:
    """A condition the GIN index serves and every match of ``q`` meets, where pg_trgm cannot serve the text match
    itself (it needs three letters or digits in a row); None where it can."""
    run = 0
    for ch in q:
        run = run + 1 if ch.isalnum() else 0
        if run >= 3:
            return None

    def chars(value: Any) -> ColumnElement[Any]:
        return type_coerce(func.string_to_array(value, null()), ARRAY(Text))

    # ILIKE compares lower() of both sides; LIKE on the Chinese name compares the characters themselves.
    return or_(
        _PG_CHARS.contains(chars(func.lower(q))),
        _PG_CHARS.contains(chars(q)),
        *(organisations.c[column] == q.upper() for column in _SEARCH_IDENTIFIERS),
    )


# Transaction-local planner settings for the candidates' query (see there), and their restoration.
_PG_PLAN_SETTINGS = {"enable_seqscan": "off", "enable_indexscan": "off", "plan_cache_mode": "force_custom_plan"}
_PG_SET = "SELECT " + ", ".join(
    f"current_setting('{name}') AS {name}, set_config('{name}', '{value}', true)"
    for name, value in _PG_PLAN_SETTINGS.items()
)
_PG_RESTORE = "SELECT " + ", ".join(f"set_config('{name}', :{name}, true)" for name in _PG_PLAN_SETTINGS)


def _pg_candidates(
    conn: Connection, f: OrgFilter, after_id: str | None, limit: int, most: int
) -> list[Organisation] | None:
    """The page from the GIN index's candidates, or None if there are more than ``most``."""
    clauses = _where(f)
    if f.q and (superset := _pg_superset(f.q)) is not None:
        clauses.append(superset)
    if after_id is not None:
        clauses.append(organisations.c.id > after_id)
    found = select(organisations.c.id).where(*clauses).limit(most + 1).cte("fz_candidates")
    found = found.prefix_with("MATERIALIZED")
    total = select(func.count()).select_from(found).scalar_subquery().label("fz_total")
    page = select(found.c.id).order_by(found.c.id).limit(limit)
    stmt = select(organisations, total).where(organisations.c.id.in_(page)).order_by(organisations.c.id)
    # Only the GIN index (through bitmap scans) answers this cheaply, whatever the planner expects: it would scan
    # the table, or walk the primary key, whenever it estimates more matches than the LIMIT (a frequent word,
    # where these candidates are only the ones after a cursor, or under a filter). And psycopg prepares a statement
    # run often enough, after which PostgreSQL may plan it once for any pattern; this plan must see the pattern.
    saved = conn.execute(text(_PG_SET)).one()
    rows = conn.execute(stmt).all()
    if rows and rows[0].fz_total > most:
        # The search goes on walking, which needs index scans again. (After success the transaction just ends, and
        # after an error it is rolled back: either way the settings go with it.)
        conn.execute(text(_PG_RESTORE), {name: getattr(saved, name) for name in _PG_PLAN_SETTINGS})
        return None
    return [org_from_row(r) for r in rows]
