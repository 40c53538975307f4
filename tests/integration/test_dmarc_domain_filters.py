"""The domain page's engine on both engines: one reporter's sources table read from the raw
records, the reporters of a period, and the history of the policy reporters quoted; every
figure checked against a computation from the records the test inserted."""

from __future__ import annotations

import random
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

import pytest

from tests.conftest import Tenant
from todoke.accounts.models import Organisation
from todoke.accounts.services import add_user, create_organisation
from todoke.authz import CLI_ACTOR
from todoke.core.errors import InvalidInput, PermissionDenied
from todoke.dmarc import insights, policy_history, reporter_sources, services
from todoke.dmarc.analyses import SourceFilter
from todoke.dmarc.ingest import Incoming, store_reports
from todoke.dmarc.report_types import (
    AggregateRecord,
    AggregateReport,
    DkimAuthResult,
    PolicyPublished,
    SpfAuthResult,
)
from todoke.runtime import Runtime

DOMAIN = "filters.example.jp"
REPORTERS = ("google.com", "Yahoo", "Enterprise Outlook")
#: reports begin this many days ago; p=quarantine is published CHANGE_AGO days ago
FIRST_AGO = 40
CHANGE_AGO = 20
#: (network, label, tags) registered as the organisation's own sources
REGISTERED = (
    ("203.0.113.0/26", "本社メールサーバー", ["本社", "mx"]),
    ("198.51.100.0/28", "メルマガ配信", ["newsletter"]),
    ("2001:db8:5a::/64", "IPv6 relay", ["v6", "mx"]),
)
#: address -> the (dkim aligned, spf aligned) verdicts its records draw from
PROFILES: dict[str, tuple[tuple[bool, bool], ...]] = {
    "203.0.113.10": ((True, True),),
    "203.0.113.11": ((True, True), (False, True), (False, False)),
    "198.51.100.7": ((True, False), (False, False)),
    "2001:db8:5a::25": ((True, True),),
    "192.0.2.55": ((False, False),),
    "192.0.2.56": ((False, False), (False, True)),
    "209.85.220.41": ((True, False),),
}


@dataclass(frozen=True)
class Row:
    """One record as inserted."""

    reporter: str
    day: date
    ip: str
    count: int
    dkim: bool
    spf: bool

    @property
    def passing(self) -> bool:
        return self.dkim or self.spf


@dataclass(frozen=True)
class Sent:
    """One report as inserted: who sent it, for which day, quoting which policy."""

    reporter: str
    day: date
    p: str


@dataclass
class Data:
    runtime: Runtime
    org: Organisation
    today: date
    rows: list[Row]
    reports: list[Sent]

    def expected(
        self, since: date, until: date, reporter: str | None = None
    ) -> dict[str, tuple[int, int]]:
        """Per address: (messages, passing) of the records in [since, until]."""
        found: dict[str, tuple[int, int]] = {}
        for row in self.rows:
            if since <= row.day <= until and reporter in (None, row.reporter):
                messages, passing = found.get(row.ip, (0, 0))
                found[row.ip] = (messages + row.count, passing + row.count * row.passing)
        return found


def policy_on(reporter: str, ago: int) -> str:
    # Enterprise Outlook caches the record and quotes the old policy one day longer.
    lag = 1 if reporter == "Enterprise Outlook" else 0
    return "quarantine" if ago < CHANGE_AGO - lag else "none"


def _record(ip: str, count: int, dkim: bool, spf: bool) -> AggregateRecord:
    return AggregateRecord(
        source_ip=ip,
        count=count,
        disposition="none",
        dkim_aligned="pass" if dkim else "fail",
        spf_aligned="pass" if spf else "fail",
        header_from=DOMAIN,
        envelope_from=DOMAIN if spf else "bounce.other.example",
        dkim=(DkimAuthResult(DOMAIN if dkim else "other.example", "s1", "pass"),),
        spf=(SpfAuthResult(DOMAIN if spf else "bounce.other.example", "mfrom", "pass"),),
    )


def generate(today: date, seed: int = 7) -> tuple[list[AggregateReport], list[Row], list[Sent]]:
    """Daily reports of three reporters over FIRST_AGO + 1 days, some days missing."""
    rng = random.Random(seed)
    reports, rows, sent = [], [], []
    for ago in range(FIRST_AGO, -1, -1):
        day = today - timedelta(days=ago)
        for reporter in REPORTERS:
            if rng.random() < 0.2:
                continue
            records = []
            for ip, profile in PROFILES.items():
                if rng.random() < 0.35:
                    continue
                dkim, spf = rng.choice(profile)
                count = rng.choice((0, 1, 2, 5, 12, 40))
                records.append(_record(ip, count, dkim, spf))
                rows.append(Row(reporter, day, ip, count, dkim, spf))
            p = policy_on(reporter, ago)
            begin = datetime.combine(day, time(), tzinfo=UTC)
            policy = PolicyPublished(
                domain=DOMAIN, p=p, adkim="r", aspf="r", pct=100,
                # RFC 9990 reporters add how they found the record: no change of the record.
                discovery_method="psl" if reporter == "Yahoo" else None,
            )  # fmt: skip
            reports.append(
                AggregateReport(
                    schema="rfc9990" if reporter == "Yahoo" else "rfc7489",
                    org_name=reporter,
                    report_id=f"{reporter}-{day:%Y%m%d}",
                    begin=begin,
                    end=begin + timedelta(days=1, seconds=-1),
                    policy=policy,
                    records=records,
                )
            )
            sent.append(Sent(reporter, day, p))
    return reports, rows, sent


def load(runtime: Runtime, org: Organisation) -> Data:
    today = runtime.clock.now().date()
    reports, rows, sent = generate(today)
    items = [Incoming(report, f"{report.report_id}.xml") for report in reports]
    with runtime.session() as session, session.begin():
        store_reports(session, org=org, items=items, channel="upload", acting_user=CLI_ACTOR)
        for cidr, label, tags in REGISTERED:
            services.register_source(
                session, org=org, cidr=cidr, label=label, tags=tags, acting_user=CLI_ACTOR
            )
    return Data(runtime, org, today, rows, sent)


@pytest.fixture
def data(runtime: Runtime, tenant: Tenant) -> Data:
    return load(runtime, tenant.org)


def by_reporter(
    data: Data, reporter: str, since: date, until: date, **options: object
) -> insights.SourcesPage:
    with data.runtime.session() as session:
        return reporter_sources.reporter_sources(
            session, org=data.org, domain=DOMAIN, reporter=reporter, acting_user=CLI_ACTOR,
            since=since, until=until, per_page=1000, **options,  # type: ignore[arg-type]
        )  # fmt: skip


def figures(sources: Iterable[object]) -> dict[str, tuple[int, int]]:
    return {s.source_ip: (s.messages, s.dmarc_pass) for s in sources}  # type: ignore[attr-defined]


def test_a_reporters_table_counts_only_its_records_in_the_range(data: Data) -> None:
    since, until = data.today - timedelta(days=29), data.today - timedelta(days=3)
    for reporter in REPORTERS:
        found = by_reporter(data, reporter, since, until)
        expected = data.expected(since, until, reporter)
        assert figures(found.sources) == expected
        assert found.messages == sum(messages for messages, _ in expected.values())
        assert found.dmarc_pass == sum(passing for _, passing in expected.values())
        assert (found.since, found.until, found.computed_at) == (since, until, None)
        assert [s.rank for s in found.sources] == list(range(1, len(found.sources) + 1))
    # the reporters differ, or the filter would not be shown to narrow anything
    assert len({frozenset(data.expected(since, until, r).items()) for r in REPORTERS}) == 3


def test_the_reporters_tables_add_up_to_the_whole_table(data: Data) -> None:
    since, until = data.today - timedelta(days=35), data.today
    totals: dict[str, list[int]] = {}
    for reporter in REPORTERS:
        for source in by_reporter(data, reporter, since, until).sources:
            into = totals.setdefault(source.source_ip, [0, 0])
            into[0] += source.messages
            into[1] += source.dmarc_pass
    with data.runtime.session() as session:
        whole = insights.domain_sources(
            session, org=data.org, domain=DOMAIN, acting_user=CLI_ACTOR, since=since,
            until=until, per_page=1000, live=True,
        )  # fmt: skip
    assert {ip: tuple(values) for ip, values in totals.items()} == figures(whole.sources)


def test_a_reporters_table_classifies_as_the_whole_table(data: Data) -> None:
    # Where one reporter alone reported, its table is the whole table, row for row.
    alone = [
        (sent.day, sent.reporter)
        for sent in data.reports
        if [other.day for other in data.reports].count(sent.day) == 1
    ]
    assert alone
    for day, reporter in alone:
        with data.runtime.session() as session:
            whole = insights.domain_sources(
                session, org=data.org, domain=DOMAIN, acting_user=CLI_ACTOR, since=day,
                until=day, per_page=1000, live=True,
            )  # fmt: skip
        assert by_reporter(data, reporter, day, day).sources == whole.sources
    found = by_reporter(data, "google.com", data.today - timedelta(days=29), data.today)
    own = next(source for source in found.sources if source.source_ip == "203.0.113.10")
    assert own.kind == "aligned_pass"
    assert own.sender is not None
    assert set(own.sender.tags) == {"本社", "mx"}


@pytest.mark.parametrize(
    "wanted",
    [
        SourceFilter(tag="mx"),
        SourceFilter(tag="newsletter", result="fail"),
        SourceFilter(result="pass"),
        SourceFilter(network="192.0.2.0/24", result="fail"),
        SourceFilter(network="2001:db8::/32", tag="v6"),
        SourceFilter(kind="spoofing_suspected"),
    ],
    ids=lambda wanted: repr(wanted),
)
def test_a_reporters_table_narrows_with_every_other_filter(
    data: Data, wanted: SourceFilter
) -> None:
    since, until = data.today - timedelta(days=29), data.today
    everything = by_reporter(data, "Yahoo", since, until).sources
    found = by_reporter(data, "Yahoo", since, until, wanted=wanted)
    tagged = {
        "mx": {"203.0.113.10", "203.0.113.11", "2001:db8:5a::25"},
        "newsletter": {"198.51.100.7"},
        "v6": {"2001:db8:5a::25"},
    }
    expected = data.expected(since, until, "Yahoo")
    keep = set(expected)
    if wanted.tag:
        keep &= tagged[wanted.tag]
    if wanted.result == "pass":
        keep = {ip for ip in keep if expected[ip][0] == expected[ip][1]}
    if wanted.result == "fail":
        keep = {ip for ip in keep if expected[ip][0] > expected[ip][1]}
    if wanted.network == "192.0.2.0/24":
        keep = {ip for ip in keep if ip.startswith("192.0.2.")}
    if wanted.kind:
        keep = {s.source_ip for s in everything if s.kind == wanted.kind}
    assert {s.source_ip for s in found.sources} == keep
    assert found.total == len(keep) < len(everything)
    # ranks stay those of the whole reporter table; the totals stay the reporter's mail
    rank = {s.source_ip: s.rank for s in everything}
    assert all(s.rank == rank[s.source_ip] for s in found.sources)
    assert found.messages == sum(s.messages for s in everything)


def test_a_reporters_table_refuses_a_network_that_is_no_range(data: Data) -> None:
    with pytest.raises(InvalidInput, match=r"203\.0\.113\.0/33"):
        by_reporter(
            data, "Yahoo", data.today, data.today, wanted=SourceFilter(network="203.0.113.0/33")
        )


def test_the_reporters_seen_are_those_with_a_report_in_the_period(data: Data) -> None:
    for since, until in ((data.today - timedelta(days=40), data.today), (data.today, data.today)):
        expected = sorted({sent.reporter for sent in data.reports if since <= sent.day <= until})
        with data.runtime.session() as session:
            found = reporter_sources.reporters_seen(
                session, org=data.org, domain=DOMAIN, acting_user=CLI_ACTOR, since=since,
                until=until,
            )  # fmt: skip
        assert found == expected
    with data.runtime.session() as session:
        later = reporter_sources.reporters_seen(
            session, org=data.org, domain=DOMAIN, acting_user=CLI_ACTOR,
            since=data.today + timedelta(days=1), until=data.today + timedelta(days=5),
        )  # fmt: skip
    assert later == []


def test_the_policy_history_shows_the_change_from_none_to_quarantine(data: Data) -> None:
    with data.runtime.session() as session:
        history = policy_history.policy_history(
            session, org=data.org, domain=DOMAIN, acting_user=CLI_ACTOR
        )
    assert [seen.policy for seen in history] == [
        {"p": "quarantine", "adkim": "r", "aspf": "r", "pct": 100},
        {"p": "none", "adkim": "r", "aspf": "r", "pct": 100},
    ]
    for seen in history:
        quoting = [sent for sent in data.reports if sent.p == seen.policy["p"]]
        assert seen.first_seen == min(sent.day for sent in quoting)
        assert seen.last_seen == max(sent.day for sent in quoting)
        assert seen.reports == len(quoting)
        assert seen.reporters == len({sent.reporter for sent in quoting})
    newest, older = history
    # the lagging reporter quoted the old record after the new one had appeared
    assert older.last_seen >= newest.first_seen


def test_the_policy_history_of_a_domain_without_reports_is_empty(
    runtime: Runtime, tenant: Tenant
) -> None:
    with runtime.session() as session:
        found = policy_history.policy_history(
            session, org=tenant.org, domain="nothing.example", acting_user=CLI_ACTOR
        )
    assert found == []


def test_a_user_of_another_organisation_may_not_read_them(data: Data) -> None:
    with data.runtime.session() as session, session.begin():
        other = create_organisation(session, name="他社", slug="tasha", acting_user=CLI_ACTOR)
        outsider = add_user(
            session, org=other, email="owner@tasha.example", display_name="他社",
            password="correct horse battery staple", role_name="owner", acting_user=CLI_ACTOR,
        )  # fmt: skip
    with data.runtime.session() as session:
        with pytest.raises(PermissionDenied):
            reporter_sources.reporter_sources(
                session, org=data.org, domain=DOMAIN, reporter="Yahoo", acting_user=outsider
            )
        with pytest.raises(PermissionDenied):
            reporter_sources.reporters_seen(
                session, org=data.org, domain=DOMAIN, acting_user=outsider
            )
        with pytest.raises(PermissionDenied):
            policy_history.policy_history(
                session, org=data.org, domain=DOMAIN, acting_user=outsider
            )
