"""Name screening: cross-script matching, legal forms, near names, thresholds, short names, list files, reasons.

Expected scores are worked out by hand from the scorer's rule — fuzz.ratio, i.e. 100 · (1 − Indel distance /
(len a + len b)), on the sorted-token form and on the compact form, keeping the higher — not read off the code.
"""

from __future__ import annotations

import math
from importlib import resources
from pathlib import Path

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from fintech_zone.payments.screening import (
    Decision,
    ListEntry,
    Screener,
    ScreeningList,
    ScreeningListError,
    load_list,
    name_variants,
)

SOURCE = "test list 2025-01"


def entry(entry_id: str, name: str, *aliases: str, kind: str = "individual") -> ListEntry:
    return ListEntry(entry_id, name, aliases, kind, SOURCE)


# Listed in one script only and without aliases, so every cross-script match below is the normalisation's doing.
LIST = ScreeningList(
    [
        entry("T-1", "张伟"),
        entry("T-2", "王小明"),
        entry("T-3", "曾小红"),  # 曾 reads "ceng" in words, "Zeng" as a surname
        entry("T-4", "Shan Lihua"),  # 单丽华: 单 reads "dan" in words, "Shan" as a surname
        entry("T-5", "吕志强"),  # lü: Lü, Lu, Lv (keyboards), Lyu (passports)
        entry("T-6", "Acme Trading Co., Ltd.", kind="entity"),
        entry("T-7", "艾克米贸易有限公司", kind="entity"),
        entry("T-8", "Lion Harbour Pte. Ltd.", kind="entity"),
        entry("T-9", "Wu"),
        entry("T-10", "Lin"),
        entry("T-11", "Liu Na"),
    ],
    origin="test",
)
SCREENER = Screener(LIST)


@pytest.mark.parametrize(
    "name",
    [
        "张伟",
        "張偉",  # traditional characters
        "Zhāng Wěi",  # pinyin with tone marks
        "zhang wei",
        "ZHANG  WEI",
        "ZHANGWEI",  # compact
        "Wei Zhang",  # English order
        "WEI, Zhang",
        "ＺＨＡＮＧ　ＷＥＩ",  # full-width letters and ideographic space from a Chinese keyboard
    ],
)
def test_one_name_in_every_script_and_order_is_rejected(name: str) -> None:
    result = SCREENER.screen(name)
    assert result.decision is Decision.REJECT
    assert result.score == 100.0
    assert result.entry_id == "T-1"
    assert result.matched_name == "张伟"


@pytest.mark.parametrize("name", ["Xiaoming Wang", "Wang Xiaoming", "Xiao-Ming Wang", "WANG Xiao Ming", "wangxiaoming"])
def test_syllable_split_and_word_order_differ_at_once(name: str) -> None:
    # "Xiaoming Wang" against 王小明 (wang xiao ming) differs in both split and order: neither form alone matches
    # unless the listed compact form is stored in every rotation of its syllables.
    result = SCREENER.screen(name)
    assert (result.decision, result.score, result.entry_id) == (Decision.REJECT, 100.0, "T-2")


@pytest.mark.parametrize(
    ("name", "entry_id"),
    [
        ("Zeng Xiaohong", "T-3"),  # listed in Han, screened romanised
        ("曾小红", "T-3"),
        ("单丽华", "T-4"),  # listed romanised, screened in Han
        ("Lü Zhiqiang", "T-5"),
        ("Lu Zhiqiang", "T-5"),
        ("Lv Zhiqiang", "T-5"),
        ("LYU Zhiqiang", "T-5"),
    ],
)
def test_surname_readings_and_u_umlaut_spellings(name: str, entry_id: str) -> None:
    result = SCREENER.screen(name)
    assert (result.decision, result.score, result.entry_id) == (Decision.REJECT, 100.0, entry_id)


def test_surname_variant_is_only_for_the_leading_character() -> None:
    assert name_variants("曾小红") == [["ceng", "xiao", "hong"], ["zeng", "xiao", "hong"]]
    assert name_variants("小曾") == [["xiao", "ceng"]]
    assert name_variants("张伟") == [["zhang", "wei"]]


@pytest.mark.parametrize(
    ("name", "entry_id"),
    [
        ("ACME TRADING LIMITED", "T-6"),
        ("Acme Trading Pte Ltd", "T-6"),
        ("Acme Trading Company", "T-6"),
        ("艾克米贸易", "T-7"),
        ("艾克米贸易股份有限公司", "T-7"),
        ("Lion Harbour Private Limited", "T-8"),
        ("LION HARBOUR", "T-8"),
    ],
)
def test_legal_forms_do_not_count(name: str, entry_id: str) -> None:
    result = SCREENER.screen(name)
    assert (result.decision, result.score, result.entry_id) == (Decision.REJECT, 100.0, entry_id)


def test_legal_form_words_stay_where_they_are_a_name() -> None:
    assert name_variants("Co Wei") == [["co", "wei"]]  # Co is a surname; a legal form never starts a name
    assert name_variants("Limited") == [["limited"]]
    assert name_variants("有限公司") == [["you", "xian", "gong", "si"]]


def test_a_namesake_one_letter_off_is_reviewed_not_rejected() -> None:
    # "wei zhang" vs "wen zhang": one substitution = Indel distance 2 over 18 characters → 88.9;
    # compact "zhangwei" vs "zhangwen": 2 over 16 → 87.5. Higher: 88.9, between 85 and 95.
    result = SCREENER.screen("Zhang Wen")
    assert result.decision is Decision.REVIEW
    assert result.score == 88.9
    assert result.entry_id == "T-1"
    assert result.matched_form == "tokens"


@pytest.mark.parametrize(
    "name",
    [
        "Chen Wei",  # shares the given name with 张伟
        "Li Wei",
        "Zhang Weiming",  # compact "zhangweiming" vs "zhangwei": 4 over 20 → 80
        "Acme Travel Ltd",
        "Bluewater Analytics Pte Ltd",
        "Tan Ah Kow",
    ],
)
def test_different_names_clear(name: str) -> None:
    result = SCREENER.screen(name)
    assert result.decision is Decision.CLEAR
    assert result.score < 85
    assert result.hits == ()


def test_short_names_only_match_exactly() -> None:
    lenient = Screener(LIST, review_threshold=50, reject_threshold=60)
    # "li" is 80 % like "lin" and "liuna" is far off; fuzzy matching at 50 would review both — short names don't.
    result = lenient.screen("Li")
    assert result.decision is Decision.CLEAR
    assert result.best is None
    assert "too short" in result.reason
    for name in ("Wu", "吴", "W.U."):
        result = lenient.screen(name)
        assert (result.decision, result.entry_id, result.matched_form) == (Decision.REJECT, "T-9", "exact")
    # A longer name is never scored against a listed short one.
    assert SCREENER.screen("Wu Lin").entry_id != "T-9"


@pytest.mark.parametrize("name", ["", "   ", "---", "(.)"])
def test_a_name_without_letters_is_the_callers_problem(name: str) -> None:
    with pytest.raises(ValueError, match="no letters or digits"):
        SCREENER.screen(name)


@pytest.mark.parametrize(
    ("review", "reject"), [(90, 80), (-1, 50), (50, 101), (math.nan, 95), (85, math.nan), (math.inf, math.inf)]
)
def test_thresholds_are_validated(review: float, reject: float) -> None:
    with pytest.raises(ValueError, match="thresholds"):
        Screener(LIST, review_threshold=review, reject_threshold=reject)


def test_thresholds_are_configurable() -> None:
    assert Screener(LIST, 90, 95).screen("Zhang Wen").decision is Decision.CLEAR  # 88.9 < 90
    assert Screener(LIST, 80, 88).screen("Zhang Wen").decision is Decision.REJECT  # 88.9 ≥ 88
    assert Screener(LIST, 88.9, 88.9).screen("Zhang Wen").decision is Decision.REJECT  # bounds are inclusive
    assert Screener(LIST, 0, 100).screen("Bluewater Analytics").decision is Decision.REVIEW


def test_reasons_and_evidence() -> None:
    reject = SCREENER.screen("Zhang Wei")
    assert reject.reason == f"'Zhang Wei' matches listed '张伟' (entry T-1, source {SOURCE}) at 100.0 ≥ 95"
    assert reject.normalised == "zhang wei"
    assert (reject.review_threshold, reject.reject_threshold) == (85.0, 95.0)
    assert reject.list_digest == LIST.digest
    assert reject.best is not None and not reject.best.alias
    assert [m.entry.id for m in reject.hits] == ["T-1"]

    review = SCREENER.screen("Zhang Wen")
    assert review.reason == (
        f"'Zhang Wen' resembles listed '张伟' (entry T-1, source {SOURCE}) at 88.9 ≥ 85 (review), < 95 (reject)"
    )
    clear = SCREENER.screen("Bluewater Analytics")
    assert clear.reason.startswith("'Bluewater Analytics': no listed name scores ≥ 85; closest is ")
    assert clear.best is not None and f"(entry {clear.best.entry.id}) at {clear.best.score:.1f}" in clear.reason


def test_an_alias_match_names_the_alias_and_namesakes_are_all_hits() -> None:
    screening_list = ScreeningList(
        [
            entry("A-1", "Lim Boon Keng Demo", "林文庆示范"),
            entry("A-2", "Other Person"),
            entry("A-3", "林文庆示范"),  # a namesake on the same list: both are evidence for the reviewer
        ]
    )
    result = Screener(screening_list).screen("Lin Wenqing Shifan")
    assert (result.entry_id, result.matched_name, result.best and result.best.alias) == ("A-1", "林文庆示范", True)
    assert [m.entry.id for m in result.hits] == ["A-1", "A-3"]  # equal scores keep list order


def test_screen_parties_takes_the_stricter_and_keeps_both() -> None:
    both = SCREENER.screen_parties("Bluewater Analytics", "Zhang Wei")
    assert (both.decision, both.deciding) == (Decision.REJECT, "creditor")
    assert both.debtor.decision is Decision.CLEAR
    assert both.creditor.entry_id == "T-1"
    assert both.reason == "creditor: " + both.creditor.reason

    review = SCREENER.screen_parties("Zhang Wen", "Bluewater Analytics")
    assert (review.decision, review.deciding) == (Decision.REVIEW, "debtor")
    tie = SCREENER.screen_parties("Zhang Wei", "张伟")
    assert (tie.decision, tie.deciding) == (Decision.REJECT, "debtor")


def test_a_screener_searches_a_name_once_and_a_new_screener_afresh(monkeypatch: pytest.MonkeyPatch) -> None:
    searched: list[str] = []
    search = ScreeningList._search

    def counting(self: ScreeningList, form: str, query: str, cutoff: float) -> list[tuple[float, list[object]]]:
        searched.append(query)
        return search(self, form, query, cutoff)  # type: ignore[arg-type,return-value]

    monkeypatch.setattr(ScreeningList, "_search", counting)
    screener = Screener(LIST)
    first = screener.screen("Zhang Wen")
    once = len(searched)
    assert once > 0 and first.decision is Decision.REVIEW
    assert screener.screen_parties("Zhang Wen", "Zhang Wen").debtor is first
    assert len(searched) == once  # remembered: the same result, no search

    # Another list or other thresholds: another screener, which searches again and decides by its own thresholds.
    stricter = Screener(LIST, review_threshold=99, reject_threshold=100)
    assert stricter.screen("Zhang Wen").decision is Decision.CLEAR
    assert len(searched) == 2 * once
    # A name that cannot be screened is refused every time, not remembered as a result.
    for _ in range(2):
        with pytest.raises(ValueError, match="no letters or digits"):
            screener.screen("--")


# --- list files ---------------------------------------------------------------------------------------------------

HEADER = "id,name,aliases,kind,source\n"


def write(tmp_path: Path, content: str | bytes) -> Path:
    path = tmp_path / "list.csv"
    if isinstance(content, str):
        path.write_text(content, encoding="utf-8", newline="")
    else:
        path.write_bytes(content)
    return path


@pytest.mark.parametrize(
    ("content", "line", "problem"),
    [
        ("", 1, "no header"),
        ("id,name,aliases,kind\nX,Zhang Wei,,individual\n", 1, "missing column(s) source"),
        ("id,name,source\n", 1, "missing column(s) aliases, kind"),
        ("id,name,aliases,kind,source,name\n", 1, "appears twice"),
        (HEADER + "X-1,Zhang Wei,,individual,L\nX-2,,,individual,L\n", 3, "empty name"),
        (HEADER + "X-1,Zhang Wei,,individual,L\n \t,Li Na,,individual,L\n", 3, "empty id"),
        (HEADER + "X-1,Zhang Wei,,individual,\n", 2, "empty source"),
        (HEADER + "X-1,Zhang Wei,,individual\n", 2, "expected 5 fields, got 4"),
        (HEADER + "X-1,Zhang Wei,,individual,L\nX-2,Li Na,,individual,L\nX-1,Wang Fang,,individual,L\n", 4,
         "duplicate id 'X-1' (first on line 2)"),
        (HEADER + "X-1,Zhang Wei,,individual,L\n\nX-2,!!!,,individual,L\n", 4, "'!!!' has no letters or digits"),
        (HEADER + "X-1,Zhang Wei,Wei Zhang|--,individual,L\n", 2, "'--' has no letters or digits"),
        (HEADER + 'X-1,Zhang Wei,"Wei\nZhang",individual,L\n', 2, "control character in aliases"),
        (HEADER + 'X-1,Zhang Wei,"Wei Zhang,individual,L\n', 2, "not valid CSV"),
        (HEADER + 'X-1,Zhang Wei,,individual,L\nX-2,Li Na,"Na" Li,individual,L\n', 3, "not valid CSV"),
        (HEADER + "X-1,Zhang\x00Wei,,individual,L\n", 2, "control character in name"),
        (HEADER, None, "no entries"),
    ],
)  # fmt: skip
def test_malformed_list_files_name_the_line(tmp_path: Path, content: str, line: int | None, problem: str) -> None:
    path = write(tmp_path, content)
    with pytest.raises(ScreeningListError) as caught:
        load_list(path)
    assert caught.value.line == line
    assert problem in caught.value.problem
    assert str(caught.value).startswith(f"{path}, line {line}: " if line else f"{path}: ")


def test_bad_encoding_names_the_line(tmp_path: Path) -> None:
    data = (HEADER + "X-1,Zhang Wei,,individual,L\n").encode() + "X-2,张伟,,individual,L\n".encode("gb18030")
    with pytest.raises(ScreeningListError, match=r"line 3: not UTF-8") as caught:
        load_list(write(tmp_path, data))
    assert isinstance(caught.value, ValueError)


def test_bom_crlf_blank_lines_and_extra_columns_are_accepted(tmp_path: Path) -> None:
    text = "\ufeffid,name,aliases,kind,source,notes\r\nX-1, 张伟 ,Zhang Wei| Wei Zhang |,individual,L,\r\n\r\n"
    screening_list = load_list(write(tmp_path, text))
    assert screening_list.entries == (ListEntry("X-1", "张伟", ("Zhang Wei", "Wei Zhang"), "individual", "L"),)
    # The digest is the content's, not the bytes': the same entry written plainly gives the same digest.
    plain = load_list(write(tmp_path, HEADER + "X-1,张伟,Zhang Wei|Wei Zhang,individual,L\n"))
    assert plain.digest == screening_list.digest


def test_the_demo_list_loads_and_says_it_is_a_demo() -> None:
    with resources.as_file(resources.files("fintech_zone.payments") / "data" / "screening-demo.csv") as path:
        demo = load_list(path)
    assert len(demo) >= 20
    assert {e.source for e in demo.entries} == {"DEMO list — fictitious names, not a real sanctions list"}
    assert {e.kind for e in demo.entries} == {"individual", "entity"}
    screener = Screener(demo)
    for listed_entry in demo.entries:
        for listed in (listed_entry.name, *listed_entry.aliases):
            result = screener.screen(listed)
            assert (result.decision, result.score) == (Decision.REJECT, 100.0), listed
            assert listed_entry in [m.entry for m in result.hits], listed
    # Dialect romanisation (Tan, Hokkien) is not pinyin (Chen): only the listed alias bridges them.
    assert screener.screen("陈阿样本").entry_id == "DEMO-012"
    assert screener.screen("Acme Demo Trading Pte Ltd").entry_id == "DEMO-007"
    assert screener.screen("Zeng Shi Li").entry_id == "DEMO-003"
    assert screener.screen("Apple Orchard Holdings").decision is Decision.CLEAR


# --- properties ---------------------------------------------------------------------------------------------------

NAME_TEXT = st.text(
    alphabet=st.sampled_from("abcdefghijklmnopqrstuvwxyz  张伟王小明曾林陈,.-'"), min_size=1, max_size=24
)


@settings(max_examples=150, deadline=None)
@given(name=NAME_TEXT, data=st.data())
def test_screening_ignores_case_and_whitespace(name: str, data: st.DataObject) -> None:
    assume(name_variants(name))
    flipped = "".join(c.upper() if data.draw(st.booleans()) else c for c in name)
    spaced = "  \t" + flipped.replace(" ", data.draw(st.sampled_from([" ", "  ", "\t", " \u3000 "]))) + " "
    plain, other = SCREENER.screen(name), SCREENER.screen(spaced)
    assert (plain.decision, plain.score, plain.entry_id) == (other.decision, other.score, other.entry_id)


@settings(max_examples=150, deadline=None)
@given(name=NAME_TEXT)
def test_a_listed_name_always_rejects_against_its_own_list(name: str) -> None:
    assume(name_variants(name))
    screening_list = ScreeningList([entry("P-1", name), *LIST.entries])
    result = Screener(screening_list, review_threshold=99, reject_threshold=100).screen(name)
    assert (result.decision, result.score, result.entry_id) == (Decision.REJECT, 100.0, "P-1")


def test_a_replaced_list_file_is_used_once_the_check_interval_has_passed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import os

    from fintech_zone.payments import screening_config
    from fintech_zone.settings import Settings

    clock = [5000.0]
    monkeypatch.setattr(screening_config, "monotonic", lambda: clock[0])
    listed = write(tmp_path, HEADER + "X-1,Zhang Wei,,individual,L\n")
    configured = Settings(screening_list=listed)
    first = screening_config.screener_for(configured)
    assert first.screen("Zhang Wei").decision is Decision.REJECT

    listed.write_text(HEADER + "X-2,Wang Fang,,individual,L\n", encoding="utf-8")
    os.utime(listed, ns=(1, 1))  # a different modification time, however fast the file system's clock ticks
    stats: list[Path] = []
    stat = Path.stat

    def counting(self: Path, **kw: bool) -> os.stat_result:
        stats.append(self)
        return stat(self, **kw)

    monkeypatch.setattr(Path, "stat", counting)
    clock[0] += screening_config.CHECK_SECONDS / 2
    assert screening_config.screener_for(configured) is first  # within the interval: the file is not looked at
    assert stats == []
    clock[0] += screening_config.CHECK_SECONDS
    replaced = screening_config.screener_for(configured)
    assert replaced is not first and stats
    assert (replaced.screen("Zhang Wei").decision, replaced.screen("Wang Fang").decision) == (
        Decision.CLEAR,
        Decision.REJECT,
    )
