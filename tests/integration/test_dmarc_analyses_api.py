"""The API and the CLI read stored analyses transparently, on both engines: paged sources with
totals, filters, `computed_at` everywhere, on-demand computation of a window never computed,
and what an out-of-date analysis answers for a small and for a big domain."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from typer.testing import CliRunner

from tests.conftest import OffsetClock, Tenant, login
from tests.integration.test_dmarc_analyses import DOMAIN, load_corpus
from tests.integration.test_dmarc_analyses_worker import one_report
from todoke.authz import CLI_ACTOR
from todoke.cli.main import app as cli
from todoke.dmarc.analyses import refresh_stale_analyses, serve
from todoke.dmarc.ingest import Incoming, store_reports
from todoke.dmarc.models import DmarcSourceAnalysis
from todoke.runtime import Runtime

SOURCES = "/api/v1/dmarc/sources"


@pytest.fixture
def reader(runtime: Runtime, tenant: Tenant, client: TestClient) -> TestClient:
    """A viewer's session over a small generated corpus, not analysed yet."""
    load_corpus(runtime, tenant.org, runtime.clock.now().date(), reports=60)
    return login(client, tenant.viewer.email)


def stored_count(runtime: Runtime) -> int:
    with runtime.session() as session:
        return int(session.scalar(select(func.count()).select_from(DmarcSourceAnalysis)) or 0)


def test_a_window_never_computed_is_computed_on_demand_and_kept(
    reader: TestClient, runtime: Runtime
) -> None:
    first = reader.get(SOURCES, params={"domain": DOMAIN}).json()
    assert first["computed_at"] is not None
    assert stored_count(runtime) == 1
    again = reader.get(SOURCES, params={"domain": DOMAIN}).json()
    assert again["computed_at"] == first["computed_at"]


def test_sources_come_a_page_at_a_time_with_totals(reader: TestClient) -> None:
    everything = reader.get(SOURCES, params={"domain": DOMAIN, "per_page": 500}).json()
    page = reader.get(SOURCES, params={"domain": DOMAIN, "page": 2, "per_page": 3}).json()
    assert [source["rank"] for source in page["sources"]] == [4, 5, 6]
    assert page["sources"] == everything["sources"][3:6]
    assert page["total"] == everything["total"] == len(everything["sources"])
    assert page["pages"] == -(-page["total"] // 3)
    assert page["messages"] == sum(source["messages"] for source in everything["sources"])


def test_sources_filter_by_classification_and_network(reader: TestClient) -> None:
    spoofing = reader.get(
        SOURCES, params={"domain": DOMAIN, "classification": "spoofing_suspected"}
    ).json()
    assert spoofing["sources"]
    assert {source["classification"] for source in spoofing["sources"]} == {"spoofing_suspected"}
    own = reader.get(SOURCES, params={"domain": DOMAIN, "network": "203.0.113.0/24"}).json()
    assert own["sources"]
    assert all(source["source_ip"].startswith("203.0.113.") for source in own["sources"])


def test_a_bad_network_filter_is_refused_with_its_name(reader: TestClient) -> None:
    response = reader.get(SOURCES, params={"domain": DOMAIN, "network": "203.0.113.0/33"})
    assert response.status_code == 422
    assert "203.0.113.0/33" in response.json()["error"]["message"]


def test_another_range_is_computed_for_the_request(reader: TestClient, runtime: Runtime) -> None:
    today = runtime.clock.now().date()
    params = {
        "domain": DOMAIN,
        "since": str(today - timedelta(days=20)),
        "until": str(today - timedelta(days=2)),
    }
    answer = reader.get(SOURCES, params=params).json()
    assert answer["computed_at"] is None
    assert answer["total"] > 0
    assert stored_count(runtime) == 0


def test_readiness_and_patterns_say_as_of_when(reader: TestClient) -> None:
    sources = reader.get(SOURCES, params={"domain": DOMAIN}).json()
    readiness = reader.get("/api/v1/dmarc/readiness", params={"domain": DOMAIN}).json()
    patterns = reader.get("/api/v1/dmarc/patterns", params={"domain": DOMAIN}).json()
    assert readiness["computed_at"] == sources["computed_at"] == patterns["computed_at"]
    assert (readiness["since"], readiness["until"]) == (sources["since"], sources["until"])
    assert patterns["patterns"]


def _late_report(runtime: Runtime, tenant: Tenant, report_id: str) -> None:
    with runtime.session() as session, session.begin():
        store_reports(
            session,
            org=tenant.org,
            items=[Incoming(one_report(runtime.clock.now().date(), report_id), "late.xml")],
            channel="upload",
            acting_user=CLI_ACTOR,
        )


def test_a_small_domains_table_follows_a_new_report_at_once(
    reader: TestClient, runtime: Runtime, tenant: Tenant
) -> None:
    before = reader.get(SOURCES, params={"domain": DOMAIN}).json()
    _late_report(runtime, tenant, "late-small")
    after = reader.get(SOURCES, params={"domain": DOMAIN}).json()
    assert after["total"] == before["total"] + 1
    assert after["computed_at"] > before["computed_at"]


def test_a_big_domains_table_is_shown_as_of_its_computation(
    reader: TestClient, runtime: Runtime, tenant: Tenant, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(serve, "RECOMPUTE_ON_READ_MAX_SOURCES", 0)
    before = reader.get(SOURCES, params={"domain": DOMAIN}).json()
    _late_report(runtime, tenant, "late-big")
    after = reader.get(SOURCES, params={"domain": DOMAIN}).json()
    assert after == before
    refresh_stale_analyses(runtime.session, now=runtime.clock.now)
    refreshed = reader.get(SOURCES, params={"domain": DOMAIN}).json()
    assert refreshed["total"] == before["total"] + 1


def test_after_midnight_an_undated_request_reads_yesterdays_analysis(
    reader: TestClient, tenant: Tenant, clock: OffsetClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(serve, "RECOMPUTE_ON_READ_MAX_SOURCES", 0)
    yesterday = reader.get(SOURCES, params={"domain": DOMAIN}).json()
    clock.advance(timedelta(days=1))
    login(reader, tenant.viewer.email)  # the web session expired overnight
    undated = reader.get(SOURCES, params={"domain": DOMAIN}).json()
    assert undated == yesterday
    today = clock.now().date()
    dated = reader.get(
        SOURCES,
        params={"domain": DOMAIN, "since": str(today - timedelta(days=29)), "until": str(today)},
    ).json()
    assert dated["until"] == str(today)
    assert dated["computed_at"] > yesterday["computed_at"]


def test_after_midnight_the_last_90_days_by_their_first_day_read_yesterdays_analysis(
    reader: TestClient, tenant: Tenant, clock: OffsetClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The pages' "last 14/90 days" pass the first day only: that is no date range of one's
    own, so a big domain is not recomputed for it while the worker moves the window on."""
    monkeypatch.setattr(serve, "RECOMPUTE_ON_READ_MAX_SOURCES", 0)
    today = clock.now().date()
    params = {"domain": DOMAIN, "since": str(today - timedelta(days=89))}
    yesterday = reader.get(SOURCES, params=params).json()
    clock.advance(timedelta(days=1))
    login(reader, tenant.viewer.email)
    today = clock.now().date()
    preset = reader.get(SOURCES, params={**params, "since": str(today - timedelta(days=89))})
    assert preset.json() == yesterday
    own_range = reader.get(SOURCES, params={**params, "since": str(today - timedelta(days=88))})
    assert own_range.json()["computed_at"] is None
    assert own_range.json()["since"] == str(today - timedelta(days=88))


def test_cli_pages_sources_and_analyses_now(
    runtime: Runtime, tenant: Tenant, db_url: str, tmp_path: Path
) -> None:
    load_corpus(runtime, tenant.org, runtime.clock.now().date(), reports=40)
    env = {
        "TODOKE_DATABASE_URL": db_url,
        "TODOKE_DATA_DIR": str(tmp_path / "data"),
        "TODOKE_CONFIG_FILE": "",
    }
    analysed = CliRunner().invoke(cli, ["dmarc", "analyse"], env=env)
    assert analysed.exit_code == 0, analysed.output
    assert "6 analyses recomputed" in analysed.output
    arguments = ["dmarc", "sources", "-d", DOMAIN, "--page", "2", "--per-page", "2", "--json"]
    listed = CliRunner().invoke(cli, arguments, env=env)
    assert listed.exit_code == 0, listed.output
    page = json.loads(listed.output)
    assert [source["rank"] for source in page["sources"]] == [3, 4]
    assert page["computed_at"] is not None
    table = CliRunner().invoke(cli, ["dmarc", "sources", "-d", DOMAIN, "--lang", "ja"], env=env)
    assert "時点の集計です" in table.output
    wrong = CliRunner().invoke(
        cli, ["dmarc", "sources", "-d", DOMAIN, "--classification", "nice"], env=env
    )
    assert wrong.exit_code == 2
    assert "spoofing_suspected" in wrong.output
