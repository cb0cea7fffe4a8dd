"""SQLAlchemy models of the central service: registry, policies, letters, bindings, OTP, SMS, money."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Date,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from kiosk import api
from kiosk.sqlbase import NAMING_CONVENTION, Timestamp


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


class Area(Base):
    """A planning area (统筹区) and its policy, versioned so terminals can pull changes."""

    __tablename__ = "area"
    admdvs: Mapped[str] = mapped_column(String(6), primary_key=True)
    name_zh: Mapped[str] = mapped_column(String(50))
    name_en: Mapped[str] = mapped_column(String(80))
    policy: Mapped[dict[str, Any]] = mapped_column(JSON)
    version: Mapped[int] = mapped_column(Integer, default=1)
    updated_at: Mapped[dt.datetime] = mapped_column(Timestamp)


class ConsentLetter(Base):
    """One language of one version of a commitment letter (承诺书)."""

    __tablename__ = "consent_letter"
    letter_id: Mapped[str] = mapped_column(String(40), primary_key=True)
    version: Mapped[int] = mapped_column(Integer, primary_key=True)
    lang: Mapped[str] = mapped_column(String(10), primary_key=True)
    title: Mapped[str] = mapped_column(String(200))
    body: Mapped[str] = mapped_column(Text)
    sha256: Mapped[str] = mapped_column(String(64))


class Person(Base):
    """The people registry (人员信息): identity, insurance and the social security card."""

    __tablename__ = "person"
    psn_no: Mapped[str] = mapped_column(String(20), primary_key=True)
    certno: Mapped[str] = mapped_column(String(18), unique=True)
    name: Mapped[str] = mapped_column(String(50))
    sex: Mapped[str] = mapped_column(String(1))
    birth_date: Mapped[dt.date] = mapped_column(Date)
    insutype: Mapped[str] = mapped_column(String(3))
    insu_status: Mapped[str] = mapped_column(String(1))
    insured_admdvs: Mapped[str] = mapped_column(String(6))
    phone: Mapped[str | None] = mapped_column(String(20))
    card_no: Mapped[str | None] = mapped_column(String(9))
    card_issuing_admdvs: Mapped[str | None] = mapped_column(String(6))
    card_generation: Mapped[int | None] = mapped_column(Integer)
    account_balance_fen: Mapped[int] = mapped_column(BigInteger, default=0)  # personal account (个人账户)

    __table_args__ = (UniqueConstraint("card_issuing_admdvs", "card_no", name="uq_person_card"),)


class HouseholdMember(Base):
    """A person's entry in the household register (户籍): their household and their relation to its head.

    `relation_to_head` is a GB/T 4761-2008 code ("02" 户主 for the head; "00" and "01" 本人 are read the
    same); `kiosk.domain.household` derives from two entries what the register says two people are.
    A person without an entry is not known to the register (the binding rules then do without it).
    """

    __tablename__ = "household_member"
    psn_no: Mapped[str] = mapped_column(ForeignKey("person.psn_no"), primary_key=True)
    household_no: Mapped[str] = mapped_column(String(20), index=True)
    relation_to_head: Mapped[str] = mapped_column(String(2))


class Binding(Base):
    """A holder shares their personal account with a relative in one planning area."""

    __tablename__ = "binding"
    binding_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    holder_psn_no: Mapped[str] = mapped_column(ForeignKey("person.psn_no"), index=True)
    relative_psn_no: Mapped[str] = mapped_column(ForeignKey("person.psn_no"), index=True)
    admdvs: Mapped[str] = mapped_column(ForeignKey("area.admdvs"))
    relation_code: Mapped[str] = mapped_column(String(2))
    status: Mapped[api.BindingStatus] = mapped_column(String(10))
    valid_from: Mapped[dt.date] = mapped_column(Date)
    valid_until: Mapped[dt.date | None] = mapped_column(Date)
    created_at: Mapped[dt.datetime] = mapped_column(Timestamp)
    ended_at: Mapped[dt.datetime | None] = mapped_column(Timestamp)
    ended_by: Mapped[api.Actor | None] = mapped_column(String(10))
    letter_id: Mapped[str] = mapped_column(String(40))
    letter_version: Mapped[int] = mapped_column(Integer)
    letter_sha256: Mapped[str] = mapped_column(String(64))
    channel: Mapped[str] = mapped_column(String(10))  # self | agent
    kiosk_id: Mapped[str] = mapped_column(String(64))
    request_id: Mapped[str] = mapped_column(String(36))

    __table_args__ = (
        # The last line of defence against two terminals binding the same pair at once.
        Index(
            "uq_binding_active_pair",
            "holder_psn_no",
            "relative_psn_no",
            "admdvs",
            unique=True,
            postgresql_where=text("status = 'active'"),
            sqlite_where=text("status = 'active'"),
        ),
    )


class BindingEvent(Base):
    """History of a binding: created, revoked, expired; never updated or deleted."""

    __tablename__ = "binding_event"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    binding_id: Mapped[str] = mapped_column(ForeignKey("binding.binding_id"), index=True)
    event: Mapped[api.BindingEventKind] = mapped_column(String(10))
    at: Mapped[dt.datetime] = mapped_column(Timestamp)
    actor: Mapped[api.Actor] = mapped_column(String(10))
    kiosk_id: Mapped[str | None] = mapped_column(String(64))
    request_id: Mapped[str | None] = mapped_column(String(36))


class ClientRequest(Base):
    """Every state-changing request by its client UUID, kept forever: replays get the same answer."""

    __tablename__ = "client_request"
    request_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    kind: Mapped[str] = mapped_column(String(20))
    kiosk_id: Mapped[str] = mapped_column(String(64))
    body_sha256: Mapped[str] = mapped_column(String(64))
    status_code: Mapped[int] = mapped_column(Integer)
    response: Mapped[dict[str, Any]] = mapped_column(JSON)
    created_at: Mapped[dt.datetime] = mapped_column(Timestamp)
    # The terminal's receipt number of a binding or unbinding, the key of its public page. Not unique:
    # two terminals could draw the same number; the page tells them apart by each kiosk's MAC.
    receipt_no: Mapped[str | None] = mapped_column(String(24), index=True)


class Otp(Base):
    """A one-time verification code sent to a relative; only its keyed hash is stored."""

    __tablename__ = "otp"
    otp_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    holder_psn_no: Mapped[str] = mapped_column(ForeignKey("person.psn_no"))
    relative_psn_no: Mapped[str] = mapped_column(ForeignKey("person.psn_no"), index=True)
    code_hash: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[dt.datetime] = mapped_column(Timestamp)
    expires_at: Mapped[dt.datetime] = mapped_column(Timestamp)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    verified_at: Mapped[dt.datetime | None] = mapped_column(Timestamp)
    consumed_at: Mapped[dt.datetime | None] = mapped_column(Timestamp)
    kiosk_id: Mapped[str] = mapped_column(String(64))


class SmsMessage(Base):
    """SMS outbox: written in the business transaction, delivered by the gateway after commit."""

    __tablename__ = "sms_outbox"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    psn_no: Mapped[str] = mapped_column(ForeignKey("person.psn_no"), index=True)
    phone: Mapped[str] = mapped_column(String(20))
    template: Mapped[str] = mapped_column(String(40))
    body: Mapped[str] = mapped_column(Text)
    created_at: Mapped[dt.datetime] = mapped_column(Timestamp)
    sent_at: Mapped[dt.datetime | None] = mapped_column(Timestamp, index=True)
    attempts: Mapped[int] = mapped_column(Integer, default=0)


class SettlementRecord(Base):
    """One settlement at a hospital or pharmacy (the 2207-like side), split by the domain arithmetic."""

    __tablename__ = "settlement"
    settlement_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    relative_psn_no: Mapped[str] = mapped_column(ForeignKey("person.psn_no"), index=True)
    amount_fen: Mapped[int] = mapped_column(BigInteger)
    own_account_fen: Mapped[int] = mapped_column(BigInteger)
    mutual_aid_fen: Mapped[int] = mapped_column(BigInteger)
    cash_fen: Mapped[int] = mapped_column(BigInteger)
    institution_kind: Mapped[str] = mapped_column(String(20))
    occurred_at: Mapped[dt.datetime] = mapped_column(Timestamp)
    client_id: Mapped[str] = mapped_column(String(64))


class UsageRecord(Base):
    """What one holder's account paid for one relative (使用记录): amount, day, institution kind only."""

    __tablename__ = "usage_record"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    settlement_id: Mapped[str] = mapped_column(ForeignKey("settlement.settlement_id"))
    binding_id: Mapped[str] = mapped_column(ForeignKey("binding.binding_id"))
    holder_psn_no: Mapped[str] = mapped_column(ForeignKey("person.psn_no"))
    relative_psn_no: Mapped[str] = mapped_column(ForeignKey("person.psn_no"))
    amount_fen: Mapped[int] = mapped_column(BigInteger)
    occurred_on: Mapped[dt.date] = mapped_column(Date)
    institution_kind: Mapped[str] = mapped_column(String(20))

    __table_args__ = (Index("ix_usage_pair_day", "holder_psn_no", "relative_psn_no", "occurred_on"),)


class Kiosk(Base):
    """A registered client (a terminal, or an institution posting settlements) and its signing secret."""

    __tablename__ = "kiosk"
    kiosk_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    secret: Mapped[str] = mapped_column(String(128))
    created_at: Mapped[dt.datetime] = mapped_column(Timestamp)
    disabled: Mapped[bool] = mapped_column(Boolean, default=False)


class SeenNonce(Base):
    """Nonces of accepted signed requests inside the signature window: a replay hits the primary key."""

    __tablename__ = "seen_nonce"
    kiosk_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    nonce: Mapped[str] = mapped_column(String(64), primary_key=True)
    seen_at: Mapped[dt.datetime] = mapped_column(Timestamp, index=True)
