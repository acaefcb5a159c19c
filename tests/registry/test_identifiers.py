"""Identifier checks against real, published identifiers and single-character corruptions of them."""

from __future__ import annotations

import pytest

from fintech_zone.registry.identifiers import VALIDATORS, uscc_check_character

VALID = {
    # Published codes (a Beijing enterprise USCC, LEIs from GLEIF, BICs of DBS, Bank of China and OCBC, DBS Bank's
    # UEN) plus one UEN of each other format whose check letter was worked out by hand from ACRA's scheme.
    "uscc": ["91110000600037341L", "91500000202805720T", "911100001000128855"],
    "lei": ["5493001KJTIIGC8Y1R12", "54930084UKLVMY22DS16", "213800D1EI4B9WTWWD28"],
    "bic": ["DBSSSGSGXXX", "BKCHCNBJ", "BKCHCNBJ59A", "OCBCSGSG"],
    "uen": ["53100018D", "196800306E", "201912345R", "T08GB0018F"],
}


@pytest.mark.parametrize(("field", "value"), [(f, v) for f, vs in VALID.items() for v in vs])
def test_valid_identifiers_pass(field: str, value: str) -> None:
    canonical, error = VALIDATORS[field](value)
    assert error is None, error
    assert canonical == value


@pytest.mark.parametrize(
    ("field", "value", "check"),
    [
        ("uscc", "91110000600037341X", "check_character"),
        ("uscc", "91110000600037341", "length"),
        ("uscc", "9111000060003734IL", "charset"),
        ("uscc", "B1110000600037341L", "component"),
        ("uscc", "911A0000600037341L", "admin_division"),
        ("lei", "5493001KJTIIGC8Y1R13", "iso7064_mod97_10"),
        ("lei", "5493001KJTIIGC8Y1R1", "length"),
        ("bic", "DBSSZZSGXXX", "component"),
        ("bic", "DBSSSGSGXX", "length"),
        ("bic", "DB1SSGSG", "format"),
        ("uen", "53100018A", "check_letter"),
        ("uen", "196800306F", "check_letter"),
        ("uen", "5310001", "length"),
    ],
)
def test_bad_identifiers_name_the_failed_check(field: str, value: str, check: str) -> None:
    _, error = VALIDATORS[field](value)
    assert error is not None
    assert error.field == field
    assert error.check == check


def test_uscc_check_character_changes_with_any_body_character() -> None:
    body = "91110000600037341"
    assert uscc_check_character(body) == "L"
    for i in range(17):
        other = "1" if body[i] != "1" else "2"
        mutated = body[:i] + other + body[i + 1 :]
        assert uscc_check_character(mutated) != "L", i


def test_identifiers_are_canonicalised() -> None:
    canonical, error = VALIDATORS["uscc"](" 91110000600037341l ")
    assert error is None
    assert canonical == "91110000600037341L"
