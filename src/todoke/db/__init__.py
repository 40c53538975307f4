"""The data layer: one model base, two engines (SQLite embedded, PostgreSQL scale-out)."""

from todoke.db.base import Base, JSONValue, UTCDateTime, utcnow
from todoke.db.engine import create_db_engine, is_postgresql, is_sqlite, read_only
from todoke.db.session import SessionFactory, make_session_factory

__all__ = [
    "Base",
    "JSONValue",
    "SessionFactory",
    "UTCDateTime",
    "create_db_engine",
    "is_postgresql",
    "is_sqlite",
    "make_session_factory",
    "read_only",
    "utcnow",
]
