"""An owner's walk through the report pages in Japanese and English: upload a TLS and a failure
report (and one file that is refused, with the reason in the reader's language), drill down
from a domain's source to its records and the reports they came from, add a mailbox whose
connection test fails readably without the password ever coming back, read the TLS and failure
reports (personal data shown to the owner, hidden from a viewer), and walk the DMARC sub-menu
with the keyboard. Figures are checked against the engine."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page

from tests.browser.conftest import log_in, new_page, screenshot
from tests.conftest import Tenant
from tests.integration.test_dmarc_analyses import DOMAIN, load_corpus
from todoke.authz import CLI_ACTOR
from todoke.dmarc import browse, insights, queries
from todoke.runtime import Runtime

pytestmark = pytest.mark.browser

SAMPLES = Path("/work/shared/testdata/dmarc")
TLS_SAMPLE = SAMPLES / "rfc8460.json"
RUF_SAMPLE = SAMPLES / "dmarc_ruf_report_linkedin.eml"
PASSWORD = "mailbox-secret-never-shown-4"
MENU = ("/dmarc", "/dmarc/reports", "/dmarc/digest", "/dmarc/sources", "/dmarc/inventory",
        "/dmarc/mailboxes", "/dmarc/tls-reports", "/dmarc/failure-reports")  # fmt: skip
#: what a person reads on the way, in each language
WORDS = {
    "ja": {
        "upload": "アップロード", "doctype": "XML に DOCTYPE 宣言が含まれています",
        "test": "接続テスト", "save": "保存",
        "refused": "接続できませんでした： サーバーが接続を拒否しました。",
        "hidden": "非表示", "month": "'2025-13' は YYYY-MM 形式の月ではありません",
    },
    "en": {
        "upload": "Upload", "doctype": "The XML contains a DOCTYPE declaration",
        "test": "Test the connection", "save": "Save",
        "refused": "The connection failed: The server refused the connection. Check the port.",
        "hidden": "hidden", "month": "'2025-13' is not a month written YYYY-MM",
    },
}  # fmt: skip


def closed_port() -> int:
    """A loopback port nothing listens on (the probe is closed when this returns)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def upload_samples(page: Page, base: str, words: dict[str, str], tmp_path: Path, name: str) -> None:
    entity = tmp_path / "entity.xml"
    entity.write_bytes(b'<?xml version="1.0"?>\n<!DOCTYPE feedback [<!ENTITY a "a">]>\n<feedback/>')
    page.goto(f"{base}/dmarc/reports")
    page.set_input_files("#files", [str(TLS_SAMPLE), str(RUF_SAMPLE), str(entity)])
    page.click(f"form.upload-form button[type=submit] >> text={words['upload']}")
    page.wait_for_load_state("networkidle")
    assert page.locator("#upload-result [data-field=tls]").inner_text() == "1"
    assert page.locator("#upload-result [data-field=failure]").inner_text() == "1"
    refused = page.locator("#refused-table tbody tr")
    assert refused.count() == 1
    assert "entity.xml" in refused.inner_text()
    assert words["doctype"] in refused.inner_text()
    screenshot(page, f"dmarc-upload-refused-{name}")


def drill_down(page: Page, base: str, runtime: Runtime, tenant: Tenant, name: str) -> None:
    """Reports list -> a domain's largest source -> its records and the reports they came from."""
    page.goto(f"{base}/dmarc/reports")
    with runtime.session() as session:
        total = queries.count_reports(session, org=tenant.org)
        top = insights.domain_sources(
            session, org=tenant.org, domain=DOMAIN, acting_user=CLI_ACTOR, per_page=1
        ).sources[0]
    assert f"({total:,})" in page.locator("#list-title").inner_text()
    listed = set(page.locator("#reports-table .report-id").all_inner_texts())
    screenshot(page, f"dmarc-reports-{name}")
    page.goto(f"{base}/dmarc/domains/{DOMAIN}")
    page.click(f"#sources-table a[href*='/sources/{top.source_ip}?']")
    page.wait_for_load_state("networkidle")
    with runtime.session() as session:
        found = browse.source_records(
            session, org=tenant.org, domain=DOMAIN, source_ip=top.source_ip,
            acting_user=CLI_ACTOR,
        )  # fmt: skip
    assert page.locator("#source-messages").inner_text() == f"{found.messages:,}"
    assert page.locator("#source-records").inner_text() == f"{found.records.total:,}"
    came_from = page.locator("#source-reports tbody tr")
    assert came_from.count() == len(found.reports) > 0
    report_ids = page.locator("#source-reports td code").all_inner_texts()
    assert report_ids == [report.report_id for report in found.reports]
    assert set(report_ids) <= listed  # the same reports the list shows
    # A drill-down page marks its section of the sub-menu, not a page of its own.
    assert page.locator(".subnav a[href='/dmarc']").get_attribute("aria-current") == "true"
    screenshot(page, f"dmarc-source-records-{name}")


def mailbox_fails_readably(page: Page, base: str, words: dict[str, str], name: str) -> None:
    page.goto(f"{base}/dmarc/mailboxes")
    page.fill("#mb-label", "rua")
    page.fill("#mb-host", "127.0.0.1")
    page.fill("#mb-port", str(closed_port()))
    page.select_option("#mb-security", "none")
    page.fill("#mb-username", "rua@kyokai.example.jp")
    page.fill("#mb-password", PASSWORD)
    page.click(f"form.mailbox-form button[value=test] >> text={words['test']}")
    page.wait_for_load_state("networkidle")
    result = page.locator("#test-result").inner_text()
    assert result.startswith(words["refused"]), result
    assert "ConnectionRefusedError" in result
    assert page.locator("#mb-password").input_value() == ""
    assert page.locator("#mb-host").input_value() == "127.0.0.1"  # the rest is kept
    assert PASSWORD not in page.content()
    screenshot(page, f"dmarc-mailbox-test-{name}")
    page.fill("#mb-password", PASSWORD)
    page.click(f"form.mailbox-form button[value=save] >> text={words['save']}")
    page.wait_for_load_state("networkidle")
    assert page.locator("#mailboxes-table tbody tr").count() == 1
    assert PASSWORD not in page.content()


def tls_reports_match(page: Page, base: str, runtime: Runtime, tenant: Tenant, name: str) -> None:
    page.goto(f"{base}/dmarc/tls-reports")
    with runtime.session() as session:
        policies = browse.tls_reports(session, org=tenant.org, acting_user=CLI_ACTOR)
    results = policies.items[0].policies
    shown = page.locator("#tls-table [data-field=successful]").all_inner_texts()
    assert shown == [f"{policy.successful:,}" for policy in results]
    failed = page.locator("#tls-table [data-field=failed]").all_inner_texts()
    assert failed == [f"{policy.failed:,}" for policy in results]
    assert sum(policy.failed for policy in results) > 0
    screenshot(page, f"dmarc-tls-reports-{name}")


def failure_report_shown(page: Page, base: str, subject: str, shown: bool, name: str) -> None:
    page.goto(f"{base}/dmarc/failure-reports")
    cell = page.locator("#failure-table [data-field=subject]").first.inner_text()
    assert (cell == subject) is shown
    assert page.locator("#personal-hidden").count() == (0 if shown else 1)
    page.click("#failure-table tbody th a")
    page.wait_for_load_state("networkidle")
    assert (subject in page.locator("#personal-data").inner_text()) is shown
    screenshot(page, f"dmarc-failure-report-{name}")


def keyboard_walks_the_menu(page: Page, base: str, name: str) -> None:
    page.goto(f"{base}/dmarc/tls-reports")
    page.click("h1")  # Tab goes on from here, as after reading the heading
    for href in MENU:
        page.keyboard.press("Tab")
        focused = page.locator(".subnav a:focus")
        assert focused.get_attribute("href") == href
        current = "page" if href == "/dmarc/tls-reports" else None
        assert focused.get_attribute("aria-current") == current
        # The keyboard focus is drawn (a solid dark outline), not left to the browser.
        assert focused.evaluate("a => getComputedStyle(a).outlineStyle") == "solid"
        if current:
            screenshot(page, f"dmarc-menu-focus-{name}")
    assert page.locator("nav.subnav").get_attribute("aria-label")


@pytest.mark.parametrize("language", ["ja", "en"])
def test_an_owner_walks_reports_sources_mailboxes_tls_and_failure_reports(
    browser: Browser,
    live_server: str,
    runtime: Runtime,
    tenant: Tenant,
    tmp_path: Path,
    db_url: str,
    language: str,
) -> None:
    runtime.settings.receiver_domain = "reports.todoke.example"
    load_corpus(runtime, tenant.org, runtime.clock.now().date(), reports=30)
    words = WORDS[language]
    name = f"{language}-{db_url.split(':')[0].split('+')[0]}"
    locale = "ja-JP" if language == "ja" else "en-US"
    page = new_page(browser, locale=locale)
    log_in(page, live_server, tenant.owner.email)
    upload_samples(page, live_server, words, tmp_path, name)
    drill_down(page, live_server, runtime, tenant, name)
    mailbox_fails_readably(page, live_server, words, name)
    tls_reports_match(page, live_server, runtime, tenant, name)
    with runtime.session() as session:
        report = browse.failure_reports(session, org=tenant.org, acting_user=CLI_ACTOR).items[0]
    assert report.subject
    failure_report_shown(page, live_server, report.subject, True, f"owner-{name}")
    keyboard_walks_the_menu(page, live_server, name)
    page.goto(f"{live_server}/dmarc/digest?month=2025-13")
    assert words["month"] in page.locator("#error-message").inner_text()
    screenshot(page, f"dmarc-digest-bad-month-{name}")
    page.context.close()
    viewer = new_page(browser, locale=locale)
    log_in(viewer, live_server, tenant.viewer.email)
    failure_report_shown(viewer, live_server, report.subject, False, f"viewer-{name}")
    assert words["hidden"] in viewer.locator("#personal-data").inner_text()
    viewer.context.close()
