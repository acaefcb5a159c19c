"""Property-based fuzzing of the whole ``/api/v1/`` surface from the app's own OpenAPI document.

schemathesis reads ``/openapi.json`` from the app in-process (ASGI, no network), generates valid and invalid
requests for every ``/api/v1/`` operation, and sends them with an operator's bearer token to an app over a seeded
database, on SQLite and on PostgreSQL. Every answer must be below 500, every 4xx must be RFC 9457 problem+json,
and every answer must match what the OpenAPI document says about it (schemathesis' default checks).

The schema is loaded at import from an app with no database behind it (building the OpenAPI document touches no
storage); each test item then sends its cases to its own app over the ``seeded`` database through ``app=``. This,
rather than ``schemathesis.pytest.from_fixture``, because schemathesis 4.32's lazy loader writes
``item._nodeid``, which pytest 9.2 no longer has; it also gives one test item per operation and backend, which
xdist can spread over its workers.
"""

from __future__ import annotations

import os

import hypothesis
import pytest
import schemathesis
from fastapi import FastAPI
from hypothesis import HealthCheck
from schemathesis import Case, GenerationMode

from fintech_zone.app import create_app
from fintech_zone.db import Database
from fintech_zone.settings import Settings

# Quick and reproducible by default. A deeper local run: FZ_FUZZ_EXAMPLES=1000 FZ_FUZZ_RANDOM=1 pytest <this file>
MAX_EXAMPLES = int(os.environ.get("FZ_FUZZ_EXAMPLES", "25"))
PROBLEM_JSON = "application/problem+json"
PROBLEM_MEMBERS = ("type", "title", "status", "detail")

_schema_app = create_app(
    Settings(database_url="sqlite://", secret_key="fuzz", migrate_on_start=False, journal_signer=False)
)
schema = schemathesis.openapi.from_asgi("/openapi.json", _schema_app).include(path_regex=r"^/api/v1/")
# Valid requests (accepted, or refused with a problem) and invalid ones (refused with a problem, never a 500).
schema.config.generation.update(modes=[GenerationMode.POSITIVE, GenerationMode.NEGATIVE])
# All default checks run. One is adjusted: `positive_data_acceptance` wants a schema-valid request accepted
# (2xx, or 401/403/404/409). JSON Schema cannot say what the domain checks: identifier check characters, that a
# referenced organisation or line of work exists, that a cursor is one this server issued, what a CSV file
# holds, that a status change is allowed — those give 422 — nor that URLs carry no control characters (400).
# A schema-valid request refused with 405, 413, 415 or anything else still fails.
positive = schema.config.checks.positive_data_acceptance
positive.expected_statuses = [*positive.expected_statuses, "400", "422"]


@pytest.fixture
def app(settings: Settings, seeded: Database) -> FastAPI:
    return create_app(settings, seeded)


@schema.parametrize()
@hypothesis.settings(
    max_examples=MAX_EXAMPLES,
    deadline=None,
    derandomize=os.environ.get("FZ_FUZZ_RANDOM") is None,
    database=None,
    # The database is shared by every example of one operation on purpose: state built up by earlier examples
    # (an organisation created, a task moved on) is more input for the later ones.
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
def test_api_answers_every_request_without_a_server_error(case: Case, app: FastAPI, operator: dict[str, str]) -> None:
    response = case.call_and_validate(app=app, headers=operator)
    assert response.status_code < 500, response.text
    if 400 <= response.status_code < 500:
        (content_type,) = response.headers["content-type"]  # schemathesis: lower-case names, lists of values
        # ISO 20022 answers a refused message in kind (a pacs.002 RJCT FF01), as its operation documents.
        expected = (
            "application/xml"
            if case.path == "/api/v1/iso20022/pacs.008" and response.status_code == 400
            else PROBLEM_JSON
        )
        assert content_type.split(";")[0].strip() == expected, response.text
        if expected != PROBLEM_JSON:
            assert b"<Cd>FF01</Cd>" in response.content, response.text
            return
        body = response.json()
        missing = [m for m in PROBLEM_MEMBERS if m not in body]
        assert not missing, f"problem without {missing}: {body}"
        assert body["status"] == response.status_code, body
        assert body["type"].startswith("/problems/"), body
