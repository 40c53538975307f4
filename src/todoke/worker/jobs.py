"""The periodic jobs the worker runs. Feature issues append theirs to `builtin_jobs`."""

from __future__ import annotations

import asyncio
from datetime import timedelta

from sqlalchemy import delete
from sqlalchemy.orm import Session

from todoke.accounts.login import purge_expired_sessions
from todoke.accounts.models import LoginThrottle
from todoke.core.context import clock_of
from todoke.core.dns import make_resolver, parse_nameserver
from todoke.dmarc.analyses import refresh_stale_analyses
from todoke.dmarc.digest_job import refresh_stale_digests
from todoke.dmarc.identification import identify_pending
from todoke.dmarc.intake import limits_from
from todoke.dmarc.mailboxes import enabled_mailbox_ids, poll_mailbox
from todoke.runtime import Runtime
from todoke.worker.domain_jobs import DOMAIN_JOBS
from todoke.worker.scheduler import PeriodicJob

THROTTLE_MEMORY = timedelta(days=1)


def purge_sessions_and_throttles(session: Session) -> str:
    sessions = purge_expired_sessions(session)
    cutoff = clock_of(session).now() - THROTTLE_MEMORY
    result = session.execute(delete(LoginThrottle).where(LoginThrottle.last_failure_at < cutoff))
    throttles = int(getattr(result, "rowcount", 0) or 0)
    return f"{sessions} expired sessions, {throttles} stale login counters removed"


def poll_report_mailboxes(runtime: Runtime) -> str:
    """Read new report mail from every enabled mailbox; one failing mailbox stops no other."""
    with runtime.session() as session:
        mailbox_ids = enabled_mailbox_ids(session)
    messages = reports = failed = 0
    for mailbox_id in mailbox_ids:
        result = poll_mailbox(
            runtime.session,
            mailbox_id,
            secret_key=runtime.settings.secret_key_bytes(),
            limits=limits_from(runtime.settings),
            now=runtime.clock.now,
        )
        messages += result.messages
        reports += sum(result.summary.reports.values())
        failed += result.error is not None
    return f"{len(mailbox_ids)} mailboxes, {messages} messages, {reports} reports, {failed} failed"


def identify_report_sources(runtime: Runtime) -> str:
    """Name new source addresses (PTR, catalogue, registered sources) off the ingest path."""
    settings = runtime.settings
    nameservers = [parse_nameserver(text) for text in settings.dns_nameservers]
    result = asyncio.run(
        identify_pending(
            runtime.session,
            resolver=make_resolver(nameservers or None),
            now=runtime.clock.now,
            offline=settings.dns_offline,
        )
    )
    return (
        f"{result.addresses} addresses, {result.identified} identified, "
        f"{result.ptr_timeouts} PTR lookups unanswered"
    )


def analyse_report_sources(runtime: Runtime) -> str:
    """Recompute the stored source analyses whose reports, identification or registered
    sources changed, or whose window moved at midnight (dmarc.analyses)."""
    result = refresh_stale_analyses(runtime.session, now=runtime.clock.now)
    reasons = ", ".join(f"{reason} {count}" for reason, count in sorted(result.refreshed.items()))
    return (
        f"{result.domains} domains checked, {sum(result.refreshed.values())} analyses "
        f"recomputed ({reasons or 'none stale'}), {result.deferred} deferred to the next round, "
        f"{result.failed} failed, {result.removed} removed"
    )


def store_month_digests(runtime: Runtime) -> str:
    """Recompute the stored monthly digests (last complete month, running month) whose reports
    or inputs changed, or whose running month moved on at midnight (dmarc.digest_job)."""
    result = refresh_stale_digests(runtime.session, now=runtime.clock.now)
    reasons = ", ".join(f"{reason} {count}" for reason, count in sorted(result.refreshed.items()))
    return (
        f"{result.checked} digests checked, {sum(result.refreshed.values())} recomputed "
        f"({reasons or 'none stale'}) in {result.compute_ms / 1000:.1f} s, {result.waiting} "
        f"waiting for identification, {result.deferred} deferred to the next round, "
        f"{result.failed} failed"
    )


def builtin_jobs() -> list[PeriodicJob]:
    return [
        PeriodicJob("accounts.purge_expired", timedelta(minutes=10), purge_sessions_and_throttles),
        PeriodicJob(
            "dmarc.poll_mailboxes",
            timedelta(minutes=5),
            poll_report_mailboxes,
            own_transactions=True,
        ),
        PeriodicJob(
            "dmarc.identify_sources",
            timedelta(minutes=10),
            identify_report_sources,
            own_transactions=True,
        ),
        # A round stops starting domains after ROUND_BUDGET_S; the lease covers the domain
        # that is still being computed then (a minute or two for ten million records).
        PeriodicJob(
            "dmarc.analyse_sources",
            timedelta(minutes=5),
            analyse_report_sources,
            own_transactions=True,
            lease=timedelta(minutes=30),
        ),
        # Same round shape as the analyses: a budget, then the lease covers the digest still
        # being computed (tens of seconds for a big domain's month).
        PeriodicJob(
            "dmarc.store_digests",
            timedelta(minutes=5),
            store_month_digests,
            own_transactions=True,
            lease=timedelta(minutes=30),
        ),
        *DOMAIN_JOBS,
    ]
