"""One-time verification codes for relatives: keyed hashes at rest, expiry, attempt limit, resend throttle."""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import secrets
import uuid
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from kiosk import api
from kiosk.api import Reason
from kiosk.central import registry
from kiosk.central.clock import aware, local_date
from kiosk.central.errors import ApiError, not_found
from kiosk.central.models import Otp, SmsMessage
from kiosk.domain import eligibility
from kiosk.domain.masking import mask_name, mask_phone


@dataclass(frozen=True, slots=True)
class OtpRules:
    ttl_s: int = 300
    max_attempts: int = 5
    resend_after_s: int = 60
    max_per_hour: int = 5


def code_hash(key: bytes, otp_id: str, code: str) -> str:
    return hmac.new(key, f"{otp_id}:{code}".encode(), hashlib.sha256).hexdigest()


def send(
    db: Session, key: bytes, rules: OtpRules, now: dt.datetime, kiosk_id: str, body: api.OtpSendIn
) -> api.OtpSendOut:
    people = registry.lock_people(db, [body.holder_psn_no, body.relative_psn_no])
    holder, relative = people.get(body.holder_psn_no), people.get(body.relative_psn_no)
    if holder is None:
        raise not_found(Reason.HOLDER_NOT_FOUND)
    if relative is None:
        raise not_found(Reason.RELATIVE_NOT_FOUND)
    policy = registry.area_policy(db, holder.insured_admdvs)
    if eligibility.is_minor(policy, registry.to_rules_person(relative), local_date(now)):
        raise ApiError(422, Reason.OTP_NOT_FOR_MINOR, "a minor receives no SMS; the holder acts as guardian")
    if not relative.phone:
        raise ApiError(422, Reason.RELATIVE_NO_PHONE, "the relative has no registered mobile phone")
    last = db.scalars(
        select(Otp.created_at)
        .where(Otp.relative_psn_no == relative.psn_no)
        .order_by(Otp.created_at.desc())
        .limit(1)
    ).first()
    if last is not None and (now - aware(last)).total_seconds() < rules.resend_after_s:
        wait = rules.resend_after_s - int((now - aware(last)).total_seconds())
        raise ApiError(
            429,
            Reason.OTP_THROTTLED,
            "a code was sent moments ago; wait before asking again",
            retry_after_s=wait,
        )
    hour_count = db.scalar(
        select(func.count())
        .select_from(Otp)
        .where(Otp.relative_psn_no == relative.psn_no, Otp.created_at > now - dt.timedelta(hours=1))
    )
    if (hour_count or 0) >= rules.max_per_hour:
        raise ApiError(
            429, Reason.OTP_THROTTLED, "too many codes this hour; try again later", retry_after_s=3600
        )
    otp_id = str(uuid.uuid4())
    code = f"{secrets.randbelow(10**6):06d}"
    db.add(
        Otp(
            otp_id=otp_id,
            holder_psn_no=holder.psn_no,
            relative_psn_no=relative.psn_no,
            code_hash=code_hash(key, otp_id, code),
            created_at=now,
            expires_at=now + dt.timedelta(seconds=rules.ttl_s),
            attempts=0,
            kiosk_id=kiosk_id,
        )
    )
    minutes = max(1, rules.ttl_s // 60)
    db.add(
        SmsMessage(
            psn_no=relative.psn_no,
            phone=relative.phone,
            template="otp",
            body=(
                f"【医保家庭共济】验证码 {code}，{minutes} 分钟内有效。"
                f"{mask_name(holder.name)} 申请用其医保个人账户为您共济。"
                "如非本人意愿，请勿告诉他人。"
            ),
            created_at=now,
            attempts=0,
        )
    )
    return api.OtpSendOut(
        otp_id=otp_id,
        phone_masked=mask_phone(relative.phone),
        expires_at=now + dt.timedelta(seconds=rules.ttl_s),
        resend_after_s=rules.resend_after_s,
    )


def verify(
    db: Session, key: bytes, rules: OtpRules, now: dt.datetime, body: api.OtpVerifyIn
) -> ApiError | None:
    """Check a code. A wrong code is returned (not raised) so the caller commits the counted attempt."""
    otp = db.scalars(select(Otp).where(Otp.otp_id == str(body.otp_id)).with_for_update()).first()
    if otp is None:
        raise not_found(Reason.OTP_NOT_FOUND)
    if otp.verified_at is not None:
        return None
    if otp.attempts >= rules.max_attempts:
        raise ApiError(422, Reason.OTP_LOCKED, "too many wrong codes; ask for a new one")
    if now > aware(otp.expires_at):
        raise ApiError(422, Reason.OTP_EXPIRED, "the code has expired; ask for a new one")
    otp.attempts += 1
    if not hmac.compare_digest(otp.code_hash, code_hash(key, otp.otp_id, body.code)):
        left = rules.max_attempts - otp.attempts
        if left <= 0:
            return ApiError(422, Reason.OTP_LOCKED, "too many wrong codes; ask for a new one")
        return ApiError(422, Reason.OTP_WRONG, "the code is not right", attempts_left=left)
    otp.verified_at = now
    return None


def consume(
    db: Session, now: dt.datetime, otp_id: str, holder_psn_no: str, relative_psn_no: str, ttl_s: int
) -> None:
    """A binding uses a verified code once, for the same pair, soon after it was verified."""
    otp = db.scalars(select(Otp).where(Otp.otp_id == otp_id).with_for_update()).first()
    if otp is None or otp.holder_psn_no != holder_psn_no or otp.relative_psn_no != relative_psn_no:
        raise ApiError(
            422, Reason.OTP_NOT_VERIFIED, "the relative's SMS code was not verified for this binding"
        )
    if otp.verified_at is None:
        raise ApiError(
            422, Reason.OTP_NOT_VERIFIED, "the relative's SMS code was not verified for this binding"
        )
    if otp.consumed_at is not None:
        raise ApiError(422, Reason.OTP_ALREADY_USED, "this SMS code was already used")
    if now - aware(otp.verified_at) > dt.timedelta(seconds=ttl_s * 6):
        raise ApiError(422, Reason.OTP_EXPIRED, "the verification is too old; ask for a new code")
    otp.consumed_at = now
