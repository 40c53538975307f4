"""Both database engines for every database test: SQLite files and PostgreSQL databases.

Migrations run once per engine into a template; each test gets a copy (a file copy on SQLite,
`CREATE DATABASE ... TEMPLATE` on PostgreSQL), so tests are isolated and fast.
"""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import psycopg
from sqlalchemy.engine import make_url

from todoke.db import create_db_engine
from todoke.db.migrate import upgrade

DEFAULT_POSTGRES_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"


def postgres_admin_url() -> str:
    return os.environ.get("TODOKE_TEST_POSTGRES_URL", DEFAULT_POSTGRES_URL)


def _libpq(url: str) -> str:
    parsed = make_url(url).set(drivername="postgresql")
    return parsed.render_as_string(hide_password=False)


def postgres_problem() -> str | None:
    """None when PostgreSQL answers, else why not."""
    try:
        with psycopg.connect(_libpq(postgres_admin_url()), connect_timeout=3) as connection:
            connection.execute("SELECT 1")
    except psycopg.Error as exc:
        return f"{postgres_admin_url()}: {str(exc).strip().splitlines()[0]}"
    return None


@dataclass
class SqliteTemplate:
    directory: Path

    def __post_init__(self) -> None:
        self.template = self.directory / "template.db"
        engine = create_db_engine(f"sqlite:///{self.template}")
        upgrade(engine)
        engine.dispose()  # the last connection to close checkpoints the WAL into the file

    def fresh(self) -> Iterator[str]:
        target = self.directory / f"test-{uuid.uuid4().hex[:12]}.db"
        shutil.copyfile(self.template, target)
        yield f"sqlite:///{target}"
        for suffix in ("", "-wal", "-shm"):
            Path(f"{target}{suffix}").unlink(missing_ok=True)


class PostgresTemplate:
    def __init__(self) -> None:
        self.run_id = uuid.uuid4().hex[:10]
        self.admin = _libpq(postgres_admin_url())
        self.template = f"todoke_tpl_{self.run_id}"
        self._create(self.template, None)
        engine = create_db_engine(self.url(self.template))
        upgrade(engine)
        engine.dispose()
        self.counter = 0

    def _execute(self, statement: str) -> None:
        with psycopg.connect(self.admin, autocommit=True) as connection:
            connection.execute(statement)  # type: ignore[arg-type]

    def _create(self, name: str, template: str | None) -> None:
        clause = f" TEMPLATE {template}" if template else ""
        self._execute(f'CREATE DATABASE "{name}"{clause}')

    def url(self, name: str) -> str:
        return (
            make_url(postgres_admin_url()).set(database=name).render_as_string(hide_password=False)
        )

    def fresh(self) -> Iterator[str]:
        self.counter += 1
        name = f"todoke_t_{self.run_id}_{self.counter}"
        self._create(name, self.template)
        try:
            yield self.url(name)
        finally:
            self._execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    def close(self) -> None:
        self._execute(f'DROP DATABASE IF EXISTS "{self.template}" WITH (FORCE)')
