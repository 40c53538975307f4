"""A person logs in and reads the dashboard, in Japanese and in English."""

from __future__ import annotations

import pytest
from playwright.sync_api import Browser

from tests.browser.conftest import log_in, new_page, screenshot
from tests.conftest import Tenant

pytestmark = pytest.mark.browser


def test_owner_logs_in_and_sees_the_japanese_dashboard(
    browser: Browser, live_server: str, tenant: Tenant, db_url: str
) -> None:
    page = new_page(browser, locale="ja-JP")
    log_in(page, live_server, tenant.owner.email)
    assert page.url == f"{live_server}/"
    assert page.locator("html").get_attribute("lang") == "ja"
    assert page.locator("h1").inner_text() == "ダッシュボード"
    assert "届け協会 のドメインやレポートはまだありません" in page.locator("main").inner_text()
    nav = page.locator("nav.sidenav").inner_text()
    assert "操作ログ" in nav
    assert "準備中" in nav
    engine = db_url.split(":")[0].split("+")[0]
    shot = screenshot(page, f"dashboard-ja-{engine}")
    assert shot.stat().st_size > 10_000
    page.context.close()


def test_english_dashboard_and_switching_language(
    browser: Browser, live_server: str, tenant: Tenant, db_url: str
) -> None:
    page = new_page(browser, locale="en-GB")
    log_in(page, live_server, tenant.analyst.email)
    assert page.locator("h1").inner_text() == "Dashboard"
    assert "Audit log" not in page.locator("nav.sidenav").inner_text()  # analysts may not
    engine = db_url.split(":")[0].split("+")[0]
    screenshot(page, f"dashboard-en-{engine}")
    page.select_option("#language", "ja")
    page.click("header form.inline button[type=submit]")
    page.wait_for_load_state("networkidle")
    assert page.locator("h1").inner_text() == "ダッシュボード"
    page.context.close()


def test_wrong_password_shows_an_error_and_the_phone_layout_reads(
    browser: Browser, live_server: str, tenant: Tenant, engine: str
) -> None:
    page = new_page(browser, locale="en-US", width=390)
    log_in(page, live_server, tenant.owner.email, password="wrong password here")
    assert page.locator("[role=alert]").inner_text() == "Wrong email address or password."
    screenshot(page, f"login-error-phone-en-{engine}")
    log_in(page, live_server, tenant.owner.email)
    assert page.locator("h1").inner_text() == "Dashboard"
    # No horizontal scrolling at phone width.
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    screenshot(page, f"dashboard-phone-en-{engine}")
    page.context.close()
