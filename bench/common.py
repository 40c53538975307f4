"""Shared benchmark plumbing: fresh databases on both engines, timing, result files."""

from __future__ import annotations

import json
import platform
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import psycopg
from sqlalchemy.engine import make_url

from tests.db_engines import _libpq, postgres_admin_url, postgres_problem
from todoke.db import create_db_engine
from todoke.db.migrate import upgrade

RESULTS = Path(__file__).parent / "results"


@contextmanager
def fresh_database(engine_name: str, workdir: Path) -> Iterator[str]:
    """A migrated, empty database on `sqlite` or `postgresql`, dropped afterwards."""
    if engine_name == "sqlite":
        url = f"sqlite:///{workdir / f'bench-{uuid.uuid4().hex[:8]}.db'}"
        engine = create_db_engine(url)
        upgrade(engine)
        engine.dispose()
        yield url
        return
    name = f"todoke_bench_{uuid.uuid4().hex[:10]}"
    admin = _libpq(postgres_admin_url())
    with psycopg.connect(admin, autocommit=True) as connection:
        connection.execute(f'CREATE DATABASE "{name}"')  # type: ignore[arg-type]
    url = make_url(postgres_admin_url()).set(database=name).render_as_string(hide_password=False)
    engine = create_db_engine(url)
    upgrade(engine)
    engine.dispose()
    try:
        yield url
    finally:
        with psycopg.connect(admin, autocommit=True) as connection:
            connection.execute(f'DROP DATABASE "{name}" WITH (FORCE)')  # type: ignore[arg-type]


def engines() -> list[str]:
    problem = postgres_problem()
    if problem:
        print(f"PostgreSQL not reachable ({problem}): benchmarking SQLite only")
        return ["sqlite"]
    return ["sqlite", "postgresql"]


@dataclass
class Timing:
    seconds: float


@contextmanager
def timed() -> Iterator[Timing]:
    timing = Timing(0.0)
    started = time.perf_counter()
    yield timing
    timing.seconds = time.perf_counter() - started


def best_of(runs: int, action: Callable[[], None]) -> float:
    best = float("inf")
    for _ in range(runs):
        with timed() as timing:
            action()
        best = min(best, timing.seconds)
    return best


def write_result(name: str, figures: dict[str, Any]) -> Path:
    RESULTS.mkdir(exist_ok=True)
    path = RESULTS / f"{name}.json"
    payload = {
        "benchmark": name,
        "measured_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": {"python": platform.python_version(), "cpu_count": __import__("os").cpu_count()},
        "figures": figures,
    }
    path.write_text(json.dumps(payload, indent=2, ensure_ascii=False) + "\n")
    return path
