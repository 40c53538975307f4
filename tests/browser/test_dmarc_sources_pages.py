"""An analyst registers a sending source with a tag and reads the error analysis by tag and
the spoofing analysis, in Japanese and English; figures checked against the engine."""

from __future__ import annotations

import pytest
from playwright.sync_api import Browser

from tests.browser.conftest import log_in, new_page, screenshot
from tests.conftest import Tenant
from tests.integration.test_dmarc_analyses import DOMAIN, load_corpus
from todoke.authz import CLI_ACTOR
from todoke.dmarc import browse_sources, insights
from todoke.runtime import Runtime

pytestmark = pytest.mark.browser

WORDS = {
    "ja": {"title": "送信元IP管理", "tags": "タグ別のエラー分析",
           "spoofing": "なりすまし可能性分析", "tag": "営業部"},
    "en": {"title": "Sources and tags", "tags": "Errors by tag", "spoofing": "Possible spoofing",
           "tag": "sales"},
}  # fmt: skip


@pytest.mark.parametrize("language", ["ja", "en"])
def test_an_analyst_registers_a_source_with_a_tag_and_sees_the_tag_analysis(
    browser: Browser, live_server: str, runtime: Runtime, tenant: Tenant, db_url: str,
    language: str,
) -> None:  # fmt: skip
    words = WORDS[language]
    engine = db_url.split(":")[0].split("+")[0]
    load_corpus(runtime, tenant.org, runtime.clock.now().date(), reports=60)
    with runtime.session() as session:
        address = (
            insights.domain_sources(
                session, org=tenant.org, domain=DOMAIN, acting_user=CLI_ACTOR, per_page=1
            )
            .sources[0]
            .source_ip
        )
    page = new_page(browser, locale="ja-JP" if language == "ja" else "en-US")
    log_in(page, live_server, tenant.analyst.email)
    page.goto(f"{live_server}/dmarc")
    page.click(f"nav.subnav >> text={words['title']}")
    page.wait_for_load_state("networkidle")
    assert words["title"] in page.locator("h1").inner_text()
    page.fill("#network", address)
    page.fill("#label", "Head office")
    page.fill("#tags", f"{words['tag']}, newsletter")
    page.click("form.register-source button[type=submit]")
    page.wait_for_load_state("networkidle")
    assert page.locator(f"#registered-table tr[data-network^='{address}/']").count() == 1
    assert words["tags"] in page.locator("#tags-title").inner_text()
    assert words["spoofing"] in page.locator("#spoofing-title").inner_text()
    with runtime.session() as session:
        rows = browse_sources.tag_analysis(
            session, org=tenant.org, domain=DOMAIN, acting_user=CLI_ACTOR
        )
    mine = next(row for row in rows if row.tag == words["tag"])
    shown = page.locator(f"#tags-table tr[data-tag='{words['tag']}'] [data-field=messages]")
    assert shown.inner_text() == f"{mine.messages:,}"
    assert mine.messages > 0
    screenshot(page, f"dmarc-sources-{language}-{engine}")
    page.context.close()
