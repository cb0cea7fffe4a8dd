"""How one central service process runs: `CentralSettings`, given to `create_app` by the CLI or a test."""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from kiosk.central.clock import Clock, utc_now
from kiosk.central.otp import OtpRules
from kiosk.signing import WINDOW_SECONDS


@dataclass
class CentralSettings:
    """How one central service process runs. Every worker behind a load balancer needs the same secret_key."""

    database_url: str
    secret_key: str = field(default_factory=lambda: secrets.token_hex(32))  # keys the OTP hashes
    sms_gateway: Literal["log", "file"] = "log"
    sms_file: Path | None = None
    otp_rules: OtpRules = field(default_factory=OtpRules)
    signature_window_s: int = WINDOW_SECONDS
    clock: Clock = utc_now
    run_migrations: bool = True
    pool_size: int = 40

    @property
    def otp_key(self) -> bytes:
        return self.secret_key.encode()
