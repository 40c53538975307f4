"""An analyst narrows a domain's sources by tag, reporter and date range, with JavaScript off
(plain forms, whole pages) and on (htmx swaps the table), in Japanese and English, and reads
the policy history on the readiness page; figures checked against the inserted records."""

from __future__ import annotations

from datetime import timedelta

import pytest
from playwright.sync_api import Browser, Page

from tests.browser.conftest import log_in, new_page, screenshot
from tests.browser.test_dmarc_pages import no_page_scroll
from tests.conftest import Tenant
from tests.integration.test_dmarc_domain_filters import DOMAIN, Data, load
from todoke.runtime import Runtime

pytestmark = pytest.mark.browser

MX = {"203.0.113.10", "203.0.113.11", "2001:db8:5a::25"}
WORDS = {
    "ja": {"only": "が報告したメールのみ", "history": "レポートに見えるポリシーの変更",
           "before": "が開始日", "current": "現在"},
    "en": {"only": "Only the mail google.com reported", "history": "Policy changes seen in reports",
           "before": "is before the start date", "current": "current"},
}  # fmt: skip


def shown(page: Page) -> list[str]:
    return page.locator("#sources-table tbody tr").evaluate_all(
        "rows => rows.map(row => row.dataset.ip)"
    )


def ordered(expected: dict[str, tuple[int, int]]) -> list[str]:
    return sorted(expected, key=lambda ip: (-expected[ip][0], ip))


def new_context_page(browser: Browser, language: str, *, javascript: bool) -> Page:
    context = browser.new_context(
        locale="ja-JP" if language == "ja" else "en-US",
        viewport={"width": 1280, "height": 900},
        java_script_enabled=javascript,
    )
    return context.new_page()


def without_javascript(page: Page, base: str, data: Data, words: dict[str, str], name: str) -> None:
    page.goto(f"{base}/dmarc/domains/{DOMAIN}")
    page.select_option("#tag", "mx")
    page.select_option("#reporter", "google.com")
    page.click("form.filters button[type=submit]")
    page.wait_for_load_state("networkidle")
    assert "tag=mx" in page.url
    assert "reporter=google.com" in page.url
    month = data.expected(data.today - timedelta(days=29), data.today, "google.com")
    assert shown(page) == ordered({ip: month[ip] for ip in month if ip in MX})
    assert words["only"] in page.locator("#reporter-note").inner_text()
    screenshot(page, f"dmarc-filters-nojs-{name}")
    since, until = data.today - timedelta(days=35), data.today - timedelta(days=10)
    page.fill("#since", since.isoformat())
    page.fill("#until", until.isoformat())
    page.click("#range-form button[type=submit]")
    page.wait_for_load_state("networkidle")
    assert f"since={since.isoformat()}" in page.url
    # the range form kept the table's filters; the figures above are the range's
    assert page.locator("#tag").input_value() == "mx"
    assert page.locator("#reporter").input_value() == "google.com"
    ranged = data.expected(since, until, "google.com")
    assert shown(page) == ordered({ip: ranged[ip] for ip in ranged if ip in MX})
    everyone = data.expected(since, until)
    total = sum(messages for messages, _ in everyone.values())
    assert page.locator("#domain-messages").inner_text() == f"{total:,}"
    screenshot(page, f"dmarc-filters-range-nojs-{name}")
    page.goto(f"{base}/dmarc/domains/{DOMAIN}?since={until.isoformat()}&until={since.isoformat()}")
    assert words["before"] in page.locator("#range-error").inner_text()
    assert shown(page)  # the last 30 days instead
    screenshot(page, f"dmarc-filters-error-{name}")


def with_htmx(page: Page, base: str, data: Data, name: str) -> None:
    page.goto(f"{base}/dmarc/domains/{DOMAIN}")
    page.select_option("#reporter", "Yahoo")
    page.select_option("#result", "fail")
    with page.expect_response(lambda answer: "reporter=Yahoo" in answer.url) as answered:
        page.click("form.filters button[type=submit]")
    assert answered.value.request.headers.get("hx-request") == "true"
    for _ in range(100):  # htmx pushes the filtered address (polled: the CSP forbids eval)
        if "reporter=Yahoo" in page.url:
            break
        page.wait_for_timeout(100)
    page.wait_for_load_state("networkidle")
    assert "reporter=Yahoo" in page.url
    month = data.expected(data.today - timedelta(days=29), data.today, "Yahoo")
    assert shown(page) == ordered({ip: v for ip, v in month.items() if v[0] > v[1]})
    assert page.locator("#reporter-note").is_visible()
    assert page.locator(".chart-box").first.is_visible()  # the page around was not reloaded
    screenshot(page, f"dmarc-filters-htmx-{name}")
    # the period forms came with the swap: choosing 14 days keeps the table's filters
    page.select_option("#days", "14")
    page.click("#period-form button[type=submit]")
    page.wait_for_load_state("networkidle")
    assert "days=14" in page.url
    assert "reporter=Yahoo" in page.url
    fortnight = data.expected(data.today - timedelta(days=13), data.today, "Yahoo")
    assert shown(page) == ordered({ip: v for ip, v in fortnight.items() if v[0] > v[1]})


@pytest.mark.parametrize("language", ["ja", "en"])
def test_an_analyst_narrows_the_sources_by_tag_reporter_and_dates(
    browser: Browser,
    live_server: str,
    runtime: Runtime,
    tenant: Tenant,
    db_url: str,
    language: str,
) -> None:
    data = load(runtime, tenant.org)
    name = f"{language}-{db_url.split(':')[0].split('+')[0]}"
    words = WORDS[language]
    plain = new_context_page(browser, language, javascript=False)
    log_in(plain, live_server, tenant.analyst.email)
    without_javascript(plain, live_server, data, words, name)
    plain.context.close()
    scripted = new_context_page(browser, language, javascript=True)
    log_in(scripted, live_server, tenant.analyst.email)
    with_htmx(scripted, live_server, data, name)
    scripted.goto(f"{live_server}/dmarc/domains/{DOMAIN}/readiness")
    history = scripted.locator("#policy-history tbody tr")
    assert history.count() == 2
    assert "p=quarantine" in history.first.inner_text()
    assert words["current"] in history.first.inner_text()
    assert words["history"] in scripted.locator("#history-title").inner_text()
    scripted.locator("#history-title").scroll_into_view_if_needed()
    screenshot(scripted, f"dmarc-policy-history-{name}")
    scripted.context.close()
    phone = new_page(browser, locale="ja-JP" if language == "ja" else "en-US", width=390)
    log_in(phone, live_server, tenant.analyst.email)
    phone.goto(f"{live_server}/dmarc/domains/{DOMAIN}?reporter=Yahoo&tag=mx")
    phone.wait_for_load_state("networkidle")
    assert no_page_scroll(phone)
    screenshot(phone, f"dmarc-filters-phone-{name}")
    phone.context.close()
