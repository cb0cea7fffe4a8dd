"""Engine and session factories for the central service (PostgreSQL in production, SQLite embedded)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker

MIGRATIONS_DIR = Path(__file__).with_name("migrations")


def make_engine(database_url: str, *, pool_size: int = 40) -> Engine:
    """Build the engine. SQLite gets WAL and BEGIN IMMEDIATE, so writers queue instead of failing later."""
    url = make_url(database_url)
    if url.get_backend_name() == "sqlite":
        engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 30})
        _sqlite_serialised_writes(engine)
        return engine
    # As many pooled connections as FastAPI's thread pool has threads (40): under load, connections are
    # reused instead of opened and closed per request (which tripled PostgreSQL's CPU per insert).
    return create_engine(url, pool_size=pool_size, max_overflow=10, pool_pre_ping=True)


def _sqlite_serialised_writes(engine: Engine) -> None:
    # pysqlite's own transaction handling is turned off so every transaction starts with BEGIN IMMEDIATE:
    # the cap checks read then write, and under a deferred BEGIN two of them could both read the old count.
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn: Any, _record: Any) -> None:
        dbapi_conn.isolation_level = None
        cur = dbapi_conn.cursor()
        cur.execute("PRAGMA journal_mode=WAL")
        cur.execute("PRAGMA synchronous=FULL")
        cur.execute("PRAGMA foreign_keys=ON")
        cur.execute("PRAGMA busy_timeout=30000")
        cur.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Any) -> None:
        conn.exec_driver_sql("BEGIN IMMEDIATE")


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
