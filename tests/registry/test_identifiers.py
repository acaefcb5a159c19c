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


# --- fast paths agree with the full checks ------------------------------------------------------------------
# Each validator accepts well-formed identifiers on a fast path and hands everything else to the full check.
# The fast path must never change an answer: same canonical form, same error (field, check and message).


def _valid_samples() -> dict[str, list[str]]:
    import random

    from stdnum.iso7064 import mod_97_10
    from stdnum.sg.uen import calc_business_check_digit, calc_local_company_check_digit, calc_other_check_digit

    from fintech_zone.registry.identifiers import USCC_ALPHABET

    rng = random.Random(17442)
    digits, letters = "0123456789", "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
    out: dict[str, list[str]] = {k: list(v) for k, v in VALID.items()}
    for _ in range(25):
        body = rng.choice("123456789ANY") + rng.choice(USCC_ALPHABET) + "".join(rng.choices(digits, k=6))
        body += "".join(rng.choices(USCC_ALPHABET, k=9))
        out["uscc"].append(body + uscc_check_character(body))
        rob = "".join(rng.choices(digits, k=8))
        roc = str(rng.randint(1900, 2025)) + "".join(rng.choices(digits, k=5))
        other = rng.choice("RST") + "".join(rng.choices(digits, k=2)) + rng.choice(["LL", "FC", "CS", "PA", "XL"])
        other += "".join(rng.choices(digits, k=4))
        out["uen"] += [
            rob + calc_business_check_digit(rob),
            roc + calc_local_company_check_digit(roc),
            other + calc_other_check_digit(other),
        ]
        lei = "".join(rng.choices(digits + letters, k=18))
        out["lei"].append(lei + mod_97_10.calc_check_digits(lei))
        bic = "".join(rng.choices(letters, k=4)) + rng.choice(["SG", "CN", "MY", "US", "ZZ", "XK"])
        bic += "".join(rng.choices(digits + letters, k=rng.choice([2, 5])))
        out["bic"].append(bic)
    return out


def _variants(value: str) -> list[str]:
    """The value, and every single-character corruption of it a person or a spreadsheet might make."""
    swaps = "0179AIOSVZYTRxyz -\uff10\u00a0`'."
    out = [value, value.lower(), f" {value} ", value[:-1], value + "0", value[1:], value[:4] + " " + value[4:]]
    for i in range(len(value)):
        out += [value[:i] + c + value[i + 1 :] for c in swaps]
    return out


@pytest.mark.parametrize("field", ["uscc", "uen", "lei", "bic"])
def test_fast_paths_give_the_full_checks_answers(field: str) -> None:
    from fintech_zone.registry.identifiers import FULL_VALIDATORS

    samples = _valid_samples()[field]
    accepted = 0
    for valid in samples:
        for value in _variants(valid):
            fast, full = VALIDATORS[field](value), FULL_VALIDATORS[field](value)
            assert fast == full, value
            accepted += full[1] is None
    assert accepted >= len(samples)  # the valid ones, at least, were accepted by both


def test_uen_fast_path_keeps_the_year_rules() -> None:
    from datetime import date

    from stdnum.sg.uen import calc_local_company_check_digit, calc_other_check_digit

    from fintech_zone.registry.identifiers import FULL_VALIDATORS

    next_year = date.today().year + 1
    roc = f"{next_year}12345"
    other = f"T{next_year % 100:02d}LL1234"
    for value in (roc + calc_local_company_check_digit(roc), other + calc_other_check_digit(other)):
        assert VALIDATORS["uen"](value) == FULL_VALIDATORS["uen"](value)
        assert VALIDATORS["uen"](value)[1] is not None


def test_uscc_check_character_refuses_characters_outside_the_code_set() -> None:
    with pytest.raises(ValueError):
        uscc_check_character("9111000060003734I")
