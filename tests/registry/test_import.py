"""CSV import through the HTTP API and the CLI, on SQLite and PostgreSQL: all-or-nothing by default."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from fintech_zone.db import Database
from fintech_zone.errors import InvalidInput
from fintech_zone.registry import search_store, service, store

IMPORTS = "/api/v1/registry/imports"
PROBLEM = "application/problem+json"
HEADER = "id,kind,jurisdiction,name_en,name_zh,sector,status,uscc,uen,lei,bic,source"
FZ = Path(sys.executable).parent / "fintech-zone"

GOOD_ROWS = [
    "cn-cq-bank,financial_institution,CN,Bank of Chongqing,重庆银行,payments,settled,91110000600037341L,,,,seed",
    "sg-dbs,financial_institution,SG,DBS Bank,星展银行,payments,negotiating,,196800306E,5493001KJTIIGC8Y1R12,"
    "DBSSSGSGXXX,",
    'sg-fin,enterprise,SG,"Fin, Tech & Co",金融科技,regtech,,,,,,"a note, quoted"',
]


def csv_text(*rows: str, header: str = HEADER) -> str:
    return "\n".join([header, *rows]) + "\n"


def count(db: Database, table: Any = store.organisations) -> int:
    with db.read() as conn:
        return int(conn.scalar(select(func.count()).select_from(table)) or 0)


def post_csv(
    client: TestClient,
    headers: dict[str, str],
    body: str | bytes,
    skip: bool = False,
    content_type: str = "text/csv; charset=utf-8",
) -> Any:
    raw = body.encode("utf-8") if isinstance(body, str) else body
    params = {"skip_bad_rows": "true"} if skip else {}
    return client.post(IMPORTS, content=raw, params=params, headers={**headers, "content-type": content_type})


def rows_and_fields(problem: dict[str, Any]) -> list[tuple[int | None, str, str]]:
    return [(e.get("row"), e["field"], e["check"]) for e in problem["errors"]]


def existing(db: Database) -> None:
    """One organisation already in the database, so 'nothing written' is checked against a non-empty table."""
    from fintech_zone.registry.model import NewOrganisation

    service.create_organisation(
        db, NewOrganisation("sg-old", "enterprise", "SG", "Old Co", "老公司", "other", uen="53100018D")
    )


# --- HTTP ---------------------------------------------------------------------------------------------------


def test_good_file_imports_every_row(client: TestClient, operator: dict[str, str], db: Database) -> None:
    r = post_csv(client, operator, csv_text(*GOOD_ROWS))
    assert r.status_code == 200, r.text
    assert r.json() == {"imported": 3, "skipped": []}
    assert count(db) == 3
    assert count(db, store.status_history) == 3
    fin = service.get_organisation(db, "sg-fin")
    assert (fin.name_en, fin.status, fin.source) == ("Fin, Tech & Co", "prospect", "a note, quoted")
    dbs = service.get_organisation(db, "sg-dbs")
    assert (dbs.uen, dbs.lei, dbs.bic, dbs.status) == (
        "196800306E",
        "5493001KJTIIGC8Y1R12",
        "DBSSSGSGXXX",
        "negotiating",
    )


def test_only_required_columns_and_a_byte_order_mark(
    client: TestClient, operator: dict[str, str], db: Database
) -> None:
    text = "\ufeffname_zh,id,sector,kind,jurisdiction,name_en\r\n星,sg-star,other,enterprise,sg,Star\r\n"
    r = post_csv(client, operator, text)
    assert r.status_code == 200, r.text
    star = service.get_organisation(db, "sg-star")
    assert (star.jurisdiction, star.name_zh, star.status) == ("SG", "星", "prospect")


def test_any_bad_row_means_nothing_is_written_and_every_bad_row_is_reported(
    client: TestClient, operator: dict[str, str], db: Database
) -> None:
    existing(db)
    text = csv_text(
        GOOD_ROWS[0],  # row 2
        "sg-x,enterprise,SG,X,艾克斯,payments,,91110000600037341X,,,,",  # row 3: USCC check character
        GOOD_ROWS[1],  # row 4
        "sg-y,bank,US,Y,,payments,,,,5493001KJTIIGC8Y1R13,,",  # row 5: four bad fields
        GOOD_ROWS[2],  # row 6
    )
    r = post_csv(client, operator, text)
    assert r.status_code == 422, r.text
    assert r.headers["content-type"] == PROBLEM
    body = r.json()
    assert sorted(rows_and_fields(body)) == [
        (3, "uscc", "check_character"),
        (5, "jurisdiction", "allowed_values"),
        (5, "kind", "allowed_values"),
        (5, "lei", "iso7064_mod97_10"),
        (5, "name_zh", "required"),
    ]
    assert "nothing was imported" in body["detail"]
    assert count(db) == 1
    assert count(db, store.status_history) == 1


def test_skip_bad_rows_writes_the_good_ones(client: TestClient, operator: dict[str, str], db: Database) -> None:
    existing(db)
    text = csv_text(
        GOOD_ROWS[0],
        "sg-x,enterprise,SG,X,艾克斯,payments,,91110000600037341X,,,,",
        "sg-old,enterprise,SG,Again,再次,other,,,,,,",  # row 4: already in the database
        GOOD_ROWS[1],
        "sg-z,enterprise,SG,Z,泽,payments,,,,,,,extra",  # row 6: one field too many
    )
    r = post_csv(client, operator, text, skip=True)
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["imported"] == 2
    assert [(s["row"], s["field"], s["check"]) for s in body["skipped"]] == [
        (3, "uscc", "check_character"),
        (4, "id", "duplicate"),
        (6, "row", "field_count"),
    ]
    assert count(db) == 3
    assert service.get_organisation(db, "sg-old").name_en == "Old Co"  # not overwritten


def test_duplicates_within_the_file_name_the_first_row(
    client: TestClient, operator: dict[str, str], db: Database
) -> None:
    text = csv_text(
        GOOD_ROWS[0],
        "cn-cq-bank,enterprise,CN,Again,再次,other,,,,,,",  # row 3: same id as row 2
        "cn-other,enterprise,CN,Other,其他,other,,91110000600037341l,,,,",  # row 4: same USCC as row 2
    )
    body = post_csv(client, operator, text).json()
    assert rows_and_fields(body) == [(3, "id", "duplicate"), (4, "uscc", "duplicate")]
    assert all("row 2" in e["message"] for e in body["errors"])
    assert count(db) == 0


def test_duplicates_against_the_database(client: TestClient, operator: dict[str, str], db: Database) -> None:
    existing(db)
    text = csv_text(
        "sg-old,enterprise,SG,Again,再次,other,,,,,,",
        "sg-new,enterprise,SG,New,新,other,,,53100018d,,,",  # the UEN of sg-old
    )
    body = post_csv(client, operator, text).json()
    assert rows_and_fields(body) == [(2, "id", "duplicate"), (3, "uen", "duplicate")]
    assert "sg-old" in body["errors"][1]["message"]
    assert count(db) == 1


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        (
            csv_text(GOOD_ROWS[0], 'sg-q,enterprise,SG,"Unterminated,名,other,,,,,,', GOOD_ROWS[1]),
            [(3, "row", "csv_syntax")],
        ),
        (csv_text(GOOD_ROWS[0], 'sg-q,enterprise,SG,"Q"x,名,other,,,,,,'), [(3, "row", "csv_syntax")]),
        (csv_text(GOOD_ROWS[0], "sg-short,enterprise,SG"), [(3, "row", "field_count")]),
        (csv_text(GOOD_ROWS[0], header=HEADER + ",colour"), [(1, "colour", "header")]),
        (
            csv_text("sg-a,enterprise,SG,A,甲", header="id,kind,jurisdiction,name_en,name_zh"),
            [(1, "sector", "header")],
        ),
        (csv_text(header="id,id,kind,jurisdiction,name_en,name_zh,sector"), [(1, "id", "header")]),
        ("", [(1, "file", "header")]),
    ],
    ids=[
        "unterminated-quote",
        "stray-quote",
        "field-count",
        "unknown-column",
        "missing-column",
        "twice",
        "empty",
    ],
)
def test_malformed_csv_is_refused_with_nothing_written(
    client: TestClient,
    operator: dict[str, str],
    db: Database,
    body: str,
    expected: list[tuple[int, str, str]],
) -> None:
    existing(db)
    r = post_csv(client, operator, body)
    assert r.status_code == 422, r.text
    assert r.headers["content-type"] == PROBLEM
    assert rows_and_fields(r.json()) == expected
    assert count(db) == 1


@pytest.mark.parametrize(
    "body",
    [
        csv_text(GOOD_ROWS[0], 'sg-q,enterprise,SG,"Unterminated,名,other,,,,,,', GOOD_ROWS[1]),
        csv_text(GOOD_ROWS[0], header=HEADER + ",colour"),
        "",
    ],
    ids=["unterminated-quote", "unknown-column", "empty"],
)
def test_skip_bad_rows_does_not_rescue_a_malformed_file(
    client: TestClient, operator: dict[str, str], db: Database, body: str
) -> None:
    # An unterminated quote swallows every later row: writing the rows before it would lose the rest silently.
    r = post_csv(client, operator, body, skip=True)
    assert r.status_code == 422, r.text
    assert count(db) == 0


def test_non_utf8_is_refused(client: TestClient, operator: dict[str, str], db: Database) -> None:
    body = csv_text("sg-gbk,enterprise,SG,GBK,银行,other,,,,,,").encode("gbk")
    r = post_csv(client, operator, body)
    assert r.status_code == 422
    assert r.headers["content-type"] == PROBLEM
    assert rows_and_fields(r.json()) == [(None, "file", "encoding")]
    assert count(db) == 0


def test_header_only_imports_nothing(client: TestClient, operator: dict[str, str], db: Database) -> None:
    r = post_csv(client, operator, csv_text())
    assert r.status_code == 200
    assert r.json() == {"imported": 0, "skipped": []}


def test_blank_lines_are_ignored_but_counted(client: TestClient, operator: dict[str, str], db: Database) -> None:
    body = post_csv(client, operator, csv_text(GOOD_ROWS[0], "", "sg-x,bank,SG,X,X,other,,,,,,")).json()
    assert rows_and_fields(body) == [(4, "kind", "allowed_values")]


def test_wrong_content_type_is_refused(client: TestClient, operator: dict[str, str], db: Database) -> None:
    r = post_csv(client, operator, csv_text(GOOD_ROWS[0]), content_type="application/json")
    assert r.status_code == 422
    assert rows_and_fields(r.json()) == [(None, "content-type", "media_type")]
    assert count(db) == 0


def test_a_file_over_one_mebibyte_gets_413(client: TestClient, operator: dict[str, str], db: Database) -> None:
    filler = [f"org-{i:06d},enterprise,SG,Name {i},名字,other,,,,,,{'x' * 80}" for i in range(12_000)]
    body = csv_text(*filler)
    assert len(body.encode()) > 1024 * 1024
    r = post_csv(client, operator, body)
    assert r.status_code == 413
    assert r.headers["content-type"] == PROBLEM
    assert count(db) == 0


def test_a_viewer_cannot_import(client: TestClient, viewer: dict[str, str], db: Database) -> None:
    r = post_csv(client, viewer, csv_text(GOOD_ROWS[0]))
    assert r.status_code == 403
    assert count(db) == 0


def test_rows_with_database_unsafe_text_are_bad_rows(
    client: TestClient, operator: dict[str, str], db: Database
) -> None:
    # PostgreSQL refuses NUL and names wider than the column; both must be row errors, never a 500.
    text = csv_text("sg-nul,enterprise,SG,A\x00B,名,other,,,,,,", f"sg-long,enterprise,SG,{'L' * 301},名,other,,,,,,")
    body = post_csv(client, operator, text).json()
    assert rows_and_fields(body) == [(2, "name_en", "control_characters"), (3, "name_en", "length")]
    assert count(db) == 0


# --- CLI ----------------------------------------------------------------------------------------------------


def run_cli(db_url: str, cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "FZ_DATABASE_URL": db_url}
    return subprocess.run([str(FZ), *args], capture_output=True, text=True, env=env, cwd=cwd, timeout=120)


def test_cli_imports_a_good_file(db_url: str, db: Database, tmp_path: Path) -> None:
    path = tmp_path / "orgs.csv"
    path.write_text(csv_text(*GOOD_ROWS), encoding="utf-8")
    result = run_cli(db_url, tmp_path, "registry", "import", str(path))
    assert result.returncode == 0, result.stderr
    assert "imported 3" in result.stdout
    assert count(db) == 3


def test_cli_all_or_nothing_reports_rows_and_exits_2(db_url: str, db: Database, tmp_path: Path) -> None:
    existing(db)
    path = tmp_path / "orgs.csv"
    path.write_text(
        csv_text(
            GOOD_ROWS[0],
            "sg-x,enterprise,SG,X,艾克斯,payments,,91110000600037341X,,,,",
            GOOD_ROWS[1],
            "sg-y,enterprise,SG,Y,伊,crypto,,,,,,",
        ),
        encoding="utf-8",
    )
    result = run_cli(db_url, tmp_path, "registry", "import", str(path))
    assert result.returncode == 2
    assert "row 3, uscc [check_character]" in result.stderr
    assert "row 5, sector [allowed_values]" in result.stderr
    assert "nothing was imported" in result.stderr
    assert "Traceback" not in result.stderr
    assert count(db) == 1


def test_cli_skip_bad_rows(db_url: str, db: Database, tmp_path: Path) -> None:
    path = tmp_path / "orgs.csv"
    path.write_text(csv_text(GOOD_ROWS[0], "sg-y,enterprise,SG,Y,伊,crypto,,,,,,", GOOD_ROWS[2]), encoding="utf-8")
    result = run_cli(db_url, tmp_path, "registry", "import", "--skip-bad-rows", "--json", str(path))
    assert result.returncode == 0, result.stderr
    import json

    out = json.loads(result.stdout)
    assert out["imported"] == 2
    assert [(s["row"], s["field"]) for s in out["skipped"]] == [(3, "sector")]
    assert count(db) == 2


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (
            csv_text(GOOD_ROWS[0], "sg-é,enterprise,SG,É,名,other,,,,,,").encode("latin-1", "replace"),
            "not UTF-8",
        ),
        (csv_text(GOOD_ROWS[0], 'sg-q,enterprise,SG,"Unterminated,名,other,,,,,,').encode(), "row 3"),
        (csv_text(GOOD_ROWS[0], header=HEADER + ",colour").encode(), "colour"),
        (b"", "empty"),
    ],
    ids=["non-utf8", "unterminated-quote", "unknown-column", "empty"],
)
def test_cli_malformed_file_exits_2_with_nothing_written(
    db_url: str, db: Database, tmp_path: Path, content: bytes, message: str
) -> None:
    path = tmp_path / "orgs.csv"
    path.write_bytes(content)
    result = run_cli(db_url, tmp_path, "registry", "import", str(path))
    assert result.returncode == 2
    assert message in result.stderr
    assert "Traceback" not in result.stderr
    assert result.stdout == ""
    assert count(db) == 0


def test_cli_missing_file_exits_2(db_url: str, tmp_path: Path) -> None:
    result = run_cli(db_url, tmp_path, "registry", "import", str(tmp_path / "nope.csv"))
    assert result.returncode == 2
    assert "no such file" in result.stderr


# --- the bulk write path (service.import_csv → store.insert_organisations) -----------------------------------


def many_rows(n: int, start: int = 0) -> list[str]:
    """``n`` valid rows with unique ids, USCCs (CN) and UENs (SG), alternating, a quoted name and a note."""
    from stdnum.sg.uen import calc_business_check_digit

    from fintech_zone.registry.identifiers import uscc_check_character

    rows = []
    for i in range(start, start + n):
        if i % 2:
            body = f"9150010{i:010d}"
            uscc = body + uscc_check_character(body)
            rows.append(f'cn-{i:06d},enterprise,CN,"Bulk {i}, Ltd.",批量{i},lending,settled,{uscc},,,,')
        else:
            rob = f"{i:08d}"
            uen = rob + calc_business_check_digit(rob)
            rows.append(f"sg-{i:06d},financial_institution,SG,Bulk {i},批量{i},payments,,,{uen},,,")
    return rows


def raw_rows(conn: Any) -> tuple[list[tuple[Any, ...]], list[tuple[Any, ...]]]:
    """Both tables exactly as the driver returns them (on SQLite the stored text, with its SQLite type)."""
    typeof = "typeof(created_at), typeof(updated_at), " if conn.dialect.name == "sqlite" else ""
    orgs = conn.exec_driver_sql(
        f"SELECT {typeof}id, kind, jurisdiction, name_en, name_zh, sector, status, uscc, uen, lei, bic, source, "
        "created_at, updated_at FROM registry_organisations ORDER BY id"
    ).all()
    typeof = "typeof(changed_on), typeof(recorded_at), " if conn.dialect.name == "sqlite" else ""
    history = conn.exec_driver_sql(
        f"SELECT {typeof}org_id, from_status, to_status, changed_on, reason, recorded_at "
        "FROM registry_status_history ORDER BY org_id"
    ).all()
    return [tuple(r) for r in orgs], [tuple(r) for r in history]


@pytest.mark.parametrize("n", [3, 2500], ids=["few", "bulk"])  # bulk: more rows than one SQLite statement takes
def test_bulk_write_stores_exactly_what_sqlalchemy_core_stores(db: Database, n: int) -> None:
    """The fast path (driver executemany / COPY) and SQLAlchemy Core store the same values in the same form."""
    from datetime import UTC, date, datetime, timedelta, timezone

    from fintech_zone.registry.csv_format import parse_csv_text

    text = csv_text(
        'sg-odd,enterprise,SG,"Back\\slash, ""quotes"", comma",反斜杠\\,other,,,,,,"line 1\nline 2\\n\ttab \\ end"',
        GOOD_ROWS[0],
        GOOD_ROWS[1],
        *many_rows(n - 3),
    )
    orgs = [o for _, o in parse_csv_text(text).organisations]
    assert len(orgs) == n
    # An aware time in another zone, with microseconds: both paths must store it as the same UTC instant.
    now = datetime(2026, 3, 4, 13, 14, 15, 123456, tzinfo=timezone(timedelta(hours=8)))
    results = []
    for write in (store._insert_organisations_core, store.insert_organisations):
        with db.transaction() as conn:
            cache_before = conn.exec_driver_sql("PRAGMA cache_size").scalar() if db.dialect == "sqlite" else None
            write(conn, orgs, date(2026, 3, 4), now)
            if cache_before is not None:  # a bulk write's larger page cache is given back
                assert conn.exec_driver_sql("PRAGMA cache_size").scalar() == cache_before
            results.append(raw_rows(conn))
            conn.rollback()
    assert results[0] == results[1]
    assert len(results[1][0]) == len(results[1][1]) == n

    with db.transaction() as conn:
        store.insert_organisations(conn, orgs, date(2026, 3, 4), now)
    odd = service.get_organisation(db, "sg-odd")
    assert (odd.name_en, odd.name_zh, odd.source) == (
        'Back\\slash, "quotes", comma',
        "反斜杠\\",
        "line 1\nline 2\\n\ttab \\ end",
    )
    for org in (odd, service.get_organisation(db, "sg-dbs")):
        assert org.created_at == org.updated_at == now
        assert org.created_at is not None and org.created_at.tzinfo is UTC
    detail = service.organisation_detail(db, "sg-dbs")
    [first] = detail.history
    assert (first.from_status, first.to_status, first.changed_on, first.reason) == (
        None,
        "negotiating",
        date(2026, 3, 4),
        "registered",
    )
    assert first.recorded_at == now and first.recorded_at is not None and first.recorded_at.tzinfo is UTC
    assert service.count_organisations(db, search_store.OrgFilter()) == n
    page = service.search_organisations(db, search_store.OrgFilter(q="odd"), None, 10)
    assert [o.id for o in page.items] == ["sg-odd"]


def test_bulk_write_refuses_a_naive_timestamp(db: Database) -> None:
    from datetime import date, datetime

    from fintech_zone.registry.csv_format import parse_csv_text

    orgs = [o for _, o in parse_csv_text(csv_text(*GOOD_ROWS)).organisations]
    with pytest.raises(ValueError, match="naive"), db.transaction() as conn:
        store.insert_organisations(conn, orgs, date.today(), datetime(2026, 3, 4, 12, 0))
    assert count(db) == 0


def test_bulk_write_raises_sqlalchemy_integrity_error(db: Database) -> None:
    """A clash with a stored organisation is SQLAlchemy's IntegrityError on every backend (COPY included)."""
    from datetime import UTC, date, datetime

    from sqlalchemy.exc import IntegrityError

    from fintech_zone.registry.csv_format import parse_csv_text

    existing(db)
    orgs = [
        o for _, o in parse_csv_text(csv_text(*many_rows(50), "sg-old,enterprise,SG,A,甲,other,,,,,,")).organisations
    ]
    with pytest.raises(IntegrityError), db.transaction() as conn:
        store.insert_organisations(conn, orgs, date.today(), datetime.now(UTC))
    assert count(db) == 1


def test_a_large_import_is_all_or_nothing_with_one_bad_row_at_the_end(db: Database) -> None:
    existing(db)
    rows = many_rows(3000)
    rows.append("sg-last,enterprise,SG,Last,最后,payments,,91110000600037341X,,,,")  # row 3002: USCC check character
    with pytest.raises(InvalidInput) as exc:
        service.import_csv(db, csv_text(*rows).splitlines(keepends=True))
    assert [(e.row, e.field, e.check) for e in exc.value.errors] == [(3002, "uscc", "check_character")]
    assert "nothing was imported" in exc.value.detail
    assert count(db) == 1
    assert count(db, store.status_history) == 1

    result = service.import_csv(db, csv_text(*rows[:-1]).splitlines(keepends=True))
    assert (result.imported, result.skipped_rows) == (3000, [])
    assert count(db) == 3001
    assert count(db, store.status_history) == 3001


def test_a_large_clean_file_that_clashes_with_the_database_names_every_clashing_row(db: Database) -> None:
    """No bad row of its own, so it is written first; the clash undoes that write and is reported by row."""
    existing(db)  # sg-old, UEN 53100018D
    rows = many_rows(2000)
    rows[1000] = "sg-old,enterprise,SG,Again,再次,other,,,,,,"  # row 1002: id taken
    rows.append("sg-new,enterprise,SG,New,新,other,,,53100018d,,,")  # row 2002: UEN taken
    text = csv_text(*rows)
    with pytest.raises(InvalidInput) as exc:
        service.import_csv(db, text.splitlines(keepends=True))
    assert [(e.row, e.field, e.check) for e in exc.value.errors] == [
        (1002, "id", "duplicate"),
        (2002, "uen", "duplicate"),
    ]
    assert "sg-old" in exc.value.errors[1].message
    assert count(db) == 1
    assert count(db, store.status_history) == 1
    assert service.get_organisation(db, "sg-old").name_en == "Old Co"

    result = service.import_csv(db, text.splitlines(keepends=True), skip_bad_rows=True)
    assert result.imported == 2000 - 1
    assert [(e.row, e.field) for e in result.skipped_rows] == [(1002, "id"), (2002, "uen")]
    assert count(db) == 2000
    assert count(db, store.status_history) == 2000
    assert service.get_organisation(db, "sg-old").name_en == "Old Co"
