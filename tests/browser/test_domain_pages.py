"""An owner registers a domain, checks it, reads the records to publish and a test mail."""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.sync_api import Browser

from tests.browser.conftest import log_in, new_page, screenshot
from tests.conftest import Tenant
from tests.integration.domain_checks.test_message_check import message, signed, zones
from tests.rig.dns_server import LocalDNSServer
from todoke.runtime import Runtime

pytestmark = pytest.mark.browser


def test_owner_checks_a_domain_and_a_test_mail_in_japanese(
    browser: Browser,
    live_server: str,
    runtime: Runtime,
    tenant: Tenant,
    dns_server: LocalDNSServer,
    tmp_path: Path,
    db_url: str,
) -> None:
    dns_server.add_zone(zones())
    runtime.settings.dns_nameservers = [str(dns_server.nameserver)]
    runtime.settings.sending_ips = ["192.0.2.25"]
    engine = db_url.split(":")[0].split("+")[0]
    page = new_page(browser, locale="ja-JP")
    log_in(page, live_server, tenant.owner.email)
    page.click("nav.sidenav >> text=ドメイン")
    assert page.locator("h1").inner_text() == "ドメイン"
    page.fill("#name", "kyokai.test")
    page.click("main form.stack button[type=submit]")
    page.wait_for_load_state("networkidle")
    assert page.locator("h1").inner_text() == "kyokai.test"
    page.click("main form.inline button[type=submit]")  # 今すぐチェック
    page.wait_for_load_state("networkidle")
    findings = page.locator("#findings").inner_text()
    assert "spf.ok" in findings
    assert "dmarc.policy_reject" in findings
    checklist = page.locator("main table").first.inner_text()
    assert "SPF レコードが正しく公開されている" in checklist
    screenshot(page, f"domain-detail-ja-{engine}")
    page.click("text=公開すべきレコード")
    page.wait_for_load_state("networkidle")
    assert "ip4:192.0.2.25" in page.locator("main table").inner_text()
    screenshot(page, f"domain-records-ja-{engine}")
    eml = tmp_path / "received.eml"
    eml.write_bytes(
        b"Return-Path: <x@bounce.esp.test>\r\n"
        b"Received: from out.esp.test (out.esp.test [198.51.100.7])\r\n"
        b"\tby mx.example.net; Mon, 23 Nov 2026 10:00:01 +0900\r\n"
        + signed(message("From: office@kyokai.test"), "esp.test", "esp1")
    )
    page.goto(f"{live_server}/test-mail")
    page.set_input_files("#file", str(eml))
    page.click("main form.stack button[type=submit]")
    page.wait_for_load_state("networkidle")
    verdict = page.locator("#verdict-title").inner_text()
    assert verdict == "DMARC: fail"
    assert "bounce.esp.test" in page.locator("main").inner_text()
    screenshot(page, f"test-mail-ja-{engine}")
    page.context.close()
