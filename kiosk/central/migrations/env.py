"""Alembic environment of the central service; the URL comes from the caller (kiosk.central.db.upgrade)."""

from __future__ import annotations

from alembic import context

from kiosk.central.db import make_engine
from kiosk.central.models import Base

config = context.config
url = config.attributes.get("database_url") or config.get_main_option("sqlalchemy.url")
if not url:
    raise RuntimeError("no database URL given to the central migrations")

engine = make_engine(url, pool_size=1)
try:
    with engine.connect() as connection:
        context.configure(
            connection=connection,
            target_metadata=Base.metadata,
            render_as_batch=connection.dialect.name == "sqlite",
        )
        with context.begin_transaction():
            context.run_migrations()
        connection.commit()
finally:
    engine.dispose()
