"""Validation of the identifiers an organisation may carry, each with its real check algorithm.

Every failure names the check that failed (``length``, ``format``, ``component``, ``check_character`` …) so the
API can return a field-level error a person can act on. UEN, LEI and BIC use python-stdnum's implementations;
the USCC is checked here because stdnum insists the first eight characters are digits, while GB 32100 lets the
registration-authority character be ``Y`` ("other authorities").

Each check has a fast path for the common case, an identifier already in its canonical form (ASCII letters and
digits): a precompiled pattern of the whole structure and the check arithmetic with table lookups. It only ever
accepts; anything it does not accept goes through the full check, which words the error. So results and errors
are those of the full check (tests/registry/test_identifiers.py compares the two on many inputs), and a bulk
import does not pay for stdnum's generic Unicode cleaning on every row.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import datetime
from operator import mul

from stdnum import bic as stdnum_bic
from stdnum import lei as stdnum_lei
from stdnum.exceptions import InvalidChecksum, InvalidComponent, InvalidFormat, InvalidLength, ValidationError
from stdnum.sg import uen as stdnum_uen

from fintech_zone.errors import FieldError

# GB 32100-2015: 31 characters (no I, O, Z, S, V) and the weights 3^(i) mod 31 of positions 1-17.
USCC_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
USCC_WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)
USCC_REGISTRATION_AUTHORITIES = frozenset("123456789ANY")
_USCC_INDEX = {c: i for i, c in enumerate(USCC_ALPHABET)}
# Registration authority, registration type (any code-set character), six-digit division, ten code-set characters.
_USCC_WELL_FORMED = re.compile(r"[1-9ANY][0-9A-HJ-NP-RTUW-Y][0-9]{6}[0-9A-HJ-NP-RTUW-Y]{10}")


def uscc_check_character(first17: str) -> str:
    if len(first17) != 17:
        raise ValueError(f"expected the first 17 characters, got {len(first17)}")
    try:
        total = sum(map(mul, map(_USCC_INDEX.__getitem__, first17), USCC_WEIGHTS))
    except KeyError as exc:
        raise ValueError(f"{exc.args[0]!r} is not in the GB 32100 code set") from None
    return USCC_ALPHABET[(31 - total % 31) % 31]


def validate_uscc(value: str) -> tuple[str, FieldError | None]:
    """China unified social credit code (统一社会信用代码, GB 32100-2015)."""
    code = value.strip().upper().replace(" ", "")
    if _USCC_WELL_FORMED.fullmatch(code) and code[17] == uscc_check_character(code[:17]):
        return code, None
    return _full_uscc(value)


def _full_uscc(value: str) -> tuple[str, FieldError | None]:
    """Every USCC rule in turn; the first that fails is the error."""
    code = value.strip().upper().replace(" ", "")
    if len(code) != 18:
        return code, FieldError("uscc", f"must be 18 characters, got {len(code)}", "length")
    bad = sorted({c for c in code if c not in USCC_ALPHABET})
    if bad:
        return code, FieldError(
            "uscc",
            f"characters {''.join(bad)!r} are not in the GB 32100 code set (no I, O, Z, S, V)",
            "charset",
        )
    if code[0] not in USCC_REGISTRATION_AUTHORITIES:
        return code, FieldError("uscc", f"registration authority code {code[0]!r} is not defined", "component")
    if not code[2:8].isdigit():
        return code, FieldError(
            "uscc", "characters 3-8 must be the six-digit administrative division code", "admin_division"
        )
    expected = uscc_check_character(code[:17])
    if code[17] != expected:
        return code, FieldError(
            "uscc",
            f"check character is {code[17]!r} but GB 32100 mod-31 check gives {expected!r}",
            "check_character",
        )
    return code, None


def _stdnum_full(
    field: str, label: str, compact: Callable[[str], str], validate: Callable[[str], str], checksum_name: str
) -> Callable[[str], tuple[str, FieldError | None]]:
    """The full check through stdnum, with each of its failures worded as a field error."""
    messages: dict[type[ValidationError], tuple[str, str]] = {
        InvalidLength: ("length", f"{label}: wrong length"),
        InvalidFormat: ("format", f"{label}: characters do not follow the required structure"),
        InvalidComponent: (
            "component",
            f"{label}: a component (such as the country or entity type) is not valid",
        ),
        InvalidChecksum: (checksum_name, f"{label}: check digits do not match ({checksum_name})"),
    }

    def check(value: str) -> tuple[str, FieldError | None]:
        code = compact(value)
        try:
            validate(code)
        except ValidationError as exc:
            check_name, message = messages.get(type(exc), ("format", f"{label}: invalid"))
            return code, FieldError(field, message, check_name)
        return code, None

    return check


def _with_fast_path(
    full: Callable[[str], tuple[str, FieldError | None]], accepts: Callable[[str], bool]
) -> Callable[[str], tuple[str, FieldError | None]]:
    """``full``, after ``accepts``: a fast test that may only say yes where ``full`` would.

    ``accepts`` sees only values made of ASCII letters and digits, upper-cased: for those that is exactly what
    stdnum's ``compact`` returns (its cleaning maps no ASCII letter or digit), so the canonical form is the same.
    """

    def check(value: str) -> tuple[str, FieldError | None]:
        if value.isascii() and value.isalnum():
            code = value.upper()
            if accepts(code):
                return code, None
        return full(value)

    return check


# Singapore UEN (stdnum.sg.uen): business (ROB), local company (ROC) and "other entity" formats.
_UEN_BUSINESS = re.compile(r"[0-9]{8}[A-Z]")
_UEN_LOCAL_COMPANY = re.compile(r"[0-9]{9}[A-Z]")
_UEN_OTHER = re.compile(r"[RST][0-9]{2}[A-Z]{2}[0-9]{4}[0-9A-Z]")
_UEN_OTHER_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWX0123456789"
_UEN_OTHER_INDEX = {c: i for i, c in enumerate(_UEN_OTHER_ALPHABET)}
_UEN_OTHER_TYPES = frozenset(stdnum_uen.OTHER_UEN_ENTITY_TYPES)


def _uen_accepts(code: str) -> bool:
    if len(code) == 9:
        if not _UEN_BUSINESS.fullmatch(code):
            return False
        total = sum(map(mul, map(int, code[:8]), (10, 4, 9, 3, 8, 2, 7, 1)))
        return code[8] == "XMKECAWLJDB"[total % 11]
    if len(code) != 10:
        return False
    year = str(datetime.now().year)  # stdnum refuses years after the current one
    if _UEN_LOCAL_COMPANY.fullmatch(code):
        if code[:4] > year:
            return False
        total = sum(map(mul, map(int, code[:9]), (10, 8, 6, 4, 9, 7, 5, 3, 1)))
        return code[9] == "ZKCMDNERGWH"[total % 11]
    if not _UEN_OTHER.fullmatch(code) or code[3:5] not in _UEN_OTHER_TYPES:
        return False
    if code[0] == "T" and code[1:3] > year[2:]:
        return False
    total = sum(map(mul, map(_UEN_OTHER_INDEX.__getitem__, code[:9]), (4, 3, 5, 3, 10, 2, 2, 5, 7)))
    return code[9] == _UEN_OTHER_ALPHABET[(total - 5) % 11]


_full_uen = _stdnum_full("uen", "Singapore UEN", stdnum_uen.compact, stdnum_uen.validate, "check_letter")
validate_uen = _with_fast_path(_full_uen, _uen_accepts)

_LETTERS = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"

# LEI: ISO 7064 mod 97-10 over the characters read as base-36 numbers (A = 10 … Z = 35).
_LEI_WELL_FORMED = re.compile(r"[0-9A-Z]{18}[0-9]{2}")
_BASE36_DIGITS = str.maketrans({c: str(10 + i) for i, c in enumerate(_LETTERS)})


def _lei_accepts(code: str) -> bool:
    return bool(_LEI_WELL_FORMED.fullmatch(code)) and int(code.translate(_BASE36_DIGITS)) % 97 == 1


def _lei_validate(code: str) -> str:
    # stdnum checks only the mod 97-10 digits; ISO 17442 also fixes 20 characters ending in two digits.
    if len(code) != 20:
        raise InvalidLength()
    if not code.isalnum() or not code.isascii() or not code[-2:].isdigit():
        raise InvalidFormat()
    return stdnum_lei.validate(code)


_full_lei = _stdnum_full("lei", "LEI (ISO 17442)", stdnum_lei.compact, _lei_validate, "iso7064_mod97_10")
validate_lei = _with_fast_path(_full_lei, _lei_accepts)

# BIC: institution, country, location, optional branch; the country must be one stdnum knows.
_BIC_WELL_FORMED = re.compile(r"[A-Z]{4}([A-Z]{2})[0-9A-Z]{2}(?:[0-9A-Z]{3})?")
# The country codes stdnum accepts, asked through its public API once (676 pairs) rather than copied.
_BIC_COUNTRIES = frozenset(a + b for a in _LETTERS for b in _LETTERS if stdnum_bic.is_valid(f"AAAA{a}{b}AA"))


def _bic_accepts(code: str) -> bool:
    match = _BIC_WELL_FORMED.fullmatch(code)
    return match is not None and match.group(1) in _BIC_COUNTRIES


_full_bic = _stdnum_full("bic", "BIC (ISO 9362)", stdnum_bic.compact, stdnum_bic.validate, "structure")
validate_bic = _with_fast_path(_full_bic, _bic_accepts)

VALIDATORS: dict[str, Callable[[str], tuple[str, FieldError | None]]] = {
    "uscc": validate_uscc,
    "uen": validate_uen,
    "lei": validate_lei,
    "bic": validate_bic,
}
# The same checks without their fast paths: what the fast paths must agree with (the tests compare them).
FULL_VALIDATORS: dict[str, Callable[[str], tuple[str, FieldError | None]]] = {
    "uscc": _full_uscc,
    "uen": _full_uen,
    "lei": _full_lei,
    "bic": _full_bic,
}
