"""Bulk writes at driver speed for ingest, on both engines.

Ingest writes tens of thousands of rows a second; SQLAlchemy's per-statement compilation and
per-row dictionaries cost more than the database itself at that rate (profiled: about half of
the storage time), so these helpers hand tuples straight to the driver: `executemany` on SQLite,
`COPY` (plain rows) and pipelined `executemany` (upserts) on PostgreSQL. Values are always bound
parameters; table and column names come from this package's constants and are checked.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

from sqlalchemy.orm import Session

_IDENTIFIER = re.compile(r"^[a-z_][a-z0-9_]*$")


def _checked(*names: str) -> None:
    for name in names:
        if not _IDENTIFIER.match(name):
            raise ValueError(f"not a plain SQL identifier: {name!r}")


def _is_postgresql(session: Session) -> bool:
    return session.get_bind().dialect.name == "postgresql"


def insert_rows(
    session: Session, table: str, columns: Sequence[str], rows: Sequence[Sequence[Any]]
) -> None:
    """Plain INSERT of many rows, in the session's transaction."""
    if not rows:
        return
    _checked(table, *columns)
    connection = session.connection()
    column_list = ", ".join(columns)
    if _is_postgresql(session):
        raw = connection.connection.driver_connection
        assert raw is not None
        statement = f"COPY {table} ({column_list}) FROM STDIN"
        with raw.cursor() as cursor, cursor.copy(statement) as copy:
            for row in rows:
                copy.write_row(row)
        return
    placeholders = ", ".join("?" for _ in columns)
    connection.exec_driver_sql(
        f"INSERT INTO {table} ({column_list}) VALUES ({placeholders})",  # noqa: S608 - checked names
        list(rows),
    )


def upsert_rows(
    session: Session,
    table: str,
    columns: Sequence[str],
    keys: Sequence[str],
    rows: Sequence[Sequence[Any]],
    *,
    add: Sequence[str] = (),
    least: Sequence[str] = (),
    greatest: Sequence[str] = (),
) -> None:
    """INSERT ... ON CONFLICT (keys) DO UPDATE: `add` columns are summed, `least`/`greatest`
    columns keep the smaller/larger value. Rows should be sorted by key (lock order)."""
    if not rows:
        return
    _checked(table, *columns, *keys, *add, *least, *greatest)
    postgresql = _is_postgresql(session)
    # SQLite's two-argument min()/max() are scalar; PostgreSQL spells them least()/greatest().
    smaller, larger = ("least", "greatest") if postgresql else ("min", "max")
    updates = [f"{c} = {table}.{c} + excluded.{c}" for c in add]
    updates += [f"{c} = {smaller}({table}.{c}, excluded.{c})" for c in least]
    updates += [f"{c} = {larger}({table}.{c}, excluded.{c})" for c in greatest]
    marker = "%s" if postgresql else "?"
    statement = (
        f"INSERT INTO {table} ({', '.join(columns)}) "  # noqa: S608 - checked names
        f"VALUES ({', '.join(marker for _ in columns)}) "
        f"ON CONFLICT ({', '.join(keys)}) DO UPDATE SET {', '.join(updates)}"
    )
    session.connection().exec_driver_sql(statement, list(rows))
