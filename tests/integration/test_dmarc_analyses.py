"""Stored source analyses give the same answers as the live computation, on both engines: the
sources table (every window, every page, every filter), the error patterns and the readiness,
over a generated corpus of 96 days with own sources, identified senders, IPv6 and records that
count no messages."""

from __future__ import annotations

import dataclasses
import ipaddress
from dataclasses import dataclass
from datetime import date, timedelta

import pytest
from sqlalchemy import delete, func, select, update
from sqlalchemy.orm import Session

from todoke.accounts.models import Organisation
from todoke.accounts.services import create_organisation, sync_builtin_roles
from todoke.authz import CLI_ACTOR
from todoke.dmarc import insights, posture, services
from todoke.dmarc.analyses import SourceFilter, refresh_stale_analyses
from todoke.dmarc.corpus import CorpusSpec, generate_reports
from todoke.dmarc.ingest import Incoming, store_reports
from todoke.dmarc.models import DmarcSource, DmarcSourceAnalysis, DmarcSourceDay
from todoke.dmarc.report_types import AggregateReport
from todoke.runtime import Runtime

DOMAIN = "example.jp"
OTHER_DOMAIN = "mail.example.jp"
WINDOWS = (14, 30, 90)
REPORT_URI = "mailto:dmarc@reports.todoke.example"
#: (network, catalogue key, matched_by) as identification would have stored them
IDENTIFIED = (
    ("167.89.0.0/17", "sendgrid", "ptr"),
    ("209.85.128.0/17", "google", "ptr"),
    ("2a00:1450::/32", "google", "spf_range"),
    ("205.201.128.0/20", "mailchimp", "spf_range"),
    ("40.92.0.0/15", "microsoft", "ptr"),
)


@dataclass
class Corpus:
    runtime: Runtime
    org: Organisation
    today: date

    def session(self) -> Session:
        return self.runtime.session()


def _with_empty_records(report: AggregateReport, index: int) -> AggregateReport:
    # Reporters do send records with <count>0</count>; their source still appears.
    if index % 9:
        return report
    records = [
        dataclasses.replace(record, count=0) if position % 4 == 0 else record
        for position, record in enumerate(report.records)
    ]
    return dataclasses.replace(report, records=records)


def load_corpus(runtime: Runtime, org: Organisation, today: date, *, reports: int = 260) -> None:
    spec = CorpusSpec(
        reports=reports,
        records_per_report_mean=12,
        seed=23,
        domains=(DOMAIN, OTHER_DOMAIN),
        start=today - timedelta(days=95),
        days=96,
        duplicate_rate=0,
    )
    items = [
        Incoming(_with_empty_records(generated.report, index), generated.filename)
        for index, generated in enumerate(generate_reports(spec))
    ]
    with runtime.session() as session, session.begin():
        store_reports(session, org=org, items=items, channel="upload", acting_user=CLI_ACTOR)
    with runtime.session() as session, session.begin():
        for cidr, label, tags in (
            ("203.0.113.0/26", "本社メールサーバー", ["本社", "mx"]),
            ("2001:db8:5a::/64", "IPv6 relay", ["v6"]),
        ):
            services.register_source(
                session, org=org, cidr=cidr, label=label, tags=tags, acting_user=CLI_ACTOR
            )
    identify(runtime, org)


def identify(runtime: Runtime, org: Organisation) -> None:
    """What the identification job would have stored for the corpus' known senders."""
    networks = [(ipaddress.ip_network(cidr), key, by) for cidr, key, by in IDENTIFIED]
    now = runtime.clock.now()
    with runtime.session() as session, session.begin():
        addresses = session.scalars(
            select(DmarcSource.source_ip).where(DmarcSource.organisation_id == org.id)
        ).all()
        found = []
        for ip in addresses:
            address = ipaddress.ip_address(ip)
            for network, key, matched_by in networks:
                if address.version == network.version and address in network:
                    ptr_name = f"o1.{key}.example" if matched_by == "ptr" else None
                    found.append(
                        {
                            "organisation_id": org.id,
                            "source_ip": ip,
                            "sender_key": key,
                            "matched_by": matched_by,
                            "ptr_name": ptr_name,
                            "ptr_status": "ok",
                            "identified_at": now,
                        }
                    )
        session.execute(update(DmarcSource), found)


def make_org(runtime: Runtime) -> Organisation:
    with runtime.session() as session, session.begin():
        sync_builtin_roles(session)
        return create_organisation(
            session, name="届け協会", slug="todoke-kyokai", acting_user=CLI_ACTOR
        )


@pytest.fixture
def corpus(runtime: Runtime) -> Corpus:
    """A generated corpus, analysed by one round of the worker job."""
    org = make_org(runtime)
    today = runtime.clock.now().date()
    load_corpus(runtime, org, today)
    result = refresh_stale_analyses(runtime.session, now=runtime.clock.now)
    assert result.refreshed["never"] == 2 * len(WINDOWS)
    return Corpus(runtime, org, today)


def _since(corpus: Corpus, days: int) -> date:
    return corpus.today - timedelta(days=days - 1)


def _pages(corpus: Corpus, days: int, *, live: bool, **options: object) -> insights.SourcesPage:
    with corpus.session() as session:
        return insights.domain_sources(
            session,
            org=corpus.org,
            domain=DOMAIN,
            acting_user=CLI_ACTOR,
            since=_since(corpus, days),
            until=corpus.today,
            live=live,
            **options,  # type: ignore[arg-type]
        )


def test_stored_sources_equal_the_live_computation_in_every_window(corpus: Corpus) -> None:
    for days in WINDOWS:
        stored = _pages(corpus, days, live=False, per_page=100_000)
        live = _pages(corpus, days, live=True, per_page=100_000)
        assert stored.computed_at is not None
        assert live.computed_at is None
        assert (stored.since, stored.until, stored.total) == (live.since, live.until, live.total)
        assert (stored.messages, stored.dmarc_pass) == (live.messages, live.dmarc_pass)
        assert stored.sources == live.sources, days
    kinds = {source.kind for source in stored.sources}
    assert {"aligned_pass", "spoofing_suspected", "third_party_unaligned"} <= kinds
    assert any(source.messages == 0 for source in stored.sources)
    assert any(":" in source.source_ip for source in stored.sources)


def test_pages_of_the_stored_table_follow_one_another(corpus: Corpus) -> None:
    everything = _pages(corpus, 90, live=True, per_page=100_000).sources
    paged = []
    page = 1
    while True:
        found = _pages(corpus, 90, live=False, page=page, per_page=37)
        paged.extend(found.sources)
        if page >= found.pages:
            break
        page += 1
    assert paged == everything
    assert [source.rank for source in paged] == list(range(1, len(everything) + 1))


FILTERS = (
    SourceFilter(kind="spoofing_suspected"),
    SourceFilter(kind="third_party_unaligned"),
    SourceFilter(result="fail"),
    SourceFilter(result="pass"),
    SourceFilter(network="203.0.113.0/24"),
    SourceFilter(network="2001:db8::/32"),
    SourceFilter(network="167.89.0.0/17", result="fail"),
    SourceFilter(tag="本社"),
    SourceFilter(tag="v6", kind="aligned_pass"),
)


def test_filtered_stored_pages_equal_the_filtered_live_ones(corpus: Corpus) -> None:
    for wanted in FILTERS:
        stored = _pages(corpus, 90, live=False, wanted=wanted, page=2, per_page=3)
        live = _pages(corpus, 90, live=True, wanted=wanted, page=2, per_page=3)
        assert (stored.total, stored.sources) == (live.total, live.sources), wanted
        assert stored.sources, wanted


def _patterns(corpus: Corpus, days: int, locale: str, *, live: bool) -> insights.PatternsAnswer:
    with corpus.session() as session:
        return insights.domain_patterns(
            session,
            org=corpus.org,
            domain=DOMAIN,
            acting_user=CLI_ACTOR,
            locale=locale,
            since=_since(corpus, days),
            until=corpus.today,
            live=live,
        )


def test_stored_patterns_equal_the_live_computation(corpus: Corpus) -> None:
    for days in (30, 90):
        for locale in ("ja", "en"):
            stored = _patterns(corpus, days, locale, live=False)
            live = _patterns(corpus, days, locale, live=True)
            assert stored.computed_at is not None
            assert stored.patterns == live.patterns, (days, locale)
    assert len(stored.patterns) >= 4
    assert any(view.sender_fixes for view in stored.patterns)


def test_stored_readiness_equals_the_live_computation(corpus: Corpus) -> None:
    answers = []
    for live in (False, True):
        with corpus.session() as session:
            answers.append(
                posture.domain_readiness(
                    session,
                    org=corpus.org,
                    domain=DOMAIN,
                    acting_user=CLI_ACTOR,
                    report_uri=REPORT_URI,
                    live=live,
                )
            )
    stored, live_answer = answers
    assert stored.computed_at is not None
    assert live_answer.computed_at is None
    assert stored.readiness == live_answer.readiness
    assert (stored.since, stored.until) == (live_answer.since, live_answer.until)
    assert stored.readiness.blockers
    assert stored.readiness.pass_rate_14 is not None


def test_a_standard_window_is_read_not_recomputed(corpus: Corpus) -> None:
    before = _pages(corpus, 30, live=False, per_page=10)
    with corpus.session() as session, session.begin():
        session.execute(delete(DmarcSourceDay))
    after = _pages(corpus, 30, live=False, per_page=10)
    assert after == before
    assert _pages(corpus, 30, live=True).total == 0


def test_other_ranges_are_computed_live_and_not_stored(corpus: Corpus) -> None:
    with corpus.session() as session:
        count_before = session.scalar(select(func.count()).select_from(DmarcSourceAnalysis))
        found = insights.domain_sources(
            session,
            org=corpus.org,
            domain=DOMAIN,
            acting_user=CLI_ACTOR,
            since=corpus.today - timedelta(days=40),
            until=corpus.today - timedelta(days=3),
        )
        session.commit()
        count_after = session.scalar(select(func.count()).select_from(DmarcSourceAnalysis))
    assert found.computed_at is None
    assert found.total > 0
    assert count_after == count_before
