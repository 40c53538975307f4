"""The overview's failing sources, trend and "what changed since the previous period", on both
engines, checked against the stored records counted here independently (raw `dmarc_record`
rows, not the roll-ups and analyses the engine reads)."""

from __future__ import annotations

from collections import defaultdict
from datetime import date, timedelta

from fastapi.testclient import TestClient
from sqlalchemy import select

from tests.conftest import Tenant
from tests.integration.test_dmarc_analyses import DOMAIN, OTHER_DOMAIN
from tests.integration.test_dmarc_pages import cells, reader, row_of, table_of, text_of
from todoke.authz import CLI_ACTOR
from todoke.dmarc.highlights import domain_highlights
from todoke.dmarc.models import DmarcRecord, DmarcShape
from todoke.runtime import Runtime
from todoke.web.dmarc_views import Totals, rate_change, trend

__all__ = ["reader"]  # the fixture, imported for pytest

Volumes = dict[str, list[int]]  # address -> [messages, failing]


def volumes(runtime: Runtime, org_id: int, domain: str, since: date, until: date) -> Volumes:
    found: Volumes = defaultdict(lambda: [0, 0])
    with runtime.session() as session:
        rows = session.execute(
            select(
                DmarcRecord.source_ip,
                DmarcRecord.message_count,
                DmarcShape.dkim_aligned,
                DmarcShape.spf_aligned,
            )
            .join(DmarcShape, DmarcShape.id == DmarcRecord.shape_id)
            .where(
                DmarcRecord.organisation_id == org_id,
                DmarcRecord.domain == domain,
                DmarcRecord.day >= since,
                DmarcRecord.day <= until,
            )
        ).all()
    for ip, count, dkim, spf in rows:
        found[ip][0] += count
        if not (dkim or spf):
            found[ip][1] += count
    return found


def expected_changes(runtime: Runtime, tenant: Tenant, days: int) -> dict[str, dict[str, int]]:
    """Per domain: new sources and new failures (count and volume), by the documented rule."""
    today = runtime.clock.now().date()
    since = today - timedelta(days=days - 1)
    before = since - timedelta(days=days)
    answer = {}
    for domain in (DOMAIN, OTHER_DOMAIN):
        now = volumes(runtime, tenant.org.id, domain, since, today)
        then = volumes(runtime, tenant.org.id, domain, before, since - timedelta(days=1))
        new = [ip for ip, (messages, _) in now.items() if messages and not then.get(ip, [0])[0]]
        failing = [ip for ip, (_, fail) in now.items() if fail and not then.get(ip, [0, 0])[1]]
        answer[domain] = {
            "new_sources": len(new),
            "new_source_messages": sum(now[ip][0] for ip in new),
            "new_failures": len(failing),
            "new_failure_messages": sum(now[ip][1] for ip in failing),
            "top_failing": sorted((now[ip][1] for ip in failing), reverse=True)[:10],
        }
    return answer


def test_the_overview_counts_new_sources_and_new_failures_like_the_records_do(
    reader: TestClient, runtime: Runtime, tenant: Tenant
) -> None:
    for days in (30, 90):
        html = reader.get(f"/dmarc?days={days}").text
        expected = expected_changes(runtime, tenant, days)
        new_sources = sum(item["new_sources"] for item in expected.values())
        new_failures = sum(item["new_failures"] for item in expected.values())
        assert new_sources > 0, "the corpus should have new sources"
        assert new_failures > 0, "the corpus should have new failures"
        assert f'id="new-sources">{new_sources:,}<' in html
        assert f'id="new-failures">{new_failures:,}<' in html
        failing_messages = sum(item["new_failure_messages"] for item in expected.values())
        page_text = text_of(html)
        assert f"{failing_messages:,} failing messages" in page_text
        largest = sorted(
            (value for item in expected.values() for value in item["top_failing"]), reverse=True
        )[:10]
        shown = cells(table_of(html, "new-failures"), "failing")
        assert [int(value.replace(",", "")) for value in shown] == largest
        with runtime.session() as session:
            found = domain_highlights(
                session, org=tenant.org, domain=DOMAIN, acting_user=CLI_ACTOR,
                since=None if days == 30 else runtime.clock.now().date() - timedelta(days=89),
            )  # fmt: skip
        stored = found.changes
        assert stored is not None
        assert stored.new_sources == expected[DOMAIN]["new_sources"]
        assert stored.new_source_messages == expected[DOMAIN]["new_source_messages"]
        assert stored.new_failure_messages == expected[DOMAIN]["new_failure_messages"]


def test_each_domain_shows_its_trend_against_the_previous_period(
    reader: TestClient, runtime: Runtime, tenant: Tenant
) -> None:
    html = reader.get("/dmarc").text
    today = runtime.clock.now().date()
    for domain in (DOMAIN, OTHER_DOMAIN):
        now = volumes(runtime, tenant.org.id, domain, today - timedelta(days=29), today)
        then = volumes(
            runtime, tenant.org.id, domain, today - timedelta(days=59), today - timedelta(days=30)
        )
        current = sum(messages for messages, _ in now.values())
        previous = sum(messages for messages, _ in then.values())
        assert previous, "the corpus covers the previous period too"
        change = round((current - previous) * 100 / previous)
        wanted = f"+{change}%" if change > 0 else f"−{-change}%" if change < 0 else "±0%"
        assert wanted in text_of(cells(row_of(html, "data-domain", domain), "trend")[0])


def test_trend_words() -> None:
    assert trend(112, 100) == "+12%"
    assert trend(97, 100) == "−3%"
    assert trend(100, 100) == "±0%"
    assert trend(5, 0) == "new"
    assert trend(0, 0) == "–"


def test_rate_change_is_in_points() -> None:
    assert rate_change(Totals(100, 90), Totals(100, 80)) == "+10.0 pt"
    assert rate_change(Totals(100, 80), Totals(200, 170)) == "−5.0 pt"
    assert rate_change(Totals(100, 80), Totals(0, 0)) == "–"
    assert rate_change(Totals(1000, 800), Totals(1000, 800)) == "±0.0 pt"


def test_the_overview_lists_the_sources_failing_the_most_mail(
    reader: TestClient, runtime: Runtime, tenant: Tenant
) -> None:
    today = runtime.clock.now().date()
    for days in (30, 90):
        html = reader.get(f"/dmarc?days={days}").text
        since = today - timedelta(days=days - 1)
        failing = [
            fail
            for domain in (DOMAIN, OTHER_DOMAIN)
            for _, fail in volumes(runtime, tenant.org.id, domain, since, today).values()
            if fail
        ]
        shown = cells(table_of(html, "failing"), "failing")
        assert [int(value.replace(",", "")) for value in shown] == sorted(failing)[::-1][:10]
        assert len(shown) == 10
