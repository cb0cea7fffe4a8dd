"""Engine of the terminal store: SQLite in WAL mode with synchronous=FULL, checked, and its migrations."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event, text
from sqlalchemy.orm import Session, sessionmaker

MIGRATIONS_DIR = Path(__file__).with_name("migrations")


class StoreModeError(Exception):
    """The store is not in the durable mode the kiosk requires; the kiosk refuses to run on it."""


def make_store_engine(path: Path) -> Engine:
    path.parent.mkdir(parents=True, exist_ok=True)
    engine = create_engine(f"sqlite:///{path}", connect_args={"check_same_thread": False, "timeout": 30})

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn: Any, _record: Any) -> None:
        dbapi_conn.isolation_level = None  # SQLAlchemy's BEGIN below, not pysqlite's implicit one
        cur = dbapi_conn.cursor()
        cur.execute("PRAGMA journal_mode=WAL")
        cur.execute("PRAGMA synchronous=FULL")
        cur.execute("PRAGMA foreign_keys=ON")
        cur.execute("PRAGMA busy_timeout=30000")
        cur.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Any) -> None:
        conn.exec_driver_sql("BEGIN IMMEDIATE")

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
