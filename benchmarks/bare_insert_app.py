"""Baseline for benchmarks/central_load.py: the cheapest durable write a FastAPI service can do.

One POST endpoint that parses a small JSON body, INSERTs one row and commits (one fsync on a durable
PostgreSQL). It runs the way the central service does: a sync `def` endpoint (FastAPI's thread pool), the
engine built by the service's own `kiosk.central.db.make_engine` (psycopg 3, pool_size 20 + overflow 20,
pre-ping on checkout), served by uvicorn on 127.0.0.1. No signature check, no idempotency, no rules.

    BARE_DATABASE_URL=postgresql+psycopg://... python -m uvicorn benchmarks.bare_insert_app:app --port 8800

Create the table first with `create_schema(url)` (the load driver does it), so several workers never race
on CREATE TABLE.
"""

from __future__ import annotations

import datetime as dt
import os
import uuid
from typing import Annotated

from fastapi import FastAPI, Header
from pydantic import BaseModel, ConfigDict
from sqlalchemy import Engine, text

from kiosk.central.db import make_engine

URL_ENV = "BARE_DATABASE_URL"
POOL_SIZE = 20  # the central service's CentralSettings.pool_size

DDL = """
CREATE TABLE IF NOT EXISTS bare_write (
    id varchar(36) PRIMARY KEY,
    kiosk_id varchar(64),
    holder_psn_no varchar(20) NOT NULL,
    relative_certno varchar(24) NOT NULL,
    created_at timestamptz NOT NULL
)
"""
INSERT = text(
    "INSERT INTO bare_write (id, kiosk_id, holder_psn_no, relative_certno, created_at)"
    " VALUES (:id, :kiosk_id, :holder, :certno, :at)"
)


class WriteIn(BaseModel):
    """The fields of a binding body the baseline stores; the rest of the body is accepted and ignored."""

    model_config = ConfigDict(extra="ignore")
    request_id: uuid.UUID
    holder_psn_no: str
    relative_certno: str


def create_schema(database_url: str) -> None:
    engine = make_engine(database_url, pool_size=1)
    try:
        with engine.begin() as conn:
            conn.execute(text(DDL))
    finally:
        engine.dispose()


def create_app(engine: Engine) -> FastAPI:
    app = FastAPI(title="bare insert baseline")

    @app.get("/healthz")
    def healthz() -> dict[str, str]:
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
        return {"status": "ok"}

    @app.post("/write", status_code=201)
    def write(body: WriteIn, x_kiosk_id: Annotated[str | None, Header()] = None) -> dict[str, str]:
        row_id = str(body.request_id)
        with engine.begin() as conn:  # one INSERT, one COMMIT
            conn.execute(
                INSERT,
                {
                    "id": row_id,
                    "kiosk_id": x_kiosk_id,
                    "holder": body.holder_psn_no,
                    "certno": body.relative_certno,
                    "at": dt.datetime.now(dt.UTC),
                },
            )
        return {"id": row_id}

    return app


app = create_app(make_engine(os.environ[URL_ENV], pool_size=POOL_SIZE)) if URL_ENV in os.environ else None
