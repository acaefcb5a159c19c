"""The progress report is generated from the database, in the seed document's structure."""

from __future__ import annotations

import io
import re
import subprocess
import sys
from datetime import date
from pathlib import Path

import pytest
from pypdf import PdfReader

from fintech_zone.db import Database
from fintech_zone.progress import report, service
from fintech_zone.progress.model import FuzzyDate, Milestone, Source, TaskStatus

SEED_MONTHS_ZH = ["2018年3月", "2018年5月", "2018年7月", "2019年1月", "2019年5月", "2019年7月", "2019年12月"]
SEED_MONTHS_EN = ["Mar 2018", "May 2018", "Jul 2018", "Jan 2019", "May 2019", "Jul 2019", "Dec 2019"]


def _dated_items(md: str) -> list[str]:
    return re.findall(r"^- \*\*(.+?)\*\*", md, flags=re.MULTILINE)


@pytest.mark.parametrize(("lang", "months"), [("zh", SEED_MONTHS_ZH), ("en", SEED_MONTHS_EN)])
def test_report_as_of_seed_date_lists_exactly_the_eight_dated_events(
    seeded: Database, lang: str, months: list[str]
) -> None:
    md = report.render_markdown(service.report_facts(seeded, date(2019, 12, 31)), lang)
    items = _dated_items(md)
    assert len(items) == 8
    assert sorted(set(items), key=months.index) == months
    assert items.count(months[-1]) == 2
    assert ("16家金融科技企业" if lang == "zh" else "16 fintech companies") in md
    assert ("6家相关机构" if lang == "zh" else "6 related institutions") in md


def test_report_structure_zh(seeded: Database) -> None:
    md = report.render_markdown(service.report_facts(seeded, date(2019, 12, 31)), "zh")
    headings = re.findall(r"^##+ (.+)$", md, flags=re.MULTILINE)
    assert headings[0] == "一、项目概况"
    assert "二、项目推进情况" in headings and "三、下步重点工作" in headings
    assert "（一）推动新加坡金融管理局积极参与" in headings
    assert "（四）举办系列活动提升示范区的影响力" in headings
    assert "牵头单位" in md or "牵头" in md
    assert "来源" in md


def test_a_month_precision_milestone_of_this_month_appears_in_todays_report(seeded: Database) -> None:
    today = date.today()
    service.add_milestone(
        seeded,
        Milestone(
            id="hall-design",
            line_id="exhibition-hall",
            when=FuzzyDate(today.year, today.month),
            title_zh="展示厅设计方案通过评审。",
            title_en="The hall's design passed review.",
            source=Source("test fixture"),
        ),
    )
    assert "The hall's design passed review." in report.render_markdown(service.report_facts(seeded), "en")


def test_a_milestone_recorded_today_appears_in_the_next_report(seeded: Database) -> None:
    today = date.today()
    service.add_milestone(
        seeded,
        Milestone(
            id="hall-opened",
            line_id="exhibition-hall",
            when=FuzzyDate(today.year, today.month, today.day),
            title_zh="中新金融科技合作示范区展示厅开放。",
            title_en="The zone's exhibition hall opened.",
            source=Source("test fixture"),
            agency_ids=("cn-cq-cspab",),
        ),
    )
    current = report.render_markdown(service.report_facts(seeded), "en")
    assert "The zone's exhibition hall opened." in current
    old = report.render_markdown(service.report_facts(seeded, date(2019, 12, 31)), "en")
    assert "exhibition hall opened" not in old


def test_task_status_as_of_a_date(seeded: Database) -> None:
    service.change_task_status(seeded, "exhibition-hall", TaskStatus.IN_PROGRESS, date(2020, 6, 1))
    then = report.render_markdown(service.report_facts(seeded, date(2019, 12, 31)), "en")
    later = report.render_markdown(service.report_facts(seeded, date(2020, 6, 1)), "en")
    hall_then = next(line for line in then.splitlines() if "exhibition hall in Jiangbeizui" in line)
    hall_later = next(line for line in later.splitlines() if "exhibition hall in Jiangbeizui" in line)
    assert "Status: planned" in hall_then
    assert "Status: in progress" in hall_later or "Status: in_progress" in hall_later


def test_html_report_has_the_milestones(seeded: Database) -> None:
    html = report.render_html(service.report_facts(seeded, date(2019, 12, 31)), "zh")
    assert html.count('class="milestone"') == 8
    assert '<html lang="zh-CN">' in html


def test_pdf_report_embeds_a_cjk_font_and_has_the_text(seeded: Database) -> None:
    pdf = report.render_pdf(service.report_facts(seeded, date(2019, 12, 31)), "zh")
    reader = PdfReader(io.BytesIO(pdf))
    fonts = set()
    for page in reader.pages:
        for font in page["/Resources"]["/Font"].values():
            descriptor = font.get_object()
            fonts.add(str(descriptor["/BaseFont"]))
    assert any(re.fullmatch(r"/[A-Z]{6}\+Noto-Sans-CJK-SC.*", f) for f in fonts), fonts  # embedded subset
    text = "".join(page.extract_text() for page in reader.pages).replace("\n", "")
    assert "中新金融科技合作示范区进展情况" in text
    assert "16家金融科技企业" in text
    assert "2019年7月" in text


def test_cli_report_writes_each_format(seeded: Database, db_url: str, tmp_path: Path) -> None:
    env = {"FZ_DATABASE_URL": db_url, "PATH": "/usr/bin:/bin"}
    for fmt in ("md", "html", "pdf"):
        out = tmp_path / f"report.{fmt}"
        result = subprocess.run(
            [
                sys.executable,
                "-m",
                "fintech_zone",
                "report",
                "progress",
                "--lang",
                "en",
                "--format",
                fmt,
                "--as-of",
                "2019-12-31",
                "--output",
                str(out),
            ],
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert result.returncode == 0, result.stderr
        assert out.stat().st_size > 1000
        assert not (tmp_path / f"report.{fmt}.part").exists()
    assert "Jiangbeizui FinTech Port" in (tmp_path / "report.md").read_text()
    bad = subprocess.run(
        [sys.executable, "-m", "fintech_zone", "report", "progress", "--lang", "fr"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert bad.returncode == 2
    assert "Traceback" not in bad.stderr
