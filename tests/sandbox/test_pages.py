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
    for text in ("声明书", "解决的问题", "Cross-border SME payments take 2-3 days", "普惠性", "4 / 5", "提交意见"):
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
