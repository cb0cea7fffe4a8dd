"""Engine of the terminal store: SQLite in WAL mode with synchronous=FULL, checked, and its migrations."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import Engine, create_engine, text
from sqlalchemy.orm import Session, sessionmaker

from kiosk.sqlbase import sqlite_durable_and_serialised

MIGRATIONS_DIR = Path(__file__).with_name("migrations")


class StoreModeError(Exception):
    """The store is not in the durable mode the kiosk requires; the kiosk refuses to run on it."""


def make_store_engine(path: Path) -> Engine:
    path.parent.mkdir(parents=True, exist_ok=True)
    engine = create_engine(f"sqlite:///{path}", connect_args={"check_same_thread": False, "timeout": 30})

    sqlite_durable_and_serialised(engine)
    return engine


def check_mode(engine: Engine) -> None:
    """Refuse a store that would not survive a power cut: it must be WAL with synchronous=FULL (2)."""
    with engine.connect() as conn:
        journal = str(conn.execute(text("PRAGMA journal_mode")).scalar()).lower()
        synchronous = int(conn.execute(text("PRAGMA synchronous")).scalar() or 0)
        conn.rollback()
    if journal != "wal":
        raise StoreModeError(f"the store's journal mode is {journal!r}, not 'wal'")
    if synchronous != 2:
        raise StoreModeError(f"the store's synchronous setting is {synchronous}, not FULL (2)")


def integrity_ok(engine: Engine) -> tuple[bool, str]:
    with engine.connect() as conn:
        result = str(conn.execute(text("PRAGMA integrity_check")).scalar())
        conn.rollback()
    return result == "ok", result


def make_sessions(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(engine, expire_on_commit=False)


def upgrade(path: Path) -> None:
    from alembic import command
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    cfg.attributes["store_path"] = str(path)
    command.upgrade(cfg, "head")
