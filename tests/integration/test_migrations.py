"""Migrations: one linear history that builds the models' schema from empty on both engines."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import inspect, text
from sqlalchemy.engine import make_url

from tests.db_engines import _libpq, postgres_admin_url
from todoke.db import create_db_engine
from todoke.db.migrate import alembic_config, current_revision, downgrade, head_revision, upgrade
from todoke.db.models import Base


@pytest.fixture(params=["sqlite", "postgresql"])
def empty_db_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'empty.db'}"
        return
    request.getfixturevalue("postgresql_template")  # skips (or fails under CI) without a server
    name = f"todoke_empty_{uuid.uuid4().hex[:10]}"
    admin = _libpq(postgres_admin_url())
    with psycopg.connect(admin, autocommit=True) as connection:
        connection.execute(f'CREATE DATABASE "{name}"')  # type: ignore[arg-type]
    yield make_url(postgres_admin_url()).set(database=name).render_as_string(hide_password=False)
    with psycopg.connect(admin, autocommit=True) as connection:
        connection.execute(f'DROP DATABASE "{name}" WITH (FORCE)')  # type: ignore[arg-type]


def test_history_is_linear() -> None:
    engine = create_db_engine("sqlite://")
    script = ScriptDirectory.from_config(alembic_config(engine))
    assert len(script.get_heads()) == 1
    for revision in script.walk_revisions():
        assert not isinstance(revision.down_revision, tuple | list), revision.revision


def test_upgrade_from_empty_matches_the_models(empty_db_url: str) -> None:
    engine = create_db_engine(empty_db_url)
    assert current_revision(engine) is None
    upgrade(engine)
    assert current_revision(engine) == head_revision(engine)
    with engine.connect() as connection:
        differences = compare_metadata(MigrationContext.configure(connection), Base.metadata)
    assert differences == []
    engine.dispose()


def test_downgrade_to_empty_and_up_again(empty_db_url: str) -> None:
    engine = create_db_engine(empty_db_url)
    upgrade(engine)
    downgrade(engine, "base")
    assert set(inspect(engine).get_table_names()) <= {"alembic_version"}
    upgrade(engine)
    assert "audit_event" in inspect(engine).get_table_names()
    engine.dispose()


def test_analyses_stored_before_highlights_are_dropped_for_recomputation(
    empty_db_url: str,
) -> None:
    engine = create_db_engine(empty_db_url)
    upgrade(engine, "0004")
    with engine.begin() as connection:
        connection.execute(
            text(
                "INSERT INTO organisation (id, name, slug, created_at) "
                "VALUES (1, 'o', 'o', CURRENT_TIMESTAMP)"
            )
        )
        connection.execute(
            text(
                "INSERT INTO dmarc_source_analysis (id, organisation_id, domain, window_days, "
                "ready, since, until, recent_since, computed_at, compute_ms, report_max_id, "
                "report_count, inputs_digest, sources, messages, dmarc_pass, spf_aligned, "
                "dkim_aligned, kinds, patterns, readiness) VALUES (1, 1, 'example.jp', 30, "
                "true, '2026-10-01', '2026-10-30', '2026-10-17', CURRENT_TIMESTAMP, 1, 1, 1, "
                "'x', 0, 0, 0, 0, 0, '{}', '[]', '{}')"
            )
        )
    upgrade(engine)
    with engine.connect() as connection:
        left = connection.execute(text("SELECT count(*) FROM dmarc_source_analysis")).scalar()
        kept = connection.execute(text("SELECT count(*) FROM organisation")).scalar()
    assert (left, kept) == (0, 1)
    engine.dispose()
