"""The worker's round: keep the digests of the last complete month and of the running month of
every domain with recent reports current, so the digest page reads them.

Each digest is checked in a read transaction (`digest_freshness`), a stale one computed there
and stored in a short write transaction of its own. Digests never computed go first, then the
longest unrefreshed; a round stops starting digests after `budget_s` and the rest wait for the
next round.

A big digest (seconds to compute) is not recomputed every round for changes that come all the
time; requests still show it "as of" its computation (`digest_store`):
- identification re-checks every address weekly and mostly finds nothing new, yet each re-check
  touching a month's addresses makes its digest stale: a big digest stale for that reason alone
  is recomputed once it is `IDENTIFICATION_GRACE` old;
- reports arrive all day while a month runs: a big running month's digest follows them once it
  is `RUNNING_MONTH_GRACE` old. A late report of a complete month is recomputed at once.
"""

from __future__ import annotations

import logging
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Final

from sqlalchemy import select
from sqlalchemy.orm import Session

from todoke.accounts.models import Organisation
from todoke.authz import Actor, SystemActor
from todoke.db import read_only
from todoke.dmarc import digest_store
from todoke.dmarc.digest_compute import compute_digest
from todoke.dmarc.digest_data import MonthPeriod, month_period, previous_month
from todoke.dmarc.digest_freshness import DigestStaleReason, month_watermark, stale_reason
from todoke.dmarc.identify import Catalogue, load_catalogue
from todoke.dmarc.models import DmarcDayStats, DmarcMonthDigest

log = logging.getLogger(__name__)

WORKER_ACTOR = SystemActor("worker:dmarc.store_digests")
ROUND_BUDGET_S: Final = 240.0
IDENTIFICATION_GRACE: Final = timedelta(hours=24)
RUNNING_MONTH_GRACE: Final = timedelta(hours=1)
_NEVER = datetime.min.replace(tzinfo=UTC)


@dataclass
class DigestRefreshResult:
    #: digests looked at
    checked: int = 0
    #: digests recomputed, by why they were stale
    refreshed: Counter[DigestStaleReason] = field(default_factory=Counter)
    #: big digests stale only by identification, left for a later round
    waiting: int = 0
    deferred: int = 0
    failed: int = 0
    #: time spent computing, in milliseconds
    compute_ms: int = 0


def kept_months(today: date) -> tuple[date, date]:
    """The months the worker keeps: the last complete one and the running one."""
    running = today.replace(day=1)
    return previous_month(running), running


def _active_domains(session: Session, since: date) -> list[tuple[int, str]]:
    rows = session.execute(
        select(DmarcDayStats.organisation_id, DmarcDayStats.domain)
        .where(DmarcDayStats.day >= since)
        .group_by(DmarcDayStats.organisation_id, DmarcDayStats.domain)
    ).all()
    return [(org_id, domain) for org_id, domain in rows]


def _computed(session: Session, months: tuple[date, ...]) -> dict[tuple[int, str, date], datetime]:
    rows = session.execute(
        select(
            DmarcMonthDigest.organisation_id,
            DmarcMonthDigest.domain,
            DmarcMonthDigest.month,
            DmarcMonthDigest.computed_at,
        ).where(DmarcMonthDigest.month.in_(months))
    )
    return {(org_id, domain, month): at for org_id, domain, month, at in rows}


def refresh_stale_digests(
    open_session: Callable[[], Session],
    *,
    now: Callable[[], datetime],
    budget_s: float = ROUND_BUDGET_S,
    catalogue: Catalogue | None = None,
    acting_user: Actor = WORKER_ACTOR,
) -> DigestRefreshResult:
    """One round of the worker job (see the module)."""
    catalogue = catalogue or load_catalogue()
    deadline = time.monotonic() + budget_s
    today = now().date()
    months = kept_months(today)
    result = DigestRefreshResult()
    with open_session() as session:
        read_only(session)
        # A domain with mail in the month before the last complete one still has a last
        # month worth a digest (what changed: everything stopped).
        active = _active_domains(session, previous_month(months[0]))
        computed = _computed(session, months)
    todo = [(org_id, domain, month) for org_id, domain in active for month in months]
    todo.sort(key=lambda key: (key in computed, computed.get(key, _NEVER)))
    for org_id, domain, month in todo:
        if time.monotonic() > deadline:
            result.deferred += 1
            continue
        result.checked += 1
        try:
            refresh_digest(
                open_session, org_id=org_id, domain=domain, period=month_period(month, today),
                now=now(), catalogue=catalogue, acting_user=acting_user, result=result,
            )  # fmt: skip
        except Exception:  # one digest's failure must not starve the others
            log.exception("digest of %s for %s (organisation %d) failed", domain, month, org_id)
            result.failed += 1
    return result


def refresh_digest(
    open_session: Callable[[], Session],
    *,
    org_id: int,
    domain: str,
    period: MonthPeriod,
    now: datetime,
    catalogue: Catalogue,
    acting_user: Actor = WORKER_ACTOR,
    result: DigestRefreshResult | None = None,
) -> DigestRefreshResult:
    """Recompute one domain's digest of `period` if it is stale."""
    result = result or DigestRefreshResult()
    with open_session() as session:
        read_only(session)
        org = session.get(Organisation, org_id)
        if org is None:
            return result
        row = digest_store.find_digest(session, org_id=org_id, domain=domain, month=period.month)
        watermark = month_watermark(
            session, org=org, domain=domain, period=period, catalogue=catalogue
        )
        reason = stale_reason(session, row, watermark, period)
        if reason is None:
            return result
        if row is not None and _can_wait(row, reason, now, running=period.running(now.date())):
            result.waiting += 1
            return result
        computed = compute_digest(
            session, org=org, domain=domain, period=period, acting_user=acting_user,
            catalogue=catalogue,
        )  # fmt: skip
    digest_store.replace_digest(open_session, org=org, computed=computed, acting_user=acting_user)
    result.refreshed[reason] += 1
    result.compute_ms += computed.compute_ms
    return result


def _can_wait(
    row: DmarcMonthDigest, reason: DigestStaleReason, now: datetime, *, running: bool
) -> bool:
    if row.sources <= digest_store.RECOMPUTE_ON_READ_MAX_SOURCES:
        return False
    age = now - row.computed_at
    if reason == "identification":
        return age < IDENTIFICATION_GRACE
    return reason == "reports" and running and age < RUNNING_MONTH_GRACE
