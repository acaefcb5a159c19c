"""Request and response bodies of the sandbox API."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from pydantic import BaseModel, Field

from fintech_zone.sandbox.figures import InstitutionView, Monitor
from fintech_zone.sandbox.model import (
    Application,
    Boundaries,
    Cause,
    Dimension,
    Institution,
    InstitutionRole,
    Outcome,
    Pilot,
    PilotType,
    Scenario,
    Status,
)
from fintech_zone.web.schemas import Strict

MAX_AMOUNT = 2**63 - 1
Text = Field(default="", max_length=4000)


class BoundariesIO(Strict):
    max_customers: int | None = Field(default=None, ge=1, le=10**9)
    per_payment: dict[str, int] = Field(default_factory=dict, max_length=10, description="asset -> minor units")
    daily: dict[str, int] = Field(default_factory=dict, max_length=10)
    total: dict[str, int] = Field(default_factory=dict, max_length=10)
    corridors: list[str] = Field(default_factory=list, max_length=20, description="e.g. CN-SG, SG-CN, CN-CN")
    starts_on: date | None = None
    ends_on: date | None = None

    def to_model(self) -> Boundaries:
        return Boundaries(
            self.max_customers,
            dict(self.per_payment),
            dict(self.daily),
            dict(self.total),
            tuple(self.corridors),
            self.starts_on,
            self.ends_on,
        )

    @classmethod
    def of(cls, b: Boundaries) -> BoundariesIO:
        return cls(
            max_customers=b.max_customers,
            per_payment=b.per_payment,
            daily=b.daily,
            total=b.total,
            corridors=list(b.corridors),
            starts_on=b.starts_on,
            ends_on=b.ends_on,
        )


class InstitutionIO(Strict):
    org_id: str = Field(max_length=64, description="a registry organisation (its USCC, UEN and LEI are there)")
    role: InstitutionRole
    licence: str | None = Field(default=None, max_length=64, description="the financial institution's licence")


class ScenarioIO(Strict):
    name: str = Field(max_length=200)
    success_criteria: str = Field(max_length=4000)


class ApplicationIO(Strict):
    name: str = Field(max_length=200)
    type: PilotType
    institutions: list[InstitutionIO] = Field(max_length=10)
    planned_go_live: date | None = None
    technology: str = Text
    functions: str = Text
    innovation: str = Text
    problem: str = Text
    comparison: str = Text
    money_flows: str = Text
    risk_controls: str = Text
    consumer_protection: str = Text
    complaint_handling: str = Text
    exit_plan: str = Text
    scenarios: list[ScenarioIO] = Field(default_factory=list, max_length=20)
    requested: BoundariesIO = Field(default_factory=BoundariesIO, description="the boundaries the applicants ask for")
    cross_border: bool = Field(default=False, description="supervised by the PBoC Chongqing office and MAS both")

    def to_model(self) -> Application:
        return Application(
            name=self.name,
            type=self.type,
            institutions=tuple(Institution(i.org_id, i.role, i.licence) for i in self.institutions),
            planned_go_live=self.planned_go_live,
            technology=self.technology,
            functions=self.functions,
            innovation=self.innovation,
            problem=self.problem,
            comparison=self.comparison,
            money_flows=self.money_flows,
            risk_controls=self.risk_controls,
            consumer_protection=self.consumer_protection,
            complaint_handling=self.complaint_handling,
            exit_plan=self.exit_plan,
            scenarios=tuple(Scenario(s.name, s.success_criteria) for s in self.scenarios),
            requested=self.requested.to_model(),
            cross_border=self.cross_border,
        )

    @classmethod
    def of(cls, a: Application) -> ApplicationIO:
        return cls(
            name=a.name,
            type=a.type,
            institutions=[InstitutionIO(org_id=i.org_id, role=i.role, licence=i.licence) for i in a.institutions],
            planned_go_live=a.planned_go_live,
            technology=a.technology,
            functions=a.functions,
            innovation=a.innovation,
            problem=a.problem,
            comparison=a.comparison,
            money_flows=a.money_flows,
            risk_controls=a.risk_controls,
            consumer_protection=a.consumer_protection,
            complaint_handling=a.complaint_handling,
            exit_plan=a.exit_plan,
            scenarios=[ScenarioIO(name=s.name, success_criteria=s.success_criteria) for s in a.scenarios],
            requested=BoundariesIO.of(a.requested),
            cross_border=a.cross_border,
        )


class PilotIn(ApplicationIO):
    id: str = Field(max_length=64, description="the pilot's id, chosen by the applicants")


class AssessmentIO(Strict):
    score: int = Field(ge=1, le=5)
    note: str = Field(default="", max_length=1000)


class TransitionIn(Strict):
    to: Status
    reason: str = Field(max_length=2000)
    outcome: Outcome | None = None
    cause: Cause | None = Field(default=None, description="why a pilot is discontinued")
    scores: dict[str, int] | None = Field(
        default=None,
        max_length=4,
        description="a regulator's scores, 1-5, of inclusive_benefit, technical_innovation, controllable_risk, "
        "need_for_regulatory_support (needed before public disclosure)",
    )
    boundaries: BoundariesIO | None = Field(default=None, description="set at admission, or a later end date to extend")
    assessment: dict[Dimension, AssessmentIO] | None = Field(
        default=None, description="the regulators' final assessment with an exit: dimension -> {score 1-5, note}"
    )

    def assessment_dict(self) -> dict[str, dict[str, Any]] | None:
        if self.assessment is None:
            return None
        return {d.value: {"score": a.score, "note": a.note} for d, a in self.assessment.items()}


class SuspensionIn(Strict):
    suspended: bool
    reason: str = Field(max_length=2000)


class CommentIn(Strict):
    author: str | None = Field(default=None, max_length=100)
    body: str = Field(max_length=2000)


class ComplaintIn(Strict):
    detail: str = Field(max_length=500)


class InstitutionOut(BaseModel):
    org_id: str
    role: InstitutionRole
    licence: str | None
    name_en: str
    name_zh: str
    uscc: str | None = Field(description="China unified social credit code, from the registry")
    uen: str | None = Field(description="Singapore UEN, from the registry")
    lei: str | None = Field(description="LEI, from the registry")


class TransitionOut(BaseModel):
    at: datetime
    from_status: Status | None
    to_status: Status
    actor: str
    reason: str
    outcome: Outcome | None
    cause: Cause | None


class PilotOut(BaseModel):
    id: str
    name: str
    type: PilotType
    status: Status
    outcome: Outcome | None
    cause: Cause | None
    suspended: bool
    cross_border: bool
    regulators: list[str]
    awaiting: list[str] = Field(description="regulators still to make the pending joint decision")
    scores: dict[str, dict[str, int]]
    assessment: dict[str, dict[str, Any]] = Field(description="the final assessment given with the exit")
    application: ApplicationIO
    boundaries: BoundariesIO | None
    usage: dict[str, Any] | None = Field(default=None, description="customers and volumes used, per asset")
    institutions: list[InstitutionOut] | None = Field(
        default=None, description="the applicants with their registry identifiers and licence"
    )
    created_at: datetime
    history: list[TransitionOut]

    @classmethod
    def of(
        cls, p: Pilot, usage: dict[str, Any] | None = None, institutions: list[InstitutionView] | None = None
    ) -> PilotOut:
        return cls(
            id=p.id,
            name=p.application.name,
            type=p.application.type,
            status=p.status,
            outcome=p.outcome,
            cause=p.cause,
            suspended=p.suspended,
            cross_border=p.application.cross_border,
            regulators=list(p.regulators),
            awaiting=[r for r in p.regulators if r not in p.pending] if p.pending else [],
            scores=p.scores,
            assessment=p.assessment,
            application=ApplicationIO.of(p.application),
            boundaries=BoundariesIO.of(p.boundaries) if p.boundaries else None,
            usage=usage,
            institutions=[InstitutionOut(**vars(i)) for i in institutions] if institutions is not None else None,
            created_at=p.created_at,
            history=[
                TransitionOut(
                    at=t.at,
                    from_status=t.from_status,
                    to_status=t.to_status,
                    actor=t.actor,
                    reason=t.reason,
                    outcome=t.outcome,
                    cause=t.cause,
                )
                for t in p.history
            ],
        )


class MonitorOut(BaseModel):
    customers: int
    by_asset: dict[str, dict[str, int]]
    events: dict[str, int]
    use: dict[str, float] = Field(description="boundary -> share of its limit used")
    recent: list[dict[str, Any]]
    due: dict[str, Any] | None = Field(description="the stage's service-level due date, and whether it is overdue")

    @classmethod
    def of(cls, m: Monitor) -> MonitorOut:
        return cls(customers=m.customers, by_asset=m.by_asset, events=m.events, use=m.use, recent=m.recent, due=m.due)


class CommentOut(BaseModel):
    at: datetime
    author: str | None
    body: str
