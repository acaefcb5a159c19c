"""A pilot from application to exit through the API, on SQLite and PostgreSQL: who may make each move, what each
move needs, the joint decisions of a cross-border pilot, public disclosure and comments, suspension, extension,
graduation, and the journal that records every decision."""

from __future__ import annotations

from typing import Any

from fintech_zone.journal import audit, keys
from fintech_zone.journal import service as journal
from fintech_zone.journal.model import NODES
from tests.sandbox.conftest import SCORES, World, admit, application


def test_a_cross_border_pilot_goes_from_application_to_graduation(world: World, tmp_path: Any) -> None:
    w = world
    r = w.post("/pilots", application(), "cq-tech")
    assert r.status_code == 201, r.text
    body = r.json()
    assert body["status"] == "draft" and body["regulators"] == ["cn-pboc-cq", "sg-mas"]
    # A draft is its applicants' and the regulators': the public and other participants do not see it.
    assert w.get("/pilots/pilot-1").status_code == 404
    assert w.get("/pilots/pilot-1", "sg-bank").status_code == 404
    shown = w.get("/pilots/pilot-1", "mas")
    assert shown.status_code == 200
    assert [(i["org_id"], i["name_zh"], i["licence"]) for i in shown.json()["institutions"]] == [
        ("cq-tech", "重庆账本科技有限公司", None),
        ("cq-bank", "重庆测试银行", "B0206H250000001"),
    ]
    assert w.get("/public/pilots").json() == []

    assert w.move("pilot-1", "submitted", "cq-tech").status_code == 200
    assert w.move("pilot-1", "preliminary_review", "pboc").status_code == 200
    assert w.move("pilot-1", "evaluation", "mas").status_code == 200
    # Disclosure needs both regulators' scores: the first decides, the pilot waits for the second.
    first = w.move("pilot-1", "public_disclosure", "pboc", scores=SCORES).json()
    assert first["status"] == "evaluation" and first["awaiting"] == ["sg-mas"]
    second = w.move("pilot-1", "public_disclosure", "mas", scores=SCORES).json()
    assert second["status"] == "public_disclosure" and second["scores"]["sg-mas"] == SCORES

    # Disclosed: the statement is public, in the API and on the page, and takes comments.
    public = w.get("/public/pilots").json()
    assert [p["id"] for p in public] == ["pilot-1"]
    assert public[0]["application"]["innovation"].startswith("Settlement payment-versus-payment")
    comment = {"author": "A Chongqing SME", "body": "We would use this for our Singapore suppliers."}
    assert w.rails.client.post("/api/v1/sandbox/public/pilots/pilot-1/comments", json=comment).status_code == 204
    assert [c["body"] for c in w.get("/public/pilots/pilot-1/comments").json()] == [comment["body"]]

    # Admission: both regulators again; the boundaries they set (narrower than requested) are the pilot's.
    narrower = {**application()["requested"], "max_customers": 2}
    assert w.move("pilot-1", "admitted", "mas", boundaries=narrower).json()["status"] == "public_disclosure"
    admitted = w.move("pilot-1", "admitted", "pboc").json()
    assert admitted["status"] == "admitted" and admitted["boundaries"]["max_customers"] == 2
    # Comments close with the disclosure.
    assert w.rails.client.post("/api/v1/sandbox/public/pilots/pilot-1/comments", json=comment).status_code == 409

    assert w.move("pilot-1", "testing", "cq-bank").json()["status"] == "testing"
    # An extension keeps it testing, to a later end date.
    # An extension is an exit of the test period with a later end date: the pilot goes on settling to it.
    assert w.move("pilot-1", "exited", "pboc", outcome="extended").status_code == 409  # no later end date
    later = {**narrower, "ends_on": "2027-12-31"}
    extended = w.move("pilot-1", "exited", "pboc", outcome="extended", boundaries=later)
    assert extended.status_code == 200, extended.text
    assert (extended.json()["status"], extended.json()["outcome"]) == ("exited", "extended")
    assert extended.json()["boundaries"]["ends_on"] == "2027-12-31"
    done = w.move("pilot-1", "exited", "mas", outcome="graduated").json()
    assert done["status"] == "exited" and done["outcome"] == "graduated" and done["cause"] is None
    # Every step is in the dated history, with who made it and why.
    history = [(h["from_status"], h["to_status"], h["actor"]) for h in done["history"]]
    assert history == [
        (None, "draft", "cq-tech"),
        ("draft", "submitted", "cq-tech"),
        ("submitted", "preliminary_review", "cn-pboc-cq"),
        ("preliminary_review", "evaluation", "sg-mas"),
        ("evaluation", "public_disclosure", "sg-mas"),
        ("public_disclosure", "admitted", "cn-pboc-cq"),
        ("admitted", "testing", "cq-bank"),
        ("testing", "exited", "cn-pboc-cq"),
        ("exited", "exited", "sg-mas"),
    ]
    assert all(h["reason"] for h in done["history"])
    assert w.move("pilot-1", "exited", "pboc", outcome="extended").status_code == 409  # graduated: final

    # The journal holds every decision: the auditor checks each against its leaf.
    assert journal.lookup(w.rails.db, "pilot-1")
    key_dir = tmp_path / "keys"
    for node in NODES:
        keys.generate(key_dir, node)
    journal.make_head(w.rails.db)
    for node in NODES:
        journal.sign_heads(w.rails.db, node, keys.load_private(key_dir, node))  # type: ignore[arg-type]
    report = audit.verify(w.rails.db, keys.public_keys(key_dir))
    assert report.ok, [str(f) for f in report.findings]


def test_each_move_is_made_by_its_side_from_its_state(world: World) -> None:
    w = world
    assert w.post("/pilots", application(cross_border=False), "cq-tech").status_code == 201
    # A regulator cannot submit for the applicants; applicants cannot review themselves.
    assert w.move("pilot-1", "submitted", "pboc").status_code == 403
    assert w.move("pilot-1", "preliminary_review", "cq-tech").status_code == 409  # not a move from draft
    assert w.move("pilot-1", "submitted", "cq-tech").status_code == 200
    r = w.move("pilot-1", "preliminary_review", "cq-tech")
    assert r.status_code == 403 and "regulator" in r.json()["detail"]
    # MAS is not this domestic pilot's regulator; a viewer moves nothing; a skipped stage is a conflict.
    assert w.move("pilot-1", "preliminary_review", "mas").status_code == 403
    assert w.move("pilot-1", "preliminary_review", "viewer").status_code == 403
    r = w.move("pilot-1", "public_disclosure", "pboc", scores=SCORES)
    assert r.status_code == 409 and "cannot go from submitted to public_disclosure" in r.json()["detail"]
    # An unbound regulator token decides for the PBoC Chongqing office on a domestic pilot.
    assert w.move("pilot-1", "preliminary_review", "regulator").status_code == 200
    # Returned to the applicants, changed, resubmitted.
    assert w.move("pilot-1", "draft", "pboc").json()["status"] == "draft"
    changed = {k: v for k, v in application(cross_border=False).items() if k != "id"}
    changed["functions"] = "SMEs pay suppliers in Singapore, now with invoice matching"
    r = w.rails.client.put("/api/v1/sandbox/pilots/pilot-1/application", json=changed, headers=w.tokens["cq-tech"])
    assert r.status_code == 200 and r.json()["application"]["functions"].endswith("invoice matching")
    assert w.move("pilot-1", "submitted", "cq-tech").status_code == 200
    assert w.move("pilot-1", "preliminary_review", "pboc").status_code == 200
    assert w.move("pilot-1", "evaluation", "pboc").status_code == 200
    # Disclosure needs the four scores, each 1-5.
    r = w.move("pilot-1", "public_disclosure", "pboc")
    assert r.status_code == 409 and "scores the four criteria" in r.json()["detail"]
    r = w.move("pilot-1", "public_disclosure", "pboc", scores={**SCORES, "controllable_risk": 9})
    assert r.status_code == 422
    assert w.move("pilot-1", "public_disclosure", "pboc", scores=SCORES).json()["status"] == "public_disclosure"
    # Graduation is for a testing pilot; the applicants withdraw only with cause voluntary.
    assert w.move("pilot-1", "exited", "pboc", outcome="graduated").status_code == 409
    assert w.move("pilot-1", "exited", "cq-tech", outcome="discontinued", cause="breach").status_code == 403
    r = w.move("pilot-1", "exited", "cq-tech", outcome="discontinued", cause="voluntary")
    assert r.status_code == 200 and (r.json()["outcome"], r.json()["cause"]) == ("discontinued", "voluntary")


def test_bad_applications_and_requests_get_precise_errors(world: World) -> None:
    w = world
    incomplete = {
        **application(),
        "risk_controls": "",
        "institutions": [{"org_id": "cq-tech", "role": "technology_firm"}],
    }
    assert w.post("/pilots", incomplete, "cq-tech").status_code == 201  # a draft may be incomplete
    r = w.move("pilot-1", "submitted", "cq-tech")
    assert r.status_code == 422
    fields = {e["field"] for e in r.json()["errors"]}
    assert {"risk_controls", "institutions"} <= fields
    # A participant applies only as one of the institutions; the roles must match the registry's kinds.
    assert w.post("/pilots", application("pilot-2"), "sg-bank").status_code == 403
    wrong = application("pilot-3")
    wrong["institutions"][0]["org_id"] = "sg-bank"
    r = w.post("/pilots", wrong, "operator")
    assert r.status_code == 422 and "registered as financial_institution" in r.text
    unknown = application("pilot-4")
    unknown["institutions"][1]["org_id"] = "no-such-bank"
    assert w.post("/pilots", unknown, "operator").status_code == 422
    assert w.post("/pilots", application(), "cq-tech").status_code == 409  # the id is taken
    assert w.post("/pilots", {**application("pilot-5"), "colour": "red"}, "cq-tech").status_code == 422
    assert w.post("/pilots", {**application("bad id!")}, "cq-tech").status_code == 422
    r = w.post("/pilots", application("pilot-6", per_payment={"CNY": -5}), "cq-tech")
    assert r.status_code == 422
    r = w.post("/pilots/pilot-1/transitions", {"to": "submitted"}, "cq-tech")
    assert r.status_code == 422  # no reason
    assert w.move("no-such-pilot", "submitted", "cq-tech").status_code == 404
    r = w.rails.client.post(
        "/api/v1/sandbox/pilots",
        content=b'{"id": "x", ',
        headers={**w.tokens["cq-tech"], "content-type": "application/json"},
    )
    assert r.status_code in (400, 422) and r.headers["content-type"].startswith("application/problem+json")


def test_comments_are_limited_in_size_and_rate(world: World) -> None:
    w = world
    admit_to_disclosure(w)
    url = "/api/v1/sandbox/public/pilots/pilot-1/comments"
    assert w.rails.client.post(url, json={"body": "x" * 2001}).status_code == 422
    assert w.rails.client.post(url, json={"body": "   "}).status_code == 422
    # Five posts per address per ten minutes, the refused blank one among them (the oversized one never reached
    # the form: the body's schema refused it).
    codes = [w.rails.client.post(url, json={"body": f"comment {i}"}).status_code for i in range(6)]
    assert codes == [204] * 4 + [429] * 2
    assert len(w.get("/public/pilots/pilot-1/comments").json()) == 4


def admit_to_disclosure(w: World) -> None:
    assert w.post("/pilots", application(cross_border=False), "cq-tech").status_code == 201
    for to, who, extra in (
        ("submitted", "cq-tech", {}),
        ("preliminary_review", "pboc", {}),
        ("evaluation", "pboc", {}),
        ("public_disclosure", "pboc", {"scores": SCORES}),
    ):
        assert w.move("pilot-1", to, who, **extra).status_code == 200


def test_admission_waits_for_the_comment_period(world: World) -> None:
    w = world
    admit_to_disclosure(w)
    w.rails.client.app.state.settings = w.rails.client.app.state.settings.model_copy(
        update={"sandbox_comment_days": 30}
    )  # type: ignore[attr-defined]
    r = w.move("pilot-1", "admitted", "pboc")
    assert r.status_code == 409 and "open for public comment until" in r.json()["detail"]


def test_a_testing_pilot_reports_its_service_level_and_figures(world: World) -> None:
    w = world
    admit(w, cross_border=False)
    m = w.get("/pilots/pilot-1/monitor", "pboc")
    assert m.status_code == 200 and m.json()["customers"] == 0 and m.json()["due"] is None
    assert w.get("/pilots/pilot-1/monitor", "sg-bank").status_code == 403
    assert w.post("/pilots/pilot-1/complaints", {"detail": "a fee was not shown"}, "cq-bank").status_code == 204
    assert w.get("/pilots/pilot-1/monitor", "pboc").json()["events"] == {"complaint": 1}


ASSESSMENT = {
    "innovation_value": {"score": 5, "note": "PvP settlement in seconds"},
    "service_quality": {"score": 4},
    "user_satisfaction": {"score": 4, "note": "survey of 120 SMEs"},
    "business_continuity": {"score": 4},
    "compliance": {"score": 5},
    "transaction_security": {"score": 5},
    "data_security": {"score": 4},
    "risk_control": {"score": 4},
    "commitments_kept": {"score": 5},
}


def test_the_exit_report_renders_in_both_languages_as_html_and_pdf(world: World) -> None:
    w = world
    admit(w, cross_border=False)
    # The assessment comes with the exit, from a regulator, in its nine dimensions.
    r = w.move("pilot-1", "exited", "pboc", outcome="graduated", assessment={"charm": {"score": 5}})
    assert r.status_code == 422
    r = w.move("pilot-1", "exited", "pboc", outcome="extended", assessment=ASSESSMENT)
    assert r.status_code == 422  # an assessment is given with an exit only
    done = w.move("pilot-1", "exited", "pboc", outcome="graduated", assessment=ASSESSMENT).json()
    assert done["assessment"]["innovation_value"] == {"score": 5, "note": "PvP settlement in seconds"}
    zh = w.get("/pilots/pilot-1/report?lang=zh", "pboc")
    assert zh.status_code == 200 and zh.headers["content-type"].startswith("text/html")
    for text in ("退出报告", "最终评估", "创新价值", "5 / 5", "PvP settlement in seconds", "测试成功", "承诺履行"):
        assert text in zh.text, text
    en = w.get("/pilots/pilot-1/report?lang=en", "cq-tech")
    assert "Exit report" in en.text and "Commitments kept" in en.text and "graduated" in en.text
    pdf = w.get("/pilots/pilot-1/report?lang=zh&format=pdf", "operator")
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF") and len(pdf.content) > 5_000
    assert "pilot-pilot-1-exit-zh.pdf" in pdf.headers["content-disposition"]
    assert w.get("/pilots/pilot-1/report", "sg-bank").status_code == 403
    assert w.get("/pilots/pilot-1/report?lang=fr", "pboc").status_code == 422
