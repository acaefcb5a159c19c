"""The public disclosure pages, in Chinese and English, without signing in: the list, a statement with its
boundaries, scores and history, and the comment form (its thanks, its limits, its closing)."""

from __future__ import annotations

from tests.sandbox.conftest import World, admit
from tests.sandbox.test_lifecycle import admit_to_disclosure


def test_a_disclosed_statement_is_public_in_both_languages_and_takes_comments(world: World) -> None:
    w = world
    client = w.rails.client
    assert "尚无公示的试点" in client.get("/sandbox?lang=zh").text
    admit_to_disclosure(w)
    listed = client.get("/sandbox?lang=en")
    assert listed.status_code == 200 and "Cross-border e-CNY remittances for SMEs" in listed.text
    assert "Public disclosure: open for comment" in listed.text
    page = client.get("/sandbox/pilot-1?lang=zh")
    assert page.status_code == 200
    for text in (
        "声明书",
        "解决的问题",
        "Cross-border SME payments take 2-3 days",
        "普惠性",
        "4 / 5",
        "提交意见",
        "重庆账本科技有限公司",
    ):
        assert text in page.text, text
    # A comment through the form: thanked, then shown; the page keeps the language.
    sent = client.post(
        "/sandbox/pilot-1/comments?lang=zh", data={"author": "重庆某企业", "body": "很有用"}, follow_redirects=False
    )
    assert sent.status_code == 303 and sent.headers["location"].startswith("/sandbox/pilot-1?commented=1&lang=zh")
    after = client.get(sent.headers["location"])
    assert "谢谢：您的意见已记录。" in after.text and "很有用" in after.text and "重庆某企业" in after.text
    too_long = client.post("/sandbox/pilot-1/comments?lang=en", data={"body": " "})
    assert too_long.status_code == 422 and "A comment is 1 to 2,000 characters" in too_long.text
    # Nothing is published about a draft or an unknown pilot.
    assert client.get("/sandbox/no-such-pilot").status_code == 404


def test_a_running_pilot_shows_its_boundaries_and_no_form(world: World) -> None:
    w = world
    admit(w, cross_border=False)
    page = w.rails.client.get("/sandbox/pilot-1?lang=en")
    assert page.status_code == 200
    assert "Testing" in page.text and "Boundaries" in page.text and "0 / 3" in page.text
    assert (
        "<form" not in page.text.split('id="comments"')[1] and "The comment period of this pilot is over." in page.text
    )
    closed = w.rails.client.post("/sandbox/pilot-1/comments", data={"body": "late"})
    assert closed.status_code == 409


def sign_in(w: World, who: str) -> None:
    client = w.rails.client
    client.post("/logout")
    token = w.tokens[who]["Authorization"].removeprefix("Bearer ")
    assert client.post("/login", data={"token": token, "next": "/sandbox"}, follow_redirects=False).status_code == 303


def decide(w: World, to: str, who: str, **fields: str) -> None:
    sign_in(w, who)
    r = w.rails.client.post(
        "/sandbox/pilot-1/move", data={"to": to, "reason": f"{who}: {to}", **fields}, follow_redirects=False
    )
    assert r.status_code == 303, r.text[-2000:]


def test_a_pilot_from_application_to_graduation_through_the_web_pages(world: World) -> None:
    w = world
    client = w.rails.client
    sign_in(w, "cq-tech")
    assert "Apply for a pilot" in client.get("/sandbox?lang=en").text
    form = {
        "id": "pilot-1", "name": "Cross-border e-CNY remittances for SMEs", "type": "financial_service",
        "planned_go_live": "2026-12-01", "cross_border": "1", "tech_org": "cq-tech", "fi_org": "cq-bank",
        "licence": "B0206H250000001", "technology": "Tokenised deposits", "functions": "SMEs pay suppliers",
        "innovation": "PvP in seconds", "problem": "Slow, dear payments", "comparison": "Correspondent banking",
        "money_flows": "CNY to SGD via an FX provider", "risk_controls": "Limits, screening",
        "consumer_protection": "Rates shown first", "complaint_handling": "Hotline", "exit_plan": "Pay out in 5 days",
        "scenario": "Supplier payment", "success_criteria": "95 % under 10 s", "max_customers": "3", "asset": "CNY",
        "per_payment": "2000.00", "daily": "10000", "total": "50000", "corridor_CN-SG": "1",
    }  # fmt: skip
    bad = client.post("/sandbox/apply", data={**form, "per_payment": "12.345"})
    assert bad.status_code == 422 and "at most two decimals" in bad.text and 'value="pilot-1"' in bad.text
    r = client.post("/sandbox/apply", data=form, follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == "/sandbox/pilot-1"
    draft = client.get("/sandbox/pilot-1?lang=en")
    assert draft.status_code == 200 and "Record the decision" in draft.text  # the applicants' own draft
    client.post("/logout")
    assert client.get("/sandbox/pilot-1").status_code == 404  # not public yet
    requested = w.get("/pilots/pilot-1", "pboc").json()["application"]["requested"]
    assert requested["per_payment"] == {"CNY": 200_000} and requested["corridors"] == ["CN-SG"]

    decide(w, "submitted", "cq-tech")
    decide(w, "preliminary_review", "pboc")
    # The wrong side gets the page back with the reason, not a server error.
    sign_in(w, "cq-tech")
    refused = client.post("/sandbox/pilot-1/move", data={"to": "evaluation", "reason": "me"})
    assert refused.status_code == 403 and "a regulator" in refused.text
    decide(w, "evaluation", "mas")
    scores = {
        "inclusive_benefit": "4",
        "technical_innovation": "5",
        "controllable_risk": "4",
        "need_for_regulatory_support": "3",
    }
    decide(w, "public_disclosure", "pboc", **scores)
    decide(w, "public_disclosure", "mas", **scores)
    decide(w, "admitted", "pboc")
    decide(w, "admitted", "mas")
    decide(w, "testing", "cq-bank")
    sign_in(w, "mas")
    page = client.get("/sandbox/pilot-1?lang=zh")
    assert "实时数据" in page.text and "立即暂停试点" in page.text
    assert (
        client.post(
            "/sandbox/pilot-1/suspension", data={"suspended": "1", "reason": "check"}, follow_redirects=False
        ).status_code
        == 303
    )
    assert w.get("/pilots/pilot-1", "pboc").json()["suspended"] is True
    assert (
        client.post(
            "/sandbox/pilot-1/suspension", data={"suspended": "0", "reason": "ok"}, follow_redirects=False
        ).status_code
        == 303
    )
    decide(w, "exited", "pboc", outcome="extended", ends_on="2027-12-31")
    decide(w, "exited", "mas", outcome="graduated")
    done = w.get("/pilots/pilot-1", "pboc").json()
    assert (done["status"], done["outcome"], done["boundaries"]["ends_on"]) == ("exited", "graduated", "2027-12-31")
    assert len(done["history"]) == 9
