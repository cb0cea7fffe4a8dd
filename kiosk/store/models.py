"""SQLAlchemy models of the terminal store. Personal data is masked, or encrypted until central answers."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, Integer, LargeBinary, MetaData, String, Text
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from kiosk.sqlbase import NAMING_CONVENTION, Timestamp


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


class Submission(Base):
    """A binding or unbinding the citizen confirmed here. Status only moves forward:
    pending → accepted | rejected (with central's reason code)."""

    __tablename__ = "submission"
    request_id: Mapped[str] = mapped_column(String(36), primary_key=True)  # the UUID central dedupes on
    receipt_no: Mapped[str] = mapped_column(String(24), unique=True)
    kind: Mapped[str] = mapped_column(String(10))  # bind | unbind
    status: Mapped[str] = mapped_column(String(10), index=True)
    reason_code: Mapped[str | None] = mapped_column(String(60))
    created_at: Mapped[dt.datetime] = mapped_column(Timestamp)
    updated_at: Mapped[dt.datetime] = mapped_column(Timestamp)
    admdvs: Mapped[str] = mapped_column(String(6))
    holder_psn_no: Mapped[str] = mapped_column(String(20), index=True)
    holder_name_masked: Mapped[str] = mapped_column(String(50))
    relative_name_masked: Mapped[str] = mapped_column(String(50))
    relative_certno_masked: Mapped[str] = mapped_column(String(18))
    relation_code: Mapped[str | None] = mapped_column(String(2))
    binding_id: Mapped[str | None] = mapped_column(String(36))  # known once accepted (or given, to unbind)


class OutboxItem(Base):
    """The request to send to central, written in the same transaction as its submission.
    `payload` is encrypted (it holds the relative's full ID number) and erased once central has answered."""

    __tablename__ = "outbox"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    request_id: Mapped[str] = mapped_column(ForeignKey("submission.request_id"), unique=True)
    method: Mapped[str] = mapped_column(String(6))
    path: Mapped[str] = mapped_column(String(200))
    payload: Mapped[bytes | None] = mapped_column(LargeBinary)
    created_at: Mapped[dt.datetime] = mapped_column(Timestamp)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[dt.datetime] = mapped_column(Timestamp, index=True)
    last_error: Mapped[str | None] = mapped_column(String(200))
    done_at: Mapped[dt.datetime | None] = mapped_column(Timestamp, index=True)

    # the queue bounds read the oldest unanswered row on every submission: one index seek
    __table_args__ = (Index("ix_outbox_pending_age", "done_at", "created_at"),)


class CachedArea(Base):
    """A planning area's policy as last pulled from central (versioned)."""

    __tablename__ = "cached_area"
    admdvs: Mapped[str] = mapped_column(String(6), primary_key=True)
    version: Mapped[int] = mapped_column(Integer)
    name_zh: Mapped[str] = mapped_column(String(50))
    name_en: Mapped[str] = mapped_column(String(80))
    policy: Mapped[dict[str, Any]] = mapped_column(JSON)
    fetched_at: Mapped[dt.datetime] = mapped_column(Timestamp)


class CachedLetter(Base):
    """A commitment letter as published by central; never edited (a new text is a new version)."""

    __tablename__ = "cached_letter"
    letter_id: Mapped[str] = mapped_column(String(40), primary_key=True)
    version: Mapped[int] = mapped_column(Integer, primary_key=True)
    lang: Mapped[str] = mapped_column(String(10), primary_key=True)
    title: Mapped[str] = mapped_column(String(200))
    body: Mapped[str] = mapped_column(Text)
    sha256: Mapped[str] = mapped_column(String(64))


class KioskState(Base):
    """Small facts about this terminal: last successful sync, last error, out-of-service flag."""

    __tablename__ = "kiosk_state"
    key: Mapped[str] = mapped_column(String(40), primary_key=True)
    value: Mapped[str] = mapped_column(Text)
