"""Scheduled checks of registered domains: history kept, a change for the worse named."""

from __future__ import annotations

import asyncio
from datetime import timedelta

from sqlalchemy import select

from tests.conftest import OffsetClock, Tenant
from tests.rig.dns_server import LocalDNSServer
from tests.rig.fixtures import ResolverFactory
from todoke.domains.checks import CheckOptions, Finding, Status
from todoke.domains.inventory import (
    check_history,
    run_scheduled_checks,
    worse_than,
)
from todoke.domains.models import DomainCheckRun
from todoke.domains.services import register_domain
from todoke.runtime import Runtime
from todoke.worker.jobs import builtin_jobs
from todoke.worker.scheduler import Scheduler

GOOD = """
$ORIGIN kyokai.test.
@ IN SOA ns1 hostmaster 1 3600 600 86400 120
@ IN TXT "v=spf1 ip4:203.0.113.10 -all"
@ IN MX 10 mx.kyokai.test.
mx IN A 203.0.113.25
_dmarc IN TXT "v=DMARC1; p=reject; rua=mailto:dmarc@kyokai.test"
"""
DAY = timedelta(hours=24)
OPTIONS = CheckOptions(try_common_selectors=False)


def schedule(runtime: Runtime, resolver_factory: ResolverFactory, clock: OffsetClock) -> str:
    result = asyncio.run(
        run_scheduled_checks(
            runtime.session,
            resolver=resolver_factory(),
            options=OPTIONS,
            now=clock.now(),
            interval=DAY,
        )
    )
    return f"{result.checked}/{result.worse}/{result.failed}"


def test_a_record_removed_between_runs_is_named_as_worse(
    runtime: Runtime,
    tenant: Tenant,
    clock: OffsetClock,
    dns_server: LocalDNSServer,
    resolver_factory: ResolverFactory,
) -> None:
    with runtime.session() as session, session.begin():
        register_domain(
            session, org=tenant.org, name="kyokai.test", sends_mail=True, acting_user=tenant.owner
        )
    dns_server.add_zone(GOOD)
    assert schedule(runtime, resolver_factory, clock) == "1/0/0"
    assert schedule(runtime, resolver_factory, clock) == "0/0/0"  # not due again within a day
    dns_server.replace_zones(GOOD.replace('@ IN TXT "v=spf1 ip4:203.0.113.10 -all"\n', ""))
    clock.advance(DAY + timedelta(minutes=1))
    assert schedule(runtime, resolver_factory, clock) == "1/1/0"
    with runtime.session() as session:
        runs = check_history(
            session, org=tenant.org, domain="kyokai.test", acting_user=tenant.viewer
        )
        assert [run.trigger for run in runs] == ["schedule", "schedule"]
        assert runs[0].worse == ["spf.missing"]
        assert runs[1].worse == []
        assert (
            session.scalar(select(DomainCheckRun.status).order_by(DomainCheckRun.id.desc()))
            == "fail"
        )


def test_worse_means_more_severe_than_the_same_finding_before() -> None:
    before = [
        {"id": "spf.ok", "status": "pass"},
        {"id": "dmarc.pct", "status": "warn"},
        {"id": "mx.ok", "status": "pass"},
    ]
    now = [
        Finding("spf.lookup_limit", Status.FAIL),
        Finding("dmarc.pct", Status.WARN),
        Finding("mx.ok", Status.PASS),
        Finding("dkim.testing", Status.INFO),
    ]
    assert worse_than(before, now) == ["spf.lookup_limit"]
    assert worse_than(None, now) == []


def test_worker_job_checks_every_registered_domain(
    runtime: Runtime, tenant: Tenant, dns_server: LocalDNSServer
) -> None:
    dns_server.add_zone(GOOD)
    runtime.settings.dns_nameservers = [str(dns_server.nameserver)]
    runtime.settings.check_ip_blocklists = []
    runtime.settings.check_domain_blocklists = []
    with runtime.session() as session, session.begin():
        register_domain(
            session, org=tenant.org, name="kyokai.test", sends_mail=True, acting_user=tenant.owner
        )
    ran = Scheduler(runtime, builtin_jobs()).run_due()
    assert "domains.check_inventory" in ran
    with runtime.session() as session:
        runs = check_history(
            session, org=tenant.org, domain="kyokai.test", acting_user=tenant.viewer
        )
        assert [(run.trigger, run.worse) for run in runs] == [("schedule", [])]
        assert "spf.ok" in {row["id"] for row in runs[0].findings}
