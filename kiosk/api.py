"""The wire contract between central and the terminal: every request and response body, and every reason key.

Both sides import these models: central declares its routes with them, the terminal's `Backend` and sync
worker `model_validate` every answer, and the store keeps request payloads as `model_dump(mode="json")`.
A field renamed here is a type error on both sides. Only pydantic and `kiosk.domain` may be imported here
(an import-linter contract in pyproject.toml holds it). Field names follow the national platform.
"""

from __future__ import annotations

import datetime as dt
import enum
import uuid
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

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
RECEIPT_NO_PATTERN = r"^R\d{6}[0-9A-F]{12}$"
ReceiptNo = Annotated[
    str,
    Field(
        pattern=RECEIPT_NO_PATTERN,
        description="the receipt number the terminal printed (R + yymmdd + 12 hex); its public page's key",
    ),
]

BindingStatus = Literal["active", "expired", "revoked"]
"""A binding in force, past its validity, or ended by one of its parties."""
Party = Literal["holder", "relative"]
"""A side of a binding: who ended it, whose account paid."""
Actor = Literal["holder", "relative", "system"]
"""Who did something to a binding (`system`: it lapsed)."""
BindingEventKind = Literal["created", "revoked", "expired"]
Verification = Literal["sms", "card"]
"""What a relative must show: the SMS code sent to their phone, their own card and PIN."""


class Reason(enum.StrEnum):
    """Every reason key central or the terminal's session can give; the screens translate each one.

    The citizen's words live in `screens/messages.py`; a unit test fails when a member has neither a text
    there nor a place in `INTERNAL_REASONS` (shown as "please ask the staff" with the key).
    """

    # the card and the PIN (devices/)
    PIN_WRONG = "pin_wrong"
    PIN_LAST_TRY = "pin_last_try"
    PIN_BLOCKED = "pin_blocked"
    CARD_REMOVED = "card_removed"
    READER_UNAVAILABLE = "reader_unavailable"
    NOT_SOCIAL_SECURITY_CARD = "not_social_security_card"
    CARD_EXPIRED = "card_expired"
    MALFORMED_ANSWER = "malformed_answer"
    # who is who (central's registry)
    CARD_NOT_FOUND = "card_not_found"
    PERSON_NOT_FOUND = "person_not_found"
    HOLDER_NOT_FOUND = "holder_not_found"
    RELATIVE_NOT_FOUND = "relative_not_found"
    # the holder
    HOLDER_NOT_EMPLOYEE_INSURED = "holder_not_employee_insured"
    HOLDER_STATUS_NOT_NORMAL = "holder_status_not_normal"
    HOLDER_NOT_INSURED_IN_AREA = "holder_not_insured_in_area"
    HOLDER_TOO_YOUNG = "holder_too_young"
    AREA_NOT_SERVED = "area_not_served"
    AREA_NOT_FOUND = "area_not_found"
    AREA_NOT_ALLOWED = "area_not_allowed"
    # the relative
    INVALID_ID_NUMBER = "invalid_id_number"
    RELATIVE_IS_HOLDER = "relative_is_holder"
    RELATION_NOT_ALLOWED = "relation_not_allowed"
    RELATION_UNKNOWN = "relation_unknown"
    RELATIVE_NOT_INSURED = "relative_not_insured"
    RELATIVE_STATUS_NOT_NORMAL = "relative_status_not_normal"
    RELATIVE_OUT_OF_SCOPE = "relative_out_of_scope"
    RELATION_SEX_MISMATCH = "relation_sex_mismatch"
    RELATION_AGE_IMPLAUSIBLE = "relation_age_implausible"
    RELATION_MISMATCH = "relation_mismatch"  # the household register says otherwise
    DUPLICATE_BINDING = "duplicate_binding"
    RELATION_ALREADY_BOUND = "relation_already_bound"
    HOLDER_RELATIVES_CAP = "holder_relatives_cap"
    RELATIVE_HOLDERS_CAP = "relative_holders_cap"
    # the relative's confirmation
    OTP_WRONG = "otp_wrong"
    OTP_EXPIRED = "otp_expired"
    OTP_LOCKED = "otp_locked"
    OTP_THROTTLED = "otp_throttled"
    OTP_NOT_FOR_MINOR = "otp_not_for_minor"
    OTP_FORMAT = "otp_format"
    OTP_NOT_SENT = "otp_not_sent"
    OTP_NOT_FOUND = "otp_not_found"
    OTP_NOT_VERIFIED = "otp_not_verified"
    OTP_ALREADY_USED = "otp_already_used"
    RELATIVE_NO_PHONE = "relative_no_phone"
    RELATIVE_CARD_MISMATCH = "relative_card_mismatch"
    RELATIVE_CARD_REQUIRED = "relative_card_required"
    RELATIVE_PIN_BLOCKED = "relative_pin_blocked"
    # the letter, the binding, the submission
    LETTER_MISSING = "letter_missing"
    LETTER_NOT_READ = "letter_not_read"
    LETTER_NOT_FOUND = "letter_not_found"
    LETTER_UNKNOWN = "letter_unknown"
    LETTER_OUTDATED = "letter_outdated"
    AGENT_NOT_ALLOWED = "agent_not_allowed"
    UNBIND_NOT_ALLOWED_FOR_SIDE = "unbind_not_allowed_for_side"
    NOT_A_PARTY = "not_a_party"
    BINDING_NOT_ACTIVE = "binding_not_active"
    BINDING_NOT_FOUND = "binding_not_found"
    POLICY_UNKNOWN = "policy_unknown"
    CENTRAL_OFFLINE = "central_offline"
    OFFLINE_NOT_ALLOWED = "offline_not_allowed"
    OFFLINE_QUEUE_FULL = "offline_queue_full"
    OFFLINE_QUEUE_TOO_OLD = "offline_queue_too_old"
    REQUEST_ID_CONFLICT = "request_id_conflict"
    STAFF_PIN_WRONG = "staff_pin_wrong"
    # money (the institutions' side; no citizen sees these at the kiosk)
    OCCURRED_AT_OUT_OF_RANGE = "occurred_at_out_of_range"
    # faults that are nobody's doing in front of the kiosk: shown as "please ask the staff" with the key
    INVALID_REQUEST = "invalid_request"
    UNAUTHORIZED = "unauthorized"
    INVALID_POLICY = "invalid_policy"
    INELIGIBLE = "ineligible"
    DOMAIN_ERROR = "domain_error"
    WRONG_STEP = "wrong_step"
    NO_HOLDER = "no_holder"
    UNKNOWN = "unknown"


INTERNAL_REASONS: frozenset[Reason] = frozenset(
    {
        Reason.HOLDER_NOT_FOUND,
        Reason.RELATIVE_NOT_FOUND,
        Reason.AREA_NOT_FOUND,
        Reason.AREA_NOT_ALLOWED,
        Reason.OTP_NOT_FOUND,
        Reason.OTP_NOT_VERIFIED,
        Reason.LETTER_NOT_FOUND,
        Reason.LETTER_UNKNOWN,
        Reason.NOT_A_PARTY,
        Reason.BINDING_NOT_FOUND,
        Reason.OCCURRED_AT_OUT_OF_RANGE,
        Reason.INVALID_REQUEST,
        Reason.UNAUTHORIZED,
        Reason.INVALID_POLICY,
        Reason.INELIGIBLE,
        Reason.DOMAIN_ERROR,
        Reason.WRONG_STEP,
        Reason.NO_HOLDER,
        Reason.UNKNOWN,
    }
)
"""Reasons that mean a fault of the terminal or the service, not something the citizen can change."""


def reason_of(key: str) -> Reason:
    """A key from anywhere (an answer, an exception) as a `Reason`; a key this build does not know is
    `Reason.UNKNOWN` (the screen then asks for the staff)."""
    try:
        return Reason(key)
    except ValueError:
        return Reason.UNKNOWN


def invalid_fields(exc: ValidationError) -> str:
    """Where an answer (or a request) broke the contract and how, without the values: they may be
    personal, and the log is read by operators."""
    return "; ".join(
        f"{'.'.join(map(str, e['loc'])) or '(body)'}: {e['type']}" for e in exc.errors(include_input=False)
    )


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ErrorOut(BaseModel):
    """Every 4xx answer: a reason key, an English message for operators, and the message's parameters."""

    error: Reason
    message: str
    params: dict[str, Any] = {}


class Health(BaseModel):
    status: Literal["ok"]
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
    ineligible_reason: Reason | None


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
    required_verification: list[Verification]
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
    receipt_no: ReceiptNo | None = Field(
        None, description="the terminal's receipt number (terminals before receipt pages sent none)"
    )


class PartyOut(BaseModel):
    psn_no: str
    name_masked: str
    certno_masked: str


class BindingOut(BaseModel):
    binding_id: str
    request_id: str
    status: BindingStatus
    holder: PartyOut
    relative: PartyOut
    relation_code: str
    admdvs: str
    valid_from: dt.date
    valid_until: dt.date | None
    created_at: dt.datetime
    ended_at: dt.datetime | None
    ended_by: Actor | None


class RevokeIn(Strict):
    request_id: uuid.UUID
    by_psn_no: PsnNo
    receipt_no: ReceiptNo | None = Field(
        None, description="the terminal's receipt number (terminals before receipt pages sent none)"
    )


class BindingsOut(BaseModel):
    as_holder: list[BindingOut]
    as_relative: list[BindingOut]


class BindingEventOut(BaseModel):
    event: BindingEventKind
    at: dt.datetime
    actor: Actor


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
    institution_kind: InstitutionKind
    role: Party  # "holder": my account paid for a relative; "relative": a holder's account paid for me
    holder_name_masked: str
    relative_name_masked: str


class UsageOut(BaseModel):
    records: list[UsageRecordOut]
    total_fen: int
