"""The pilot sandbox's domain: applications, the lifecycle and who may move it, boundaries and how a payment is held
to them. Pure.

Two public models meet here. The PBoC fintech innovation regulatory pilot: a technology firm and a licensed
financial institution apply together; regulators review, score four criteria and publish a statement (声明书)
for public comment before admitting the pilot; it tests and exits with a final assessment. The MAS FinTech
Regulatory Sandbox: a well-defined space (customers, transactions) and duration, extension or exit. A
cross-border pilot is supervised by both the PBoC Chongqing office and MAS; a decision that needs both takes
effect when the second has made it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from enum import StrEnum
from typing import Any

from fintech_zone.errors import FieldError, InvalidInput

PILOT_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._:-]{0,63}\Z")
TEXT_MAX = 4000
NAME_MAX = 200


class Status(StrEnum):
    DRAFT = "draft"
    SUBMITTED = "submitted"
    PRELIMINARY_REVIEW = "preliminary_review"
    EVALUATION = "evaluation"
    PUBLIC_DISCLOSURE = "public_disclosure"
    ADMITTED = "admitted"
    TESTING = "testing"
    EXITED = "exited"


class PilotType(StrEnum):
    FINANCIAL_SERVICE = "financial_service"
    TECHNOLOGY_PRODUCT = "technology_product"


class Outcome(StrEnum):
    GRADUATED = "graduated"
    # The test period ended and was extended (MAS: an extension): the pilot settles within its boundaries to their
    # new end date, until a later exit graduates or discontinues it.
    EXTENDED = "extended"
    DISCONTINUED = "discontinued"


class Cause(StrEnum):
    """Why a pilot was discontinued."""

    PURPOSE_NOT_MET = "purpose_not_met"
    RISKS_OUTWEIGH_BENEFITS = "risks_outweigh_benefits"
    BREACH = "breach"
    VOLUNTARY = "voluntary"
    LAPSED = "lapsed"


class Criterion(StrEnum):
    """The four criteria the PBoC pilot scores an application on."""

    INCLUSIVE_BENEFIT = "inclusive_benefit"
    TECHNICAL_INNOVATION = "technical_innovation"
    CONTROLLABLE_RISK = "controllable_risk"
    NEED_FOR_REGULATORY_SUPPORT = "need_for_regulatory_support"


SCORE_RANGE = range(1, 6)  # 1 (poor) .. 5 (excellent)


class Dimension(StrEnum):
    """The final assessment of a pilot at its exit (the PBoC pilot's exit assessment)."""

    INNOVATION_VALUE = "innovation_value"
    SERVICE_QUALITY = "service_quality"
    USER_SATISFACTION = "user_satisfaction"
    BUSINESS_CONTINUITY = "business_continuity"
    COMPLIANCE = "compliance"
    TRANSACTION_SECURITY = "transaction_security"
    DATA_SECURITY = "data_security"
    RISK_CONTROL = "risk_control"
    COMMITMENTS_KEPT = "commitments_kept"


NOTE_MAX = 1000


class InstitutionRole(StrEnum):
    TECHNOLOGY_FIRM = "technology_firm"
    FINANCIAL_INSTITUTION = "financial_institution"


# The regulator of each jurisdiction's side of a pilot: registry organisations from the seed document's facts.
REGULATOR_OF = {"CN": "cn-pboc-cq", "SG": "sg-mas"}


@dataclass(frozen=True)
class Institution:
    org_id: str
    role: InstitutionRole
    licence: str | None = None  # the financial institution's licence number; USCC/LEI come from the registry


@dataclass(frozen=True)
class Scenario:
    name: str
    success_criteria: str


@dataclass(frozen=True)
class Boundaries:
    """The space a pilot may test in. Amounts are minor units per asset; None or a missing asset: no limit set."""

    max_customers: int | None = None
    per_payment: dict[str, int] = field(default_factory=dict)
    daily: dict[str, int] = field(default_factory=dict)
    total: dict[str, int] = field(default_factory=dict)
    corridors: tuple[str, ...] = ()  # payments' corridors, e.g. CN-SG; empty: none allowed
    starts_on: date | None = None
    ends_on: date | None = None


STATEMENT_FIELDS = (
    "technology",
    "functions",
    "innovation",
    "problem",
    "comparison",
    "money_flows",
    "risk_controls",
    "consumer_protection",
    "complaint_handling",
    "exit_plan",
)
"""The application's statement texts, in the order the statement shows them."""


@dataclass(frozen=True)
class Application:
    name: str
    type: PilotType
    institutions: tuple[Institution, ...]
    planned_go_live: date | None
    technology: str
    functions: str
    innovation: str
    problem: str
    comparison: str
    money_flows: str
    risk_controls: str
    consumer_protection: str
    complaint_handling: str
    exit_plan: str
    scenarios: tuple[Scenario, ...]
    requested: Boundaries
    cross_border: bool = False


@dataclass(frozen=True)
class Transition:
    at: datetime
    from_status: Status | None
    to_status: Status
    actor: str  # who: "operator", an organisation id, or "regulator"
    reason: str
    outcome: Outcome | None = None
    cause: Cause | None = None


@dataclass(frozen=True)
class Pilot:
    id: str
    application: Application
    status: Status
    boundaries: Boundaries | None  # set at admission
    regulators: tuple[str, ...]  # the regulator organisations that must decide
    created_at: datetime
    stage_since: datetime
    outcome: Outcome | None = None
    cause: Cause | None = None
    suspended: bool = False
    history: tuple[Transition, ...] = ()
    # regulator org -> criterion -> score, and the regulators that decided the pending two-regulator step
    scores: dict[str, dict[str, int]] = field(default_factory=dict)
    pending: tuple[str, ...] = ()
    demo: bool = False
    # dimension -> {"score": 1..5, "note": text}: the regulators' final assessment, given with the exit
    assessment: dict[str, dict[str, Any]] = field(default_factory=dict)


# -- validation ---------------------------------------------------------------------------------------------------


def _text(errors: list[FieldError], path: str, value: str, limit: int = TEXT_MAX, required: bool = True) -> None:
    if required and not value.strip():
        errors.append(FieldError(path, "is required", "required"))
    elif len(value) > limit:
        errors.append(FieldError(path, f"is at most {limit} characters", "length"))
    elif any(ord(c) < 32 and c not in "\t\n\r" for c in value):
        errors.append(FieldError(path, "holds control characters", "characters"))


def check_boundaries(b: Boundaries, path: str = "boundaries") -> list[FieldError]:
    errors: list[FieldError] = []
    if b.max_customers is not None and b.max_customers < 1:
        errors.append(FieldError(f"{path}.max_customers", "is at least 1", "range"))
    for name in ("per_payment", "daily", "total"):
        for asset, amount in getattr(b, name).items():
            if not re.fullmatch(r"[A-Z][A-Z0-9-]{1,15}", asset):
                errors.append(FieldError(f"{path}.{name}", f"{asset!r} is not an asset code", "asset"))
            elif not 0 < amount <= 2**63 - 1:
                errors.append(FieldError(f"{path}.{name}.{asset}", "is a positive amount in minor units", "range"))
    for c in b.corridors:
        if not re.fullmatch(r"[A-Z]{2}-[A-Z]{2}", c):
            errors.append(FieldError(f"{path}.corridors", f"{c!r} is not a corridor like CN-SG", "corridor"))
    if b.starts_on and b.ends_on and b.ends_on < b.starts_on:
        errors.append(FieldError(f"{path}.ends_on", "is before starts_on", "order"))
    return errors


def check_application(a: Application, for_submission: bool) -> None:
    """Shape and completeness. A draft may be incomplete; a submission must have every part the PBoC and MAS
    applications ask for."""
    errors: list[FieldError] = []
    _text(errors, "name", a.name, NAME_MAX)
    strict = for_submission
    for name in STATEMENT_FIELDS:
        _text(errors, name, getattr(a, name), required=strict)
    if len(a.institutions) > 10:
        errors.append(FieldError("institutions", "at most 10 institutions", "length"))
    seen: set[str] = set()
    for i, inst in enumerate(a.institutions):
        if inst.org_id in seen:
            errors.append(FieldError(f"institutions[{i}].org_id", f"{inst.org_id} is named twice", "duplicate"))
        seen.add(inst.org_id)
        if inst.licence is not None:
            _text(errors, f"institutions[{i}].licence", inst.licence, 64)
    roles = {inst.role for inst in a.institutions}
    if strict and not {InstitutionRole.TECHNOLOGY_FIRM, InstitutionRole.FINANCIAL_INSTITUTION} <= roles:
        errors.append(
            FieldError(
                "institutions",
                "a pilot is applied for jointly by at least one technology firm and one licensed financial institution",
                "joint_application",
            )
        )
    if strict:
        for i, inst in enumerate(a.institutions):
            if inst.role is InstitutionRole.FINANCIAL_INSTITUTION and not inst.licence:
                errors.append(
                    FieldError(f"institutions[{i}].licence", "a financial institution names its licence", "required")
                )
        if not a.scenarios:
            errors.append(FieldError("scenarios", "at least one test scenario with its success criteria", "required"))
        if a.planned_go_live is None:
            errors.append(FieldError("planned_go_live", "is required", "required"))
    if len(a.scenarios) > 20:
        errors.append(FieldError("scenarios", "at most 20 scenarios", "length"))
    for i, s in enumerate(a.scenarios):
        _text(errors, f"scenarios[{i}].name", s.name, NAME_MAX)
        _text(errors, f"scenarios[{i}].success_criteria", s.success_criteria)
    errors += check_boundaries(a.requested, "requested")
    if errors:
        raise InvalidInput(errors)


def regulators_for(cross_border: bool) -> tuple[str, ...]:
    """The regulators that decide: the PBoC Chongqing office always (the zone is in Chongqing), MAS as well for a
    cross-border pilot."""
    return (REGULATOR_OF["CN"], REGULATOR_OF["SG"]) if cross_border else (REGULATOR_OF["CN"],)


# -- the lifecycle ------------------------------------------------------------------------------------------------

# (from, to) -> who may make the move. Regulators' moves from evaluation on need every regulator of the pilot.
APPLICANT_MOVES = {
    (Status.DRAFT, Status.SUBMITTED),
    (Status.ADMITTED, Status.TESTING),
}
REGULATOR_MOVES = {
    (Status.SUBMITTED, Status.PRELIMINARY_REVIEW),
    (Status.PRELIMINARY_REVIEW, Status.EVALUATION),
    (Status.PRELIMINARY_REVIEW, Status.DRAFT),  # returned to the applicants with what is missing
    (Status.EVALUATION, Status.DRAFT),
    (Status.EVALUATION, Status.PUBLIC_DISCLOSURE),
    (Status.PUBLIC_DISCLOSURE, Status.ADMITTED),
    (Status.ADMITTED, Status.TESTING),
}
JOINT_MOVES = {(Status.EVALUATION, Status.PUBLIC_DISCLOSURE), (Status.PUBLIC_DISCLOSURE, Status.ADMITTED)}
"""Moves a cross-border pilot makes only once both regulators have made them."""


def move_problem(
    pilot: Pilot, to: Status, as_regulator: bool, outcome: Outcome | None, cause: Cause | None
) -> tuple[str, str] | None:
    """None when ``to`` is a move the pilot's state and the actor's side allow; otherwise (kind, why) with kind
    ``state`` (the move does not exist from here) or ``role`` (it exists, for the other side)."""
    here = pilot.status
    extended = here is Status.EXITED and pilot.outcome is Outcome.EXTENDED
    if here is Status.EXITED and not (extended and to is Status.EXITED):
        return "state", "the pilot has exited: nothing moves it any more" + (
            " but a later exit (graduated, extended again or discontinued)" if extended else ""
        )
    if to is Status.EXITED:
        if outcome is Outcome.EXTENDED:
            if here is not Status.TESTING and not extended:
                return "state", "only a pilot in testing (or already extended) is extended"
            if not as_regulator:
                return "role", "a regulator extends a pilot"
            return None
        if outcome is Outcome.GRADUATED:
            if here is not Status.TESTING and not extended:
                return "state", "only a pilot in testing graduates"
            if not as_regulator:
                return "role", "a regulator decides that a pilot graduates"
            return None
        if outcome is not Outcome.DISCONTINUED:
            return "state", "an exit names its outcome: graduated, extended or discontinued"
        if cause is None:
            return "state", "a discontinued pilot names its cause"
        if cause is Cause.VOLUNTARY:
            return None if not as_regulator else ("role", "the applicants withdraw; a regulator names another cause")
        if not as_regulator:
            return "role", "the applicants withdraw with cause voluntary; other causes are a regulator's"
        return None
    key = (here, to)
    if key in REGULATOR_MOVES and as_regulator:
        return None
    if key in APPLICANT_MOVES and not as_regulator:
        return None
    if key in REGULATOR_MOVES or key in APPLICANT_MOVES:
        side = "a regulator" if key in REGULATOR_MOVES else "the applicants"
        return "role", f"{here} → {to} is {side}'s move"
    return "state", f"a pilot cannot go from {here} to {to}"


def check_scores(scores: dict[str, int]) -> list[FieldError]:
    errors = [
        FieldError(f"scores.{name}", "is not one of the four criteria", "enum")
        for name in scores
        if name not in {c.value for c in Criterion}
    ]
    errors += [
        FieldError(f"scores.{c.value}", "is a whole score from 1 to 5", "range")
        for c in Criterion
        if c.value in scores and scores[c.value] not in SCORE_RANGE
    ]
    return errors


def check_assessment(assessment: dict[str, dict[str, Any]]) -> list[FieldError]:
    errors: list[FieldError] = []
    known = {d.value for d in Dimension}
    for name, entry in assessment.items():
        path = f"assessment.{name}"
        if name not in known:
            errors.append(FieldError(path, "is not one of the nine assessment dimensions", "enum"))
            continue
        if set(entry) - {"score", "note"} or entry.get("score") not in SCORE_RANGE:
            errors.append(FieldError(path, "is {score: 1-5, note: text}", "range"))
        note = entry.get("note") or ""
        if not isinstance(note, str) or len(note) > NOTE_MAX:
            errors.append(FieldError(f"{path}.note", f"is text of at most {NOTE_MAX} characters", "length"))
    return errors


def add_working_days(start: date, days: int) -> date:
    """``days`` working days (Monday to Friday) after ``start``. Public holidays are not modelled."""
    d = start
    while days > 0:
        d += timedelta(days=1)
        if d.weekday() < 5:
            days -= 1
    return d


@dataclass(frozen=True)
class Due:
    stage: Status
    due_on: date
    overdue: bool


def service_level(pilot: Pilot, review_days: int, evaluation_days: int, today: date) -> Due | None:
    """The stage's service-level due date: preliminary review and evaluation have working-day limits."""
    limits = {Status.PRELIMINARY_REVIEW: review_days, Status.EVALUATION: evaluation_days}
    if pilot.status not in limits:
        return None
    due = add_working_days(pilot.stage_since.date(), limits[pilot.status])
    return Due(pilot.status, due, today > due)
