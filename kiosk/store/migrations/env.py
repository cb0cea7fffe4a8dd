"""Alembic environment of the terminal store; the path comes from kiosk.store.db.upgrade."""

from __future__ import annotations

from pathlib import Path

from alembic import context

from kiosk.store.db import make_store_engine
from kiosk.store.models import Base

path = context.config.attributes.get("store_path")
if not path:
    raise RuntimeError("no store path given to the store migrations")
engine = make_store_engine(Path(path))
try:
    with engine.connect() as connection:
        context.configure(connection=connection, target_metadata=Base.metadata, render_as_batch=True)
        with context.begin_transaction():
            context.run_migrations()
        connection.commit()
finally:
    engine.dispose()
