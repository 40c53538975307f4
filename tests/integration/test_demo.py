"""What `make demo` runs: `todoke demo` on a fresh data directory (the embedded SQLite database)
and `load_demo` on both engines. The demo must give a login that works and DMARC pages with a
month of reports, and starting it again must keep its data and give a fresh password."""

from __future__ import annotations

from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from typer.testing import CliRunner

from tests.conftest import login
from todoke.accounts.services import first_organisation
from todoke.cli.main import app
from todoke.demo import DEMO_OWNER, DEMO_REPORTS, load_demo
from todoke.dmarc import queries
from todoke.dmarc.models import DmarcRecord
from todoke.runtime import Runtime
from todoke.settings import Settings
from todoke.web.app import create_app


def stored(runtime: Runtime) -> tuple[int, int]:
    """(reports, messages) of the demo organisation."""
    with runtime.session() as session:
        org = first_organisation(session)
        assert org is not None
        reports = queries.count_reports(session, org=org)
        messages = session.scalar(select(func.sum(DmarcRecord.message_count)))
    return reports, int(messages or 0)


def test_the_demo_gives_a_login_and_a_month_of_reports_and_keeps_them(
    runtime: Runtime, client: TestClient
) -> None:
    first = load_demo(runtime)
    reports, messages = stored(runtime)
    # the corpus repeats a few reports as reporters do; those are stored once
    assert DEMO_REPORTS * 0.9 <= reports <= DEMO_REPORTS
    assert messages > 0
    again = load_demo(runtime)
    assert again.email == first.email == DEMO_OWNER
    assert again.password != first.password
    assert stored(runtime) == (reports, messages)

    login(client, again.email, again.password)
    overview = client.get("/dmarc")
    assert overview.status_code == 200
    assert "example.jp" in overview.text
    domain = client.get("/dmarc/domains/example.jp")
    assert domain.status_code == 200
    assert "203.0.113." in domain.text  # the registered own servers send mail
    readiness = client.get("/dmarc/domains/example.jp/readiness")
    assert readiness.status_code == 200
    assert "v=DMARC1" in readiness.text
    patterns = client.get("/dmarc/domains/example.jp/patterns")
    assert patterns.status_code == 200
    # the corpus sends misconfigured, broken and spoofed mail: the demo has patterns to read
    assert patterns.text.count('class="card pattern"') >= 2
    assert 'class="action"' in patterns.text


def test_todoke_demo_initialises_a_fresh_data_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    data = tmp_path / "todoke-data"
    monkeypatch.setenv("TODOKE_CONFIG_FILE", "")
    monkeypatch.setenv("TODOKE_DATA_DIR", str(data))
    monkeypatch.delenv("TODOKE_DATABASE_URL", raising=False)
    result = CliRunner().invoke(app, ["demo", "--no-serve"])
    assert result.exit_code == 0, result.output
    assert DEMO_OWNER in result.stdout
    password = result.stdout.split("password", 1)[1].split()[0]
    assert (data / "todoke.db").is_file()
    current = Runtime.from_settings(Settings(data_dir=data))  # type: ignore[call-arg]
    try:
        reports, _ = stored(current)
        assert reports >= DEMO_REPORTS * 0.9
        with TestClient(create_app(current), base_url="https://testserver") as client:
            login(client, DEMO_OWNER, password)
            assert "example.jp" in client.get("/dmarc").text
    finally:
        current.close()
