"""Per-kiosk request signatures: HMAC-SHA256 over method, path, timestamp, nonce and body hash."""

from __future__ import annotations

import hashlib
import hmac
import secrets
import time
from collections.abc import Mapping
from dataclasses import dataclass

WINDOW_SECONDS = 300
H_KIOSK, H_TIMESTAMP, H_NONCE, H_SIGNATURE = (
    "X-Kiosk-Id",
    "X-Kiosk-Timestamp",
    "X-Kiosk-Nonce",
    "X-Kiosk-Signature",
)


def canonical(method: str, path: str, timestamp: str, nonce: str, body: bytes) -> bytes:
    """The signed text. `path` includes the query string exactly as sent."""
    body_hash = hashlib.sha256(body).hexdigest()
    return "\n".join((method.upper(), path, timestamp, nonce, body_hash)).encode()


def sign(secret: str, method: str, path: str, timestamp: str, nonce: str, body: bytes) -> str:
    return hmac.new(
        secret.encode(), canonical(method, path, timestamp, nonce, body), hashlib.sha256
    ).hexdigest()


def signed_headers(
    kiosk_id: str, secret: str, method: str, path: str, body: bytes, now: float | None = None
) -> dict[str, str]:
    """Headers for one request; a fresh nonce every time so a retry is a new request to the replay check."""
    timestamp = str(int(time.time() if now is None else now))
    nonce = secrets.token_hex(16)
    return {
        H_KIOSK: kiosk_id,
        H_TIMESTAMP: timestamp,
        H_NONCE: nonce,
        H_SIGNATURE: sign(secret, method, path, timestamp, nonce, body),
    }


@dataclass(frozen=True, slots=True)
class SignedParts:
    kiosk_id: str
    timestamp: int
    nonce: str
    signature: str


class SignatureError(Exception):
    """The request is unsigned, stale, replayed or signed with the wrong key; `reason` says which."""

    def __init__(self, reason: str) -> None:
        self.reason = reason
        super().__init__(reason)


def parse_headers(headers: Mapping[str, str]) -> SignedParts:
    lower = {k.lower(): v for k, v in headers.items()}
    try:
        kiosk_id = lower[H_KIOSK.lower()]
        timestamp = lower[H_TIMESTAMP.lower()]
        nonce = lower[H_NONCE.lower()]
        signature = lower[H_SIGNATURE.lower()]
    except KeyError:
        raise SignatureError("unsigned") from None
    if not (timestamp.isascii() and timestamp.isdigit()) or len(timestamp) > 12:
        raise SignatureError("bad_timestamp")
    if not (8 <= len(nonce) <= 64 and nonce.isascii() and nonce.isalnum()):
        raise SignatureError("bad_nonce")
    if not (1 <= len(kiosk_id) <= 64):
        raise SignatureError("unknown_kiosk")
    return SignedParts(kiosk_id, int(timestamp), nonce, signature)


def verify(
    parts: SignedParts,
    secret: str,
    method: str,
    path: str,
    body: bytes,
    now: float,
    window: int = WINDOW_SECONDS,
) -> None:
    """Check freshness and the MAC (constant time). Replays are the caller's job: it owns the nonce store."""
    if abs(now - parts.timestamp) > window:
        raise SignatureError("stale_timestamp")
    expected = sign(secret, method, path, str(parts.timestamp), parts.nonce, body)
    if not hmac.compare_digest(expected, parts.signature):
        raise SignatureError("bad_signature")
