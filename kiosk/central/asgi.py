"""ASGI entry for multi-worker uvicorn: settings come from the environment `kiosk central serve` sets."""

from __future__ import annotations

import os
from pathlib import Path

from kiosk.central.app import CentralSettings, create_app

_sms_file = os.environ.get("KIOSK_CENTRAL_SMS_FILE")
app = create_app(
    CentralSettings(
        database_url=os.environ["KIOSK_CENTRAL_DATABASE_URL"],
        secret_key=os.environ["KIOSK_CENTRAL_SECRET_KEY"],
        sms_gateway="file" if _sms_file else "log",
        sms_file=Path(_sms_file) if _sms_file else None,
        run_migrations=False,
    )
)
