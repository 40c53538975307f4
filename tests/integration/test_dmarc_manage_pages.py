"""The sources and tags page, the inventory and the drill-down to one source's records over
HTTP on both engines: every figure is the engine's answer for the same data, and only the
roles allowed to change sources see and use the forms."""

from __future__ import annotations

import re

import pytest
from fastapi.testclient import TestClient

from tests.conftest import Tenant, csrf_from, login
from tests.integration.test_dmarc_analyses import DOMAIN, load_corpus
from tests.integration.test_dmarc_pages import RECEIVER, cells, row_of, text_of, use_language
from todoke.authz import CLI_ACTOR
from todoke.dmarc import browse, browse_sources, insights, posture, services
from todoke.dmarc.analyses import SourceFilter
from todoke.domains.services import register_domain
from todoke.runtime import Runtime
from todoke.web.dmarc_views import percent

TAG = "営業部"


@pytest.fixture
def corpus(runtime: Runtime, tenant: Tenant) -> None:
    runtime.settings.receiver_domain = RECEIVER
    load_corpus(runtime, tenant.org, runtime.clock.now().date(), reports=60)


def top_source(runtime: Runtime, tenant: Tenant) -> str:
    with runtime.session() as session:
        found = insights.domain_sources(
            session, org=tenant.org, domain=DOMAIN, acting_user=CLI_ACTOR, per_page=1
        )
    return found.sources[0].source_ip


def register(client: TestClient, network: str, tags: str, label: str = "") -> tuple[int, str]:
    token = csrf_from(client.get("/dmarc/sources").text)
    response = client.post(
        "/dmarc/sources",
        data={"network": network, "label": label, "tags": tags, "csrf_token": token},
    )
    return response.status_code, response.text


def test_an_analyst_registers_a_source_and_sees_its_tag_analysed(
    corpus: None, runtime: Runtime, tenant: Tenant, client: TestClient
) -> None:
    use_language(login(client, tenant.analyst.email), "en")
    address = top_source(runtime, tenant)
    status, html = register(client, address, f"{TAG}, newsletter", label="Head office")
    assert status == 200  # after the redirect
    assert f'data-network="{address}/32"' in html or f'data-network="{address}/128"' in html
    with runtime.session() as session:
        rows = browse_sources.tag_analysis(
            session, org=tenant.org, domain=DOMAIN, acting_user=CLI_ACTOR
        )
        tagged = insights.domain_sources(
            session, org=tenant.org, domain=DOMAIN, acting_user=CLI_ACTOR,
            wanted=SourceFilter(tag=TAG),
        )  # fmt: skip
    assert {"newsletter", TAG} <= {row.tag for row in rows}
    assert re.findall(r'<tr data-tag="([^"]+)">', html) == [row.tag for row in rows]
    row = row_of(html, "data-tag", TAG)
    mine = next(item for item in rows if item.tag == TAG)
    assert mine.sources == 1
    assert mine.messages > 0
    assert cells(row, "messages") == [f"{mine.messages:,}"]
    assert cells(row, "pass-rate") == [percent(mine.dmarc_pass, mine.messages)]
    assert cells(row, "failing-sources") == [str(mine.failing_sources)]
    assert sum(source.messages for source in tagged.sources) == mine.messages


def test_a_bad_range_is_named_and_nothing_is_registered(
    corpus: None, runtime: Runtime, tenant: Tenant, client: TestClient
) -> None:
    use_language(login(client, tenant.analyst.email), "en")
    status, html = register(client, "192.0.2.7/24", "sales")
    assert status == 422
    assert "The source was not registered" in text_of(html)
    assert "192.0.2.7/24" in text_of(html)
    assert 'value="192.0.2.7/24"' in html  # the form keeps what was typed
    with runtime.session() as session:
        found = services.list_sources(session, org=tenant.org, acting_user=CLI_ACTOR)
    assert "192.0.2.0/24" not in [source.network for source in found]


def test_a_viewer_sees_the_sources_but_no_form_and_cannot_register(
    corpus: None, runtime: Runtime, tenant: Tenant, client: TestClient
) -> None:
    with runtime.session() as session, session.begin():
        services.register_source(
            session, org=tenant.org, cidr="192.0.2.0/24", label="Office", tags=["sales"],
            acting_user=CLI_ACTOR,
        )  # fmt: skip
    use_language(login(client, tenant.viewer.email), "en")
    html = client.get("/dmarc/sources").text
    assert '<tr data-network="192.0.2.0/24">' in html
    assert 'action="/dmarc/sources"' not in html.replace('method="get" action="/dmarc/sources"', "")
    assert "/remove" not in html
    status, page = register(client, "198.51.100.0/24", "x")
    assert status == 403
    assert "dmarc.manage_sources" in page


def test_an_analyst_removes_a_source(
    corpus: None, runtime: Runtime, tenant: Tenant, client: TestClient
) -> None:
    with runtime.session() as session, session.begin():
        source = services.register_source(
            session, org=tenant.org, cidr="192.0.2.0/24", label="Office", tags=[],
            acting_user=CLI_ACTOR,
        )  # fmt: skip
        source_id = source.id
    login(client, tenant.analyst.email)
    token = csrf_from(client.get("/dmarc/sources").text)
    response = client.post(f"/dmarc/sources/{source_id}/remove", data={"csrf_token": token})
    assert response.status_code == 200
    assert 'data-network="192.0.2.0/24"' not in response.text
    with runtime.session() as session:
        found = services.list_sources(session, org=tenant.org, acting_user=CLI_ACTOR)
    assert source_id not in [source.id for source in found]


def test_the_spoofing_analysis_is_the_engines(
    corpus: None, runtime: Runtime, tenant: Tenant, client: TestClient
) -> None:
    use_language(login(client, tenant.viewer.email), "en")
    html = client.get("/dmarc/sources", params={"domain": DOMAIN}).text
    with runtime.session() as session:
        found = browse_sources.spoofing_analysis(
            session, org=tenant.org, domain=DOMAIN, acting_user=CLI_ACTOR
        )
        every = insights.domain_sources(
            session, org=tenant.org, domain=DOMAIN, acting_user=CLI_ACTOR, per_page=1,
            wanted=SourceFilter(kind="spoofing_suspected"),
        )  # fmt: skip
    assert found.sources > 0
    assert f'id="spoofing-messages">{found.messages:,} ' in html
    assert f'id="spoofing-sources">{found.sources:,}<' in html
    shown = re.findall(r'<tr data-network="([^"]+)"><th', html)
    assert shown == [row.network for row in found.networks]
    assert "Countries are not shown" in text_of(html)
    assert every.total == found.sources


def test_the_inventory_lists_the_engines_domains_and_links_registered_ones(
    corpus: None, runtime: Runtime, tenant: Tenant, client: TestClient
) -> None:
    with runtime.session() as session, session.begin():
        register_domain(
            session, org=tenant.org, name=DOMAIN, sends_mail=True, acting_user=CLI_ACTOR
        )
    use_language(login(client, tenant.viewer.email), "en")
    html = client.get("/dmarc/inventory").text
    with runtime.session() as session:
        entries = posture.inventory(session, org=tenant.org, acting_user=CLI_ACTOR, locale="en")
    assert re.findall(r'<tr data-domain="([^"]+)">', html) == [e.domain for e in entries]
    for entry in entries:
        row = row_of(html, "data-domain", entry.domain)
        assert cells(row, "messages") == [f"{entry.messages:,}"]
        assert text_of(entry.recommendation).strip() in text_of(row)
    assert f'<a href="/domains/{DOMAIN}">{DOMAIN}</a>' in html
    with runtime.session() as session:
        quick = posture.registration_statuses(
            session, org=tenant.org, acting_user=CLI_ACTOR, domains=[e.domain for e in entries]
        )
    assert quick == {entry.domain: entry.status for entry in entries}


def test_the_drill_down_shows_the_engines_records_and_their_reports(
    corpus: None, runtime: Runtime, tenant: Tenant, client: TestClient
) -> None:
    use_language(login(client, tenant.viewer.email), "en")
    address = top_source(runtime, tenant)
    domain_page = client.get(f"/dmarc/domains/{DOMAIN}").text
    assert f'href="/dmarc/domains/{DOMAIN}/sources/{address}?days=30"' in domain_page
    assert f"/api/v1/dmarc/records.csv?domain={DOMAIN}&amp;since=" in domain_page
    html = client.get(f"/dmarc/domains/{DOMAIN}/sources/{address}").text
    with runtime.session() as session:
        found = browse.source_records(
            session, org=tenant.org, domain=DOMAIN, source_ip=address, acting_user=CLI_ACTOR
        )
        source = insights.domain_sources(
            session, org=tenant.org, domain=DOMAIN, acting_user=CLI_ACTOR, per_page=1
        ).sources[0]
    assert found.messages == source.messages  # the raw records add up to the table's row
    assert f'id="source-messages">{found.messages:,}<' in html
    assert f'id="source-records">{found.records.total:,}<' in html
    assert cells(html, "messages") == [f"{r.messages:,}" for r in found.records.items]
    shown = re.findall(r'<tr data-report="(\d+)"><th', html)
    assert shown == [str(report.report_pk) for report in found.reports]
    assert sum(report.messages for report in found.reports) == found.messages


def test_the_drill_down_names_an_address_that_is_none(
    corpus: None, tenant: Tenant, client: TestClient
) -> None:
    use_language(login(client, tenant.viewer.email), "en")
    response = client.get(f"/dmarc/domains/{DOMAIN}/sources/not-an-ip")
    assert response.status_code == 422
    assert "'not-an-ip' is not an IP address" in text_of(response.text)


def test_the_sources_page_reads_in_japanese(
    corpus: None, runtime: Runtime, tenant: Tenant, client: TestClient
) -> None:
    use_language(login(client, tenant.analyst.email), "ja")
    page = text_of(client.get("/dmarc/sources").text)
    assert "送信元IP管理" in page
    assert "タグ別のエラー分析" in page
    assert "なりすまし" in page
