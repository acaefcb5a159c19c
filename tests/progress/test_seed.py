"""The seed document's facts: loaded idempotently, each with its source, agencies in the registry."""

from __future__ import annotations

from datetime import date

from fintech_zone.db import Database
from fintech_zone.progress import service
from fintech_zone.registry import service as registry
from fintech_zone.registry.service import OrgFilter

SEED_DATES = ["2018-03", "2018-05", "2018-07", "2019-01", "2019-05", "2019-07", "2019-12", "2019-12"]


def test_load_seed_is_idempotent(db: Database) -> None:
    first = service.load_seed(db)
    assert (first.lines, first.milestones, first.tasks) == (7, 8, 7)
    assert first.organisations >= 10
    before = registry.count_organisations(db, OrgFilter())
    second = service.load_seed(db)
    assert (second.organisations, second.lines, second.milestones, second.tasks, second.overview) == (
        0,
        0,
        0,
        0,
        0,
    )
    assert registry.count_organisations(db, OrgFilter()) == before
    assert len(service.list_milestones(db)) == 8


def test_seed_lines_follow_the_document(seeded: Database) -> None:
    lines = service.list_lines(seeded)
    progress = [li for li in lines if li.kind.value == "progress"]
    next_steps = [li for li in lines if li.kind.value == "next_step"]
    assert [li.title_zh for li in progress] == [
        "推动新加坡金融管理局积极参与",
        "开展金融科技领域相关政策研究",
        "推动中新金融科技合作示范区建设",
    ]
    assert len(next_steps) == 4
    assert next_steps[0].title_zh == "设立中新金融科技合作示范区展示厅"


def test_seed_milestones_carry_dates_figures_and_sources(seeded: Database) -> None:
    milestones = service.list_milestones(seeded, date(2019, 12, 31))
    assert [m.when.iso() for m in milestones] == SEED_DATES
    for m in milestones:
        assert m.source.ref.startswith("zone-progress-report ")
        assert m.source.quote and m.source.quote.startswith(f"{m.when.year}年{m.when.month}月")
    port = next(m for m in milestones if m.id == "2019-07-fintech-port")
    assert {f.key: f.value for f in port.figures} == {"fintech_firms_signed": 16, "institutions_signed": 6}
    research = next(m for m in milestones if m.id == "2018-07-research-commission")
    assert research.agency_ids[0] == "cn-pboc-cq"


def test_seed_agencies_become_registry_organisations(seeded: Database) -> None:
    mas = registry.get_organisation(seeded, "sg-mas")
    assert (mas.jurisdiction, mas.kind.value, mas.name_zh) == ("SG", "regulator", "新加坡金融管理局")
    assert mas.status is None  # a regulator is not a firm settling in the zone
    assert mas.source and "二（一）" in mas.source
    pboc_cq = registry.get_organisation(seeded, "cn-pboc-cq")
    assert pboc_cq.name_en == "PBoC Chongqing Operations Office"
    tasks = service.list_tasks(seeded)
    assert {t.lead_id for t in tasks} <= {
        o.id for o in registry.search_organisations(seeded, OrgFilter(), None, 100).items
    }


def test_milestone_cut_off_counts_a_month_from_its_first_day(seeded: Database) -> None:
    assert len(service.list_milestones(seeded, date(2019, 12, 31))) == 8
    assert len(service.list_milestones(seeded, date(2019, 12, 1))) == 8
    assert len(service.list_milestones(seeded, date(2019, 11, 30))) == 6
    assert len(service.list_milestones(seeded, date(2018, 3, 1))) == 1
    assert service.list_milestones(seeded, date(2018, 2, 28)) == []
