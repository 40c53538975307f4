"""A reader opens the monthly digest the worker stored, in Japanese and English: the page says
as of when, its figures are the engine's, and the month before (which no worker kept) is
computed when they step back to it, then kept."""

from __future__ import annotations

from datetime import timedelta

import pytest
from playwright.sync_api import Browser
from sqlalchemy import select

from tests.browser.conftest import log_in, new_page, screenshot
from tests.conftest import Tenant
from tests.integration.test_dmarc_analyses import DOMAIN, load_corpus
from todoke.authz import CLI_ACTOR
from todoke.dmarc import digest, queries
from todoke.dmarc.digest_job import kept_months, refresh_stale_digests
from todoke.dmarc.models import DmarcMonthDigest
from todoke.runtime import Runtime

pytestmark = pytest.mark.browser

AS_OF = {"ja": "時点の集計です", "en": "as of "}


@pytest.mark.parametrize("locale", ["ja", "en"])
def test_a_reader_reads_the_stored_digest_and_steps_back_a_month(
    browser: Browser, live_server: str, runtime: Runtime, tenant: Tenant, locale: str, engine: str
) -> None:
    today = runtime.clock.now().date()
    load_corpus(runtime, tenant.org, today, reports=60)
    refresh_stale_digests(runtime.session, now=runtime.clock.now)
    last, _ = kept_months(today)
    with runtime.session() as session:
        stored = session.scalars(
            select(DmarcMonthDigest).where(DmarcMonthDigest.month == last)
        ).all()
        summary = queries.domain_summary(
            session, org=tenant.org, domain=DOMAIN, acting_user=CLI_ACTOR, since=last,
            until=digest.next_month(last) - timedelta(days=1),
        )  # fmt: skip
    oldest = min(row.computed_at for row in stored)
    page = new_page(browser, locale=locale)
    log_in(page, live_server, tenant.viewer.email)
    page.goto(f"{live_server}/dmarc/digest")
    as_of = page.locator('[data-field="as-of"]').inner_text()
    assert AS_OF[locale] in as_of
    assert f"{oldest:%Y-%m-%d %H:%M} UTC" in as_of
    messages = page.locator(f'[data-domain="{DOMAIN}"] [data-field="messages"]').first
    assert messages.inner_text() == f"{summary.messages:,}"
    screenshot(page, f"dmarc-digest-stored-{locale}-{engine}")
    older = digest.previous_month(last)
    page.click(f'a[href="/dmarc/digest?month={older:%Y-%m}"]')
    page.wait_for_load_state("networkidle")
    assert AS_OF[locale] in page.locator('[data-field="as-of"]').inner_text()
    with runtime.session() as session:
        kept = session.scalars(
            select(DmarcMonthDigest.domain).where(DmarcMonthDigest.month == older)
        ).all()
    assert DOMAIN in kept
    screenshot(page, f"dmarc-digest-month-before-{locale}-{engine}")
    page.context.close()
