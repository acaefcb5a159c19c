"""The zone registry's domain: organisations, their settlement pipeline, and agreements. Pure."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, datetime
from enum import StrEnum

from fintech_zone.errors import FieldError, InvalidInput
from fintech_zone.registry.identifiers import VALIDATORS
from fintech_zone.text import text_error


class Kind(StrEnum):
    ENTERPRISE = "enterprise"
    FINANCIAL_INSTITUTION = "financial_institution"
    GOVERNMENT_AGENCY = "government_agency"
    REGULATOR = "regulator"
    ASSOCIATION = "association"
    SERVICE_BODY = "service_body"


class Sector(StrEnum):
    """The zone's sector taxonomy (docs/registry.md explains each)."""

    PAYMENTS = "payments"
    DIGITAL_CURRENCY = "digital_currency"
    BLOCKCHAIN = "blockchain"
    LENDING = "lending"
    WEALTH = "wealth"
    INSURTECH = "insurtech"
    REGTECH = "regtech"
    DATA_AI = "data_ai"
    INFRASTRUCTURE = "infrastructure"
    OTHER = "other"


class Status(StrEnum):
    """The settlement pipeline, in its forward order."""

    PROSPECT = "prospect"
    NEGOTIATING = "negotiating"
    AGREEMENT_SIGNED = "agreement_signed"
    SETTLED = "settled"
    EXITED = "exited"


PIPELINE: tuple[Status, ...] = tuple(Status)

# ISO 3166-1 alpha-2: China and Singapore are first-class; the other ASEAN members may settle too.
FIRST_CLASS_JURISDICTIONS = ("CN", "SG")
ASEAN_MEMBERS = ("BN", "KH", "ID", "LA", "MY", "MM", "PH", "SG", "TH", "VN")
JURISDICTIONS: tuple[str, ...] = ("CN", "SG", *(c for c in ASEAN_MEMBERS if c != "SG"))

IDENTIFIER_FIELDS = ("uscc", "uen", "lei", "bic")
ORG_ID_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._:-]{0,63}\Z")
NAME_MAX = 300  # the widths of the name and title columns
TITLE_MAX = 500
AGREEMENT_KEY_MAX = 64


# Control characters have no place in stored text (PostgreSQL refuses NUL outright); free text may keep
# tabs and line breaks.
@dataclass(frozen=True)
class Organisation:
    id: str
    kind: Kind
    jurisdiction: str
    name_en: str
    name_zh: str
    sector: Sector
    status: Status | None  # None: not in the settlement pipeline (agencies, regulators, foreign bodies)
    uscc: str | None = None
    uen: str | None = None
    lei: str | None = None
    bic: str | None = None
    source: str | None = None
    created_at: datetime | None = None
    updated_at: datetime | None = None


@dataclass(frozen=True)
class StatusChange:
    org_id: str
    from_status: Status | None
    to_status: Status | None
    changed_on: date
    reason: str | None
    recorded_at: datetime | None = None


@dataclass(frozen=True)
class Agreement:
    id: str
    type: str
    title_en: str
    title_zh: str
    signed_on: date | None
    source: str | None
    party_ids: tuple[str, ...] = field(default_factory=tuple)


def normalise_identifiers(values: dict[str, str | None]) -> dict[str, str | None]:
    """Validate each present identifier with its check algorithm; returns canonical forms or raises."""
    out: dict[str, str | None] = {}
    errors: list[FieldError] = []
    for name in IDENTIFIER_FIELDS:
        raw = values.get(name)
        if raw is None or raw.strip() == "":
            out[name] = None
            continue
        canonical, error = VALIDATORS[name](raw)
        if error is not None:
            errors.append(error)
        out[name] = canonical
    if errors:
        raise InvalidInput(errors)
    return out


def check_organisation_fields(org_id: str, jurisdiction: str, name_en: str, name_zh: str) -> None:
    errors: list[FieldError] = []
    if not ORG_ID_PATTERN.match(org_id):
        errors.append(FieldError("id", "1-64 characters of [A-Za-z0-9._:-], starting with a letter or digit", "format"))
    if jurisdiction not in JURISDICTIONS:
        errors.append(
            FieldError(
                "jurisdiction",
                f"{jurisdiction!r} is not allowed: use CN, SG or another ASEAN member ({', '.join(JURISDICTIONS)})",
                "allowed_values",
            )
        )
    for name, value in (("name_en", name_en), ("name_zh", name_zh)):
        if not value.strip():
            errors.append(FieldError(name, "must not be blank", "required"))
        elif (error := text_error(name, value.strip(), NAME_MAX)) is not None:
            errors.append(error)
    if errors:
        raise InvalidInput(errors)


def check_transition(current: Status | None, target: Status, reason: str | None) -> None:
    """Forward moves (skipping ahead allowed) need nothing; a backward move needs a reason; standing still is an error.

    An organisation outside the pipeline (``None``) may enter it at any stage.
    """
    if reason is not None and (error := text_error("reason", reason, multiline=True)) is not None:
        raise InvalidInput([error])
    if current is None:
        return
    if target == current:
        raise InvalidInput([FieldError("status", f"organisation is already {current.value}", "same_status")])
    backwards = PIPELINE.index(target) < PIPELINE.index(current)
    if backwards and not (reason and reason.strip()):
        raise InvalidInput(
            [
                FieldError(
                    "reason",
                    f"moving back from {current.value} to {target.value} requires a reason",
                    "reason_required",
                )
            ]
        )


def status_as_of(history: list[StatusChange], as_of: date) -> tuple[bool, Status | None]:
    """Whether the organisation was registered on ``as_of``, and its pipeline status then."""
    registered = False
    current: Status | None = None
    for change in history:  # the store returns history in date order
        if change.changed_on <= as_of:
            registered = True
            current = change.to_status
    return registered, current


@dataclass(frozen=True)
class NewOrganisation:
    """Raw input for an organisation, as it arrives from the API, the CLI or a CSV row."""

    id: str
    kind: str
    jurisdiction: str
    name_en: str
    name_zh: str
    sector: str
    status: str | None = Status.PROSPECT.value
    uscc: str | None = None
    uen: str | None = None
    lei: str | None = None
    bic: str | None = None
    source: str | None = None


def _enum_error(field_name: str, value: str, enum: type[StrEnum]) -> FieldError:
    allowed = ", ".join(m.value for m in enum)
    return FieldError(field_name, f"{value!r} is not one of: {allowed}", "allowed_values")


_KINDS: dict[str, Kind] = {m.value: m for m in Kind}
_SECTORS: dict[str, Sector] = {m.value: m for m in Sector}
_STATUSES: dict[str, Status] = {m.value: m for m in Status}
_JURISDICTION_SET = frozenset(JURISDICTIONS)
_VALIDATE_USCC, _VALIDATE_UEN, _VALIDATE_LEI, _VALIDATE_BIC = (VALIDATORS[n] for n in IDENTIFIER_FIELDS)


def organisation_if_valid(
    org_id: str,
    kind: str,
    jurisdiction: str,
    name_en: str,
    name_zh: str,
    sector: str,
    status: str | None,
    uscc: str | None = None,
    uen: str | None = None,
    lei: str | None = None,
    bic: str | None = None,
    source: str | None = None,
) -> Organisation | None:
    """The organisation ``checked_organisation`` would return for these fields, or None if any is invalid.

    The fast path of ``build_organisation`` and of a bulk import: no exceptions and no error objects on the way
    (``checked_organisation`` words the errors of what this refuses). It accepts only what
    ``checked_organisation`` accepts, with the same result; tests/registry/test_model.py compares the two.
    """
    jurisdiction = jurisdiction.strip().upper()
    kind_member = _KINDS.get(kind)
    sector_member = _SECTORS.get(sector)
    status_member = _STATUSES.get(status) if status is not None else None
    name_en, name_zh = name_en.strip(), name_zh.strip()
    if (
        kind_member is None
        or sector_member is None
        or (status is not None and status_member is None)
        or jurisdiction not in _JURISDICTION_SET
        or not ORG_ID_PATTERN.match(org_id)
        or not name_en
        or not name_zh
        or text_error("name_en", name_en, NAME_MAX) is not None
        or text_error("name_zh", name_zh, NAME_MAX) is not None
        or (source is not None and text_error("source", source, multiline=True) is not None)
    ):
        return None
    # Each identifier: absent or blank means none; otherwise its canonical form, if valid.
    if uscc is not None:
        if uscc.strip() == "":
            uscc = None
        elif (checked := _VALIDATE_USCC(uscc))[1] is None:
            uscc = checked[0]
        else:
            return None
    if uen is not None:
        if uen.strip() == "":
            uen = None
        elif (checked := _VALIDATE_UEN(uen))[1] is None:
            uen = checked[0]
        else:
            return None
    if lei is not None:
        if lei.strip() == "":
            lei = None
        elif (checked := _VALIDATE_LEI(lei))[1] is None:
            lei = checked[0]
        else:
            return None
    if bic is not None:
        if bic.strip() == "":
            bic = None
        elif (checked := _VALIDATE_BIC(bic))[1] is None:
            bic = checked[0]
        else:
            return None
    return Organisation(
        org_id,
        kind_member,
        jurisdiction,
        name_en,
        name_zh,
        sector_member,
        status_member,
        uscc,
        uen,
        lei,
        bic,
        source or None,
    )


def build_organisation(new: NewOrganisation) -> Organisation:
    """Check every field at once (so a caller sees all problems together) and return the organisation."""
    org = organisation_if_valid(
        new.id,
        new.kind,
        new.jurisdiction,
        new.name_en,
        new.name_zh,
        new.sector,
        new.status,
        new.uscc,
        new.uen,
        new.lei,
        new.bic,
        new.source,
    )
    return org if org is not None else checked_organisation(new)


def checked_organisation(new: NewOrganisation) -> Organisation:
    """``build_organisation`` without its fast path: every rule in turn, collecting every error."""
    errors: list[FieldError] = []
    jurisdiction = new.jurisdiction.strip().upper()
    try:
        check_organisation_fields(new.id, jurisdiction, new.name_en, new.name_zh)
    except InvalidInput as exc:
        errors.extend(exc.errors)
    kind: Kind | None = None
    sector: Sector | None = None
    try:
        kind = Kind(new.kind)
    except ValueError:
        errors.append(_enum_error("kind", new.kind, Kind))
    try:
        sector = Sector(new.sector)
    except ValueError:
        errors.append(_enum_error("sector", new.sector, Sector))
    status: Status | None = None
    if new.status is not None:
        try:
            status = Status(new.status)
        except ValueError:
            errors.append(_enum_error("status", new.status, Status))
    if new.source is not None and (error := text_error("source", new.source, multiline=True)) is not None:
        errors.append(error)
    identifiers: dict[str, str | None] = {}
    try:
        identifiers = normalise_identifiers({"uscc": new.uscc, "uen": new.uen, "lei": new.lei, "bic": new.bic})
    except InvalidInput as exc:
        errors.extend(exc.errors)
    if errors or kind is None or sector is None:
        raise InvalidInput(errors)
    return Organisation(
        id=new.id,
        kind=kind,
        jurisdiction=jurisdiction,
        name_en=new.name_en.strip(),
        name_zh=new.name_zh.strip(),
        sector=sector,
        status=status,
        source=(new.source or None),
        uscc=identifiers["uscc"],
        uen=identifiers["uen"],
        lei=identifiers["lei"],
        bic=identifiers["bic"],
    )


def check_agreement(agreement: Agreement) -> None:
    """Every text field of an agreement fits its column and holds no control characters."""
    errors: list[FieldError] = []
    for name, value, max_length in (
        ("id", agreement.id, AGREEMENT_KEY_MAX),
        ("type", agreement.type, AGREEMENT_KEY_MAX),
        ("title_en", agreement.title_en, TITLE_MAX),
        ("title_zh", agreement.title_zh, TITLE_MAX),
    ):
        if not value.strip():
            errors.append(FieldError(name, "must not be blank", "required"))
        elif (error := text_error(name, value, max_length)) is not None:
            errors.append(error)
    if agreement.source is not None and (error := text_error("source", agreement.source, multiline=True)):
        errors.append(error)
    if not agreement.party_ids:
        errors.append(FieldError("parties", "an agreement needs at least one party", "required"))
    errors += [e for p in agreement.party_ids if (e := text_error("parties", p)) is not None]
    if errors:
        raise InvalidInput(errors)
