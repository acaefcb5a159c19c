"""Bad input never gives a 500, a traceback or a partial write: problem+json for the API, on both backends."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from typing import Any
from urllib.parse import quote

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from fintech_zone.db import Database
from fintech_zone.errors import Conflict, DomainError, FieldError, Forbidden, InvalidInput, NotFound
from fintech_zone.registry import store
from fintech_zone.web.errors import Problem, domain_problem

ORGS = "/api/v1/registry/organisations"
PROBLEM = "application/problem+json"
MIB = 1024 * 1024
GOOD = {
    "id": "sg-a",
    "kind": "enterprise",
    "jurisdiction": "SG",
    "name_en": "A",
    "name_zh": "甲",
    "sector": "payments",
}


def count(db: Database, table: Any = store.organisations) -> int:
    with db.read() as conn:
        return int(conn.scalar(select(func.count()).select_from(table)) or 0)


def assert_problem(r: Any, status: int, slug: str | None = None) -> dict[str, Any]:
    assert r.status_code == status, r.text
    assert r.headers["content-type"] == PROBLEM
    body: dict[str, Any] = r.json()
    assert body["status"] == status
    assert body["type"].startswith("/problems/")
    if slug:
        assert body["type"] == f"/problems/{slug}"
    assert "Traceback" not in r.text
    return body


def post_json(client: TestClient, headers: dict[str, str], url: str, raw: bytes) -> Any:
    return client.post(url, content=raw, headers={**headers, "content-type": "application/json"})


# --- wrong types and unknown fields -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("change", "field", "check"),
    [
        ({"id": 42}, "id", "string_type"),
        ({"id": None}, "id", "string_type"),
        ({"kind": "bank"}, "kind", "enum"),
        ({"sector": ["payments"]}, "sector", "enum"),
        ({"jurisdiction": "SGP"}, "jurisdiction", "string_too_long"),
        ({"name_en": ""}, "name_en", "string_too_short"),
        ({"name_zh": "名" * 301}, "name_zh", "string_too_long"),
        ({"since": "2024-02-30"}, "since", "date_from_datetime_parsing"),
        ({"status": "dormant"}, "status", "enum"),
        ({"uscc": 911100006000373410}, "uscc", "string_type"),
        ({"colour": "red"}, "colour", "extra_forbidden"),
        ({"created_at": "2024-01-01T00:00:00Z"}, "created_at", "extra_forbidden"),
    ],
)
def test_wrong_types_and_unknown_fields_give_422_with_the_field_path(
    client: TestClient, operator: dict[str, str], db: Database, change: dict[str, Any], field: str, check: str
) -> None:
    body = assert_problem(client.post(ORGS, json={**GOOD, **change}, headers=operator), 422, "invalid-input")
    assert {"field": field, "check": check} in [{"field": e["field"], "check": e["check"]} for e in body["errors"]]
    assert field in body["detail"]
    assert count(db) == 0


def test_missing_fields_are_each_listed(client: TestClient, operator: dict[str, str]) -> None:
    body = assert_problem(client.post(ORGS, json={"id": "x"}, headers=operator), 422, "invalid-input")
    assert {e["field"] for e in body["errors"]} == {"kind", "jurisdiction", "name_en", "name_zh", "sector"}
    assert {e["check"] for e in body["errors"]} == {"missing"}


@pytest.mark.parametrize("raw", [b"[]", b'"sg-a"', b"42", b"null", b"true"])
def test_a_json_body_that_is_not_an_object_gives_422(client: TestClient, operator: dict[str, str], raw: bytes) -> None:
    body = assert_problem(post_json(client, operator, ORGS, raw), 422, "invalid-input")
    assert body["errors"][0]["field"] == "body"


@pytest.mark.parametrize(
    "raw",
    [b'{"id": "sg-a",', b"{id: 'sg-a'}", b'{"id": "sg-a"} trailing', b"{", b'{"a": NaN-}', b'{"id": "\\x"}'],
)
def test_malformed_json_gives_400(client: TestClient, operator: dict[str, str], db: Database, raw: bytes) -> None:
    body = assert_problem(post_json(client, operator, ORGS, raw), 400, "malformed-json")
    assert body["title"] == "Malformed JSON"
    assert count(db) == 0


@pytest.mark.parametrize("raw", [b'{"id": "\xff\xfe"}', b"\xef\xbb\xbf\x00\x00"])
def test_undecodable_json_gives_400(client: TestClient, operator: dict[str, str], db: Database, raw: bytes) -> None:
    assert_problem(post_json(client, operator, ORGS, raw), 400)
    assert count(db) == 0


@pytest.mark.parametrize("content_type", ["application/json", None])
def test_empty_body_gives_422_body_missing(
    client: TestClient, operator: dict[str, str], content_type: str | None
) -> None:
    headers = {**operator, **({"content-type": content_type} if content_type else {})}
    body = assert_problem(client.post(ORGS, content=b"", headers=headers), 422, "invalid-input")
    assert [(e["field"], e["check"]) for e in body["errors"]] == [("body", "missing")]


def test_form_body_instead_of_json_gives_422(client: TestClient, operator: dict[str, str]) -> None:
    r = client.post(ORGS, data={"id": "sg-a"}, headers=operator)
    assert_problem(r, 422, "invalid-input")


# --- body size ----------------------------------------------------------------------------------------------


def big_org(total: int) -> bytes:
    """A JSON organisation padded with whitespace to exactly ``total`` bytes."""
    raw = json.dumps(GOOD).encode()
    return raw[:-1] + b" " * (total - len(raw)) + b"}"


def test_a_body_over_one_mebibyte_gets_413(client: TestClient, operator: dict[str, str], db: Database) -> None:
    body = assert_problem(post_json(client, operator, ORGS, big_org(MIB + 1)), 413, "payload-too-large")
    assert str(MIB) in body["detail"]
    assert count(db) == 0


def test_a_body_of_exactly_one_mebibyte_is_accepted(client: TestClient, operator: dict[str, str], db: Database) -> None:
    r = post_json(client, operator, ORGS, big_org(MIB))
    assert r.status_code == 201, r.text
    assert count(db) == 1


def test_a_chunked_body_over_the_limit_gets_413(client: TestClient, operator: dict[str, str], db: Database) -> None:
    # No Content-Length: the limit must be enforced while the body streams in.
    def chunks() -> Iterator[bytes]:
        raw = big_org(2 * MIB)
        for start in range(0, len(raw), 64 * 1024):
            yield raw[start : start + 64 * 1024]

    r = client.post(ORGS, content=chunks(), headers={**operator, "content-type": "application/json"})
    assert "content-length" not in r.request.headers
    assert_problem(r, 413, "payload-too-large")
    assert count(db) == 0


def test_a_lying_content_length_over_the_limit_gets_413_before_reading(
    client: TestClient, operator: dict[str, str]
) -> None:
    r = client.post(
        ORGS,
        content=json.dumps(GOOD).encode(),
        headers={**operator, "content-type": "application/json", "content-length": str(MIB + 1)},
    )
    assert r.status_code == 413


def test_a_huge_body_is_refused_even_without_a_token(client: TestClient) -> None:
    assert_problem(client.post(ORGS, content=big_org(MIB + 10), headers={"content-type": "application/json"}), 413)


# --- routing errors -----------------------------------------------------------------------------------------


def test_unknown_api_route_gives_404_problem(client: TestClient, viewer: dict[str, str]) -> None:
    assert_problem(client.get("/api/v1/registry/nothing-here", headers=viewer), 404, "not-found")


def test_wrong_method_gives_405_problem(client: TestClient, operator: dict[str, str]) -> None:
    assert_problem(client.delete(ORGS, headers=operator), 405, "method-not-allowed")


@pytest.mark.parametrize(
    ("method", "path", "allow"),
    [
        ("DELETE", ORGS, "GET, POST"),
        ("OPTIONS", "/api/v1/progress/tasks", "GET, POST"),
        ("PUT", "/api/v1/registry/agreements", "GET, POST"),
        ("GET", "/api/v1/registry/imports", "POST"),
        ("DELETE", f"{ORGS}/sg-a", "GET"),
    ],
)
def test_405_allow_names_every_method_at_the_path(client: TestClient, method: str, path: str, allow: str) -> None:
    # Found by tests/web/test_api_fuzz.py: FastAPI's Allow named only the first route at a path, so GET and POST
    # on /organisations each said they were the only method there.
    r = client.request(method, path)
    assert_problem(r, 405, "method-not-allowed")
    assert r.headers["allow"] == allow


# --- never a 500 --------------------------------------------------------------------------------------------

NUL_AND_FRIENDS = ["\x00", "a\x00b", "\x1b[31m", "\ud7ff", "名\x00", "%00", "' OR 1=1 --", "\\", "%", "_"]


@pytest.mark.parametrize("value", NUL_AND_FRIENDS)
def test_hostile_strings_never_give_a_500(
    client: TestClient, operator: dict[str, str], db: Database, value: str
) -> None:
    segment = quote(value, safe="")
    requests: list[tuple[str, str, dict[str, Any]]] = [
        ("GET", ORGS, {"params": {"q": value}}),
        ("GET", ORGS, {"params": {"cursor": value}}),
        ("GET", ORGS, {"params": {"jurisdiction": (value * 2)[:2]}}),
        ("GET", f"{ORGS}/{segment}", {}),
        ("POST", ORGS, {"json": {**GOOD, "id": value}}),
        ("POST", ORGS, {"json": {**GOOD, "name_en": value}}),
        ("POST", ORGS, {"json": {**GOOD, "id": "sg-h", "name_zh": value, "source": value}}),
        (
            "POST",
            ORGS,
            {"json": {**GOOD, "id": "sg-i", "uscc": value, "lei": value, "bic": value, "uen": value}},
        ),
        ("POST", f"{ORGS}/{segment}/status", {"json": {"status": "settled"}}),
        ("POST", f"{ORGS}/sg-a/status", {"json": {"status": "prospect", "reason": value}}),
        (
            "POST",
            "/api/v1/registry/agreements",
            {"json": {"id": value, "type": value, "title_en": value, "title_zh": value, "parties": [value]}},
        ),
    ]
    client.post(ORGS, json={**GOOD, "status": "settled"}, headers=operator)
    for method, url, kwargs in requests:
        r = client.request(method, url, headers=operator, **kwargs)
        assert r.status_code < 500, (method, url, kwargs, r.text)
        if r.status_code >= 400:
            assert r.headers["content-type"] == PROBLEM, (method, url, r.text)
    with db.read() as conn:  # nothing stored with a NUL in it
        names = conn.execute(select(store.organisations.c.name_en, store.organisations.c.name_zh)).all()
    assert all("\x00" not in n for row in names for n in row)


# --- the domain-error mapping -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("exc", "status", "slug"),
    [
        (NotFound("x"), 404, "not-found"),
        (Conflict("x"), 409, "conflict"),
        (Forbidden("x"), 403, "forbidden"),
        (InvalidInput([FieldError("f", "m", "c", 3)]), 422, "invalid-input"),
        (DomainError("x"), 422, "domain-error"),
    ],
)
def test_domain_errors_map_to_problem_json(exc: DomainError, status: int, slug: str) -> None:
    r = domain_problem(exc, "/here")
    assert r.status_code == status
    assert r.media_type == PROBLEM
    body = json.loads(bytes(r.body))
    assert body["type"] == f"/problems/{slug}"
    assert body["instance"] == "/here"
    if isinstance(exc, InvalidInput):
        assert body["errors"] == [{"field": "f", "check": "c", "message": "m", "row": 3}]
        assert body["detail"] == "row 3: f: m"
    else:
        assert "errors" not in body


# --- the OpenAPI document ----------------------------------------------------------------------------------


def test_openapi_describes_every_api_error_as_problem_json(client: TestClient) -> None:
    # FastAPI documents its own 422 as application/json HTTPValidationError, which we never send: a client
    # generated from the document (and schemathesis) would expect the wrong body and media type.
    doc = client.get("/openapi.json").json()
    assert "HTTPValidationError" not in json.dumps(doc)
    assert set(doc["components"]["schemas"]["Problem"]["required"]) == {"type", "title", "status", "detail"}
    problem_ref = {PROBLEM: {"schema": {"$ref": "#/components/schemas/Problem"}}}
    operations = [(m, p, op) for p, ops in doc["paths"].items() if p.startswith("/api/") for m, op in ops.items()]
    assert len(operations) > 10
    for method, path, op in operations:
        errors = {code: r for code, r in op["responses"].items() if code.startswith("4")}
        # The journal is public, like a transparency log, and so are the sandbox's disclosure and the hall's figures.
        public = path.startswith(("/api/v1/journal/", "/api/v1/sandbox/public/", "/api/v1/showcase/"))
        assert ({"400", "413"} if public else {"400", "401", "413"}) <= set(errors), (method, path)
        if path == "/api/v1/iso20022/pacs.008":
            # ISO 20022 answers a refused message in kind: its 400 is a pacs.002 RJCT FF01 (docs/payments.md).
            assert errors.pop("400")["content"] == {"application/xml": {}}
        assert all(r["content"] == problem_ref for r in errors.values()), (method, path)
        if method == "post":
            # Every write needs a role, but the public comment form, which limits each address instead.
            assert ("429" if public else "403") in errors, (method, path)
        if "{" in path:
            assert "404" in errors, (method, path)
    # Pages are HTML for people; the document describes the API.
    assert [p for p in doc["paths"] if not p.startswith("/api/")] == ["/healthz"]


def test_a_problem_as_sent_matches_the_documented_problem(client: TestClient, operator: dict[str, str]) -> None:
    body = assert_problem(client.post(ORGS, json={**GOOD, "kind": "bank", "colour": "red"}, headers=operator), 422)
    assert set(body) <= set(Problem.model_fields)
    problem = Problem.model_validate(body)
    assert problem.errors and {e.field for e in problem.errors} == {"kind", "colour"}


# --- concurrency --------------------------------------------------------------------------------------------


def race(client: TestClient, headers: dict[str, str], bodies: list[dict[str, Any]]) -> list[int]:
    """Send the bodies at the same moment from one thread each; return the status codes."""
    barrier = threading.Barrier(len(bodies))
    codes: list[int] = [0] * len(bodies)

    def send(i: int) -> None:
        barrier.wait()
        codes[i] = client.post(ORGS, json=bodies[i], headers=headers).status_code

    threads = [threading.Thread(target=send, args=(i,)) for i in range(len(bodies))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    return codes


def assert_whole(db: Database, expected: int) -> None:
    """Every organisation has exactly its one registration row in the history, and nothing else is there."""
    with db.read() as conn:
        orgs = set(conn.scalars(select(store.organisations.c.id)))
        hist = list(conn.scalars(select(store.status_history.c.org_id)))
    assert len(orgs) == expected
    assert sorted(hist) == sorted(orgs)


def test_two_threads_racing_for_one_id_get_one_201_and_one_409(
    client: TestClient, operator: dict[str, str], db: Database
) -> None:
    rounds = 8  # several rounds so the race is really run, not won by whoever starts first every time
    for i in range(rounds):
        org_id = f"race-{i}"
        codes = race(
            client,
            operator,
            [{**GOOD, "id": org_id, "name_en": "first"}, {**GOOD, "id": org_id, "name_en": "second"}],
        )
        assert sorted(codes) == [201, 409], codes
    assert_whole(db, rounds)


def test_two_threads_racing_for_one_identifier_get_one_201_and_one_409(
    client: TestClient, operator: dict[str, str], db: Database
) -> None:
    rounds = 4
    identifiers = ["91110000600037341L", "91500000202805720T", "911100001000128855", "91110000600037341L"]
    for i in range(rounds):
        value = identifiers[i % 3]
        codes = race(
            client,
            operator,
            [{**GOOD, "id": f"left-{i}", "uscc": value}, {**GOOD, "id": f"right-{i}", "uscc": value}],
        )
        if i < 3:
            assert sorted(codes) == [201, 409], codes
        else:  # the identifier is already held: both lose
            assert codes == [409, 409], codes
    assert_whole(db, 3)


def test_openapi_lists_each_tag_once_with_its_description(client: TestClient) -> None:
    # The routers are included in the order that matches requests fastest (app.py), not the order a reader wants:
    # the document's tag list keeps the reader's, and must name every tag an operation uses.
    doc = client.get("/openapi.json").json()
    listed = [t["name"] for t in doc["tags"]]
    used = {t for ops in doc["paths"].values() for op in ops.values() for t in op.get("tags", [])}
    assert len(listed) == len(set(listed)) and set(listed) == used
    assert listed[:4] == ["health", "registry", "progress", "ledger"]
    assert all(t["description"] for t in doc["tags"])
