"""Scheduled checks of every registered domain, and their history.

The worker checks each domain once per interval and keeps every run; a run names the findings
that got worse since the previous one (a new failure, a pass that became a warning), which is
what an owner needs to hear about: records drift when someone else edits the zone.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Final

import dns.asyncresolver
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from todoke.accounts.models import Organisation
from todoke.audit import record_audit
from todoke.authz import Actor, SystemActor, require
from todoke.core.errors import NotFound
from todoke.domains.checks import CheckOptions, DomainCheck, Finding, Status, check_domain
from todoke.domains.models import Domain, DomainCheckRun
from todoke.domains.services import normalise_domain

SCHEDULE_ACTOR: Final = SystemActor("worker:domains.check_inventory")
#: domains checked at once: each check is a few dozen DNS queries and maybe two HTTPS fetches
CONCURRENT_CHECKS: Final = 4
_RANK: Final = {status.value: status.severity for status in Status}


@dataclass(frozen=True)
class ScheduledRun:
    checked: int
    worse: int
    failed: int


def finding_rows(findings: Sequence[Finding]) -> list[dict[str, Any]]:
    return [
        {
            "id": item.id,
            "status": item.status.value,
            "values": dict(item.values),
            "evidence": list(item.evidence),
        }
        for item in findings
    ]


def findings_from_rows(rows: Sequence[dict[str, Any]]) -> list[Finding]:
    return [
        Finding(
            id=row["id"],
            status=Status(row["status"]),
            values=row.get("values") or {},
            evidence=tuple(row.get("evidence") or ()),
        )
        for row in rows
    ]


def worse_than(previous: Sequence[dict[str, Any]] | None, current: Sequence[Finding]) -> list[str]:
    """Finding ids more severe now than before; everything at warn or fail on a first run is
    not "worse" (there is nothing to compare with)."""
    if previous is None:
        return []
    before: dict[str, int] = {}
    for row in previous:
        before[row["id"]] = max(before.get(row["id"], 0), _RANK.get(row["status"], 0))
    worse = {
        item.id
        for item in current
        if item.status.severity >= Status.WARN.severity
        and item.status.severity > before.get(item.id, 0)
    }
    return sorted(worse)


def _latest(session: Session, domain_id: int) -> DomainCheckRun | None:
    return session.scalar(
        select(DomainCheckRun)
        .where(DomainCheckRun.domain_id == domain_id)
        .order_by(DomainCheckRun.checked_at.desc(), DomainCheckRun.id.desc())
        .limit(1)
    )


def record_check(
    session: Session,
    *,
    domain: Domain,
    result: DomainCheck,
    trigger: str,
    acting_user: Actor,
) -> DomainCheckRun:
    """Keep one check's findings, with what got worse since the last run."""
    org = session.get(Organisation, domain.organisation_id)
    require(acting_user, "domains.view", org=org)
    previous = _latest(session, domain.id)
    run = DomainCheckRun(
        organisation_id=domain.organisation_id,
        domain_id=domain.id,
        checked_at=result.checked_at,
        status=result.status.value,
        findings=finding_rows(result.findings),
        worse=worse_than(previous.findings if previous else None, result.findings),
        duration_ms=round(result.seconds * 1000),
        trigger=trigger,
    )
    session.add(run)
    session.flush()
    record_audit(
        session,
        acting_user,
        "domains.check.recorded",
        org=org,
        target=run,
        details={
            "domain": domain.name,
            "status": run.status,
            "worse": run.worse,
            "trigger": trigger,
        },
    )
    return run


def due_domains(session: Session, *, now: datetime, interval: timedelta) -> list[Domain]:
    """Registered domains never checked, or last checked more than `interval` ago."""
    last = (
        select(DomainCheckRun.domain_id, func.max(DomainCheckRun.checked_at).label("last"))
        .group_by(DomainCheckRun.domain_id)
        .subquery()
    )
    rows = session.execute(
        select(Domain)
        .outerjoin(last, last.c.domain_id == Domain.id)
        .where((last.c.last.is_(None)) | (last.c.last < now - interval))
        .order_by(last.c.last.is_not(None), last.c.last, Domain.id)
    )
    return list(rows.scalars())


async def run_scheduled_checks(
    sessions: Callable[[], Session],
    *,
    resolver: dns.asyncresolver.Resolver,
    options: CheckOptions,
    now: datetime,
    interval: timedelta,
) -> ScheduledRun:
    """Check every due domain; each result is stored in its own transaction."""
    with sessions() as session:
        due = [
            (domain.id, domain.name) for domain in due_domains(session, now=now, interval=interval)
        ]
    gate = asyncio.Semaphore(CONCURRENT_CHECKS)

    async def one(name: str) -> DomainCheck | None:
        async with gate:
            try:
                return await check_domain(name, resolver=resolver, options=options)
            except Exception:
                return None

    results = await asyncio.gather(*(one(name) for _, name in due))
    worse = failed = 0
    for (domain_id, _name), result in zip(due, results, strict=True):
        if result is None:
            failed += 1
            continue
        with sessions() as session, session.begin():
            domain = session.get(Domain, domain_id)
            if domain is None:
                continue  # removed while it was being checked
            run = record_check(
                session,
                domain=domain,
                result=result,
                trigger="schedule",
                acting_user=SCHEDULE_ACTOR,
            )
            worse += bool(run.worse)
    return ScheduledRun(checked=len(due) - failed, worse=worse, failed=failed)


def check_history(
    session: Session, *, org: Organisation, domain: str, acting_user: Actor, limit: int = 30
) -> list[DomainCheckRun]:
    """The domain's recent check runs, newest first."""
    require(acting_user, "domains.view", org=org)
    name = normalise_domain(domain)
    owner = session.scalar(
        select(Domain).where(Domain.organisation_id == org.id, Domain.name == name)
    )
    if owner is None:
        raise NotFound(f"{name} is not registered")
    return list(
        session.scalars(
            select(DomainCheckRun)
            .where(DomainCheckRun.domain_id == owner.id)
            .order_by(DomainCheckRun.checked_at.desc(), DomainCheckRun.id.desc())
            .limit(limit)
        )
    )
