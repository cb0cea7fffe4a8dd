"""Engine and session factories for the central service (PostgreSQL in production, SQLite embedded)."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import Engine, create_engine
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker

from kiosk.sqlbase import sqlite_durable_and_serialised

MIGRATIONS_DIR = Path(__file__).with_name("migrations")


def make_engine(database_url: str, *, pool_size: int = 40) -> Engine:
    """Build the engine. SQLite gets WAL and BEGIN IMMEDIATE, so writers queue instead of failing later."""
    url = make_url(database_url)
    if url.get_backend_name() == "sqlite":
        engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 30})
        sqlite_durable_and_serialised(engine)
        return engine
    # As many pooled connections as FastAPI's thread pool has threads (40): under load, connections are
    # reused instead of opened and closed per request (which tripled PostgreSQL's CPU per insert).
    return create_engine(url, pool_size=pool_size, max_overflow=10, pool_pre_ping=True)


def make_sessionmaker(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(engine, expire_on_commit=False)


def upgrade(database_url: str) -> None:
    """Run the Alembic migrations up to head (the service does this at start)."""
    from alembic import command
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    cfg.attributes["database_url"] = database_url
    command.upgrade(cfg, "head")
