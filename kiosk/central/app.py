"""The central service's FastAPI application, wired by `create_app(settings)` (nothing is built at import)."""

from __future__ import annotations

from fastapi import FastAPI

import kiosk
from kiosk.central import sms
from kiosk.central.db import make_engine, make_sessionmaker, upgrade
from kiosk.central.deps import Central
from kiosk.central.errors import add_handlers
from kiosk.central.routes import include_routes
from kiosk.central.settings import CentralSettings

__all__ = ["CentralSettings", "create_app"]


def create_app(settings: CentralSettings) -> FastAPI:
    """The app for one process: migrations (unless told not to), the engine, the SMS outbox, the routes."""
    if settings.run_migrations:
        upgrade(settings.database_url)
    engine = make_engine(settings.database_url, pool_size=settings.pool_size)
    sessions = make_sessionmaker(engine)
    gateway = sms.make_gateway(settings.sms_gateway, settings.sms_file)
    app = FastAPI(
        title="Family mutual-aid central service",
        version=kiosk.__version__,
        description="Reference central medical-insurance service for the family mutual-aid kiosks. "
        "Every /v1 request is signed by a registered kiosk (X-Kiosk-* headers, HMAC-SHA256).",
    )
    app.state.central = Central(
        settings=settings,
        engine=engine,
        sessions=sessions,
        outbox=sms.Outbox(sessions, gateway, settings.clock),
    )
    add_handlers(app)
    include_routes(app)
    return app
