"""The registry HTTP API through the real app, on SQLite and PostgreSQL."""

from __future__ import annotations

import base64
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from fintech_zone.db import Database
from fintech_zone.registry import store

API = "/api/v1/registry"
ORGS = f"{API}/organisations"
PROBLEM = "application/problem+json"

USCC = "91110000600037341L"
USCC_2 = "91500000202805720T"
LEI = "5493001KJTIIGC8Y1R12"
BIC = "DBSSSGSGXXX"
UEN = "196800306E"


def org(org_id: str = "sg-acme-pay", **over: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "id": org_id,
        "kind": "enterprise",
        "jurisdiction": "SG",
        "name_en": "Acme Pay",
        "name_zh": "艾克米支付",
        "sector": "payments",
    }
    body.update(over)
    return body


def create(client: TestClient, headers: dict[str, str], org_id: str = "sg-acme-pay", **over: Any) -> dict[str, Any]:
    r = client.post(ORGS, json=org(org_id, **over), headers=headers)
    assert r.status_code == 201, r.text
    body: dict[str, Any] = r.json()
    return body


def count(db: Database, table: Any) -> int:
    with db.read() as conn:
        return int(conn.scalar(select(func.count()).select_from(table)) or 0)


def assert_problem(r: Any, status: int, slug: str) -> dict[str, Any]:
    assert r.status_code == status, r.text
    assert r.headers["content-type"] == PROBLEM
    body: dict[str, Any] = r.json()
    assert body["status"] == status
    assert body["type"] == f"/problems/{slug}"
    assert body["title"] and body["detail"]
    return body


def error_fields(body: dict[str, Any]) -> dict[str, str]:
    return {e["field"]: e["check"] for e in body["errors"]}


# --- create -------------------------------------------------------------------------------------------------


def test_create_returns_201_with_the_organisation(client: TestClient, operator: dict[str, str]) -> None:
    r = client.post(ORGS, json=org(uscc=USCC.lower(), lei=LEI, bic=BIC, uen=UEN, jurisdiction="sg"), headers=operator)
    assert r.status_code == 201, r.text
    body = r.json()
    assert body["id"] == "sg-acme-pay"
    assert body["kind"] == "enterprise"
    assert body["jurisdiction"] == "SG"
    assert body["name_zh"] == "艾克米支付"
    assert body["status"] == "prospect"
    assert (body["uscc"], body["lei"], body["bic"], body["uen"]) == (USCC, LEI, BIC, UEN)
    got = client.get(f"{ORGS}/sg-acme-pay", headers=operator).json()
    assert got["uscc"] == USCC and got["name_en"] == "Acme Pay"


@pytest.mark.parametrize(
    ("field", "value", "check"),
    [
        ("uscc", "91110000600037341X", "check_character"),
        ("uscc", "9111000060003734", "length"),
        ("uen", "53100018A", "check_letter"),
        ("lei", "5493001KJTIIGC8Y1R13", "iso7064_mod97_10"),
        ("lei", "5493001KJTIIGC8Y1R1", "length"),
        ("bic", "DBSSZZSGXXX", "component"),
        ("bic", "DB1SSGSG", "format"),
    ],
)
def test_bad_identifier_gives_422_naming_field_and_check(
    client: TestClient, operator: dict[str, str], db: Database, field: str, value: str, check: str
) -> None:
    r = client.post(ORGS, json=org(**{field: value}), headers=operator)
    body = assert_problem(r, 422, "invalid-input")
    assert error_fields(body) == {field: check}
    assert field in body["detail"]
    assert count(db, store.organisations) == 0
    assert count(db, store.status_history) == 0


def test_every_bad_field_is_reported_together(client: TestClient, operator: dict[str, str]) -> None:
    r = client.post(
        ORGS,
        json=org(id="-x", jurisdiction="US", uscc="91110000600037341X", lei="5493001KJTIIGC8Y1R13"),
        headers=operator,
    )
    body = assert_problem(r, 422, "invalid-input")
    assert error_fields(body) == {
        "id": "format",
        "jurisdiction": "allowed_values",
        "uscc": "check_character",
        "lei": "iso7064_mod97_10",
    }


def test_duplicate_id_gives_409(client: TestClient, operator: dict[str, str], db: Database) -> None:
    create(client, operator)
    r = client.post(ORGS, json=org(name_en="Another"), headers=operator)
    body = assert_problem(r, 409, "conflict")
    assert "sg-acme-pay" in body["detail"]
    assert count(db, store.organisations) == 1
    assert client.get(f"{ORGS}/sg-acme-pay", headers=operator).json()["name_en"] == "Acme Pay"


@pytest.mark.parametrize(("field", "value"), [("uscc", USCC), ("lei", LEI), ("uen", UEN)])
def test_identifier_held_by_another_organisation_gives_409(
    client: TestClient, operator: dict[str, str], db: Database, field: str, value: str
) -> None:
    create(client, operator, "first", **{field: value})
    r = client.post(ORGS, json=org("second", **{field: value.lower()}), headers=operator)
    body = assert_problem(r, 409, "conflict")
    assert "first" in body["detail"] and field in body["detail"]
    assert count(db, store.organisations) == 1


def test_bic_may_be_shared_by_branches(client: TestClient, operator: dict[str, str]) -> None:
    # The schema keeps USCC, UEN and LEI unique; a BIC8 is shared by every branch of a bank.
    create(client, operator, "branch-1", bic="BKCHCNBJ")
    create(client, operator, "branch-2", bic="BKCHCNBJ")


# --- list, filter, search -----------------------------------------------------------------------------------


@pytest.fixture
def population(client: TestClient, operator: dict[str, str]) -> None:
    create(client, operator, "sg-alpha", name_en="Alpha Payments", name_zh="阿尔法支付", uen=UEN)
    create(
        client,
        operator,
        "sg-beta",
        kind="financial_institution",
        name_en="Beta Bank",
        name_zh="贝塔银行",
        sector="lending",
        bic=BIC,
    )
    create(
        client,
        operator,
        "cn-gamma",
        jurisdiction="CN",
        name_en="Gamma Chain",
        name_zh="伽马链",
        sector="blockchain",
        uscc=USCC,
        status="settled",
    )
    create(
        client,
        operator,
        "cn-delta",
        jurisdiction="CN",
        kind="financial_institution",
        name_en="Delta 100% Bank",
        name_zh="德尔塔银行",
        sector="lending",
        lei=LEI,
        status="negotiating",
    )
    create(client, operator, "my-eps_ilon", jurisdiction="MY", name_en="Epsilon", name_zh="艾普西龙", status=None)


def ids(client: TestClient, headers: dict[str, str], **params: Any) -> list[str]:
    r = client.get(ORGS, params=params, headers=headers)
    assert r.status_code == 200, r.text
    return [o["id"] for o in r.json()["items"]]


@pytest.mark.usefixtures("population")
@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({}, ["cn-delta", "cn-gamma", "my-eps_ilon", "sg-alpha", "sg-beta"]),
        ({"jurisdiction": "SG"}, ["sg-alpha", "sg-beta"]),
        ({"jurisdiction": "sg"}, ["sg-alpha", "sg-beta"]),
        ({"jurisdiction": "SG", "kind": "enterprise"}, ["sg-alpha"]),
        ({"kind": "financial_institution"}, ["cn-delta", "sg-beta"]),
        ({"sector": "lending", "jurisdiction": "CN"}, ["cn-delta"]),
        ({"status": "settled"}, ["cn-gamma"]),
        ({"status": "prospect"}, ["sg-alpha", "sg-beta"]),
        ({"q": "银行"}, ["cn-delta", "sg-beta"]),  # Chinese name
        ({"q": "伽马"}, ["cn-gamma"]),
        ({"q": "bank"}, ["cn-delta", "sg-beta"]),  # English name, case-insensitive
        ({"q": "ALPHA"}, ["sg-alpha"]),
        ({"q": "cn-"}, ["cn-delta", "cn-gamma"]),  # id
        ({"q": USCC.lower()}, ["cn-gamma"]),  # exact identifier, any case
        ({"q": LEI}, ["cn-delta"]),
        ({"q": UEN}, ["sg-alpha"]),
        ({"q": BIC}, ["sg-beta"]),
        ({"q": USCC[:10]}, []),  # identifiers match exactly, not by prefix
        ({"q": "100%"}, ["cn-delta"]),  # % and _ are literal, not wildcards
        ({"q": "%"}, ["cn-delta"]),
        ({"q": "s_i"}, ["my-eps_ilon"]),
        ({"q": "_"}, ["my-eps_ilon"]),
        ({"q": "nothing like it"}, []),
        ({"q": "bank", "jurisdiction": "SG", "kind": "financial_institution"}, ["sg-beta"]),
    ],
)
def test_filters_and_search(
    client: TestClient, viewer: dict[str, str], params: dict[str, str], expected: list[str]
) -> None:
    assert ids(client, viewer, **params) == expected


@pytest.mark.parametrize(
    "params",
    [
        {"kind": "bank"},
        {"sector": "crypto"},
        {"status": "dormant"},
        {"jurisdiction": "SGP"},
        {"limit": 0},
        {"limit": 501},
        {"limit": "ten"},
        {"q": "x" * 201},
    ],
)
def test_bad_query_parameters_give_422(client: TestClient, viewer: dict[str, str], params: dict[str, Any]) -> None:
    body = assert_problem(client.get(ORGS, params=params, headers=viewer), 422, "invalid-input")
    assert set(error_fields(body)) == set(params)


@pytest.mark.parametrize("params", [{"q": "a\x00b"}, {"jurisdiction": "\x00\x00"}, {"q": "tab\there"}])
def test_control_characters_in_the_url_give_400(
    client: TestClient, viewer: dict[str, str], params: dict[str, Any]
) -> None:
    assert_problem(client.get(ORGS, params=params, headers=viewer), 400, "bad-request")
    assert_problem(client.get(f"{ORGS}/a%00b", headers=viewer), 400, "bad-request")


def walk(client: TestClient, headers: dict[str, str], limit: int, **params: Any) -> tuple[list[str], int]:
    seen: list[str] = []
    cursor: str | None = None
    pages = 0
    while True:
        query = {"limit": limit, **params, **({"cursor": cursor} if cursor else {})}
        r = client.get(ORGS, params=query, headers=headers)
        assert r.status_code == 200, r.text
        page = r.json()
        pages += 1
        assert len(page["items"]) <= limit
        seen += [o["id"] for o in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            return seen, pages
        assert pages < 100, "pagination does not terminate"


@pytest.mark.parametrize("limit", [1, 4, 7, 23, 500])
def test_walking_every_page_sees_each_organisation_once_in_stable_order(
    client: TestClient, operator: dict[str, str], viewer: dict[str, str], limit: int
) -> None:
    all_ids = sorted(f"org-{i:02d}" for i in range(23))
    for i, org_id in enumerate(reversed(all_ids)):  # insertion order differs from the listing order
        create(client, operator, org_id, jurisdiction="SG" if i % 2 else "CN")
    seen, pages = walk(client, viewer, limit)
    assert seen == all_ids  # no duplicates, no gaps, sorted by id
    assert pages == max(1, -(-23 // limit))  # no empty trailing page
    assert walk(client, viewer, limit)[0] == seen  # the same walk gives the same answer
    filtered, _ = walk(client, viewer, limit, jurisdiction="SG")
    assert filtered == [o for i, o in enumerate(reversed(all_ids)) if i % 2][::-1]


def test_pagination_is_stable_while_organisations_are_added(
    client: TestClient, operator: dict[str, str], viewer: dict[str, str]
) -> None:
    for i in range(10):
        create(client, operator, f"org-{i:02d}")
    first = client.get(ORGS, params={"limit": 4}, headers=viewer).json()
    assert [o["id"] for o in first["items"]] == ["org-00", "org-01", "org-02", "org-03"]
    create(client, operator, "org-00a")  # sorts before the cursor: must not shift the next page
    create(client, operator, "org-05a")  # sorts after the cursor: must appear
    rest: list[str] = []
    cursor = first["next_cursor"]
    while cursor:
        page = client.get(ORGS, params={"limit": 4, "cursor": cursor}, headers=viewer).json()
        rest += [o["id"] for o in page["items"]]
        cursor = page["next_cursor"]
    assert rest == ["org-04", "org-05", "org-05a", "org-06", "org-07", "org-08", "org-09"]


def test_empty_registry_has_one_empty_page(client: TestClient, viewer: dict[str, str]) -> None:
    r = client.get(ORGS, headers=viewer)
    assert r.status_code == 200
    assert r.json() == {"items": [], "next_cursor": None}


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


@pytest.mark.parametrize(
    "cursor",
    [
        "!!!!",  # not base64 at all
        "zzz",  # base64 of bytes that are not UTF-8
        "é",  # not ASCII
        _b64(b"\x00"),  # decodes to NUL, which PostgreSQL refuses even in a comparison
        _b64(b"has space"),  # decodes to text that is not an organisation id
        _b64(b"org-01") + "==",  # padding this server never emits
        "x" * 401,  # longer than any cursor this server issues
    ],
)
def test_garbage_cursor_gives_422_not_500(
    client: TestClient, operator: dict[str, str], viewer: dict[str, str], cursor: str
) -> None:
    create(client, operator, "org-01")
    body = assert_problem(client.get(ORGS, params={"cursor": cursor}, headers=viewer), 422, "invalid-input")
    assert "cursor" in error_fields(body)


# --- one organisation ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("org_id", ["nobody", "x" * 300])
def test_unknown_id_gives_404_problem(client: TestClient, viewer: dict[str, str], org_id: str) -> None:
    body = assert_problem(client.get(f"{ORGS}/{org_id}", headers=viewer), 404, "not-found")
    assert body["instance"].startswith(ORGS)


def test_detail_has_history_and_agreements(client: TestClient, operator: dict[str, str]) -> None:
    create(client, operator, "sg-a", since="2024-01-02")
    create(client, operator, "cn-b", jurisdiction="CN", since="2024-01-03")
    client.post(f"{ORGS}/sg-a/status", json={"status": "negotiating", "changed_on": "2024-02-01"}, headers=operator)
    client.post(
        f"{API}/agreements",
        headers=operator,
        json={
            "id": "ag-1",
            "type": "settlement",
            "title_en": "Settlement",
            "title_zh": "落户协议",
            "signed_on": "2024-03-01",
            "parties": ["sg-a", "cn-b"],
        },
    )
    d = client.get(f"{ORGS}/sg-a", headers=operator).json()
    assert d["status"] == "negotiating"
    assert d["history"] == [
        {"from_status": None, "to_status": "prospect", "changed_on": "2024-01-02", "reason": "registered"},
        {"from_status": "prospect", "to_status": "negotiating", "changed_on": "2024-02-01", "reason": None},
    ]
    assert [(a["id"], a["parties"]) for a in d["agreements"]] == [("ag-1", ["cn-b", "sg-a"])]
    assert client.get(f"{ORGS}/cn-b", headers=operator).json()["agreements"][0]["id"] == "ag-1"


# --- the settlement pipeline --------------------------------------------------------------------------------


def move(
    client: TestClient,
    headers: dict[str, str],
    status: str,
    on: str | None = None,
    reason: str | None = None,
    org_id: str = "sg-acme-pay",
) -> Any:
    body: dict[str, Any] = {"status": status}
    if on:
        body["changed_on"] = on
    if reason is not None:
        body["reason"] = reason
    return client.post(f"{ORGS}/{org_id}/status", json=body, headers=headers)


def history(client: TestClient, headers: dict[str, str], org_id: str = "sg-acme-pay") -> list[tuple[Any, ...]]:
    d = client.get(f"{ORGS}/{org_id}", headers=headers).json()
    return [(h["from_status"], h["to_status"], h["changed_on"], h["reason"]) for h in d["history"]]


def test_forward_through_the_whole_pipeline(client: TestClient, operator: dict[str, str]) -> None:
    create(client, operator, since="2024-01-01")
    for status, on in [
        ("negotiating", "2024-02-01"),
        ("agreement_signed", "2024-03-01"),
        ("settled", "2024-04-01"),
        ("exited", "2025-01-01"),
    ]:
        r = move(client, operator, status, on)
        assert r.status_code == 200, r.text
        assert r.json()["status"] == status
    assert history(client, operator) == [
        (None, "prospect", "2024-01-01", "registered"),
        ("prospect", "negotiating", "2024-02-01", None),
        ("negotiating", "agreement_signed", "2024-03-01", None),
        ("agreement_signed", "settled", "2024-04-01", None),
        ("settled", "exited", "2025-01-01", None),
    ]


def test_skipping_ahead_is_allowed(client: TestClient, operator: dict[str, str]) -> None:
    create(client, operator, since="2024-01-01")
    assert move(client, operator, "settled", "2024-05-05").json()["status"] == "settled"
    assert history(client, operator)[-1] == ("prospect", "settled", "2024-05-05", None)


@pytest.mark.parametrize("reason", [None, "", "   "])
def test_backwards_without_a_reason_gives_422_naming_reason(
    client: TestClient, operator: dict[str, str], reason: str | None
) -> None:
    create(client, operator, since="2024-01-01")
    move(client, operator, "settled", "2024-02-01")
    before = history(client, operator)
    body = assert_problem(move(client, operator, "negotiating", "2024-03-01", reason), 422, "invalid-input")
    assert error_fields(body) == {"reason": "reason_required"}
    assert history(client, operator) == before
    assert client.get(f"{ORGS}/sg-acme-pay", headers=operator).json()["status"] == "settled"


def test_backwards_with_a_reason_is_recorded(client: TestClient, operator: dict[str, str]) -> None:
    create(client, operator, since="2024-01-01")
    move(client, operator, "agreement_signed", "2024-02-01")
    r = move(client, operator, "negotiating", "2024-03-01", "the signed agreement was withdrawn")
    assert r.status_code == 200, r.text
    assert r.json()["status"] == "negotiating"
    assert history(client, operator)[-1] == (
        "agreement_signed",
        "negotiating",
        "2024-03-01",
        "the signed agreement was withdrawn",
    )


def test_a_date_before_the_last_change_gives_422(client: TestClient, operator: dict[str, str]) -> None:
    create(client, operator, since="2024-01-01")
    move(client, operator, "negotiating", "2024-03-01")
    before = history(client, operator)
    body = assert_problem(move(client, operator, "settled", "2024-02-28"), 422, "invalid-input")
    assert error_fields(body) == {"changed_on": "chronology"}
    assert history(client, operator) == before
    # The same day as the last change is not "before" it.
    assert move(client, operator, "settled", "2024-03-01").status_code == 200


def test_a_date_before_registration_gives_422(client: TestClient, operator: dict[str, str]) -> None:
    create(client, operator, since="2024-06-01")
    body = assert_problem(move(client, operator, "negotiating", "2024-05-31"), 422, "invalid-input")
    assert error_fields(body) == {"changed_on": "chronology"}


def test_change_without_a_date_is_dated_today(client: TestClient, operator: dict[str, str]) -> None:
    from datetime import date

    create(client, operator, since="2024-01-01")
    assert move(client, operator, "negotiating").status_code == 200
    assert history(client, operator)[-1][2] == date.today().isoformat()


def test_same_status_gives_422(client: TestClient, operator: dict[str, str]) -> None:
    create(client, operator)
    body = assert_problem(move(client, operator, "prospect"), 422, "invalid-input")
    assert error_fields(body) == {"status": "same_status"}


def test_organisation_outside_the_pipeline_can_enter_it(client: TestClient, operator: dict[str, str]) -> None:
    create(client, operator, status=None, kind="regulator", since="2024-01-01")
    assert move(client, operator, "settled", "2024-02-01").json()["status"] == "settled"


@pytest.mark.parametrize(
    "body",
    [
        {"status": "dormant"},
        {"status": "settled", "changed_on": "yesterday"},
        {"status": "settled", "extra": 1},
        {},
    ],
)
def test_bad_status_bodies_give_422(client: TestClient, operator: dict[str, str], body: dict[str, Any]) -> None:
    create(client, operator)
    assert_problem(client.post(f"{ORGS}/sg-acme-pay/status", json=body, headers=operator), 422, "invalid-input")


def test_status_of_unknown_organisation_gives_404(client: TestClient, operator: dict[str, str]) -> None:
    assert_problem(move(client, operator, "settled", org_id="nobody"), 404, "not-found")
    assert_problem(move(client, operator, "settled", org_id="a%00"), 400, "bad-request")


# --- agreements ---------------------------------------------------------------------------------------------

AGREEMENTS = f"{API}/agreements"


def agreement(agreement_id: str = "ag-1", **over: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "id": agreement_id,
        "type": "strategic_cooperation",
        "title_en": "Cooperation",
        "title_zh": "合作协议",
        "signed_on": "2024-05-01",
        "parties": ["sg-a", "cn-b"],
    }
    body.update(over)
    return body


@pytest.fixture
def parties(client: TestClient, operator: dict[str, str]) -> None:
    create(client, operator, "sg-a")
    create(client, operator, "cn-b", jurisdiction="CN")


@pytest.mark.usefixtures("parties")
def test_create_and_list_agreements(client: TestClient, operator: dict[str, str], viewer: dict[str, str]) -> None:
    r = client.post(AGREEMENTS, json=agreement(parties=["sg-a", "cn-b", "sg-a"]), headers=operator)
    assert r.status_code == 201, r.text
    assert r.json() == {
        "id": "ag-1",
        "type": "strategic_cooperation",
        "title_en": "Cooperation",
        "title_zh": "合作协议",
        "signed_on": "2024-05-01",
        "source": None,
        "parties": ["cn-b", "sg-a"],
    }
    client.post(AGREEMENTS, json=agreement("ag-0", signed_on="2023-01-01", parties=["sg-a"]), headers=operator)
    listed = client.get(AGREEMENTS, headers=viewer)
    assert listed.status_code == 200
    assert [a["id"] for a in listed.json()] == ["ag-0", "ag-1"]  # oldest first


@pytest.mark.usefixtures("parties")
def test_unknown_party_gives_422_and_writes_nothing(client: TestClient, operator: dict[str, str], db: Database) -> None:
    body = assert_problem(
        client.post(AGREEMENTS, json=agreement(parties=["sg-a", "nobody", "nowhere"]), headers=operator),
        422,
        "invalid-input",
    )
    assert [(e["field"], e["check"]) for e in body["errors"]] == [("parties", "unknown_reference")] * 2
    assert "nobody" in body["detail"] and "nowhere" in body["detail"]
    assert count(db, store.agreements) == 0
    assert count(db, store.agreement_parties) == 0


@pytest.mark.usefixtures("parties")
def test_duplicate_agreement_gives_409(client: TestClient, operator: dict[str, str], db: Database) -> None:
    assert client.post(AGREEMENTS, json=agreement(), headers=operator).status_code == 201
    body = assert_problem(client.post(AGREEMENTS, json=agreement(title_en="Other"), headers=operator), 409, "conflict")
    assert "ag-1" in body["detail"]
    assert count(db, store.agreements) == 1
    assert count(db, store.agreement_parties) == 2


@pytest.mark.usefixtures("parties")
@pytest.mark.parametrize(
    ("over", "field"),
    [
        ({"parties": []}, "parties"),
        ({"parties": "sg-a"}, "parties"),
        ({"signed_on": "2024-02-30"}, "signed_on"),
        ({"id": "ag\x00"}, "id"),
        ({"parties": ["sg\x00"]}, "parties"),
        ({"title_zh": ""}, "title_zh"),
        ({"colour": "red"}, "colour"),
    ],
)
def test_bad_agreements_give_422(
    client: TestClient, operator: dict[str, str], db: Database, over: dict[str, Any], field: str
) -> None:
    body = assert_problem(client.post(AGREEMENTS, json=agreement(**over), headers=operator), 422, "invalid-input")
    assert field in {e["field"].split(".")[0] for e in body["errors"]}
    assert count(db, store.agreements) == 0


def test_taxonomy_lists_the_allowed_values(client: TestClient, viewer: dict[str, str]) -> None:
    t = client.get(f"{API}/taxonomy", headers=viewer).json()
    assert t["statuses"] == ["prospect", "negotiating", "agreement_signed", "settled", "exited"]
    assert t["jurisdictions"][:2] == ["CN", "SG"]
    assert "enterprise" in t["kinds"] and "payments" in t["sectors"]


# --- dates --------------------------------------------------------------------------------------------------

# Found by tests/web/test_api_fuzz.py: pydantic's lax mode read 0 or "0" as 1970-01-01 and a timestamp as its day,
# so a mistyped date was stored as another date instead of being refused.
NOT_DATES: list[Any] = [0, "0", 86400, "86400", "2024-05-01T00:00:00", "2024-05-01T00:00:00Z", "2024-5-1", "20240501"]


@pytest.mark.parametrize("value", NOT_DATES)
def test_dates_are_yyyy_mm_dd_never_numbers_or_timestamps(
    client: TestClient, operator: dict[str, str], db: Database, value: Any
) -> None:
    body = assert_problem(client.post(ORGS, json=org(since=value), headers=operator), 422, "invalid-input")
    assert error_fields(body) == {"since": "date_format"}
    assert count(db, store.organisations) == 0

    create(client, operator, since="2024-01-01")
    create(client, operator, "cn-b", jurisdiction="CN")
    before = history(client, operator)
    r = client.post(f"{ORGS}/sg-acme-pay/status", json={"status": "negotiating", "changed_on": value}, headers=operator)
    assert error_fields(assert_problem(r, 422, "invalid-input")) == {"changed_on": "date_format"}
    assert history(client, operator) == before

    r = client.post(AGREEMENTS, json=agreement(signed_on=value, parties=["sg-acme-pay", "cn-b"]), headers=operator)
    assert error_fields(assert_problem(r, 422, "invalid-input")) == {"signed_on": "date_format"}
    assert count(db, store.agreements) == 0
