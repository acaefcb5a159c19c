"""Registry search on both backends: what ``q`` and the filters mean, on every path a search can take.

The search structures (an FTS5 trigram index on SQLite, a GIN index on PostgreSQL; migration 0003) only choose
which rows get looked at, so every test here compares the API's answer with a plain Python reading of the meaning:
a case-insensitive substring of the English name or the id, a substring of the Chinese name, or an exact
identifier in any case; ordered by id. The ``path`` fixture shrinks the store's thresholds so that small data goes
down each path: index candidates, id-ordered windows, and the walk after too many candidates.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest
from alembic import command
from fastapi.testclient import TestClient
from sqlalchemy import select, text

from fintech_zone.db import Database
from fintech_zone.db.migrate import alembic_config, current_revision, upgrade
from fintech_zone.registry import search_store, service, store
from fintech_zone.registry.model import Kind, NewOrganisation, Sector, Status

ORGS = "/api/v1/registry/organisations"
USCC = "91110000600037341L"
USCC_2 = "91500000202805720T"
LEI = "5493001KJTIIGC8Y1R12"
BIC = "DBSSSGSGXXX"
BIC_2 = "ICBKCNBJ"
UEN = "196800306E"


@dataclass(frozen=True)
class Org:
    id: str
    name_en: str
    name_zh: str
    jurisdiction: str = "SG"
    kind: str = "enterprise"
    sector: str = "payments"
    status: str | None = "prospect"
    uscc: str | None = None
    uen: str | None = None
    lei: str | None = None
    bic: str | None = None


# Names mix frequent words (pay, Merlion, 重庆, 有限公司) with rare ones, cases, punctuation, LIKE's metacharacters
# and Chinese names of every length; ids sort differently from the names and from the insertion order.
POPULATION = (
    Org("cn-lianyu-001", "Chongqing Lianyu Pay Co., Ltd.", "重庆联渝支付有限公司", "CN", uscc=USCC, status="settled"),
    Org("cn-lianyu-002", "CHONGQING LIANYU DATA", "重庆联渝数据有限公司", "CN", sector="data_ai"),
    Org("cn-xinmei-003", "Chengdu Xinmei Blockchain", "成都新美区块链", "CN", sector="blockchain", uscc=USCC_2),
    Org("cn-hua-004", "Hua Bank", "华银行", "CN", "financial_institution", "lending", bic=BIC_2),
    Org("cn-yu-005", "Yu", "渝", "CN", "government_agency", "other", None),
    Org("sg-merlion-006", "Merlion Capital Pte. Ltd.", "鱼尾狮资本私人有限公司", uen=UEN, status="settled"),
    Org("sg-merlion-007", "merlion pay", "鱼尾狮支付", sector="payments", status="negotiating"),
    Org("sg-dbs-008", "Development Bank", "发展银行", kind="financial_institution", sector="lending", bic=BIC),
    Org("sg-chain-009", "Chain Link", "链", sector="blockchain", lei=LEI),
    Org("my-eps_ilon-010", "Epsilon 100% Holdings", "艾普西龙", "MY", status=None, kind="association"),
    Org("my-under-011", "Under_Score Labs", "下划线实验室", "MY", sector="regtech"),
    Org("th-quote-012", 'The "Quoted" Firm', "引号公司", "TH", sector="other"),
    Org("th-ai-013", "AI Analytics", "智能数据分析", "TH", sector="data_ai", status="exited"),
    Org("vn-back-014", "Back\\Slash Trading", "反斜杠贸易", "VN", sector="other"),
    Org("ab-first-015", "Alpha First", "阿尔法", "ID"),
    Org("zz-last-016", "Zulu Last Pay", "祖鲁支付", "PH", status="agreement_signed"),
)

QUERIES = (
    # English, case-insensitive, 1 to many characters
    "pay",
    "PAY",
    "Pay",
    "merlion",
    "MERLION",
    "pte. ltd.",
    "co., ltd.",
    "a",
    "ch",
    "Lianyu Pay",
    "nothing at all",
    "chongqing lianyu",
    "bank",
    "ai",
    # Chinese, 1, 2, 3 and more characters
    "链",
    "渝",
    "重庆",
    "联渝",
    "银行",
    "鱼尾狮",
    "有限公司",
    "重庆联渝支付",
    "不存在",
    "庆联",
    # the id
    "cn-",
    "-00",
    "SG-MERLION",
    "lianyu-0",
    "016",
    # exact identifiers of every kind, in either case; a prefix is not an identifier match
    USCC,
    USCC.lower(),
    USCC_2,
    UEN,
    UEN.lower(),
    LEI,
    LEI.lower(),
    BIC,
    BIC.lower(),
    BIC_2,
    USCC[:10],
    # LIKE's metacharacters and FTS5's syntax are literal
    "100%",
    "%",
    "_",
    "s_i",
    "r_s",
    '"',
    '"quoted"',
    "\\",
    "k\\s",
    "*",
    "a OR b",
    "NEAR",
    # characters at the edges of what a one-character prefix search can ask for; cased letters beyond ASCII
    "\ud7ff",
    "\ue000",
    "\U0010ffff",
    "é",
    "É",
)

FILTERS: tuple[dict[str, str], ...] = (
    {},
    {"jurisdiction": "CN"},
    {"jurisdiction": "SG", "status": "settled"},
    {"kind": "financial_institution", "sector": "lending"},
    {"jurisdiction": "CN", "kind": "enterprise", "sector": "payments", "status": "settled"},
)


def expected(q: str | None, filters: dict[str, str]) -> list[str]:
    def hit(o: Org) -> bool:
        if any(getattr(o, name) != value for name, value in filters.items()):
            return False
        if q is None:
            return True
        code = q.upper()
        return (
            q.lower() in o.name_en.lower()
            or q in o.name_zh
            or q.lower() in o.id.lower()
            or code in (o.uscc, o.uen, o.lei, o.bic)
        )

    return sorted(o.id for o in POPULATION if hit(o))


# The thresholds of search_store.search, shrunk so that a few rows take each path.
PATHS: dict[str, dict[str, int]] = {
    "as_shipped": {},
    "index_then_walk": {"SEARCH_CANDIDATES": 2, "SEARCH_WINDOW": 2, "SEARCH_WINDOW_MAX": 4},
    "windows": {"SEARCH_WINDOW": 1, "SEARCH_WINDOW_MAX": 2},
    "walk_only": {"SEARCH_CANDIDATES": 0, "SEARCH_WINDOW": 3, "_FTS_PREFIX_TERMS": 0},
}


@pytest.fixture(params=list(PATHS))
def path(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    for name, value in PATHS[request.param].items():
        monkeypatch.setattr(search_store, name, value)
    chosen: str = request.param
    return chosen


def add(db: Database, o: Org) -> None:
    service.create_organisation(
        db,
        NewOrganisation(
            o.id, o.kind, o.jurisdiction, o.name_en, o.name_zh, o.sector, o.status, o.uscc, o.uen, o.lei, o.bic
        ),
    )


@pytest.fixture
def population(db: Database) -> None:
    for o in reversed(POPULATION):  # inserted in the opposite of id order
        add(db, o)


def pages(client: TestClient, headers: dict[str, str], limit: int, **params: Any) -> list[str]:
    seen: list[str] = []
    cursor: str | None = None
    for _ in range(100):
        query = {"limit": limit, **params, **({"cursor": cursor} if cursor else {})}
        r = client.get(ORGS, params=query, headers=headers)
        assert r.status_code == 200, r.text
        body = r.json()
        assert len(body["items"]) <= limit
        seen += [o["id"] for o in body["items"]]
        cursor = body["next_cursor"]
        if cursor is None:
            return seen
    raise AssertionError("pagination does not terminate")


@pytest.mark.usefixtures("population")
@pytest.mark.parametrize("filters", FILTERS, ids=lambda f: "+".join(f) or "no-filter")
def test_every_query_means_the_same_on_every_path(
    client: TestClient, viewer: dict[str, str], path: str, filters: dict[str, str]
) -> None:
    for q in QUERIES:
        got = pages(client, viewer, 500, q=q, **filters)
        assert got == expected(q, filters), (path, q, filters)


@pytest.mark.usefixtures("population")
@pytest.mark.parametrize("limit", [1, 2, 3])
def test_paging_through_a_search_gives_every_match_once_in_id_order(
    client: TestClient, viewer: dict[str, str], path: str, limit: int
) -> None:
    for q, filters in (
        ("pay", {}),
        ("重庆", {}),
        ("a", {}),
        ("merlion", {"jurisdiction": "SG"}),
        (None, {"jurisdiction": "CN", "sector": "lending"}),
        (None, {"kind": "enterprise", "status": "prospect"}),
    ):
        params = {**filters, **({"q": q} if q else {})}
        assert pages(client, viewer, limit, **params) == expected(q, filters), (q, filters)


@pytest.mark.usefixtures("population")
def test_count_agrees_with_search(db: Database, path: str) -> None:
    for q in ("pay", "重庆", "链", "a", USCC.lower(), "nothing at all", None):
        for filters in FILTERS:
            f = search_store.OrgFilter(
                q=q,
                kind=Kind(filters["kind"]) if "kind" in filters else None,
                jurisdiction=filters.get("jurisdiction"),
                sector=Sector(filters["sector"]) if "sector" in filters else None,
                status=Status(filters["status"]) if "status" in filters else None,
            )
            assert service.count_organisations(db, f) == len(expected(q, filters)), (q, filters)


def test_the_index_follows_inserts_status_changes_and_renames(
    client: TestClient, viewer: dict[str, str], db: Database, path: str
) -> None:
    def found(q: str, **filters: str) -> list[str]:
        return pages(client, viewer, 50, q=q, **filters)

    assert found("Zephyrine") == []
    add(db, Org("sg-z-1", "Zephyrine Pay", "泽菲林支付"))
    add(db, Org("sg-z-2", "Zephyrine Data", "泽菲林数据", status="negotiating"))
    assert found("zephyrine") == ["sg-z-1", "sg-z-2"]
    assert found("泽菲") == ["sg-z-1", "sg-z-2"]
    assert found("zephyrine", status="prospect") == ["sg-z-1"]

    service.change_status(db, "sg-z-1", Status.SETTLED)
    assert found("zephyrine", status="prospect") == []
    assert found("zephyrine", status="settled") == ["sg-z-1"]
    assert found("泽菲林", jurisdiction="SG", status="settled") == ["sg-z-1"]

    with db.transaction() as conn:  # a rename (no API for it yet; the store's own update)
        store.update_organisation(conn, "sg-z-2", {"name_en": "Quillon Data", "name_zh": "奎隆数据"})
    assert found("zephyrine") == ["sg-z-1"]
    assert found("quillon") == ["sg-z-2"]
    assert found("奎隆") == ["sg-z-2"]
    assert found("泽菲") == ["sg-z-1"]


def test_a_bic_shaped_word_still_finds_names(
    client: TestClient, viewer: dict[str, str], db: Database, path: str
) -> None:
    # "Shanghai" passes the BIC check (SHAN, Ghana, AI): a search for it must still look at the names.
    add(db, Org("cn-sh-1", "Shanghai Payments", "上海支付", "CN"))
    add(db, Org("cn-sh-2", "Shanghai Data", "上海数据", "CN"))
    add(db, Org("sg-bank-3", "Other Bank", "其他银行", kind="financial_institution", bic="SHANGHAI"))
    add(db, Org("sg-bank-4", "Bank of Shanghai (Singapore)", "上海银行新加坡", kind="financial_institution"))
    assert pages(client, viewer, 50, q="shanghai") == ["cn-sh-1", "cn-sh-2", "sg-bank-3", "sg-bank-4"]
    assert pages(client, viewer, 1, q="SHANGHAI") == ["cn-sh-1", "cn-sh-2", "sg-bank-3", "sg-bank-4"]


# --- the structures themselves ---------------------------------------------------------------------------------


def test_sqlite_fts_index_holds_exactly_the_table(db: Database) -> None:
    if db.dialect != "sqlite":
        pytest.skip("SQLite's FTS5 index")
    for o in POPULATION:
        add(db, o)
    service.change_status(db, "sg-merlion-007", Status.SETTLED)
    fts = search_store.FTS_TABLE
    with db.read() as conn:
        for jurisdiction in ("CN", "SG", "MY"):
            token = f'"\x02{jurisdiction}"'
            in_index = conn.scalar(text(f"SELECT count(*) FROM {fts} WHERE {fts} MATCH :m"), {"m": token})
            in_table = conn.scalar(
                select(text("count(*)"))
                .select_from(store.organisations)
                .where(store.organisations.c.jurisdiction == jurisdiction)
            )
            assert in_index == in_table
        settled = conn.scalar(text(f"SELECT count(*) FROM {fts} WHERE {fts} MATCH :m"), {"m": '"\x05se"'})
        assert settled == sum(1 for o in POPULATION if o.status == "settled") + 1
        prospect = conn.scalars(
            text(f"SELECT rowid FROM {fts} WHERE {fts} MATCH :m"), {"m": '"mer" AND "lio" AND "\x05pr"'}
        ).all()
        assert prospect == []  # the status change took the old token out


@pytest.mark.parametrize("q", ["Merlion", "联渝", USCC])
def test_postgresql_plans_use_the_gin_index(db: Database, q: str) -> None:
    if db.dialect != "postgresql":
        pytest.skip("PostgreSQL's GIN index")
    for o in POPULATION:
        add(db, o)
    f = search_store.OrgFilter(q=q)
    clauses = [*search_store._where(f)]
    if (superset := search_store._pg_superset(q)) is not None:
        clauses.append(superset)
    stmt = select(store.organisations.c.id).where(*clauses)
    compiled = stmt.compile(dialect=db.engine.dialect, compile_kwargs={"literal_binds": True})
    with db.read() as conn:  # under the test schema's search_path, with the extensions in public
        conn.exec_driver_sql("SET LOCAL enable_seqscan = off")  # on a table this small the planner would scan
        conn.exec_driver_sql("SET LOCAL enable_indexscan = off")
        plan = "\n".join(r[0] for r in conn.exec_driver_sql(f"EXPLAIN {compiled}"))
    assert search_store.PG_SEARCH_INDEX in plan, plan


# --- the migration ----------------------------------------------------------------------------------------------


def test_the_migration_goes_down_and_up_again_with_data(fresh_url: str) -> None:
    fresh = Database.from_url(fresh_url)
    try:
        upgrade(fresh.engine, "0002")
        for o in POPULATION:  # rows that exist before the search structures do are indexed by the migration
            add(fresh, o)
        upgrade(fresh.engine, "0003")
        for q in ("联渝", "pay", "a"):
            with fresh.read() as conn:
                found = search_store.search(conn, search_store.OrgFilter(q=q), None, 50)
                assert [o.id for o in found] == expected(q, {})

        command.downgrade(alembic_config(fresh.engine), "0002")
        assert current_revision(fresh.engine) == "0002"
        with fresh.read() as conn:
            names = {
                r[0]
                for r in conn.exec_driver_sql(
                    "SELECT name FROM sqlite_master"
                    if fresh.dialect == "sqlite"
                    else "SELECT indexname FROM pg_indexes WHERE schemaname = current_schema()"
                )
            }
        assert not any(search_store.is_search_structure(n) for n in names)
        assert "ix_registry_organisations_bic" not in names

        upgrade(fresh.engine, "0003")  # and up again, over the same rows
        for q in ("pay", "鱼尾狮", "链", LEI.lower()):
            with fresh.read() as conn:
                found = search_store.search(conn, search_store.OrgFilter(q=q), None, 50)
                assert [o.id for o in found] == expected(q, {})
    finally:
        fresh.dispose()
