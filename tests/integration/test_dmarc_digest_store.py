"""Stored monthly digests on both engines: the worker keeps last month's and the running month's,
they read back exactly as computed live and as the engine answers for the same dates, and they
go stale exactly when their data changes (a report beginning on their days, registered sources,
identification of their addresses, midnight for the running month)."""

from __future__ import annotations

import dataclasses
import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select, update

from tests.conftest import OffsetClock, Tenant, login
from tests.integration.test_dmarc_analyses import DOMAIN, OTHER_DOMAIN, REPORT_URI, load_corpus
from tests.integration.test_dmarc_analyses_worker import one_report
from tests.integration.test_dmarc_digest import section
from tests.integration.test_dmarc_pages import cells, text_of, use_language
from todoke.accounts.models import Organisation
from todoke.authz import CLI_ACTOR
from todoke.dmarc import digest, digest_job, digest_store, insights, posture, queries, services
from todoke.dmarc.analyses import AnalysedSource
from todoke.dmarc.digest_data import month_period
from todoke.dmarc.digest_freshness import DigestStaleReason, month_watermark, stale_reason
from todoke.dmarc.digest_job import DigestRefreshResult, kept_months, refresh_stale_digests
from todoke.dmarc.identify import load_catalogue
from todoke.dmarc.ingest import Incoming, store_reports
from todoke.dmarc.models import DmarcMonthDigest, DmarcSource
from todoke.runtime import Runtime
from todoke.worker.jobs import builtin_jobs
from todoke.worker.scheduler import Scheduler

NEW_SOURCE = "198.51.100.78"


@dataclass
class Kept:
    runtime: Runtime
    org: Organisation
    today: date
    last: date
    running: date


def refresh(runtime: Runtime) -> DigestRefreshResult:
    return refresh_stale_digests(runtime.session, now=runtime.clock.now)


@pytest.fixture
def kept(runtime: Runtime, tenant: Tenant) -> Kept:
    """A generated corpus over the last 96 days, and one round of the digest job."""
    today = runtime.clock.now().date()
    load_corpus(runtime, tenant.org, today, reports=60)
    result = refresh(runtime)
    assert result.refreshed == {"never": 4}, result  # two domains, two months each
    return Kept(runtime, tenant.org, today, *kept_months(today))


def month_of(kept: Kept, month: date, *, live: bool, locale: str = "en") -> digest.MonthDigest:
    with kept.runtime.session() as session:
        found = digest.month_digest(
            session, org=kept.org, acting_user=CLI_ACTOR, month=month, locale=locale,
            report_uri=REPORT_URI, live=live,
        )  # fmt: skip
        session.commit()
    return found


def untimed(found: digest.MonthDigest) -> list[digest.DomainDigest]:
    return [
        dataclasses.replace(
            item, computed_at=None, readiness=dataclasses.replace(item.readiness, computed_at=None)
        )
        for item in found.domains
    ]


def reason(kept: Kept, domain: str, month: date) -> DigestStaleReason | None:
    period = month_period(month, kept.runtime.clock.now().date())
    with kept.runtime.session() as session:
        row = digest_store.find_digest(session, org_id=kept.org.id, domain=domain, month=month)
        watermark = month_watermark(
            session, org=kept.org, domain=domain, period=period, catalogue=load_catalogue()
        )
        return stale_reason(session, row, watermark, period)


def stored_rows(kept: Kept) -> dict[tuple[str, date], tuple[int, datetime]]:
    with kept.runtime.session() as session:
        rows = session.scalars(select(DmarcMonthDigest)).all()
        return {(row.domain, row.month): (row.id, row.computed_at) for row in rows}


def ingest_report(kept: Kept, day: date, report_id: str) -> None:
    """A report of DOMAIN beginning on `day`, quoting the policy the newest report quotes (so
    only its own days see it)."""
    with kept.runtime.session() as session, session.begin():
        newest = queries.latest_policy(session, kept.org, DOMAIN)
        policy = posture.policy_published(newest, DOMAIN)
        assert policy is not None
        report = dataclasses.replace(one_report(day, report_id, NEW_SOURCE), policy=policy)
        store_reports(
            session, org=kept.org, items=[Incoming(report, "late.xml")], channel="upload",
            acting_user=CLI_ACTOR,
        )  # fmt: skip


def test_the_job_keeps_last_month_and_the_running_month_of_every_domain(kept: Kept) -> None:
    assert set(stored_rows(kept)) == {
        (name, month) for name in (DOMAIN, OTHER_DOMAIN) for month in (kept.last, kept.running)
    }
    again = refresh(kept.runtime)
    assert again.checked == 4
    assert sum(again.refreshed.values()) == 0


def test_stored_digests_read_back_as_computed_live(kept: Kept) -> None:
    before = stored_rows(kept)
    for month in (kept.last, kept.running):
        for locale in ("ja", "en"):
            stored = month_of(kept, month, live=False, locale=locale)
            live = month_of(kept, month, live=True, locale=locale)
            assert untimed(stored) == untimed(live), (month, locale)
            times = [at for (_, kept_month), (_, at) in before.items() if kept_month == month]
            assert stored.computed_at == min(times)
    assert stored_rows(kept) == before  # read, not recomputed
    biggest = month_of(kept, kept.last, live=False).domains[0]
    assert biggest.failing
    assert biggest.patterns
    assert biggest.readiness.readiness.blockers
    assert biggest.changes.new_sources_total > 0


def test_a_stored_digest_is_the_engines_answer_for_its_dates(kept: Kept) -> None:
    found = month_of(kept, kept.last, live=False)
    item = next(item for item in found.domains if item.summary.domain == DOMAIN)
    since, until = found.since, found.until
    with kept.runtime.session() as session:
        org, actor = kept.org, CLI_ACTOR
        summary = queries.domain_summary(
            session, org=org, domain=DOMAIN, acting_user=actor, since=since, until=until
        )
        patterns = insights.domain_patterns(
            session, org=org, domain=DOMAIN, acting_user=actor, locale="en", since=since,
            until=until,
        )  # fmt: skip
        readiness = posture.domain_readiness(
            session, org=org, domain=DOMAIN, acting_user=actor, report_uri=REPORT_URI,
            until=until,
        )  # fmt: skip
        rows = insights.domain_sources(
            session, org=org, domain=DOMAIN, acting_user=actor, since=since, until=until,
            per_page=100_000,
        )  # fmt: skip
    assert item.summary == summary
    assert item.patterns == patterns.patterns
    assert item.readiness.readiness == readiness.readiness
    failing = [row for row in rows.sources if row.dmarc_fail]
    failing.sort(key=lambda row: -row.dmarc_fail)
    # The sources table splits off its last 14 days; the digest reads the month as one.
    assert [_month_only(row) for row in item.failing] == [
        _month_only(row) for row in failing[: digest.TOP]
    ]
    assert item.failing_total == len(failing)


def _month_only(row: AnalysedSource) -> AnalysedSource:
    return dataclasses.replace(row, recent_messages=0, recent_pass=0)


def test_a_report_beginning_last_month_makes_both_digests_of_its_domain_stale(kept: Kept) -> None:
    ingest_report(kept, kept.last + timedelta(days=9), "late-last-month")
    assert reason(kept, DOMAIN, kept.last) == "reports"
    # the running month compares itself with last month
    assert reason(kept, DOMAIN, kept.running) == "reports"
    assert reason(kept, OTHER_DOMAIN, kept.last) is None
    assert refresh(kept.runtime).refreshed == {"reports": 2}
    assert reason(kept, DOMAIN, kept.last) is None


def test_a_report_of_the_running_month_leaves_last_months_digest_alone(kept: Kept) -> None:
    before = stored_rows(kept)
    ingest_report(kept, kept.today, "today")
    assert reason(kept, DOMAIN, kept.running) == "reports"
    assert reason(kept, DOMAIN, kept.last) is None
    assert refresh(kept.runtime).refreshed == {"reports": 1}
    after = stored_rows(kept)
    assert after[(DOMAIN, kept.last)] == before[(DOMAIN, kept.last)]
    assert after[(DOMAIN, kept.running)] != before[(DOMAIN, kept.running)]


def test_a_newly_registered_source_makes_every_digest_stale(kept: Kept) -> None:
    with kept.runtime.session() as session, session.begin():
        services.register_source(
            session, org=kept.org, cidr="198.51.100.0/24", label="new relay", tags=[],
            acting_user=CLI_ACTOR,
        )  # fmt: skip
    assert refresh(kept.runtime).refreshed == {"inputs": 4}


def _reidentify_an_address_of(kept: Kept, month: date) -> None:
    with kept.runtime.session() as session, session.begin():
        ip = session.scalar(
            select(DmarcSource.source_ip).where(
                DmarcSource.organisation_id == kept.org.id,
                DmarcSource.first_seen <= month,
                DmarcSource.last_seen >= month,
            )
        )
        assert ip is not None
        session.execute(
            update(DmarcSource)
            .where(DmarcSource.organisation_id == kept.org.id, DmarcSource.source_ip == ip)
            .values(identified_at=kept.runtime.clock.now() + timedelta(seconds=1))
        )


def test_identification_of_an_address_of_its_days_makes_a_digest_stale(kept: Kept) -> None:
    _reidentify_an_address_of(kept, kept.last)
    assert reason(kept, DOMAIN, kept.last) == "identification"
    assert refresh(kept.runtime).refreshed["identification"] >= 1
    assert reason(kept, DOMAIN, kept.last) is None


def test_a_big_digest_waits_a_day_for_identification_alone(
    kept: Kept, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(digest_store, "RECOMPUTE_ON_READ_MAX_SOURCES", 0)
    _reidentify_an_address_of(kept, kept.last)
    waited = refresh(kept.runtime)
    assert sum(waited.refreshed.values()) == 0
    assert waited.waiting >= 1
    with kept.runtime.session() as session, session.begin():
        session.execute(
            update(DmarcMonthDigest).values(
                computed_at=kept.runtime.clock.now() - timedelta(days=2)
            )
        )
    assert refresh(kept.runtime).refreshed["identification"] == waited.waiting


def test_a_big_running_months_digest_follows_new_reports_hourly(
    kept: Kept, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(digest_store, "RECOMPUTE_ON_READ_MAX_SOURCES", 0)
    before = stored_rows(kept)
    ingest_report(kept, kept.today, "today")
    waited = refresh(kept.runtime)
    assert sum(waited.refreshed.values()) == 0
    assert waited.waiting == 1
    assert stored_rows(kept) == before
    assert reason(kept, DOMAIN, kept.running) == "reports"
    with kept.runtime.session() as session, session.begin():
        session.execute(
            update(DmarcMonthDigest)
            .where(DmarcMonthDigest.month == kept.running)
            .values(computed_at=kept.runtime.clock.now() - digest_job.RUNNING_MONTH_GRACE)
        )
    assert refresh(kept.runtime).refreshed == {"reports": 1}
    assert reason(kept, DOMAIN, kept.running) is None


def test_a_big_complete_months_digest_follows_a_late_report_at_once(
    kept: Kept, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(digest_store, "RECOMPUTE_ON_READ_MAX_SOURCES", 0)
    ingest_report(kept, kept.last + timedelta(days=9), "late-last-month")
    result = refresh(kept.runtime)
    # the running month (which compares itself with last month) waits; last month does not
    assert (result.refreshed, result.waiting) == ({"reports": 1}, 1)
    assert reason(kept, DOMAIN, kept.last) is None
    assert reason(kept, DOMAIN, kept.running) == "reports"


def test_the_running_months_digest_moves_on_at_midnight(kept: Kept, clock: OffsetClock) -> None:
    clock.advance(timedelta(days=1))
    tomorrow = clock.now().date()
    if tomorrow.month == kept.today.month:
        assert reason(kept, DOMAIN, kept.running) == "day"
    else:  # the running month ended: its last day was today, which it already covers
        assert reason(kept, DOMAIN, kept.running) is None
    assert reason(kept, DOMAIN, kept.last) is None


def test_a_month_nobody_kept_is_computed_when_asked_and_then_read(kept: Kept) -> None:
    older = digest.previous_month(kept.last)
    first = month_of(kept, older, live=False)
    assert (DOMAIN, older) in stored_rows(kept)
    again = month_of(kept, older, live=False)
    assert again.computed_at == first.computed_at
    assert untimed(again) == untimed(month_of(kept, older, live=True))


def test_a_digest_of_a_domain_without_reports_is_not_stored(kept: Kept) -> None:
    before = stored_rows(kept)
    with kept.runtime.session() as session:
        found = digest.month_digest(
            session, org=kept.org, acting_user=CLI_ACTOR, month=kept.last, locale="en",
            domain="never-reported.example",
        )  # fmt: skip
        session.commit()
    assert found.domains[0].summary.messages == 0
    assert stored_rows(kept) == before


@pytest.fixture
def reader(kept: Kept, tenant: Tenant, client: TestClient) -> TestClient:
    return use_language(login(client, tenant.viewer.email), "en")


def _page(reader: TestClient, month: date) -> tuple[str, str]:
    """DOMAIN's section of the digest page and what the page says about its freshness."""
    html = reader.get(f"/dmarc/digest?month={month:%Y-%m}").text
    as_of = re.search(r'data-field="as-of">(.*?)</p>', html)
    assert as_of is not None
    return section(html, DOMAIN), text_of(as_of.group(1))


def test_the_page_says_as_of_when_the_stored_digests_were_computed(
    reader: TestClient, kept: Kept
) -> None:
    _, as_of = _page(reader, kept.last)
    oldest = min(at for _, at in stored_rows(kept).values() if at)
    assert f"as of {oldest:%Y-%m-%d %H:%M} UTC" in as_of
    assert "a big domain's running month hourly" in as_of  # as the worker keeps them


def test_a_small_domains_digest_page_follows_a_new_report_at_once(
    reader: TestClient, kept: Kept
) -> None:
    before, _ = _page(reader, kept.last)
    ingest_report(kept, kept.last + timedelta(days=3), "late-small")
    after, _ = _page(reader, kept.last)
    messages = int(cells(before, "messages")[0].replace(",", ""))
    assert cells(after, "messages")[0] == f"{messages + 40:,}"  # one_report's record: 40
    assert reason(kept, DOMAIN, kept.last) is None  # the request stored what it computed


def test_a_big_domains_digest_page_is_shown_as_of_its_computation(
    reader: TestClient, kept: Kept, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(digest_store, "RECOMPUTE_ON_READ_MAX_SOURCES", 0)
    before = _page(reader, kept.last)
    ingest_report(kept, kept.last + timedelta(days=3), "late-big")
    assert _page(reader, kept.last) == before
    refresh(kept.runtime)
    after, _ = _page(reader, kept.last)
    messages = int(cells(before[0], "messages")[0].replace(",", ""))
    assert cells(after, "messages")[0] == f"{messages + 40:,}"


def test_the_worker_runs_the_digest_job(runtime: Runtime, tenant: Tenant) -> None:
    load_corpus(runtime, tenant.org, runtime.clock.now().date(), reports=30)
    # The job as registered among the built-in ones; the others (DNS lookups) are not its test.
    jobs = [job for job in builtin_jobs() if job.name == "dmarc.store_digests"]
    ran = Scheduler(runtime, jobs).run_due()
    assert ran == ["dmarc.store_digests"]
    with runtime.session() as session:
        assert session.scalar(select(func.count()).select_from(DmarcMonthDigest)) == 4
