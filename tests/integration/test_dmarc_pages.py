"""The DMARC pages over HTTP on both engines: every figure on the overview, the domain page,
the error patterns and the readiness page is the engine's answer for the same data."""

from __future__ import annotations

import re
from html import unescape

import pytest
from fastapi.testclient import TestClient

from tests.conftest import Tenant, csrf_from, login
from tests.integration.test_dmarc_analyses import DOMAIN, OTHER_DOMAIN, load_corpus
from todoke.authz import CLI_ACTOR
from todoke.dmarc import insights, posture, presenters, queries
from todoke.dmarc.analyses import SourceFilter
from todoke.runtime import Runtime
from todoke.web.dmarc_views import percent, report_uri

RECEIVER = "reports.todoke.example"


@pytest.fixture
def reader(runtime: Runtime, tenant: Tenant, client: TestClient) -> TestClient:
    """A viewer's session over a small generated corpus of two domains."""
    runtime.settings.receiver_domain = RECEIVER
    load_corpus(runtime, tenant.org, runtime.clock.now().date(), reports=60)
    return use_language(login(client, tenant.viewer.email), "en")


def use_language(client: TestClient, language: str) -> TestClient:
    token = csrf_from(client.get("/").text)
    client.post("/language", data={"language": language, "csrf_token": token})
    return client


def text_of(html: str) -> str:
    """The page as a person reads it: tags dropped, whitespace folded."""
    return re.sub(r"\s+", " ", unescape(re.sub(r"<[^>]+>", " ", html)))


def cells(html: str, field: str) -> list[str]:
    return [
        text_of(cell).strip()
        for cell in re.findall(rf'data-field="{field}">(.*?)</t[dh]>', html, re.S)
    ]


def table_of(html: str, table_id: str) -> str:
    """The table with this id, and nothing after it."""
    start = html.index(f'id="{table_id}-table"')
    return html[start : html.index("</table>", start)]


def row_of(html: str, attribute: str, value: str) -> str:
    match = re.search(rf'<tr {attribute}="{re.escape(value)}">(.*?)</tr>', html, re.S)
    assert match, f"no row {attribute}={value}"
    return match.group(1)


def test_without_reports_the_overview_shows_the_three_steps_and_the_rua_address(
    runtime: Runtime, tenant: Tenant, client: TestClient
) -> None:
    runtime.settings.receiver_domain = RECEIVER
    use_language(login(client, tenant.viewer.email), "en")
    page = text_of(client.get("/dmarc").text)
    assert "No DMARC reports yet" in page
    assert f"rua=mailto:dmarc@{RECEIVER}" in page
    assert "Ask an administrator or analyst to upload" in page  # a viewer may not upload


def test_the_overview_figures_are_the_engines_for_every_domain(
    reader: TestClient, runtime: Runtime, tenant: Tenant
) -> None:
    html = reader.get("/dmarc").text
    with runtime.session() as session:
        for name in (DOMAIN, OTHER_DOMAIN):
            summary = queries.domain_summary(
                session, org=tenant.org, domain=name, acting_user=CLI_ACTOR
            )
            row = row_of(html, "data-domain", name)
            assert cells(row, "messages") == [f"{summary.messages:,}"]
            assert cells(row, "pass-rate") == [percent(summary.dmarc_pass, summary.messages)]
            readiness = presenters.readiness_out(
                name,
                posture.domain_readiness(
                    session, org=tenant.org, domain=name, acting_user=CLI_ACTOR,
                    report_uri=report_uri(RECEIVER),
                ),
                "en",
            )  # fmt: skip
            tone = (
                "pass" if readiness.stage == "enforced"
                else "info" if readiness.ready
                else "fail" if readiness.stage == "no_policy"
                else "warn"
            )  # fmt: skip
            assert f'<span class="badge status-{tone}">' in row
        totals = [
            queries.domain_summary(session, org=tenant.org, domain=name, acting_user=CLI_ACTOR)
            for name in (DOMAIN, OTHER_DOMAIN)
        ]
    total = sum(summary.messages for summary in totals)
    assert f'id="total-messages">{total:,}<' in html


def test_the_domain_page_shows_the_engines_summary_and_first_page_of_sources(
    reader: TestClient, runtime: Runtime, tenant: Tenant
) -> None:
    html = reader.get(f"/dmarc/domains/{DOMAIN}").text
    with runtime.session() as session:
        summary = queries.domain_summary(
            session, org=tenant.org, domain=DOMAIN, acting_user=CLI_ACTOR
        )
        found = insights.domain_sources(
            session, org=tenant.org, domain=DOMAIN, acting_user=CLI_ACTOR, per_page=25
        )
    assert f'id="domain-messages">{summary.messages:,}<' in html
    assert f'id="domain-fail">{summary.dmarc_fail:,}<' in html
    assert f'id="domain-spf">{summary.spf_aligned:,} ' in html
    assert f'id="domain-dkim">{summary.dkim_aligned:,} ' in html
    assert re.findall(r'<tr data-ip="([^"]+)">', html) == [s.source_ip for s in found.sources]
    assert f"page 1 of {found.pages} ({found.total:,} matching sources)" in html
    for point in summary.days:
        assert f'<th scope="row">{point.day.isoformat()}</th>' in html


def test_filtering_to_failures_lists_only_failing_sources(
    reader: TestClient, runtime: Runtime, tenant: Tenant
) -> None:
    # as a plain form sends it: empty values for the filters left at "all"
    html = reader.get(
        f"/dmarc/domains/{DOMAIN}",
        params={"result": "fail", "classification": "", "network": "", "days": "30"},
    ).text
    with runtime.session() as session:
        found = insights.domain_sources(
            session, org=tenant.org, domain=DOMAIN, acting_user=CLI_ACTOR, per_page=25,
            wanted=SourceFilter(result="fail"),
        )  # fmt: skip
    assert re.findall(r'<tr data-ip="([^"]+)">', html) == [s.source_ip for s in found.sources]
    assert all(value != "0" for value in cells(html, "failing"))
    assert f"({found.total:,} matching sources)" in html


def test_pages_and_filters_are_kept_in_the_links_and_htmx_gets_only_the_table(
    reader: TestClient,
) -> None:
    first = reader.get(f"/dmarc/domains/{DOMAIN}", params={"classification": "forwarded"})
    second_page = reader.get(
        f"/dmarc/domains/{DOMAIN}",
        params={"page": 2},
        headers={"HX-Request": "true", "HX-Target": "sources"},
    ).text
    assert 'name="classification"' in first.text
    assert second_page.lstrip().startswith('<div id="sources"')
    assert "<html" not in second_page
    assert 'href="/dmarc/domains/example.jp?days=30&amp;page=1"' in second_page


def test_a_bad_network_filter_is_named_and_the_table_still_shows(reader: TestClient) -> None:
    response = reader.get(f"/dmarc/domains/{DOMAIN}", params={"network": "203.0.113.0/33"})
    assert response.status_code == 422
    assert "203.0.113.0/33" in text_of(response.text)
    assert "<tr data-ip=" in response.text


def test_the_patterns_page_shows_each_pattern_with_its_count_and_advice(
    reader: TestClient, runtime: Runtime, tenant: Tenant
) -> None:
    page = text_of(reader.get(f"/dmarc/domains/{DOMAIN}/patterns").text)
    with runtime.session() as session:
        answer = insights.domain_patterns(
            session, org=tenant.org, domain=DOMAIN, acting_user=CLI_ACTOR, locale="en"
        )
    found = presenters.patterns_out(DOMAIN, answer, "en")
    assert found.patterns
    for pattern in found.patterns:
        assert f"{pattern.title} {pattern.messages:,} messages" in page
        assert text_of(pattern.action) in page
        for fix in pattern.sender_fixes.values():
            assert text_of(fix) in page


def test_the_readiness_page_offers_the_engines_next_record(
    reader: TestClient, runtime: Runtime, tenant: Tenant
) -> None:
    html = reader.get(f"/dmarc/domains/{DOMAIN}/readiness").text
    with runtime.session() as session:
        answer = posture.domain_readiness(
            session, org=tenant.org, domain=DOMAIN, acting_user=CLI_ACTOR,
            report_uri=report_uri(RECEIVER),
        )  # fmt: skip
    found = presenters.readiness_out(DOMAIN, answer, "en")
    if found.next_record:
        assert f'<code id="next-record">{found.next_record}</code>' in unescape(html)
    ordered = sorted(found.blockers, key=lambda blocker: not blocker.blocking)
    assert cells(html, "failing") == [f"{blocker.failing:,}" for blocker in ordered]
    assert f'id="days-with-data">{found.days_with_data}<' in html


def test_the_pages_read_in_japanese(reader: TestClient) -> None:
    use_language(reader, "ja")
    overview = text_of(reader.get("/dmarc").text)
    domain = text_of(reader.get(f"/dmarc/domains/{DOMAIN}").text)
    assert "日ごとの合格・不合格" in overview
    assert "DMARC 不合格のメールが多い送信元" in overview
    assert "結果" in domain
    assert "分類" in domain
    assert "ページ" in domain


def test_the_navigation_links_the_dmarc_pages(reader: TestClient) -> None:
    html = reader.get("/dmarc").text
    assert '<a href="/dmarc" aria-current="page"' in html
