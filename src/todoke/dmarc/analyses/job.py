"""The worker's round: recompute the stale analyses of every domain with recent reports.

Each domain is checked in a read transaction (see `freshness`), its stale windows computed
there with one scan of the roll-up, and stored in a short write transaction of their own, so
ingest is kept waiting only while rows are replaced. Domains never analysed go first, then the
longest unrefreshed; a round stops starting domains after `budget_s` and the rest wait for the
next round. Analyses of domains without reports in the longest window are removed.
"""

from __future__ import annotations

import logging
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from todoke.accounts.models import Organisation
from todoke.authz import Actor, SystemActor
from todoke.db import read_only
from todoke.dmarc.analyses.freshness import (
    StaleReason,
    Watermark,
    current_watermark,
    identification_changed,
    stale_reason,
)
from todoke.dmarc.analyses.read import find_analysis
from todoke.dmarc.analyses.store import compute_analyses, remove_superseded, replace_analysis
from todoke.dmarc.analyses.windows import STANDARD_WINDOWS, Window, standard_windows
from todoke.dmarc.identify import Catalogue, load_catalogue
from todoke.dmarc.models import DmarcDayStats, DmarcSourceAnalysis

log = logging.getLogger(__name__)

WORKER_ACTOR = SystemActor("worker:dmarc.analyse_sources")
ROUND_BUDGET_S = 240.0
_NEVER = datetime.min.replace(tzinfo=UTC)


@dataclass
class RefreshResult:
    domains: int = 0
    #: windows recomputed, by why they were stale
    refreshed: Counter[StaleReason] = field(default_factory=Counter)
    #: fresh windows whose identification watermark moved on without a change
    confirmed: int = 0
    deferred: int = 0
    failed: int = 0
    removed: int = 0


def _active_domains(session: Session, today: date) -> list[tuple[int, str]]:
    since = today - timedelta(days=max(STANDARD_WINDOWS) - 1)
    rows = session.execute(
        select(DmarcDayStats.organisation_id, DmarcDayStats.domain)
        .where(DmarcDayStats.day >= since)
        .group_by(DmarcDayStats.organisation_id, DmarcDayStats.domain)
    ).all()
    return [(org_id, domain) for org_id, domain in rows]


def _priorities(session: Session) -> dict[tuple[int, str], tuple[int, datetime]]:
    """(org, domain) -> (windows stored, oldest computation), to order the round."""
    found: dict[tuple[int, str], tuple[int, datetime]] = {}
    rows = session.execute(
        select(
            DmarcSourceAnalysis.organisation_id,
            DmarcSourceAnalysis.domain,
            DmarcSourceAnalysis.computed_at,
        ).where(DmarcSourceAnalysis.ready.is_(True))
    )
    for org_id, domain, computed_at in rows:
        count, oldest = found.get((org_id, domain), (0, computed_at))
        found[(org_id, domain)] = (count + 1, min(oldest, computed_at))
    return found


def refresh_stale_analyses(
    open_session: Callable[[], Session],
    *,
    now: Callable[[], datetime],
    budget_s: float = ROUND_BUDGET_S,
    catalogue: Catalogue | None = None,
    acting_user: Actor = WORKER_ACTOR,
) -> RefreshResult:
    """One round of the worker job (see the module)."""
    catalogue = catalogue or load_catalogue()
    deadline = time.monotonic() + budget_s
    today = now().date()
    result = RefreshResult()
    with open_session() as session:
        read_only(session)
        active = _active_domains(session, today)
        stored = _priorities(session)
    result.removed = _remove_inactive(open_session, set(stored) - set(active))
    complete = len(STANDARD_WINDOWS)

    def urgency(key: tuple[int, str]) -> tuple[bool, datetime]:
        windows, oldest = stored.get(key, (0, _NEVER))
        return windows == complete, oldest

    active.sort(key=urgency)
    for org_id, domain in active:
        if time.monotonic() > deadline:
            result.deferred += 1
            continue
        result.domains += 1
        try:
            refresh_domain(
                open_session, org_id=org_id, domain=domain, today=today, catalogue=catalogue,
                acting_user=acting_user, result=result,
            )  # fmt: skip
        except Exception:  # one domain's failure must not starve the others
            log.exception("analysis of %s (organisation %d) failed", domain, org_id)
            result.failed += 1
    return result


def _remove_inactive(open_session: Callable[[], Session], keys: set[tuple[int, str]]) -> int:
    return sum(
        remove_superseded(open_session, org_id=org_id, domain=domain, keep_current=False)
        for org_id, domain in sorted(keys)
    )


def refresh_domain(
    open_session: Callable[[], Session],
    *,
    org_id: int,
    domain: str,
    today: date,
    catalogue: Catalogue | None = None,
    acting_user: Actor = WORKER_ACTOR,
    result: RefreshResult | None = None,
) -> RefreshResult:
    """Recompute the stale windows of one domain (the worker's round, for one domain)."""
    catalogue = catalogue or load_catalogue()
    result = result or RefreshResult()
    stale: list[Window] = []
    reasons: list[StaleReason] = []
    confirmed: list[tuple[int, datetime | None]] = []
    with open_session() as session:
        read_only(session)
        org = session.get(Organisation, org_id)
        if org is None:
            return result
        watermark = current_watermark(session, org_id=org_id, domain=domain, catalogue=catalogue)
        for window in standard_windows(today):
            header = find_analysis(session, org_id=org_id, domain=domain, days=window.days)
            reason = stale_reason(header, watermark, today)
            if header is not None and reason is None and _identified_since(header, watermark):
                changed, newest = identification_changed(session, header)
                if changed:
                    reason = "identification"
                else:
                    confirmed.append((header.id, newest))
            if reason is not None:
                stale.append(window)
                reasons.append(reason)
        computed = (
            compute_analyses(session, org=org, domain=domain, windows=stale, catalogue=catalogue)
            if stale
            else []
        )
    for analysis in computed:
        replace_analysis(open_session, org=org, analysis=analysis, acting_user=acting_user)
    result.refreshed.update(reasons)
    # Requests store what they compute beside the current analysis; the worker tidies up.
    result.removed += remove_superseded(open_session, org_id=org_id, domain=domain)
    if not confirmed:
        return result
    with open_session() as session, session.begin():
        for analysis_id, newest in confirmed:  # nothing changed for them: move the mark on
            session.execute(
                update(DmarcSourceAnalysis)
                .where(DmarcSourceAnalysis.id == analysis_id)
                .values(identified_until=newest)
            )
    result.confirmed += len(confirmed)
    return result


def _identified_since(header: DmarcSourceAnalysis, watermark: Watermark) -> bool:
    newest = watermark.identified_until
    if newest is None:
        return False
    return header.identified_until is None or newest > header.identified_until
