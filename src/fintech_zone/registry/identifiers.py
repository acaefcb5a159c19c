"""Validation of the identifiers an organisation may carry, each with its real check algorithm.

Every failure names the check that failed (``length``, ``format``, ``component``, ``check_character`` …) so the
API can return a field-level error a person can act on. UEN, LEI and BIC use python-stdnum's implementations;
the USCC is checked here because stdnum insists the first eight characters are digits, while GB 32100 lets the
registration-authority character be ``Y`` ("other authorities").
"""

from __future__ import annotations

from collections.abc import Callable

from stdnum import bic as stdnum_bic
from stdnum import lei as stdnum_lei
from stdnum.exceptions import InvalidChecksum, InvalidComponent, InvalidFormat, InvalidLength, ValidationError
from stdnum.sg import uen as stdnum_uen

from fintech_zone.errors import FieldError

# GB 32100-2015: 31 characters (no I, O, Z, S, V) and the weights 3^(i) mod 31 of positions 1-17.
USCC_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
USCC_WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)
USCC_REGISTRATION_AUTHORITIES = frozenset("123456789ANY")


def uscc_check_character(first17: str) -> str:
    total = sum(USCC_ALPHABET.index(c) * w for c, w in zip(first17, USCC_WEIGHTS, strict=True))
    return USCC_ALPHABET[(31 - total % 31) % 31]


def validate_uscc(value: str) -> tuple[str, FieldError | None]:
    """China unified social credit code (统一社会信用代码, GB 32100-2015)."""
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


def _stdnum_check(
    field: str, label: str, compact: Callable[[str], str], validate: Callable[[str], str], checksum_name: str
) -> Callable[[str], tuple[str, FieldError | None]]:
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


validate_uen = _stdnum_check("uen", "Singapore UEN", stdnum_uen.compact, stdnum_uen.validate, "check_letter")


def _lei_validate(code: str) -> str:
    # stdnum checks only the mod 97-10 digits; ISO 17442 also fixes 20 characters ending in two digits.
    if len(code) != 20:
        raise InvalidLength()
    if not code.isalnum() or not code.isascii() or not code[-2:].isdigit():
        raise InvalidFormat()
    return stdnum_lei.validate(code)


validate_lei = _stdnum_check("lei", "LEI (ISO 17442)", stdnum_lei.compact, _lei_validate, "iso7064_mod97_10")
validate_bic = _stdnum_check("bic", "BIC (ISO 9362)", stdnum_bic.compact, stdnum_bic.validate, "structure")

VALIDATORS: dict[str, Callable[[str], tuple[str, FieldError | None]]] = {
    "uscc": validate_uscc,
    "uen": validate_uen,
    "lei": validate_lei,
    "bic": validate_bic,
}
