"""Request and response bodies of the central API (pydantic); names follow the national platform."""

from __future__ import annotations

import datetime as dt
import enum
import uuid
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, model_validator

Admdvs = Annotated[str, Field(pattern=r"^\d{6}$", description="6-digit GB/T 2260 area code")]
PsnNo = Annotated[str, Field(min_length=1, max_length=20, pattern=r"^[A-Za-z0-9]+$")]
CertNo = Annotated[
    str,
    Field(
        min_length=1, max_length=24, description="resident ID number (spaces allowed)", pattern=r"^[0-9Xx ]+$"
    ),
]
CardNo = Annotated[
    str, Field(pattern=r"^[A-Z0-9]{9}$", description="9-character social security card number")
]
RelationCode = Annotated[str, Field(pattern=r"^\d{2}$", description="GB/T 4761-2008 family relation code")]
Fen = Annotated[int, Field(ge=0, le=10**12, description="money in fen (1/100 yuan)")]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ErrorOut(BaseModel):
    error: str
    message: str
    params: dict[str, Any] = {}


class Health(BaseModel):
    status: str
    database: str
    version: str


class AreaOut(BaseModel):
    admdvs: str
    name_zh: str
    name_en: str
    version: int
    policy: dict[str, Any]


class LetterOut(BaseModel):
    letter_id: str
    version: int
    lang: str
    title: str
    body: str
    sha256: str


class KioskMe(BaseModel):
    kiosk_id: str
    server_time: dt.datetime


class IdentifyHolderIn(Strict):
    """Identify the card holder: by card number + issuing area (3rd-gen cards) or by ID number."""

    card_no: CardNo | None = None
    issuing_admdvs: Admdvs | None = None
    certno: CertNo | None = None

    @model_validator(mode="after")
    def one_way(self) -> IdentifyHolderIn:
        by_card = self.card_no is not None and self.issuing_admdvs is not None
        if by_card == (self.certno is not None) or (self.card_no is None) != (self.issuing_admdvs is None):
            raise ValueError("give either card_no and issuing_admdvs, or certno")
        return self


class HolderOut(BaseModel):
    """The card holder in front of the kiosk: their own full name for their own confirmation only."""

    psn_no: str
    name: str
    name_masked: str
    certno_masked: str
    sex: str
    birth_date: dt.date
    age: int
    insutype: str
    insu_status: str
    insured_admdvs: str
    phone_masked: str | None
    card_generation: int | None
    eligible: bool
    ineligible_reason: str | None


class LookupIn(Strict):
    certno: CertNo


class PersonOut(BaseModel):
    """Someone other than the card holder: masked only."""

    psn_no: str
    name_masked: str
    certno_masked: str
    sex: str
    age: int
    insutype: str
    insu_status: str
    insured_admdvs: str
    phone_masked: str | None


class BindingCheckIn(Strict):
    holder_psn_no: PsnNo
    relative_certno: CertNo
    relation_code: RelationCode
    admdvs: Admdvs


class BindingCheckOut(BaseModel):
    relative: PersonOut
    relation_code: str
    admdvs: str
    required_verification: list[str]
    relative_is_minor: bool
    valid_from: dt.date
    valid_until: dt.date | None
    per_txn_cap_fen: int
    daily_cap_fen: int
    annual_cap_fen: int
    reserve_fen: int


class Channel(enum.StrEnum):
    SELF = "self"
    AGENT = "agent"


class BindingCreateIn(Strict):
    request_id: uuid.UUID = Field(description="client-generated; the same UUID is never applied twice")
    holder_psn_no: PsnNo
    relative_certno: CertNo
    relation_code: RelationCode
    admdvs: Admdvs
    letter_id: str = Field(min_length=1, max_length=40)
    letter_version: int = Field(ge=1, le=10**6)
    letter_sha256: str = Field(pattern=r"^[0-9a-f]{64}$")
    otp_id: uuid.UUID | None = None
    relative_card_verified: bool = False
    channel: Channel = Channel.SELF
    submitted_at: dt.datetime | None = None


class PartyOut(BaseModel):
    psn_no: str
    name_masked: str
    certno_masked: str


class BindingOut(BaseModel):
    binding_id: str
    request_id: str
    status: str
    holder: PartyOut
    relative: PartyOut
    relation_code: str
    admdvs: str
    valid_from: dt.date
    valid_until: dt.date | None
    created_at: dt.datetime
    ended_at: dt.datetime | None
    ended_by: str | None


class RevokeIn(Strict):
    request_id: uuid.UUID
    by_psn_no: PsnNo


class BindingsOut(BaseModel):
    as_holder: list[BindingOut]
    as_relative: list[BindingOut]


class BindingEventOut(BaseModel):
    event: str
    at: dt.datetime
    actor: str


class OtpSendIn(Strict):
    holder_psn_no: PsnNo
    relative_psn_no: PsnNo


class OtpSendOut(BaseModel):
    otp_id: str
    phone_masked: str
    expires_at: dt.datetime
    resend_after_s: int


class OtpVerifyIn(Strict):
    otp_id: uuid.UUID
    code: str = Field(pattern=r"^\d{6}$")


class OtpVerifyOut(BaseModel):
    verified: bool


class InstitutionKind(enum.StrEnum):
    HOSPITAL = "hospital"
    PHARMACY = "pharmacy"
    CLINIC = "clinic"
    VACCINATION = "vaccination"
    RESIDENT_PREMIUM = "resident_premium"  # the relative's resident-insurance contribution (2024 onward)


class SettlementIn(Strict):
    settlement_id: uuid.UUID
    relative_certno: CertNo
    amount_fen: Fen
    institution_kind: InstitutionKind
    occurred_at: dt.datetime | None = None


class MutualAidShareOut(BaseModel):
    holder_name_masked: str
    amount_fen: int


class SettlementOut(BaseModel):
    settlement_id: str
    amount_fen: int
    own_account_fen: int
    mutual_aid: list[MutualAidShareOut]
    cash_fen: int


class UsageRecordOut(BaseModel):
    occurred_on: dt.date
    amount_fen: int
    institution_kind: str
    role: str  # "holder": my account paid for a relative; "relative": a holder's account paid for me
    holder_name_masked: str
    relative_name_masked: str


class UsageOut(BaseModel):
    records: list[UsageRecordOut]
    total_fen: int
