"""Fixtures every test can use: both database engines, a runtime, users, a web client.

The network rig (local DNS server, SMTP sink, test CA) lives in tests/rig and the browser in
tests/browser/conftest.py.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from tests.db_engines import PostgresTemplate, SqliteTemplate, postgres_problem
from todoke.accounts.models import Organisation, User
from todoke.accounts.services import add_user, create_organisation, sync_builtin_roles
from todoke.authz import CLI_ACTOR
from todoke.runtime import Runtime
from todoke.settings import Settings
from todoke.web.app import create_app

pytest_plugins = ["tests.rig.fixtures"]

ENGINES = ("sqlite", "postgresql")
PASSWORD = "correct horse battery staple"
ARTIFACTS = Path(__file__).parent / "artifacts"


class OffsetClock:
    """Real time plus an offset tests can push forward (session expiry, throttling)."""

    def __init__(self) -> None:
        self.offset = timedelta()

    def now(self) -> datetime:
        return datetime.now(UTC) + self.offset

    def advance(self, delta: timedelta) -> None:
        self.offset += delta


_POSTGRES_PROBLEM: str | None = None


def pytest_configure(config: pytest.Config) -> None:
    global _POSTGRES_PROBLEM
    _POSTGRES_PROBLEM = postgres_problem()
    if _POSTGRES_PROBLEM and os.environ.get("CI") == "true":
        raise pytest.UsageError(
            f"PostgreSQL is required under CI and is not reachable: {_POSTGRES_PROBLEM}"
        )


def pytest_report_header(config: pytest.Config) -> str:
    if _POSTGRES_PROBLEM:
        return (
            f"PostgreSQL NOT reachable ({_POSTGRES_PROBLEM}): database tests run on SQLite "
            "only. Set TODOKE_TEST_POSTGRES_URL to point at a server."
        )
    return "database engines: sqlite, postgresql"


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> SqliteTemplate:
    return SqliteTemplate(tmp_path_factory.mktemp("sqlite"))


@pytest.fixture(scope="session")
def postgresql_template() -> Iterator[PostgresTemplate]:
    if _POSTGRES_PROBLEM:
        pytest.skip(f"PostgreSQL not reachable: {_POSTGRES_PROBLEM}")
    template = PostgresTemplate()
    yield template
    template.close()


@pytest.fixture(params=ENGINES)
def db_url(request: pytest.FixtureRequest) -> Iterator[str]:
    """A freshly migrated, empty database on each engine."""
    holder = request.getfixturevalue(f"{request.param}_template")
    yield from holder.fresh()


@pytest.fixture
def clock() -> OffsetClock:
    return OffsetClock()


@pytest.fixture
def settings(tmp_path: Path, db_url: str) -> Settings:
    return Settings(
        data_dir=tmp_path / "data",
        database_url=db_url,
        secret_key="test-secret-key-not-for-production",
    )  # type: ignore[arg-type]


@pytest.fixture
def runtime(settings: Settings, clock: OffsetClock) -> Iterator[Runtime]:
    current = Runtime.from_settings(settings, clock=clock)
    yield current
    current.close()


@dataclass
class Tenant:
    org: Organisation
    owner: User
    analyst: User
    viewer: User
    password: str = PASSWORD


@pytest.fixture
def tenant(runtime: Runtime) -> Tenant:
    with runtime.session() as session, session.begin():
        sync_builtin_roles(session)
        session.flush()
        org = create_organisation(
            session, name="届け協会", slug="todoke-kyokai", acting_user=CLI_ACTOR
        )
        users = {
            role: add_user(
                session,
                org=org,
                email=f"{role}@kyokai.example.jp",
                display_name=f"{role.title()} 様",
                password=PASSWORD,
                role_name=role,
                acting_user=CLI_ACTOR,
            )
            for role in ("owner", "analyst", "viewer")
        }
    return Tenant(org=org, owner=users["owner"], analyst=users["analyst"], viewer=users["viewer"])


@pytest.fixture
def client(runtime: Runtime) -> Iterator[TestClient]:
    # https: the __Host- cookies are Secure and would not be sent back over http.
    with TestClient(create_app(runtime), base_url="https://testserver") as test_client:
        yield test_client


def csrf_from(page_html: str) -> str:
    marker = 'name="csrf_token" value="'
    start = page_html.index(marker) + len(marker)
    return page_html[start : page_html.index('"', start)]


def login(client: TestClient, email: str, password: str = PASSWORD) -> TestClient:
    token = csrf_from(client.get("/login").text)
    response = client.post(
        "/login",
        data={"email": email, "password": password, "csrf_token": token},
        follow_redirects=False,
    )
    assert response.status_code == 303, response.text
    return client


def user_by_email(runtime: Runtime, email: str) -> User:
    with runtime.session() as session:
        user = session.scalar(select(User).where(User.email == email))
        assert user is not None
        return user
