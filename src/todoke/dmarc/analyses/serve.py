"""Which answer a request gets: a stored analysis, one computed now (and stored), or none
(the caller computes the range live).

- A standard window (the last 14, 30 or 90 days up to today) is answered from its stored
  analysis, "as of" the time it was computed; the worker keeps it fresh.
- Right after midnight UTC the stored analysis still ends yesterday until the worker has
  recomputed it; a request that did not name its dates is answered from it (it says its own
  dates) rather than waiting for a recomputation. One that named today's dates is not.
- A standard window never computed (a new installation, a new domain) is computed on demand
  and stored, so the next request reads it; so is an out-of-date one of a small domain
  (`RECOMPUTE_ON_READ_MAX_SOURCES`), which costs less than a second.
- Any other range is the caller's to compute live.
"""

from __future__ import annotations

import logging
from datetime import date, timedelta

from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.orm import Session

from todoke.accounts.models import Organisation
from todoke.authz import Actor
from todoke.core.context import clock_of
from todoke.dmarc.analyses.freshness import current_watermark, stale_reason
from todoke.dmarc.analyses.read import find_analysis
from todoke.dmarc.analyses.store import ComputedAnalysis, compute_analyses, store_analysis
from todoke.dmarc.analyses.windows import window_ending
from todoke.dmarc.identify import Catalogue, load_catalogue
from todoke.dmarc.models import DmarcSourceAnalysis

log = logging.getLogger(__name__)

#: how far behind today a stored analysis may end and still answer an undated request
DAY_BOUNDARY_GRACE = timedelta(days=1)
#: An out-of-date analysis this small is recomputed when read (well under a second), so a
#: small domain's tables follow new reports and newly registered sources at once; a bigger
#: one is shown as of its computation until the worker's next round.
RECOMPUTE_ON_READ_MAX_SOURCES = 20_000


def usable_analysis(
    session: Session,
    *,
    org_id: int,
    domain: str,
    days: int,
    since: date,
    until: date,
    today: date,
    dated: bool,
) -> DmarcSourceAnalysis | None:
    """The stored analysis that answers [since, until] (a standard window of `days` days),
    or None. `dated`: the request named its dates."""
    header = find_analysis(session, org_id=org_id, domain=domain, days=days)
    if header is None:
        return None
    if (header.since, header.until) == (since, until):
        return header
    if not dated and header.until >= today - DAY_BOUNDARY_GRACE:
        return header
    return None


def _stale(session: Session, header: DmarcSourceAnalysis, today: date) -> bool:
    catalogue = load_catalogue()
    watermark = current_watermark(
        session, org_id=header.organisation_id, domain=header.domain, catalogue=catalogue
    )
    return stale_reason(header, watermark, today) is not None


def current_answer(
    session: Session,
    *,
    org: Organisation,
    domain: str,
    days: int,
    since: date,
    until: date,
    dated: bool,
    acting_user: Actor,
) -> DmarcSourceAnalysis | ComputedAnalysis:
    """What answers the standard window [since, until]: its stored analysis, unless there is
    none, or it is out of date and small enough to recompute at once (then it is computed and
    stored now)."""
    today = clock_of(session).now().date()
    header = usable_analysis(
        session, org_id=org.id, domain=domain, days=days, since=since, until=until,
        today=today, dated=dated,
    )  # fmt: skip
    if header is not None and (
        header.sources > RECOMPUTE_ON_READ_MAX_SOURCES or not _stale(session, header, today)
    ):
        return header
    return compute_on_demand(
        session, org=org, domain=domain, days=days, until=until, acting_user=acting_user
    )


def compute_on_demand(
    session: Session,
    *,
    org: Organisation,
    domain: str,
    days: int,
    until: date,
    acting_user: Actor,
    catalogue: Catalogue | None = None,
) -> ComputedAnalysis:
    """Compute the window now and add it to the session's transaction (the caller commits).

    Storing is best effort: on SQLite a read transaction cannot take the write lock once
    another writer has committed, and two requests may race for the same window; either way
    the computed answer is still right, and the worker stores it on its next round.
    """
    [analysis] = compute_analyses(
        session, org=org, domain=domain, windows=[window_ending(days, until)], catalogue=catalogue
    )
    try:
        with session.begin_nested():
            store_analysis(session, org=org, analysis=analysis, acting_user=acting_user)
    except (OperationalError, IntegrityError) as error:
        log.info("analysis of %s (%d days) not stored now: %s", domain, days, error)
    return analysis
