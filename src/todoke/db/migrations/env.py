"""Alembic environment: the engine comes from `todoke.db.migrate`, never from an ini file."""

from __future__ import annotations

from alembic import context
from sqlalchemy import Engine

from todoke.db.models import Base

config = context.config
engine = config.attributes.get("engine")
if not isinstance(engine, Engine):
    raise RuntimeError("run migrations through todoke.db.migrate (todoke init)")

with engine.connect() as connection:
    context.configure(
        connection=connection,
        target_metadata=Base.metadata,
        render_as_batch=engine.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()
