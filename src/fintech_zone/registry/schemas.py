"""Pydantic shapes of the registry's HTTP API (requests forbid unknown fields)."""

from __future__ import annotations

from datetime import date, datetime

from pydantic import BaseModel, Field

from fintech_zone.registry.model import Agreement, Kind, Organisation, Sector, Status, StatusChange
from fintech_zone.web.schemas import IsoDate, Strict


class OrganisationIn(Strict):
    id: str = Field(min_length=1, max_length=64, examples=["sg-acme-pay"])
    kind: Kind
    jurisdiction: str = Field(min_length=2, max_length=2, examples=["SG"])
    name_en: str = Field(min_length=1, max_length=300)
    name_zh: str = Field(min_length=1, max_length=300)
    sector: Sector
    status: Status | None = Field(default=Status.PROSPECT, description="null: not in the settlement pipeline")
    since: IsoDate | None = Field(default=None, description="Date the status took effect (default today)")
    uscc: str | None = Field(default=None, max_length=40)
    uen: str | None = Field(default=None, max_length=40)
    lei: str | None = Field(default=None, max_length=40)
    bic: str | None = Field(default=None, max_length=40)
    source: str | None = Field(default=None, max_length=2000)


class OrganisationOut(BaseModel):
    id: str
    kind: Kind
    jurisdiction: str
    name_en: str
    name_zh: str
    sector: Sector
    status: Status | None
    uscc: str | None
    uen: str | None
    lei: str | None
    bic: str | None
    source: str | None
    created_at: datetime | None
    updated_at: datetime | None

    @classmethod
    def of(cls, org: Organisation) -> OrganisationOut:
        return cls(**org.__dict__)


class StatusChangeOut(BaseModel):
    from_status: Status | None
    to_status: Status | None
    changed_on: date
    reason: str | None

    @classmethod
    def of(cls, c: StatusChange) -> StatusChangeOut:
        return cls(from_status=c.from_status, to_status=c.to_status, changed_on=c.changed_on, reason=c.reason)


class AgreementIn(Strict):
    id: str = Field(min_length=1, max_length=64)
    type: str = Field(min_length=1, max_length=64, examples=["settlement", "strategic_cooperation"])
    title_en: str = Field(min_length=1, max_length=500)
    title_zh: str = Field(min_length=1, max_length=500)
    signed_on: IsoDate | None = None
    source: str | None = Field(default=None, max_length=2000)
    parties: list[str] = Field(min_length=1, max_length=100)

    def to_model(self) -> Agreement:
        return Agreement(
            self.id,
            self.type,
            self.title_en,
            self.title_zh,
            self.signed_on,
            self.source,
            tuple(dict.fromkeys(self.parties)),
        )


class AgreementOut(BaseModel):
    id: str
    type: str
    title_en: str
    title_zh: str
    signed_on: date | None
    source: str | None
    parties: list[str]

    @classmethod
    def of(cls, a: Agreement) -> AgreementOut:
        return cls(
            id=a.id,
            type=a.type,
            title_en=a.title_en,
            title_zh=a.title_zh,
            signed_on=a.signed_on,
            source=a.source,
            parties=list(a.party_ids),
        )


class OrganisationDetailOut(OrganisationOut):
    history: list[StatusChangeOut]
    agreements: list[AgreementOut]


class OrganisationPage(BaseModel):
    items: list[OrganisationOut]
    next_cursor: str | None = Field(description="Pass as `cursor` for the next page; null on the last page")


class StatusChangeIn(Strict):
    status: Status
    changed_on: IsoDate | None = None
    reason: str | None = Field(default=None, max_length=2000)


class ImportErrorOut(BaseModel):
    row: int | None
    field: str
    check: str
    message: str


class ImportOut(BaseModel):
    imported: int
    skipped: list[ImportErrorOut]
