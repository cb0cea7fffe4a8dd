"""ASGI factory for multi-worker uvicorn: settings come from the environment `kiosk central serve` sets."""

from __future__ import annotations

import os
from pathlib import Path

from fastapi import FastAPI

from kiosk.central.app import CentralSettings, create_app


def create() -> FastAPI:
    """Called once in each worker (`uvicorn --factory kiosk.central.asgi:create`); nothing runs at import."""
    sms_file = os.environ.get("KIOSK_CENTRAL_SMS_FILE")
    return create_app(
        CentralSettings(
            database_url=os.environ["KIOSK_CENTRAL_DATABASE_URL"],
            secret_key=os.environ["KIOSK_CENTRAL_SECRET_KEY"],
            sms_gateway="file" if sms_file else "log",
            sms_file=Path(sms_file) if sms_file else None,
            run_migrations=False,
        )
    )
