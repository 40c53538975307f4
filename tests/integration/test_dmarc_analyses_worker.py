"""The worker keeps stored analyses fresh, on both engines: it recomputes a domain when a report
lands, at midnight, when registered sources change or identification names an analysed address
differently, and leaves fresh ones alone; replaced and abandoned analyses are removed."""

from __future__ import annotations

import dataclasses
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import func, select, update

from tests.conftest import OffsetClock
from tests.integration.test_dmarc_analyses import DOMAIN, Corpus, load_corpus, make_org
from todoke.authz import CLI_ACTOR
from todoke.dmarc import insights, services
from todoke.dmarc.analyses import (
    STANDARD_WINDOWS,
    compute_analyses,
    find_analysis,
    refresh_stale_analyses,
    standard_windows,
    store_analysis,
)
from todoke.dmarc.analyses.job import RefreshResult
from todoke.dmarc.ingest import Incoming, store_reports
from todoke.dmarc.models import DmarcAnalysedSource, DmarcSource, DmarcSourceAnalysis
from todoke.dmarc.report_types import AggregateRecord, AggregateReport, PolicyPublished
from todoke.runtime import Runtime
from todoke.worker.jobs import builtin_jobs
from todoke.worker.scheduler import Scheduler

NEW_SOURCE = "198.51.100.77"


@pytest.fixture
def corpus(runtime: Runtime) -> Corpus:
    org = make_org(runtime)
    today = runtime.clock.now().date()
    load_corpus(runtime, org, today, reports=80)
    refresh(runtime)
    return Corpus(runtime, org, today)


def refresh(runtime: Runtime) -> RefreshResult:
    return refresh_stale_analyses(runtime.session, now=runtime.clock.now)


def one_report(day: date, report_id: str, ip: str = NEW_SOURCE) -> AggregateReport:
    begin = datetime(day.year, day.month, day.day, tzinfo=UTC)
    return AggregateReport(
        schema="rfc7489",
        org_name="late.example",
        report_id=report_id,
        email="dmarc@late.example",
        begin=begin,
        end=begin + timedelta(days=1, seconds=-1),
        policy=PolicyPublished(DOMAIN, "none"),
        records=[
            AggregateRecord(
                source_ip=ip,
                count=40,
                disposition="none",
                dkim_aligned="fail",
                spf_aligned="fail",
                header_from=DOMAIN,
            )
        ],
    )


def ingest(corpus: Corpus, report: AggregateReport) -> None:
    with corpus.session() as session, session.begin():
        store_reports(
            session,
            org=corpus.org,
            items=[Incoming(report, "late.xml")],
            channel="upload",
            acting_user=CLI_ACTOR,
        )


def current(corpus: Corpus, days: int = 30) -> DmarcSourceAnalysis:
    with corpus.session() as session:
        found = find_analysis(session, org_id=corpus.org.id, domain=DOMAIN, days=days)
    assert found is not None
    return found


def test_a_round_with_nothing_new_recomputes_nothing(corpus: Corpus) -> None:
    result = refresh(corpus.runtime)
    assert result.domains == 2
    assert sum(result.refreshed.values()) == 0


def test_a_new_report_recomputes_only_its_domains_windows(corpus: Corpus) -> None:
    before = current(corpus)
    ingest(corpus, one_report(corpus.today, "late-1"))
    result = refresh(corpus.runtime)
    assert result.refreshed == {"reports": len(STANDARD_WINDOWS)}
    after = current(corpus)
    assert after.id != before.id
    assert after.sources == before.sources + 1


def test_midnight_recomputes_every_window(corpus: Corpus, clock: OffsetClock) -> None:
    clock.advance(timedelta(days=1))
    result = refresh(corpus.runtime)
    assert result.refreshed == {"day": 2 * len(STANDARD_WINDOWS)}
    assert current(corpus).until == corpus.today + timedelta(days=1)


def test_registering_a_source_recomputes_with_its_name_and_tags(corpus: Corpus) -> None:
    with corpus.session() as session, session.begin():
        services.register_source(
            session,
            org=corpus.org,
            cidr="167.89.0.0/17",
            label="配信サービス",
            tags=["esp"],
            acting_user=CLI_ACTOR,
        )
    result = refresh(corpus.runtime)
    assert result.refreshed == {"inputs": 2 * len(STANDARD_WINDOWS)}
    with corpus.session() as session:
        names = session.scalars(
            select(DmarcAnalysedSource.sender_name).where(
                DmarcAnalysedSource.analysis_id == current(corpus, 90).id,
                DmarcAnalysedSource.source_ip.like("167.89.%"),
            )
        ).all()
    assert names
    assert set(names) == {"配信サービス"}


def _reidentify(corpus: Corpus, *, sender_key: str | None) -> str:
    """Identification runs again on an analysed address; returns the address."""
    with corpus.session() as session:
        ip = session.scalar(
            select(DmarcAnalysedSource.source_ip).where(
                DmarcAnalysedSource.analysis_id == current(corpus).id,
                DmarcAnalysedSource.sender_key.is_(None),
            )
        )
    assert ip is not None
    with corpus.session() as session, session.begin():
        session.execute(
            update(DmarcSource)
            .where(DmarcSource.organisation_id == corpus.org.id, DmarcSource.source_ip == ip)
            .values(
                sender_key=sender_key,
                matched_by="ptr" if sender_key else None,
                identified_at=corpus.runtime.clock.now() + timedelta(seconds=1),
            )
        )
    return ip


def test_an_address_identified_differently_recomputes_its_analyses(corpus: Corpus) -> None:
    ip = _reidentify(corpus, sender_key="postmark")
    result = refresh(corpus.runtime)
    assert result.refreshed["identification"] >= 1
    with corpus.session() as session:
        key = session.scalar(
            select(DmarcAnalysedSource.sender_key).where(
                DmarcAnalysedSource.analysis_id == current(corpus).id,
                DmarcAnalysedSource.source_ip == ip,
            )
        )
    assert key == "postmark"


def test_identification_finding_nothing_new_only_moves_the_mark(corpus: Corpus) -> None:
    before = current(corpus)
    _reidentify(corpus, sender_key=None)
    result = refresh(corpus.runtime)
    assert sum(result.refreshed.values()) == 0
    assert result.confirmed >= 1
    after = current(corpus)
    assert after.id == before.id
    assert before.identified_until is not None
    assert after.identified_until is not None
    assert after.identified_until > before.identified_until


def test_a_replaced_analysis_is_removed(corpus: Corpus) -> None:
    ingest(corpus, one_report(corpus.today, "late-2"))
    refresh(corpus.runtime)
    with corpus.session() as session:
        headers = session.scalar(select(func.count()).select_from(DmarcSourceAnalysis))
        orphans = session.scalar(
            select(func.count())
            .select_from(DmarcAnalysedSource)
            .where(DmarcAnalysedSource.analysis_id.not_in(select(DmarcSourceAnalysis.id)))
        )
    assert headers == 2 * len(STANDARD_WINDOWS)
    assert orphans == 0


def test_analyses_computed_for_requests_are_tidied_by_the_next_round(corpus: Corpus) -> None:
    ingest(corpus, one_report(corpus.today, "late-read"))
    with corpus.session() as session:
        page = insights.domain_sources(
            session, org=corpus.org, domain=DOMAIN, acting_user=CLI_ACTOR
        )
        session.commit()
    assert page.computed_at is not None
    with corpus.session() as session:
        assert session.scalar(select(func.count()).select_from(DmarcSourceAnalysis)) == 7
    result = refresh(corpus.runtime)
    assert result.removed == 1
    with corpus.session() as session:
        assert session.scalar(select(func.count()).select_from(DmarcSourceAnalysis)) == 6


def test_an_unfinished_analysis_is_never_read_and_is_cleaned_up(corpus: Corpus) -> None:
    finished = current(corpus)
    with corpus.session() as session, session.begin():
        [analysis] = compute_analyses(
            session,
            org=corpus.org,
            domain=DOMAIN,
            windows=[w for w in standard_windows(corpus.today) if w.days == 30],
        )
        unfinished = store_analysis(
            session, org=corpus.org, analysis=analysis, acting_user=CLI_ACTOR
        )
        unfinished.ready = False  # as a crashed worker leaves it, rows half written
        unfinished_id = unfinished.id
    assert current(corpus).id == finished.id
    ingest(corpus, one_report(corpus.today, "late-3"))
    refresh(corpus.runtime)
    with corpus.session() as session:
        assert session.get(DmarcSourceAnalysis, unfinished_id) is None


def test_domains_without_reports_in_90_days_lose_their_analyses(
    corpus: Corpus, clock: OffsetClock
) -> None:
    clock.advance(timedelta(days=200))
    result = refresh(corpus.runtime)
    assert result.removed == 2 * len(STANDARD_WINDOWS)
    with corpus.session() as session:
        assert session.scalar(select(func.count()).select_from(DmarcSourceAnalysis)) == 0
        assert session.scalar(select(func.count()).select_from(DmarcAnalysedSource)) == 0


def test_writing_in_small_chunks_gives_the_same_rows(corpus: Corpus) -> None:
    from todoke.dmarc.analyses.store import replace_analysis

    with corpus.session() as session:
        [analysis] = compute_analyses(
            session,
            org=corpus.org,
            domain=DOMAIN,
            windows=[w for w in standard_windows(corpus.today) if w.days == 90],
        )
    before = insights_rows(corpus)
    replace_analysis(
        corpus.runtime.session,
        org=corpus.org,
        analysis=dataclasses.replace(analysis, computed_at=corpus.runtime.clock.now()),
        acting_user=CLI_ACTOR,
        chunk_rows=7,
    )
    assert insights_rows(corpus) == before
    with corpus.session() as session:
        assert (
            session.scalar(
                select(func.count())
                .select_from(DmarcSourceAnalysis)
                .where(DmarcSourceAnalysis.window_days == 90, DmarcSourceAnalysis.domain == DOMAIN)
            )
            == 1
        )


def insights_rows(corpus: Corpus) -> list[object]:
    with corpus.session() as session:
        page = insights.domain_sources(
            session,
            org=corpus.org,
            domain=DOMAIN,
            acting_user=CLI_ACTOR,
            since=corpus.today - timedelta(days=89),
            until=corpus.today,
            per_page=100_000,
        )
    assert page.computed_at is not None
    return list(page.sources)


def test_the_worker_runs_the_analysis_job(runtime: Runtime) -> None:
    org = make_org(runtime)
    load_corpus(runtime, org, runtime.clock.now().date(), reports=30)
    ran = Scheduler(runtime, builtin_jobs()).run_due()
    assert "dmarc.analyse_sources" in ran
    with runtime.session() as session:
        assert session.scalar(select(func.count()).select_from(DmarcSourceAnalysis)) == 2 * len(
            STANDARD_WINDOWS
        )
