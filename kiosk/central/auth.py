"""Kiosk registration and the signature check every /v1 request passes before anything is read or written."""

from __future__ import annotations

import datetime as dt
import random
import secrets

from sqlalchemy import delete, text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from kiosk.api import Reason
from kiosk.central.clock import Clock
from kiosk.central.errors import ApiError
from kiosk.central.models import Kiosk, SeenNonce
from kiosk.signing import SignatureError, SignedParts, verify


def register_kiosk(db: Session, kiosk_id: str, now: dt.datetime) -> str:
    """Create a terminal's key; the secret is returned once and only shown to the operator who asked."""
    if not (1 <= len(kiosk_id) <= 64) or not all(c.isalnum() or c in "-_." for c in kiosk_id):
        raise ValueError("a kiosk id is 1-64 letters, digits, '-', '_' or '.'")
    if db.get(Kiosk, kiosk_id) is not None:
        raise ValueError(f"kiosk {kiosk_id!r} is already registered")
    secret = secrets.token_urlsafe(32)
    db.add(Kiosk(kiosk_id=kiosk_id, secret=secret, created_at=now, disabled=False))
    return secret


def refused(reason: str) -> ApiError:
    """401 for a request whose signature does not hold; `reason` (a `kiosk.signing` word) goes in params."""
    return ApiError(401, Reason.UNAUTHORIZED, f"request signature refused: {reason}", reason=reason)


def authenticate(
    sessions: sessionmaker[Session],
    clock: Clock,
    window_s: int,
    parts: SignedParts,
    method: str,
    path: str,
    body: bytes,
) -> str:
    """Verify a signed request and remember its nonce; returns the kiosk id. Raises ApiError 401."""
    now = clock()
    try:
        with sessions.begin() as db:
            kiosk = db.get(Kiosk, parts.kiosk_id)
            if kiosk is None or kiosk.disabled:
                raise SignatureError("unknown_kiosk")
            verify(parts, kiosk.secret, method, path, body, now.timestamp(), window_s)
            if db.get_bind().dialect.name == "postgresql":
                # A nonce lost in a crash only re-opens a 300 s replay window: not worth an fsync.
                db.execute(text("SET LOCAL synchronous_commit TO OFF"))
            db.add(SeenNonce(kiosk_id=parts.kiosk_id, nonce=parts.nonce, seen_at=now))
            if random.random() < 0.005:  # noqa: S311 - housekeeping cadence, not security
                db.execute(
                    delete(SeenNonce).where(SeenNonce.seen_at < now - dt.timedelta(seconds=2 * window_s))
                )
    except SignatureError as exc:
        raise refused(exc.reason) from None
    except IntegrityError:  # the nonce was seen before
        raise refused("replayed") from None
    return parts.kiosk_id
