"""The registry's pure domain: pipeline transitions, building an organisation, agreements. No database."""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from itertools import combinations
from typing import Any

import pytest

from fintech_zone.errors import InvalidInput
from fintech_zone.registry.model import (
    PIPELINE,
    Agreement,
    Kind,
    NewOrganisation,
    Organisation,
    Sector,
    Status,
    StatusChange,
    build_organisation,
    check_agreement,
    check_transition,
    normalise_identifiers,
    status_as_of,
)

GOOD = NewOrganisation(
    id="cn-bank-1",
    kind="financial_institution",
    jurisdiction="CN",
    name_en="Bank of Chongqing",
    name_zh="重庆银行",
    sector="payments",
    uscc="91110000600037341L",
    lei="5493001KJTIIGC8Y1R12",
    bic="BKCHCNBJ",
)


def fields_of(exc: pytest.ExceptionInfo[InvalidInput]) -> dict[str, str]:
    return {e.field: e.check for e in exc.value.errors}


# --- transitions --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("current", "target"), list(combinations(PIPELINE, 2)))
def test_every_forward_move_is_allowed_including_skips(current: Status, target: Status) -> None:
    check_transition(current, target, None)  # no exception


@pytest.mark.parametrize(("target", "current"), list(combinations(PIPELINE, 2)))
@pytest.mark.parametrize("reason", [None, "", "   "])
def test_backward_move_without_a_reason_names_reason(current: Status, target: Status, reason: str | None) -> None:
    with pytest.raises(InvalidInput) as exc:
        check_transition(current, target, reason)
    assert fields_of(exc) == {"reason": "reason_required"}
    assert current.value in exc.value.detail and target.value in exc.value.detail


@pytest.mark.parametrize(("target", "current"), list(combinations(PIPELINE, 2)))
def test_backward_move_with_a_reason_is_allowed(current: Status, target: Status) -> None:
    check_transition(current, target, "agreement lapsed")


@pytest.mark.parametrize("status", list(Status))
def test_standing_still_is_an_error(status: Status) -> None:
    with pytest.raises(InvalidInput) as exc:
        check_transition(status, status, "same again")
    assert fields_of(exc) == {"status": "same_status"}


@pytest.mark.parametrize("target", list(Status))
def test_organisation_outside_the_pipeline_may_enter_at_any_stage(target: Status) -> None:
    check_transition(None, target, None)


def test_pipeline_order_is_the_settlement_order() -> None:
    assert [s.value for s in PIPELINE] == ["prospect", "negotiating", "agreement_signed", "settled", "exited"]


def test_reason_with_control_characters_is_refused() -> None:
    with pytest.raises(InvalidInput) as exc:
        check_transition(Status.SETTLED, Status.PROSPECT, "bad\x00reason")
    assert fields_of(exc) == {"reason": "control_characters"}
    check_transition(Status.SETTLED, Status.PROSPECT, "two lines\nare fine\tand tabs too")


# --- build_organisation -------------------------------------------------------------------------------------


def test_build_organisation_accepts_a_good_record_and_normalises_it() -> None:
    org = build_organisation(
        replace(GOOD, jurisdiction=" cn ", name_en="  Bank of Chongqing ", uscc=" 91110000600037341l ", uen="")
    )
    assert org.id == "cn-bank-1"
    assert org.kind is Kind.FINANCIAL_INSTITUTION
    assert org.sector is Sector.PAYMENTS
    assert org.jurisdiction == "CN"
    assert org.name_en == "Bank of Chongqing"
    assert org.uscc == "91110000600037341L"
    assert org.uen is None  # blank identifiers are absent, not empty strings
    assert org.status is Status.PROSPECT  # the default entry point of the pipeline


def test_build_organisation_collects_every_error_at_once() -> None:
    bad = NewOrganisation(
        id="-bad id",
        kind="bank",
        jurisdiction="US",
        name_en="  ",
        name_zh="",
        sector="crypto",
        status="dormant",
        uscc="91110000600037341X",
        uen="53100018A",
        lei="5493001KJTIIGC8Y1R13",
        bic="DBSSZZSGXXX",
    )
    with pytest.raises(InvalidInput) as exc:
        build_organisation(bad)
    assert fields_of(exc) == {
        "id": "format",
        "kind": "allowed_values",
        "jurisdiction": "allowed_values",
        "name_en": "required",
        "name_zh": "required",
        "sector": "allowed_values",
        "status": "allowed_values",
        "uscc": "check_character",
        "uen": "check_letter",
        "lei": "iso7064_mod97_10",
        "bic": "component",
    }
    assert len(exc.value.errors) == 11
    # The detail lists every failing field, so a CLI user sees them all in one message.
    for field in ("id", "kind", "jurisdiction", "uscc", "lei", "bic"):
        assert f"{field}:" in exc.value.detail


def test_build_organisation_reports_only_what_is_wrong() -> None:
    with pytest.raises(InvalidInput) as exc:
        build_organisation(replace(GOOD, lei="5493001KJTIIGC8Y1R13"))
    assert fields_of(exc) == {"lei": "iso7064_mod97_10"}


@pytest.mark.parametrize("jurisdiction", ["CN", "SG", "MY", "VN", "id"])
def test_china_singapore_and_asean_jurisdictions_are_allowed(jurisdiction: str) -> None:
    assert build_organisation(replace(GOOD, jurisdiction=jurisdiction)).jurisdiction == jurisdiction.upper()


@pytest.mark.parametrize("jurisdiction", ["US", "GB", "XX", "", "CHN"])
def test_other_jurisdictions_are_refused(jurisdiction: str) -> None:
    with pytest.raises(InvalidInput) as exc:
        build_organisation(replace(GOOD, jurisdiction=jurisdiction))
    assert fields_of(exc) == {"jurisdiction": "allowed_values"}


@pytest.mark.parametrize("org_id", ["a", "sg-acme_pay.1:x", "A" * 64])
def test_good_ids(org_id: str) -> None:
    assert build_organisation(replace(GOOD, id=org_id)).id == org_id


@pytest.mark.parametrize("org_id", ["", "-x", "has space", "A" * 65, "中文", "a/b", "a\x00"])
def test_bad_ids(org_id: str) -> None:
    with pytest.raises(InvalidInput) as exc:
        build_organisation(replace(GOOD, id=org_id))
    assert fields_of(exc) == {"id": "format"}


def test_status_none_keeps_the_organisation_outside_the_pipeline() -> None:
    assert build_organisation(replace(GOOD, status=None)).status is None


def test_names_must_fit_their_columns_and_hold_no_control_characters() -> None:
    with pytest.raises(InvalidInput) as exc:
        build_organisation(replace(GOOD, name_en="x" * 301, name_zh="重庆\x00银行", source="ok\x00"))
    assert fields_of(exc) == {
        "name_en": "length",
        "name_zh": "control_characters",
        "source": "control_characters",
    }
    assert build_organisation(replace(GOOD, name_en="x" * 300, source="line 1\nline 2")).name_en == "x" * 300


def test_normalise_identifiers_treats_blank_as_absent_and_collects_errors() -> None:
    assert normalise_identifiers({"uscc": " ", "lei": None}) == {
        "uscc": None,
        "uen": None,
        "lei": None,
        "bic": None,
    }
    with pytest.raises(InvalidInput) as exc:
        normalise_identifiers({"uscc": "123", "bic": "DB1SSGSG"})
    assert fields_of(exc) == {"uscc": "length", "bic": "format"}


# --- history ------------------------------------------------------------------------------------------------


def test_status_as_of_reads_the_history_in_date_order() -> None:
    history = [
        StatusChange("o", None, Status.PROSPECT, date(2024, 1, 1), "registered"),
        StatusChange("o", Status.PROSPECT, Status.SETTLED, date(2024, 6, 1), None),
        StatusChange("o", Status.SETTLED, Status.NEGOTIATING, date(2024, 9, 1), "relocating"),
    ]
    assert status_as_of(history, date(2023, 12, 31)) == (False, None)
    assert status_as_of(history, date(2024, 1, 1)) == (True, Status.PROSPECT)
    assert status_as_of(history, date(2024, 6, 1)) == (True, Status.SETTLED)
    assert status_as_of(history, date(2025, 1, 1)) == (True, Status.NEGOTIATING)


# --- agreements ---------------------------------------------------------------------------------------------

AGREEMENT = Agreement("ag-1", "settlement", "Settlement agreement", "落户协议", date(2024, 5, 1), None, ("a", "b"))


def test_a_good_agreement_passes() -> None:
    check_agreement(AGREEMENT)


def test_agreement_checks_collect_every_error() -> None:
    bad = replace(AGREEMENT, id="ag\x00", type="", title_en="t" * 501, party_ids=("a", "b\x00"))
    with pytest.raises(InvalidInput) as exc:
        check_agreement(bad)
    assert fields_of(exc) == {
        "id": "control_characters",
        "type": "required",
        "title_en": "length",
        "parties": "control_characters",
    }


def test_agreement_needs_a_party() -> None:
    with pytest.raises(InvalidInput) as exc:
        check_agreement(replace(AGREEMENT, party_ids=()))
    assert fields_of(exc) == {"parties": "required"}


def test_an_id_with_a_trailing_newline_is_refused() -> None:
    with pytest.raises(InvalidInput) as err:
        build_organisation(NewOrganisation("sg-a\n", "enterprise", "SG", "A", "甲", "payments"))
    assert [e.field for e in err.value.errors] == ["id"]


# --- build_organisation's fast path agrees with the full checks -----------------------------------------------


def _outcome(build: Any, new: NewOrganisation) -> Any:
    try:
        return build(new)
    except InvalidInput as exc:
        return exc.errors


@pytest.mark.parametrize(
    "change",
    [
        {},
        {"id": ""},
        {"id": "-x"},
        {"id": "x" * 65},
        {"id": "sg a"},
        {"kind": "bank"},
        {"kind": "Enterprise"},
        {"kind": Kind.REGULATOR},
        {"sector": "crypto"},
        {"sector": Sector.WEALTH},
        {"status": None},
        {"status": ""},
        {"status": "settled"},
        {"status": "SETTLED"},
        {"status": Status.EXITED},
        {"jurisdiction": " sg "},
        {"jurisdiction": "us"},
        {"jurisdiction": ""},
        {"name_en": "  "},
        {"name_en": " Padded "},
        {"name_en": "x" * 301},
        {"name_en": "tab\there"},
        {"name_zh": ""},
        {"name_zh": "重庆\x00银行"},
        {"source": ""},
        {"source": "two\nlines"},
        {"source": "bell\x07"},
        {"uscc": None, "lei": None, "bic": None},
        {"uscc": ""},
        {"uscc": "  "},
        {"uscc": "91110000600037341l"},
        {"uscc": " 9111 0000 6000 3734 1L "},
        {"uscc": "91110000600037341X"},
        {"uen": "53100018d"},
        {"uen": "53100018A"},
        {"lei": "5493001kjtiigc8y1r12"},
        {"lei": "5493001KJTIIGC8Y1R13"},
        {"lei": "5493-001K-JTII-GC8Y-1R12"},
        {"bic": "bkchcnbj"},
        {"bic": "BKCHZZBJ"},
        {"bic": "BKCH CN BJ"},
        {"kind": "bank", "uscc": "91110000600037341X", "name_zh": ""},
    ],
)
def test_build_organisation_gives_what_the_full_checks_give(change: dict[str, Any]) -> None:
    from fintech_zone.registry.model import checked_organisation, organisation_if_valid

    new = replace(GOOD, **change)
    expected = _outcome(checked_organisation, new)
    assert _outcome(build_organisation, new) == expected
    fast = organisation_if_valid(
        new.id, new.kind, new.jurisdiction, new.name_en, new.name_zh, new.sector, new.status,
        new.uscc, new.uen, new.lei, new.bic, new.source,
    )  # fmt: skip
    assert fast is None or fast == expected
    if isinstance(expected, Organisation) and all(isinstance(v, str) for v in (new.kind, new.sector)):
        assert fast == expected  # a valid record does not need the slow path
