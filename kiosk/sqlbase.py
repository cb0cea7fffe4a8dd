"""What the central and the terminal databases share: constraint names, timestamps, the SQLite mode."""

from __future__ import annotations

from typing import Any

from sqlalchemy import DateTime, Engine, event

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

Timestamp = DateTime(timezone=True)


def sqlite_durable_and_serialised(engine: Engine) -> None:
    """WAL + synchronous=FULL on every connection, and BEGIN IMMEDIATE for every transaction.

    pysqlite's own transaction handling is turned off so each transaction starts with BEGIN IMMEDIATE:
    code that reads then writes (cap checks, queue bounds) must not see a count another writer is changing.
    """

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
