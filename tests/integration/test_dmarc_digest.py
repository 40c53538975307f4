"""The monthly DMARC digest page on both engines: its figures are the engine's for the same
month, what changed is the difference of the two months' sources, bad months are named."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from fastapi.testclient import TestClient

from tests.conftest import Tenant, login
from tests.integration.test_dmarc_analyses import DOMAIN, OTHER_DOMAIN, load_corpus
from tests.integration.test_dmarc_pages import cells, text_of, use_language
from todoke.accounts.services import add_user, create_organisation
from todoke.authz import CLI_ACTOR
from todoke.core.errors import PermissionDenied
from todoke.dmarc import digest, insights, posture, queries
from todoke.runtime import Runtime
from todoke.web.dmarc_views import percent

RECEIVER = "reports.todoke.example"


def last_month(runtime: Runtime) -> tuple[date, date]:
    first = digest.previous_month(runtime.clock.now().date().replace(day=1))
    return first, digest.next_month(first) - timedelta(days=1)


@pytest.fixture
def reader(runtime: Runtime, tenant: Tenant, client: TestClient) -> TestClient:
    runtime.settings.receiver_domain = RECEIVER
    load_corpus(runtime, tenant.org, runtime.clock.now().date(), reports=60)
    return use_language(login(client, tenant.viewer.email), "en")


def section(html: str, domain: str) -> str:
    start = html.index(f'<section class="domain" data-domain="{domain}"')
    return html[start : html.index("</section>", start)]


def sources(runtime: Runtime, tenant: Tenant, name: str, since: date, until: date) -> list:  # type: ignore[type-arg]
    with runtime.session() as session:
        return insights.domain_sources(
            session, org=tenant.org, domain=name, acting_user=CLI_ACTOR, since=since,
            until=until, per_page=100_000,
        ).sources  # fmt: skip


def test_the_digest_figures_are_the_engines_for_the_month(
    reader: TestClient, runtime: Runtime, tenant: Tenant
) -> None:
    since, until = last_month(runtime)
    html = reader.get(f"/dmarc/digest?month={since:%Y-%m}").text
    with runtime.session() as session:
        for name in (DOMAIN, OTHER_DOMAIN):
            summary = queries.domain_summary(
                session, org=tenant.org, domain=name, acting_user=CLI_ACTOR, since=since,
                until=until,
            )  # fmt: skip
            part = section(html, name)
            assert cells(part, "messages")[0] == f"{summary.messages:,}"
            assert cells(part, "fail") == [f"{summary.dmarc_fail:,}"]
            assert cells(part, "pass-rate") == [percent(summary.dmarc_pass, summary.messages)]
            judged = posture.domain_readiness(
                session, org=tenant.org, domain=name, acting_user=CLI_ACTOR, until=until
            )
            assert f'data-stage="{judged.readiness.stage}"' in part


def test_the_digest_lists_the_sources_failing_the_most_in_the_month(
    reader: TestClient, runtime: Runtime, tenant: Tenant
) -> None:
    since, until = last_month(runtime)
    part = section(reader.get(f"/dmarc/digest?month={since:%Y-%m}").text, DOMAIN)
    failing = [row for row in sources(runtime, tenant, DOMAIN, since, until) if row.dmarc_fail]
    failing.sort(key=lambda row: (-row.dmarc_fail, row.rank))
    assert failing, "the corpus has failing mail every month"
    shown = cells(part, "failing")
    assert shown == [f"{row.dmarc_fail:,}" for row in failing[: len(shown)]]
    assert f'data-ip="{failing[0].source_ip}"' in part


def test_the_digest_patterns_are_the_engines_for_the_month(
    reader: TestClient, runtime: Runtime, tenant: Tenant
) -> None:
    since, until = last_month(runtime)
    part = section(reader.get(f"/dmarc/digest?month={since:%Y-%m}").text, DOMAIN)
    with runtime.session() as session:
        answer = insights.domain_patterns(
            session, org=tenant.org, domain=DOMAIN, acting_user=CLI_ACTOR, locale="en",
            since=since, until=until,
        )  # fmt: skip
    assert answer.patterns
    for pattern in answer.patterns:
        row = part[part.index(f'data-pattern="{pattern.pattern_id}"') :]
        assert cells(row, "messages")[0] == f"{pattern.messages:,}"
        assert pattern.advice.title in text_of(row[: row.index("</tr>")])


def test_what_changed_counts_the_addresses_new_and_newly_failing_since_last_month(
    reader: TestClient, runtime: Runtime, tenant: Tenant
) -> None:
    since, until = last_month(runtime)
    before = digest.previous_month(since)
    now = sources(runtime, tenant, DOMAIN, since, until)
    # Rows without messages (reports may carry count 0) are no sending.
    earlier = {
        row.source_ip: row.dmarc_fail
        for row in sources(runtime, tenant, DOMAIN, before, since - timedelta(days=1))
        if row.messages
    }
    new = [row for row in now if row.messages and row.source_ip not in earlier]
    newly_failing = [row for row in now if row.dmarc_fail and not earlier.get(row.source_ip)]
    part = text_of(section(reader.get(f"/dmarc/digest?month={since:%Y-%m}").text, DOMAIN))
    noun = "address" if len(new) == 1 else "addresses"
    assert f"{len(new)} new sending {noun}" in part
    assert f"{len(newly_failing)} address" in part
    assert "that did not fail before" in part


def test_one_domain_only_and_the_current_month_up_to_today(
    reader: TestClient, runtime: Runtime, tenant: Tenant
) -> None:
    today = runtime.clock.now().date()
    html = reader.get(f"/dmarc/digest?month={today:%Y-%m}&domain={OTHER_DOMAIN}").text
    assert 'data-domain="mail.example.jp"' in html
    assert f'data-domain="{DOMAIN}"' not in html
    assert f"{today.replace(day=1).isoformat()} to {today.isoformat()}" in text_of(html)
    assert "Next month" not in html  # nothing after the running month


def test_a_month_that_is_no_month_is_named_in_the_error(reader: TestClient) -> None:
    answer = reader.get("/dmarc/digest?month=2025-13")
    assert answer.status_code == 422
    assert "'2025-13' is not a month written YYYY-MM" in answer.json()["error"]["message"]
    future = reader.get("/dmarc/digest?month=2999-01")
    assert future.status_code == 422
    assert "2999-01 has not begun" in future.json()["error"]["message"]


def test_the_digest_styles_are_admitted_by_a_nonce_and_nothing_else_loads(
    reader: TestClient, runtime: Runtime
) -> None:
    since, _ = last_month(runtime)
    answer = reader.get(f"/dmarc/digest?month={since:%Y-%m}")
    policy = answer.headers["content-security-policy"]
    nonce = policy.split("'nonce-")[1].split("'")[0]
    assert f'<style nonce="{nonce}">' in answer.text
    assert "script-src" not in policy
    assert "default-src 'none'" in policy
    assert "<script" not in answer.text
    assert "<link" not in answer.text


def test_another_organisations_user_may_not_read_the_digest(
    runtime: Runtime, tenant: Tenant
) -> None:
    with runtime.session() as session, session.begin():
        other = create_organisation(session, name="他社", slug="tasha", acting_user=CLI_ACTOR)
        outsider = add_user(
            session, org=other, email="owner@tasha.example", display_name="他社",
            password="correct horse battery staple", role_name="owner", acting_user=CLI_ACTOR,
        )  # fmt: skip
    since, _ = last_month(runtime)
    with runtime.session() as session, pytest.raises(PermissionDenied):
        digest.month_digest(session, org=tenant.org, acting_user=outsider, month=since, locale="en")


def test_a_digest_without_reports_says_so(
    runtime: Runtime, tenant: Tenant, client: TestClient
) -> None:
    use_language(login(client, tenant.viewer.email), "en")
    page = text_of(client.get("/dmarc/digest").text)
    assert "No DMARC reports were received for this month." in page


def test_the_viewer_reaches_the_digest_only_after_logging_in(client: TestClient) -> None:
    answer = client.get("/dmarc/digest?month=2025-01", follow_redirects=False)
    assert answer.status_code == 303
    assert answer.headers["location"].startswith("/login?next=/dmarc/digest")
