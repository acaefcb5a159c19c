"""The hall's other pages, on SQLite and PostgreSQL: Chongqing fintech (the registry's growth, sectors, Singapore and
ASEAN), China–Singapore cooperation (milestones and agreements with their sources), key projects and pilots (public
statements only), the live corridor (the settled flows without party data, the per-second figure, the feed) and
trust (the latest co-signed head); the kiosk and its slides; bad query input answered, never a 500."""

from __future__ import annotations

import asyncio
import json
import re
from datetime import UTC, date, datetime, timedelta

import pytest

from fintech_zone.journal import keys
from fintech_zone.journal import service as journal
from fintech_zone.progress import service as progress
from fintech_zone.progress.model import FuzzyDate, Milestone, Source
from fintech_zone.registry import service as registry
from fintech_zone.registry.model import Agreement, NewOrganisation, Status
from fintech_zone.showcase import corridor
from fintech_zone.showcase.pages import SLIDES
from fintech_zone.web.i18n import Translator
from tests.sandbox.conftest import World, admit, application
from tests.sandbox.test_rails import pay


def page(w: World, path: str, lang: str = "en") -> str:
    r = w.rails.client.get(path, params={"lang": lang})
    assert r.status_code == 200, r.text
    return str(r.text)


def text_of(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


def test_settled_growth_replays_the_status_history_month_by_month(world: World) -> None:
    db = world.rails.db
    new = NewOrganisation("sg-grow", "enterprise", "SG", "Grow Pte Ltd", "成长公司", "payments", status="negotiating")
    registry.create_organisation(db, new, since=date(2026, 1, 10))
    registry.change_status(db, "sg-grow", Status.SETTLED, date(2026, 3, 5), "moved in")
    registry.change_status(db, "sg-grow", Status.EXITED, date(2026, 5, 20), "left")
    growth = dict(registry.settled_by_month(db, date(2026, 6, 30)))
    # The rails' participants were registered today without a pipeline status: they never count as settled.
    assert [growth[m] for m in ("2026-01", "2026-02", "2026-03", "2026-04", "2026-05", "2026-06")] == [0, 0, 1, 1, 0, 0]
    assert registry.settled_by_month(db, date(2025, 12, 31)) == []


def test_chongqing_fintech_shows_the_registry_growth_sectors_and_asean(world: World) -> None:
    w = world
    db = w.rails.db
    registry.create_organisation(
        db,
        NewOrganisation("my-kl-pay", "enterprise", "MY", "KL Pay Sdn Bhd", "吉隆坡支付", "payments", status="settled"),
    )
    en = page(w, "/hall/fintech")
    assert "KL Pay Sdn Bhd" in en and "Malaysia" in en and "Singapore" in en
    data = json.loads(re.search(r'id="chart-data" type="application/json">(.*?)</script>', en, re.S).group(1))  # type: ignore[union-attr]
    assert data["growth"][-1] == [datetime.now(UTC).strftime("%Y-%m"), 1]  # the new firm, settled this month
    payments_label = Translator("en").gettext("payments")
    assert [payments_label, registry.counts(db)["sector"]["payments"]] in data["sector"]
    zh = page(w, "/hall/fintech", "zh")
    assert "吉隆坡支付" in zh and "马来西亚" in zh and "重庆金融科技" in zh


def test_cooperation_shows_every_milestone_and_agreement_with_its_source(world: World) -> None:
    w = world
    db = w.rails.db
    progress.load_seed(db)
    seeded = progress.list_milestones(db)
    en = text_of(page(w, "/hall/cooperation"))
    for m in seeded:
        assert m.title_en in en.replace("&#34;", '"').replace("&#39;", "'")
    assert "Source: zone-progress-report 二（一）" in en  # each entry names the seed's paragraph
    progress.add_milestone(
        db,
        Milestone(
            "2026-11-sandbox-pilot",
            seeded[0].line_id,
            FuzzyDate(2026, 11, 2),
            "首个跨境沙盒试点获准入",
            "The first cross-border sandbox pilot was admitted",
            Source("minutes 2026-11-02"),
        ),
    )
    registry.create_agreement(
        db,
        Agreement("agr-1", "mou", "MoU on fintech cooperation", "金融科技合作谅解备忘录", date(2026, 10, 1),
                  "press release 2026-10-01", ("cq-bank", "sg-bank")),
    )  # fmt: skip
    en = text_of(page(w, "/hall/cooperation"))
    assert "The first cross-border sandbox pilot was admitted" in en and "Source: minutes 2026-11-02" in en
    assert "MoU on fintech cooperation" in en and "Source: press release 2026-10-01" in en
    # In time order: the agreement of October comes before the milestone of November.
    assert en.index("MoU on fintech cooperation") < en.index("The first cross-border sandbox pilot")
    zh = text_of(page(w, "/hall/cooperation", "zh"))
    assert "首个跨境沙盒试点获准入" in zh and "金融科技合作谅解备忘录" in zh and "工作条线" in zh


def test_pilots_show_disclosed_statements_only(world: World) -> None:
    w = world
    r = w.post("/pilots", application("pilot-draft", True), "cq-tech")
    assert r.status_code == 201, r.text
    assert "No pilot has been disclosed yet." in page(w, "/hall/pilots")
    admit(w)
    en = page(w, "/hall/pilots")
    assert 'href="/sandbox/pilot-1"' in en and "Testing" in en and "pilot-draft" not in en
    assert "Monetary Authority of Singapore" in en
    assert "测试" in page(w, "/hall/pilots", "zh")


def test_the_corridor_shows_settled_flows_without_party_data(world: World) -> None:
    w = world
    admit(w)
    paid = pay(w, 123_456)
    snap = corridor.snapshot(w.rails.db)
    flow = snap.flows[0]
    assert (flow.corridor, flow.source_asset, flow.source_amount) == ("CN-SG", "CNY", 123_456)
    assert (flow.target_asset, flow.target_amount, flow.demo) == ("SGD", paid["target_amount"], False)
    assert snap.per_second > 0 and snap.today.by_asset["CNY"] >= 123_456 and snap.exponents["CNY"] == 2
    html = page(w, "/hall/corridor")
    assert "Li Ming" not in html and "6222020200112233" not in html  # the debtor's name and account stay out
    assert "123456" in html.replace(",", "")  # in the embedded snapshot the page starts from
    later = corridor.snapshot(w.rails.db, datetime.now(UTC) + timedelta(seconds=30))
    assert later.per_second == 0 and later.flows  # out of the rate window, still among the latest flows


def test_the_feed_hands_every_listener_a_snapshot_each_interval(world: World) -> None:
    feed = corridor.Feed(world.rails.db, interval=0.2)

    async def listen() -> list[str]:
        got = []
        async for data in feed.subscribe(max_seconds=1.1):
            got.append(data)
        return got

    async def main() -> list[list[str]]:
        return list(await asyncio.gather(listen(), listen(), listen()))

    results = asyncio.run(main())
    assert all(len(r) >= 4 for r in results), [len(r) for r in results]  # ~5 each in 1.1 s at 0.2 s
    assert feed.listeners == 0  # every listener gone once its stream ended
    assert json.loads(results[0][-1])["exponents"]


def test_trust_shows_the_latest_co_signed_head(world: World) -> None:
    w = world
    assert "No tree head has been signed yet." in page(w, "/hall/trust")
    settings = w.rails.client.app.state.settings  # type: ignore[attr-defined]
    for node in ("cq", "sg"):
        keys.generate(settings.journal_key_dir, node)
    admit(w)
    pay(w)
    journal.make_head(w.rails.db)
    for node in ("cq", "sg"):
        key = keys.load_private(settings.journal_key_dir, node)
        assert key is not None
        journal.sign_heads(w.rails.db, node, key)
    head = journal.latest_head(w.rails.db)
    en = page(w, "/hall/trust")
    assert head.head.root_hash.hex() in en and f"<strong>{head.head.tree_size}</strong>" in en
    assert "co-signed by Chongqing and Singapore" in en and en.count("valid under the published key") == 2
    assert 'action="/journal"' in en  # the "verify a payment" form
    assert "由重庆和新加坡共同签署" in page(w, "/hall/trust", "zh")


def test_the_kiosk_shows_each_hall_page_as_a_slide(world: World) -> None:
    w = world
    shell = w.rails.client.get("/hall?kiosk=1&rotate=7&lang=zh").text
    config = json.loads(re.search(r'id="kiosk-config" type="application/json">(.*?)</script>', shell).group(1))  # type: ignore[union-attr]
    assert config["rotate"] == 7 and config["slides"] == [f"{s}?frame=1&lang=zh" for s in SLIDES]
    nav = page(w, "/hall")
    for path in SLIDES:  # the kiosk shows exactly the pages the hall's navigation offers
        assert f'<a href="{path}"' in nav
        slide = w.rails.client.get(path, params={"frame": "1", "lang": "en"}).text
        assert 'class="frame"' in slide and "data-slide=" in slide and "hall-nav" not in slide
        assert '<header class="top">' not in slide


@pytest.mark.parametrize(
    "query", ["/hall?kiosk=1&rotate=1", "/hall?kiosk=1&rotate=abc", "/hall?frame=maybe", "/hall/fintech?frame=2x"]
)
def test_bad_hall_queries_get_a_clear_error(world: World, query: str) -> None:
    r = world.rails.client.get(query)
    assert r.status_code == 422, r.text
    assert r.headers["content-type"].startswith("application/problem+json")
    assert r.json()["errors"][0]["field"] in ("rotate", "frame")
