"""Progress over HTTP: milestones (with the ``before`` cut-off), tasks, the report download."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient

from fintech_zone.db import Database

MILESTONE = {
    "id": "2026-11-hall-design",
    "line": "exhibition-hall",
    "date": "2026-11",
    "title_zh": "展示厅设计方案评审通过。",
    "title_en": "The exhibition hall's design passed review.",
    "agencies": ["cn-cq-cspab", "cn-cq-jbz-invest"],
    "figures": [{"key": "design_proposals", "value": 3, "label_zh": "份设计方案", "label_en": "design proposals"}],
    "source": "Project bureau meeting minutes, 2026-11",
}


def test_milestones_before_the_seed_date(client: TestClient, seeded: Database, viewer: dict[str, str]) -> None:
    r = client.get("/api/v1/progress/milestones", params={"before": "2019-12-31"}, headers=viewer)
    assert r.status_code == 200
    body = r.json()
    assert [m["date"] for m in body] == [
        "2018-03",
        "2018-05",
        "2018-07",
        "2019-01",
        "2019-05",
        "2019-07",
        "2019-12",
        "2019-12",
    ]
    assert all(m["precision"] == "month" for m in body)
    assert all(m["source"].startswith("zone-progress-report") for m in body)
    port = next(m for m in body if m["id"] == "2019-07-fintech-port")
    assert [f["value"] for f in port["figures"]] == [16, 6]
    assert (
        client.get("/api/v1/progress/milestones", params={"before": "2019-11-30"}, headers=viewer).json()[-1]["date"]
        == "2019-07"
    )


def test_record_a_milestone(
    client: TestClient, seeded: Database, operator: dict[str, str], viewer: dict[str, str]
) -> None:
    r = client.post("/api/v1/progress/milestones", json=MILESTONE, headers=operator)
    assert r.status_code == 201, r.text
    assert r.json()["agencies"] == ["cn-cq-cspab", "cn-cq-jbz-invest"]
    again = client.post("/api/v1/progress/milestones", json=MILESTONE, headers=operator)
    assert again.status_code == 409
    assert again.headers["content-type"] == "application/problem+json"
    got = client.get(f"/api/v1/progress/milestones/{MILESTONE['id']}", headers=viewer).json()
    assert got["title_en"] == MILESTONE["title_en"]
    assert client.post("/api/v1/progress/milestones", json=MILESTONE, headers=viewer).status_code == 403


def test_bad_milestones_are_refused_without_writing(
    client: TestClient, seeded: Database, operator: dict[str, str], viewer: dict[str, str]
) -> None:
    cases = [
        ({**MILESTONE, "date": "2026-13"}, 422, "date"),
        ({**MILESTONE, "date": "November 2026"}, 422, "date"),
        ({**MILESTONE, "line": "no-such-line"}, 422, "line"),
        ({**MILESTONE, "agencies": ["no-such-org"]}, 422, "agencies"),
        ({**MILESTONE, "unexpected": 1}, 422, "unexpected"),
        (
            {**MILESTONE, "figures": [{"key": "x", "value": "many", "label_zh": "a", "label_en": "b"}]},
            422,
            "figures.0.value",
        ),
        ({k: v for k, v in MILESTONE.items() if k != "source"}, 422, "source"),
    ]
    for body, status, field in cases:
        r = client.post("/api/v1/progress/milestones", json=body, headers=operator)
        assert r.status_code == status, (body, r.text)
        assert r.headers["content-type"] == "application/problem+json"
        assert field in [e["field"] for e in r.json()["errors"]], r.json()
    assert len(client.get("/api/v1/progress/milestones", headers=viewer).json()) == 8
    assert client.get("/api/v1/progress/milestones/nope", headers=viewer).status_code == 404
    assert client.get("/api/v1/progress/milestones", params={"line": "nope"}, headers=viewer).status_code == 404
    assert client.get("/api/v1/progress/milestones", params={"before": "yesterday"}, headers=viewer).status_code == 422


def test_tasks_and_their_history(client: TestClient, seeded: Database, operator: dict[str, str]) -> None:
    task = {
        "id": "festival-2027",
        "line": "events",
        "title_zh": "筹办2027年国际金融科技节",
        "title_en": "Organise the 2027 international fintech festival",
        "lead": "cn-cq-cspab",
        "co_agencies": ["sg-mas"],
        "due_on": "2027-09-30",
        "source": "work plan 2027",
    }
    r = client.post("/api/v1/progress/tasks", json=task, headers=operator)
    assert r.status_code == 201, r.text
    assert r.json()["status"] == "planned"
    r = client.post("/api/v1/progress/tasks/festival-2027/status", json={"status": "blocked"}, headers=operator)
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "reason"
    r = client.post(
        "/api/v1/progress/tasks/festival-2027/status",
        json={"status": "in_progress", "changed_on": "2027-01-10"},
        headers=operator,
    )
    assert r.status_code == 200
    assert [h["to_status"] for h in r.json()["history"]] == ["planned", "in_progress"]
    r = client.post(
        "/api/v1/progress/tasks/festival-2027/status",
        json={"status": "done", "changed_on": "2026-01-01"},
        headers=operator,
    )
    assert r.status_code == 422 and r.json()["errors"][0]["check"] == "chronology"
    assert (
        client.post(
            "/api/v1/progress/tasks", json={**task, "id": "other", "lead": "nobody"}, headers=operator
        ).status_code
        == 422
    )
    assert client.post("/api/v1/progress/tasks", json=task, headers=operator).status_code == 409
    assert (
        client.post("/api/v1/progress/tasks/nope/status", json={"status": "done"}, headers=operator).status_code == 404
    )


def test_report_download(client: TestClient, seeded: Database, viewer: dict[str, str]) -> None:
    r = client.get(
        "/api/v1/progress/report",
        params={"lang": "en", "format": "md", "as_of": "2019-12-31"},
        headers=viewer,
    )
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("text/markdown")
    assert 'filename="zone-progress-2019-12-31-en.md"' in r.headers["content-disposition"]
    assert "Jiangbeizui FinTech Port" in r.text
    html = client.get("/api/v1/progress/report", params={"lang": "zh", "as_of": "2019-12-31"}, headers=viewer)
    assert html.headers["content-type"].startswith("text/html")
    assert "江北嘴金融科技港" in html.text
    assert client.get("/api/v1/progress/report", params={"lang": "fr"}, headers=viewer).status_code == 422
    assert client.get("/api/v1/progress/report", params={"format": "docx"}, headers=viewer).status_code == 422
    assert client.get("/api/v1/progress/report").status_code == 401


def test_seed_endpoint_is_idempotent(client: TestClient, operator: dict[str, str]) -> None:
    first = client.post("/api/v1/progress/seed", headers=operator).json()
    assert first["milestones"] == 8
    second = client.post("/api/v1/progress/seed", headers=operator).json()
    assert second == {"organisations": 0, "lines": 0, "milestones": 0, "tasks": 0, "overview": 0}


def test_control_characters_never_reach_the_database(
    client: TestClient, seeded: Database, operator: dict[str, str], viewer: dict[str, str]
) -> None:
    for path in (
        "/api/v1/progress/milestones/a%00",
        "/api/v1/progress/tasks/a%00",
        "/api/v1/progress/tasks?line=a%00",
        "/api/v1/progress/milestones?line=%01",
    ):
        r = client.get(path, headers=viewer)
        assert r.status_code == 400, path
        assert r.headers["content-type"] == "application/problem+json"
    for body, field in [
        ({**MILESTONE, "line": "exhibition\u0000hall"}, "line"),
        ({**MILESTONE, "title_en": "bad\u0000title"}, "title_en"),
        ({**MILESTONE, "agencies": ["sg\u0000mas"]}, "agencies"),
        (
            {**MILESTONE, "figures": [{"key": "k", "value": 1, "label_zh": "a\u0000", "label_en": "b"}]},
            "figures.0.label_zh",
        ),
    ]:
        r = client.post("/api/v1/progress/milestones", json=body, headers=operator)
        assert r.status_code == 422, (body, r.text)
        assert field in [e["field"] for e in r.json()["errors"]]
    r = client.post(
        "/api/v1/progress/tasks/exhibition-hall/status",
        json={"status": "blocked", "reason": "wait\u0000"},
        headers=operator,
    )
    assert r.status_code == 422
    assert len(client.get("/api/v1/progress/milestones", headers=viewer).json()) == 8


def test_dates_are_yyyy_mm_dd_never_numbers_or_timestamps(
    client: TestClient, seeded: Database, operator: dict[str, str], viewer: dict[str, str]
) -> None:
    # Found by tests/web/test_api_fuzz.py: ``before=0`` listed the milestones up to 1970-01-01 and ``as_of=0``
    # made a report as of 1970, because pydantic's lax mode reads 0 (or "0") as that day and a timestamp as its day.
    def problem_fields(r: Any) -> dict[str, str]:
        assert r.status_code == 422, r.text
        assert r.headers["content-type"] == "application/problem+json"
        return {e["field"]: e["check"] for e in r.json()["errors"]}

    for value in ("0", "86400", "2019-12-31T00:00:00Z", "2019-12-31T00:00:00", "20191231", "2019-12-1"):
        r = client.get("/api/v1/progress/milestones", params={"before": value}, headers=viewer)
        assert problem_fields(r) == {"before": "date_format"}, value
        r = client.get("/api/v1/progress/report", params={"as_of": value, "format": "md"}, headers=viewer)
        assert problem_fields(r) == {"as_of": "date_format"}, value
    task = {
        "id": "festival-2027",
        "line": "events",
        "title_zh": "筹办2027年国际金融科技节",
        "title_en": "Organise the 2027 international fintech festival",
        "lead": "cn-cq-cspab",
        "source": "work plan 2027",
    }
    tasks_before = client.get("/api/v1/progress/tasks", headers=viewer).json()
    for not_a_date in (0, "0", 86400, "2027-09-30T00:00:00Z"):
        r = client.post("/api/v1/progress/tasks", json={**task, "due_on": not_a_date}, headers=operator)
        assert problem_fields(r) == {"due_on": "date_format"}
        r = client.post(
            "/api/v1/progress/tasks/exhibition-hall/status",
            json={"status": "in_progress", "changed_on": not_a_date},
            headers=operator,
        )
        assert problem_fields(r) == {"changed_on": "date_format"}
    assert client.get("/api/v1/progress/tasks", headers=viewer).json() == tasks_before


def test_unknown_line_is_404_for_tasks_as_for_milestones(
    client: TestClient, seeded: Database, viewer: dict[str, str]
) -> None:
    for path in ("/api/v1/progress/tasks", "/api/v1/progress/milestones"):
        r = client.get(path, params={"line": "no-such-line"}, headers=viewer)
        assert r.status_code == 404, path
        assert r.headers["content-type"] == "application/problem+json"
    assert len(client.get("/api/v1/progress/tasks", params={"line": "events"}, headers=viewer).json()) == 1
