"""The staff PIN: stored only as a salted PBKDF2 hash in kiosk.toml, checked in constant time."""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets

ITERATIONS = 200_000
MIN_DIGITS, MAX_DIGITS = 6, 12
_HASH = re.compile(r"pbkdf2_sha256\$[1-9][0-9]*\$[^$]+\$[0-9a-f]{64}")


def pin_problem(pin: str) -> str | None:
    """Why `pin` cannot be a staff PIN (the kiosk's keypad has digits only), or None when it can."""
    if not (pin.isascii() and pin.isdigit() and MIN_DIGITS <= len(pin) <= MAX_DIGITS):
        return f"a staff PIN is {MIN_DIGITS} to {MAX_DIGITS} digits"
    return None


def hash_pin(pin: str, *, salt: str | None = None, iterations: int = ITERATIONS) -> str:
    salt = salt or secrets.token_hex(16)
    digest = hashlib.pbkdf2_hmac("sha256", pin.encode(), salt.encode(), iterations).hex()
    return f"pbkdf2_sha256${iterations}${salt}${digest}"


def is_pin_hash(stored: str) -> bool:
    """Whether `stored` has the shape `hash_pin` gives (`[kiosk] staff_pin_hash` is checked with it)."""
    return _HASH.fullmatch(stored) is not None


def check_pin(pin: str, stored: str) -> bool:
    try:
        scheme, iterations, salt, digest = stored.split("$")
    except ValueError:
        return False
    if scheme != "pbkdf2_sha256" or not iterations.isdigit():
        return False
    candidate = hashlib.pbkdf2_hmac("sha256", pin.encode(), salt.encode(), int(iterations)).hex()
    return hmac.compare_digest(candidate, digest)
