"""The staff PIN: stored only as a salted PBKDF2 hash in kiosk.toml, checked in constant time, throttled."""

from __future__ import annotations

import hashlib
import hmac
import math
import re
import secrets
from collections.abc import Callable

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


FREE_TRIES = 5
"""Wrong staff PINs in a row before the first lock-out."""
LOCKOUT_S = 60.0
"""The first lock-out; each wrong PIN after it doubles the next one."""
MAX_LOCKOUT_S = 960.0
"""The longest lock-out (16 minutes, the fifth in a row): long enough that guessing takes years, short
enough that staff who mistyped are not sent to restart the kiosk."""


class PinThrottle:
    """Slows down guessing the staff PIN on the kiosk's keypad (10^6 PINs of 6 digits; one check costs a
    PBKDF2, ~0.1 s): `FREE_TRIES` wrong in a row lock the PIN for `LOCKOUT_S`; every wrong one after that
    locks it again for twice as long as the last time, up to `MAX_LOCKOUT_S`; a right PIN clears all. While
    locked, no PIN is checked at all.

    A try counts as wrong from the moment it is taken (`take_try`) until `right` says otherwise: PINs typed
    while a slow check is still running cannot slip past the count. The count lives in the process: a restart
    (the cabinet's power, or the supervisor after a fault) clears it. `clock` is monotonic seconds (the
    app's clock)."""

    def __init__(
        self,
        clock: Callable[[], float],
        *,
        free_tries: int = FREE_TRIES,
        lockout_s: float = LOCKOUT_S,
        max_lockout_s: float = MAX_LOCKOUT_S,
    ) -> None:
        self.clock = clock
        self.free_tries = free_tries
        self.lockout_s = lockout_s
        self.max_lockout_s = max_lockout_s
        self.wrong_in_a_row = 0
        self.locked_until: float | None = None

    def seconds_left(self) -> int:
        """Whole seconds until a PIN may be tried again (rounded up, so 0 means now)."""
        if self.locked_until is None:
            return 0
        return max(0, math.ceil(self.locked_until - self.clock()))

    def take_try(self) -> bool:
        """May a PIN be checked now? If so, the try is counted as wrong (and may start a lock-out) until
        `right` is called. A PIN typed during a lock-out is refused and not counted."""
        if self.seconds_left() > 0:
            return False
        self.wrong_in_a_row += 1
        beyond = self.wrong_in_a_row - self.free_tries
        if beyond >= 0:
            lockout = min(self.max_lockout_s, self.lockout_s * 2 ** min(beyond, 30))
            self.locked_until = self.clock() + lockout
        return True

    def right(self) -> None:
        """The PIN was right: the count and any lock-out are cleared."""
        self.wrong_in_a_row = 0
        self.locked_until = None
